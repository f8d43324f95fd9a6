import * as vscode from 'vscode';
import { CancelledError } from '../core/errors.js';
import type { EngineHost } from './engineHost.js';
import { isInside } from './paths.js';
import type { StatusBar } from './statusBar.js';

/** How long the watcher waits after the last change before ingesting (a save storm is one ingest). */
const DEBOUNCE_MS = 1500;

/**
 * Ingests saved, created, renamed and deleted files as they change: the changed paths are
 * collected, and after a quiet moment the engine ingests exactly those (the ignore rules still
 * apply, so an ignored file never enters), in every folder of a multi-root workspace. Only once the workspace has a store: the watcher never
 * creates one. `ragLedger.autoIngest` turns it off.
 */
export class FileWatcher implements vscode.Disposable {
  private readonly watcher = vscode.workspace.createFileSystemWatcher('**/*');
  private readonly pending = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | null = null;
  private readonly subs: vscode.Disposable[];

  constructor(
    private readonly host: EngineHost,
    private readonly log: vscode.LogOutputChannel,
    private readonly status: StatusBar,
  ) {
    const on = (uri: vscode.Uri): void => this.changed(uri);
    this.subs = [this.watcher.onDidChange(on), this.watcher.onDidCreate(on), this.watcher.onDidDelete(on), this.watcher];
  }

  private changed(uri: vscode.Uri): void {
    const engine = this.host.current;
    if (!engine || uri.scheme !== 'file') return;
    if (!vscode.workspace.getConfiguration('ragLedger').get<boolean>('autoIngest', true)) return;
    // In every folder of the workspace, under its document path (the folder's label first when there are several).
    const path = this.host.pathOf(uri);
    if (path === undefined || isInside(engine.storeDir, uri.fsPath)) return;
    const inFolder = this.host.folders().length > 1 ? path.split('/').slice(1) : path.split('/');
    if (inFolder.length === 0 || inFolder[0] === '' || inFolder[0] === '.git') return;
    this.pending.add(path);
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.flush(), DEBOUNCE_MS);
  }

  private async flush(): Promise<void> {
    if (this.running) {
      // One ingest at a time: the next waits for this one, then takes everything that piled up.
      await this.running;
      if (this.pending.size > 0) this.timer = setTimeout(() => void this.flush(), 0);
      return;
    }
    const scope = [...this.pending];
    this.pending.clear();
    if (scope.length === 0) return;
    this.running = (async () => {
      const engine = this.host.current;
      if (!engine) return;
      this.status.busy(`ingesting ${scope.length} changed file${scope.length === 1 ? '' : 's'}`);
      try {
        const r = await engine.ingest({ scope });
        this.log.info(`auto-ingest of ${scope.length} path(s): ${r.ingest.submitted} submitted, ${r.ingest.deleted} deleted, ${r.indexing.upserted} chunks indexed`);
      } catch (err) {
        if (!(err instanceof CancelledError)) this.log.warn(`auto-ingest of ${scope.join(', ')} failed: ${(err as Error).message}`);
      } finally {
        this.status.idle();
        this.host.changed();
      }
    })().finally(() => (this.running = null));
    await this.running;
  }

  dispose(): void {
    clearTimeout(this.timer);
    for (const s of this.subs) s.dispose();
  }
}
