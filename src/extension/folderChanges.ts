import * as vscode from 'vscode';
import type { LabelledFolder } from '../core/ingest/folderLabels.js';
import type { EngineHost } from './engineHost.js';
import { showError } from './engineHost.js';
import type { StatusBar } from './statusBar.js';

/**
 * Follows the workspace's folders while the window is open. A removed folder's documents are
 * retired (recorded as deleted: "the folder was removed from the workspace") and leave the index;
 * an added folder is ingested (unless `ragLedger.autoIngest` is off). When the change gives the
 * remaining folders other labels (one folder becoming several, or a same-named folder coming or
 * going), the whole workspace is ingested again so every document is known under its new path.
 * Only once the workspace has a store: a folder change never creates one.
 */
export class WorkspaceFolderChanges implements vscode.Disposable {
  private known: LabelledFolder[];
  private running: Promise<void> = Promise.resolve();
  private readonly sub: vscode.Disposable;

  constructor(
    private readonly host: EngineHost,
    private readonly log: vscode.LogOutputChannel,
    private readonly status: StatusBar,
  ) {
    this.known = host.folders();
    this.sub = vscode.workspace.onDidChangeWorkspaceFolders((e) => {
      // One change at a time, in order: each compares against the folders the previous one left.
      this.running = this.running.then(() => this.apply(e)).catch(() => undefined);
    });
  }

  /** Resolves when every folder change seen so far has been applied (tests wait on it). */
  settled(): Promise<void> {
    return this.running;
  }

  private async apply(e: vscode.WorkspaceFoldersChangeEvent): Promise<void> {
    const before = this.known;
    const after = this.host.folders();
    this.known = after;
    this.host.settingsChanged();
    const engine = this.host.current;
    if (!engine) return;
    const removed = e.removed.map((f) => before.find((k) => k.path === f.uri.fsPath)).filter((f): f is LabelledFolder => f !== undefined && f.label !== '');
    const added = e.added.map((f) => after.find((k) => k.path === f.uri.fsPath)).filter((f): f is LabelledFolder => f !== undefined);
    const relabelled = after.some((f) => {
      const was = before.find((k) => k.path === f.path);
      return was !== undefined && was.label !== f.label;
    });
    try {
      for (const folder of removed) {
        this.status.busy(`retiring the documents of ${folder.name}`);
        const r = await engine.retireFolder(folder.label);
        const message = `RAG Ledger: the folder ${folder.name} was removed from the workspace: ${r.retired} document${r.retired === 1 ? '' : 's'} retired.`;
        this.log.info(message);
        void vscode.window.showInformationMessage(message);
      }
      const auto = vscode.workspace.getConfiguration('ragLedger').get<boolean>('autoIngest', true);
      if (relabelled || (added.length > 0 && auto)) {
        const what = relabelled ? 'the workspace (its folders changed)' : added.map((f) => f.name).join(', ');
        this.status.busy(`ingesting ${what}`);
        const r = await engine.ingest(relabelled ? {} : { scope: added.map((f) => f.label) });
        const message = `RAG Ledger: ingested ${what}: ${r.ingest.scanned} files scanned, ${r.ingest.submitted} new or changed, ${r.ingest.deleted} deleted; ${r.indexing.upserted} chunks indexed.`;
        this.log.info(message);
        void vscode.window.showInformationMessage(message);
      } else if (added.length > 0) this.log.info(`folders added (${added.map((f) => f.name).join(', ')}); ragLedger.autoIngest is off, so they are ingested with the next Ingest Workspace`);
    } catch (err) {
      await showError(err, this.log, 'following the workspace folders');
    } finally {
      this.status.idle();
      this.host.changed();
    }
  }

  dispose(): void {
    this.sub.dispose();
  }
}
