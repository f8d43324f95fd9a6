import { statSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { DocumentView } from '../../app/ingest/documentLabels.js';
import { documentDescription, documentSize, isSkippedLink } from '../../app/ingest/documentLabels.js';
import type { DocumentStatus } from '../../core/projections/documentStatus.js';
import type { EngineHost } from '../engineHost.js';

export type { DocumentView };

export function documentView(doc: DocumentStatus, activeVersion: string | undefined, workspaceRoot: string | undefined): DocumentView {
  if (doc.state === 'rejected') return 'rejected';
  if (workspaceRoot) {
    try {
      // Changed on disk since the ledger last took it in: the index answers from the older version.
      if (statSync(join(workspaceRoot, doc.source)).mtimeMs > Date.parse(doc.updated_at) + 1000) return 'stale';
    } catch {
      return 'stale'; // gone from disk: the next ingest deletes it
    }
  }
  const c = activeVersion ? doc.pipelines[activeVersion] : undefined;
  if (!c || c.indexed < c.chunks) return 'pending';
  if (c.chunks > 0 && c.embedded < c.chunks) return 'lexical';
  return 'indexed';
}

const ICONS: Record<DocumentView, vscode.ThemeIcon> = {
  indexed: new vscode.ThemeIcon('pass', new vscode.ThemeColor('testing.iconPassed')),
  pending: new vscode.ThemeIcon('loading~spin'),
  rejected: new vscode.ThemeIcon('error', new vscode.ThemeColor('problemsErrorIcon.foreground')),
  stale: new vscode.ThemeIcon('history', new vscode.ThemeColor('problemsWarningIcon.foreground')),
  lexical: new vscode.ThemeIcon('symbol-text'),
};

type Node = { readonly kind: 'folder'; readonly path: string } | { readonly kind: 'document'; readonly doc: DocumentStatus };

/** The Documents view: the ledger's live documents by folder, each with its status. */
export class DocumentsView implements vscode.TreeDataProvider<Node> {
  private readonly changed = new vscode.EventEmitter<Node | undefined>();
  readonly onDidChangeTreeData = this.changed.event;

  constructor(private readonly host: EngineHost) {}

  refresh(): void {
    this.changed.fire(undefined);
  }

  private docs(): DocumentStatus[] {
    const engine = this.host.current;
    if (!engine) return [];
    return engine.ledger.readModels.documents().filter((d) => d.state !== 'deleted');
  }

  getChildren(node?: Node): Node[] {
    if (node?.kind === 'document') return [];
    const prefix = node ? `${node.path}/` : '';
    const folders = new Set<string>();
    const docs: Node[] = [];
    for (const doc of this.docs()) {
      if (!doc.source.startsWith(prefix)) continue;
      const rest = doc.source.slice(prefix.length);
      const slash = rest.indexOf('/');
      if (slash === -1) docs.push({ kind: 'document', doc });
      else folders.add(prefix + rest.slice(0, slash));
    }
    const byName = (a: string, b: string): number => a.localeCompare(b);
    return [...[...folders].sort(byName).map((path) => ({ kind: 'folder' as const, path })), ...docs.sort((a, b) => byName(a.kind === 'document' ? a.doc.source : '', b.kind === 'document' ? b.doc.source : ''))];
  }

  getTreeItem(node: Node): vscode.TreeItem {
    const root = this.host.workspaceRoot;
    if (node.kind === 'folder') {
      const item = new vscode.TreeItem(node.path.split('/').at(-1)!, vscode.TreeItemCollapsibleState.Collapsed);
      item.id = `folder:${node.path}`;
      if (root) item.resourceUri = vscode.Uri.file(join(root, node.path));
      item.iconPath = vscode.ThemeIcon.Folder;
      item.contextValue = 'folder';
      return item;
    }
    const { doc } = node;
    const active = this.host.current?.ledger.readModels.activePipeline();
    const view = documentView(doc, active, root);
    const item = new vscode.TreeItem(doc.source.split('/').at(-1)!, vscode.TreeItemCollapsibleState.None);
    item.id = `doc:${doc.document_id}`;
    const counts = active ? doc.pipelines[active] : undefined;
    const reason = doc.last_error ?? '';
    item.description = documentDescription(doc, view, counts);
    const skipped = isSkippedLink(doc);
    const tip = new vscode.MarkdownString(undefined, true);
    tip.appendMarkdown(`**${doc.source}**\n\nversion ${doc.version} · ${doc.format ?? 'unknown format'} · ${documentSize(doc)} · ${skipped ? 'skipped' : view}\n\n`);
    if (doc.secrets_redacted > 0) tip.appendMarkdown(`${doc.secrets_redacted} secret${doc.secrets_redacted === 1 ? '' : 's'} replaced by a \`[REDACTED:rule]\` marker before ingest\n\n`);
    if (reason) tip.appendMarkdown(`${skipped ? 'skipped' : 'last error'}: ${reason.replace(/[\\`*_[\]]/g, '\\$&')}\n\n`);
    for (const [pv, c] of Object.entries(doc.pipelines)) tip.appendMarkdown(`- \`${pv}\`${pv === active ? ' (active)' : ''}: ${c.chunks} chunks, ${c.embedded} embedded, ${c.indexed} indexed${c.failed ? `, ${c.failed} failed` : ''}\n`);
    item.tooltip = tip;
    item.iconPath = skipped ? new vscode.ThemeIcon('file-symlink-file', new vscode.ThemeColor('problemsWarningIcon.foreground')) : ICONS[view];
    item.contextValue = `document.${view}`;
    if (root) {
      item.resourceUri = vscode.Uri.file(join(root, doc.source));
      if (view !== 'rejected') item.command = { command: 'vscode.open', title: 'Open', arguments: [item.resourceUri] };
    }
    return item;
  }
}
