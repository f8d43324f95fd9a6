import * as vscode from 'vscode';
import { columnBeside } from '../editorGroups.js';
import type { QueryRecord } from '../../core/projections/queryHistory.js';
import type { EngineHost } from '../engineHost.js';
import { questionTooltip } from './tooltips.js';

export interface RetrievedChunk {
  readonly queryId: string;
  readonly chunkId: string;
  readonly rank: number;
  readonly score: number;
  readonly path: string;
  readonly startLine: number;
  readonly endLine: number;
}

export type QuestionNode = { readonly kind: 'question'; readonly query: QueryRecord } | { readonly kind: 'chunk'; readonly chunk: RetrievedChunk } | { readonly kind: 'answer'; readonly query: QueryRecord } | { readonly kind: 'message'; readonly text: string };

/** The Questions view: the question history; children are the retrieved chunks and the answer. */
export class QuestionsView implements vscode.TreeDataProvider<QuestionNode> {
  private readonly changed = new vscode.EventEmitter<QuestionNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;

  constructor(private readonly host: EngineHost) {}

  refresh(): void {
    this.changed.fire(undefined);
  }

  async getChildren(node?: QuestionNode): Promise<QuestionNode[]> {
    const engine = this.host.current;
    if (!engine) return [];
    if (!node) return engine.ledger.readModels.queries(200).map((query) => ({ kind: 'question' as const, query }));
    if (node.kind !== 'question') return [];
    try {
      const provenance = await engine.provenance(node.query.query_id);
      const chunks: QuestionNode[] = provenance.chunks.map((c) => {
        const [start, end] = (c.lines ?? '1-1').split('-').map(Number);
        return { kind: 'chunk' as const, chunk: { queryId: node.query.query_id, chunkId: c.chunkId, rank: c.rank, score: c.score, path: c.path ?? '(unknown document)', startLine: start ?? 1, endLine: end ?? start ?? 1 } };
      });
      return [...chunks, { kind: 'answer', query: node.query }];
    } catch (err) {
      return [{ kind: 'message', text: (err as Error).message }];
    }
  }

  getTreeItem(node: QuestionNode): vscode.TreeItem {
    switch (node.kind) {
      case 'question': {
        const q = node.query;
        const item = new vscode.TreeItem(q.query_text, vscode.TreeItemCollapsibleState.Collapsed);
        item.id = `q:${q.query_id}`;
        item.description = `${q.state}${q.model_id ? ` · ${q.model_id}` : ''} · ${new Date(q.received_at).toLocaleString()}`;
        item.tooltip = new vscode.MarkdownString(questionTooltip(q));
        item.iconPath = new vscode.ThemeIcon(q.state === 'failed' ? 'warning' : 'comment-discussion');
        item.contextValue = 'question';
        return item;
      }
      case 'chunk': {
        const c = node.chunk;
        const item = new vscode.TreeItem(`[${c.rank}] ${c.path}:${c.startLine}-${c.endLine}`, vscode.TreeItemCollapsibleState.None);
        item.id = `q:${c.queryId}:${c.rank}:${c.chunkId}`;
        item.description = `score ${c.score.toFixed(4)}`;
        item.tooltip = `rank ${c.rank}, score ${c.score}\nchunk ${c.chunkId}`;
        item.iconPath = new vscode.ThemeIcon('symbol-snippet');
        item.contextValue = 'chunk';
        item.command = { command: 'ragLedger.openChunk', title: 'Open Chunk Source', arguments: [c] };
        return item;
      }
      case 'answer': {
        const q = node.query;
        const item = new vscode.TreeItem(q.answer_preview ?? q.error ?? '(no answer recorded)', vscode.TreeItemCollapsibleState.None);
        item.id = `q:${q.query_id}:answer`;
        item.description = q.model_id ?? '';
        item.iconPath = new vscode.ThemeIcon('comment');
        item.contextValue = 'answer';
        item.command = { command: 'ragLedger.showAnswer', title: 'Show Answer', arguments: [{ kind: 'question', query: q }] };
        return item;
      }
      default:
        return new vscode.TreeItem(node.text);
    }
  }
}

/** Opens a chunk's source at its lines; `fileOf` finds the file of a document path in the workspace's folders. */
export async function openChunk(
  fileOf: (path: string) => string | undefined,
  chunk: Pick<RetrievedChunk, 'path' | 'startLine' | 'endLine'>,
  options: { besides?: vscode.ViewColumn | undefined } = {},
): Promise<void> {
  // The path comes from the log: never open anything outside the workspace's folders.
  const file = fileOf(chunk.path);
  if (file === undefined) {
    void vscode.window.showWarningMessage(`RAG Ledger: refused to open ${chunk.path}: it is outside the workspace's folders.`);
    return;
  }
  const uri = vscode.Uri.file(file);
  const range = new vscode.Range(Math.max(0, chunk.startLine - 1), 0, Math.max(0, chunk.endLine - 1), Number.MAX_SAFE_INTEGER);
  try {
    const editor = await vscode.window.showTextDocument(uri, {
      selection: new vscode.Range(range.start, range.start),
      preview: true,
      // Opened from the answer view or the explorer: in another group, so that view stays visible.
      ...(options.besides !== undefined ? { viewColumn: columnBeside(options.besides) } : {}),
    });
    editor.revealRange(range, vscode.TextEditorRevealType.InCenter);
    // The whole chunk selected, the cursor at its first line (anchor at the end, active at the start).
    editor.selection = new vscode.Selection(range.end, range.start);
  } catch {
    void vscode.window.showWarningMessage(`RAG Ledger: ${chunk.path} cannot be opened (it may have been moved or deleted since). Its text as retrieved is in the question's provenance.`);
  }
}
