import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import * as vscode from 'vscode';
import type { DocumentView } from '../../app/ingest/documentLabels.js';
import { documentDescription, isSkippedLink } from '../../app/ingest/documentLabels.js';
import type { DocumentStatus } from '../../core/projections/documentStatus.js';
import type { EngineHost } from '../engineHost.js';
import { documentTooltip } from './tooltips.js';

export type { DocumentView };

/** `file` is where the document is on disk (undefined when unknown: no folder of the workspace holds it). */
export function documentView(doc: DocumentStatus, activeVersion: string | undefined, file: string | undefined): DocumentView {
  if (doc.state === 'deleted' && doc.forgotten_at !== undefined) return 'forgotten';
  if (doc.state === 'rejected') return 'rejected';
  if (file !== undefined) {
    try {
      // Changed on disk since the ledger last took it in: the index answers from the older version. A
      // newer time alone is not a change (another member's checkout, a touch): the content decides.
      const st = statSync(file);
      if (st.mtimeMs > Date.parse(doc.updated_at) + 1000 && !sameContent(file, st, doc.content_hash)) return 'stale';
    } catch {
      return 'stale'; // gone from disk: the next ingest deletes it
    }
  }
  const c = activeVersion ? doc.pipelines[activeVersion] : undefined;
  if (!c || c.indexed < c.chunks) return 'pending';
  if (c.chunks > 0 && c.embedded < c.chunks) return 'lexical';
  return 'indexed';
}

/** Files larger than this are taken as changed when their time is newer (hashing them on every render would cost too much). */
const HASH_MAX_BYTES = 4 << 20;
/** Verdicts by file, time and size: a view refresh re-hashes nothing that did not change. */
const sameContentCache = new Map<string, { readonly mtimeMs: number; readonly size: number; readonly hash: string | null; readonly same: boolean }>();

/** Whether the file still holds the content the ledger recorded (`sha256:<hex>`). */
function sameContent(file: string, st: { readonly mtimeMs: number; readonly size: number }, recorded: string | null): boolean {
  if (recorded === null || !recorded.startsWith('sha256:') || st.size > HASH_MAX_BYTES) return false;
  const cached = sameContentCache.get(file);
  if (cached && cached.mtimeMs === st.mtimeMs && cached.size === st.size && cached.hash === recorded) return cached.same;
  let same = false;
  try {
    same = `sha256:${createHash('sha256').update(readFileSync(file)).digest('hex')}` === recorded;
  } catch {
    same = false;
  }
  if (sameContentCache.size >= 2000) sameContentCache.delete(sameContentCache.keys().next().value!);
  sameContentCache.set(file, { mtimeMs: st.mtimeMs, size: st.size, hash: recorded, same });
  return same;
}

const ICONS: Record<DocumentView, vscode.ThemeIcon> = {
  indexed: new vscode.ThemeIcon('pass', new vscode.ThemeColor('testing.iconPassed')),
  pending: new vscode.ThemeIcon('loading~spin'),
  rejected: new vscode.ThemeIcon('error', new vscode.ThemeColor('problemsErrorIcon.foreground')),
  stale: new vscode.ThemeIcon('history', new vscode.ThemeColor('problemsWarningIcon.foreground')),
  lexical: new vscode.ThemeIcon('symbol-text'),
  forgotten: new vscode.ThemeIcon('circle-slash', new vscode.ThemeColor('disabledForeground')),
};

type Node = { readonly kind: 'folder'; readonly path: string } | { readonly kind: 'document'; readonly doc: DocumentStatus };

/**
 * The Documents view: the ledger's live documents by folder, each with its status. In a
 * multi-root workspace the first level is the workspace's folders (document paths start with
 * their labels), expanded.
 */
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
    // A forgotten document stays listed (its file is still there, and ingest leaves it out while unchanged).
    return engine.ledger.readModels.documents().filter((d) => d.state !== 'deleted' || d.forgotten_at !== undefined);
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
    if (node.kind === 'folder') {
      const folders = this.host.folders();
      const workspaceFolder = folders.length > 1 ? folders.find((f) => f.label === node.path) : undefined;
      const item = new vscode.TreeItem(node.path.split('/').at(-1)!, workspaceFolder ? vscode.TreeItemCollapsibleState.Expanded : vscode.TreeItemCollapsibleState.Collapsed);
      item.id = `folder:${node.path}`;
      const file = this.host.fileOf(node.path);
      if (file !== undefined) item.resourceUri = vscode.Uri.file(file);
      item.iconPath = workspaceFolder ? new vscode.ThemeIcon('root-folder') : vscode.ThemeIcon.Folder;
      if (workspaceFolder) {
        item.description = workspaceFolder.path;
        item.tooltip = `Workspace folder ${workspaceFolder.name} (${workspaceFolder.path})`;
      }
      item.contextValue = 'folder';
      return item;
    }
    const { doc } = node;
    const active = this.host.current?.ledger.readModels.activePipeline();
    const file = this.host.fileOf(doc.source);
    const view = documentView(doc, active, file);
    const item = new vscode.TreeItem(doc.source.split('/').at(-1)!, vscode.TreeItemCollapsibleState.None);
    item.id = `doc:${doc.document_id}`;
    const counts = active ? doc.pipelines[active] : undefined;
    const reason = doc.last_error ?? '';
    item.description = documentDescription(doc, view, counts);
    const skipped = isSkippedLink(doc);
    const tip = new vscode.MarkdownString(undefined, true);
    tip.appendMarkdown(documentTooltip(doc, view, reason, active));
    item.tooltip = tip;
    item.iconPath = skipped ? new vscode.ThemeIcon('file-symlink-file', new vscode.ThemeColor('problemsWarningIcon.foreground')) : ICONS[view];
    item.contextValue = `document.${view}`;
    if (file !== undefined) {
      item.resourceUri = vscode.Uri.file(file);
      if (view !== 'rejected' && view !== 'forgotten') item.command = { command: 'vscode.open', title: 'Open', arguments: [item.resourceUri] };
    }
    return item;
  }
}
