import * as vscode from 'vscode';
import { documentPathOf, fileOfDocument } from '../adapters/fs/workspaceFolders.js';
import { WorkspaceEngine } from '../adapters/workspaceEngine.js';
import type { StoreWatch } from '../adapters/storeWatcher.js';
import { watchStore } from '../adapters/storeWatcher.js';
import type { LabelledFolder } from '../core/ingest/folderLabels.js';
import { folderLabels } from '../core/ingest/folderLabels.js';
import { CorruptStoreError, StoreLockedError } from '../core/errors.js';
import { engineSettings, teamLedgerSetting } from './settings.js';
import type { EngineSettings } from '../adapters/engineSettings.js';
import { LedgerListener } from '../adapters/postgres/pgListener.js';
import { passwordKey } from '../adapters/postgres/pgUrl.js';

/** A member's view of its team ledger, for the status bar. */
export interface TeamStatus {
  /** `user@host:port/database/schema`. */
  readonly server: string;
  readonly connected: boolean;
  /** Events announced by the server that the read models have not caught up with yet. */
  readonly behind: number;
  /** Why the server could not be reached, when the window works offline. */
  readonly offline: string | null;
}

/**
 * Owns the window's engine: opened on first use, re-opened after a failure, closed on deactivate.
 * Tells listeners when the ledger changed, including when another window or the CLI appended.
 */
export class EngineHost implements vscode.Disposable {
  private engine: WorkspaceEngine | null = null;
  private watch: StoreWatch | null = null;
  /** The team ledger's change feed, for a member of one. */
  private listener: LedgerListener | null = null;
  /** Events the team ledger announced that this window's read models do not hold yet. */
  private behind = 0;
  private opening: Promise<WorkspaceEngine> | null = null;
  private readonly changedEmitter = new vscode.EventEmitter<void>();
  readonly onDidChange = this.changedEmitter.event;

  constructor(
    private readonly context: vscode.ExtensionContext,
    readonly log: vscode.LogOutputChannel,
    /** Settles once the signing key is loaded from secret storage: a store opened before would not seal. */
    private readonly signerReady: Promise<void> = Promise.resolve(),
  ) {}

  get folder(): vscode.WorkspaceFolder | undefined {
    return vscode.workspace.workspaceFolders?.[0];
  }

  /** The first folder's path (settings such as the golden set are relative to it). */
  get workspaceRoot(): string | undefined {
    return this.folder?.uri.fsPath;
  }

  /** The workspace's folders on disk with their labels, the first segment of their documents' paths ('' for a single folder). */
  folders(): LabelledFolder[] {
    const folders = (vscode.workspace.workspaceFolders ?? []).filter((f) => f.uri.scheme === 'file');
    return folders.length === 0 ? [] : folderLabels(folders.map((f) => ({ name: f.name, path: f.uri.fsPath })));
  }

  /** The file a document path (from the log) names, or undefined when no folder of the workspace holds it. */
  fileOf(path: string): string | undefined {
    return fileOfDocument(this.folders(), path);
  }

  /** The document path of a file or folder, or undefined when it is in no folder of the workspace. */
  pathOf(uri: vscode.Uri): string | undefined {
    return uri.scheme === 'file' ? documentPathOf(this.folders(), uri.fsPath) : undefined;
  }

  /** The engine if it is open (views use it; they never open the store themselves). */
  get current(): WorkspaceEngine | null {
    return this.engine;
  }

  /** The team ledger this window is a member of, and how it stands; null for a local store. */
  get team(): TeamStatus | null {
    const engine = this.engine;
    if (!engine || engine.ledger.team === null) return null;
    return { server: engine.ledger.team, connected: engine.ledger.offline === null && (this.listener?.connected ?? false), behind: this.behind, offline: engine.ledger.offline };
  }

  /** The settings and, for a team ledger, the password kept in VS Code's secret storage. */
  private async settings(folder: vscode.WorkspaceFolder): Promise<EngineSettings> {
    const team = teamLedgerSetting(folder);
    if (team.missing) throw new UserError('RAG Ledger: ragLedger.store.location is "postgres" but ragLedger.store.postgresUrl is empty. Set the team ledger\'s URL (postgres://USER@HOST:PORT/DATABASE?schema=NAME).', 'Open Settings', 'workbench.action.openSettings', ['ragLedger.store']);
    const settings = engineSettings(this.context, folder);
    if (!settings.team) return settings;
    const password = await this.context.secrets.get(passwordKey(settings.team.url));
    return password ? { ...settings, team: { ...settings.team, password } } : settings;
  }

  /** The engine, opening the store if needed. Throws a user-facing error. */
  async get(): Promise<WorkspaceEngine> {
    if (this.engine) return this.engine;
    const folder = this.folder;
    if (!folder) throw new UserError('RAG Ledger needs a folder: open a folder or workspace first.', 'Open Folder…', 'workbench.action.files.openFolder');
    this.opening ??= this.signerReady
      .then(() => this.settings(folder))
      .then(async (settings) => ({ settings, engine: await WorkspaceEngine.open(settings) }))
      .then(({ settings, engine }) => {
        engine.trace = (line) => this.log.debug(`engine ${line}`);
        this.engine = engine;
        if (settings.team) {
          this.follow(engine, settings.team);
          this.log.info(`opened the team ledger ${engine.ledger.team ?? ''}${engine.ledger.offline ? ` offline (${engine.ledger.offline}): questions are answered from this window's projections and recorded nowhere` : ''}; projections in ${engine.storeDir}`);
          this.changed();
          return engine;
        }
        // What another window or the CLI appends shows in this window's views within seconds.
        this.watch = watchStore(
          engine.storeDir,
          engine.ledger,
          (added) => {
            this.log.info(`${added} new events from another process`);
            this.changed();
          },
          (err) => this.log.warn(`catching up with another process's events failed: ${(err as Error).message}`),
        );
        this.log.info(`opened the store at ${engine.storeDir}`);
        this.changed();
        return engine;
      })
      .finally(() => (this.opening = null));
    return this.opening;
  }

  /** Opens the store if it exists already (for the views at start-up), quietly. */
  async openIfPresent(exists: (dir: string) => boolean): Promise<void> {
    const folder = this.folder;
    if (!folder || this.engine) return;
    // A member of a team ledger opens it at once: the team's documents are there before any ingest here.
    if (teamLedgerSetting(folder).url === null && !exists(engineSettings(this.context, folder).storeDir)) return;
    try {
      await this.get();
    } catch (err) {
      this.log.warn(`the store could not be opened at start-up: ${(err as Error).message}`);
    }
  }

  /** The settings changed: the next operation uses them. */
  settingsChanged(): void {
    const folder = this.folder;
    if (folder && this.engine) this.engine.updateSettings(engineSettings(this.context, folder));
  }

  changed(): void {
    this.changedEmitter.fire();
  }

  /**
   * Follows the team ledger: every commit by any member is pushed (LISTEN/NOTIFY) and this window's
   * read models catch up at once. When the connection drops, the engine is reopened, offline (its
   * questions are answered from the projections); when it comes back, online again, catching up.
   */
  private follow(engine: WorkspaceEngine, team: { readonly url: string; readonly password?: string }): void {
    let caught = 0;
    let running: Promise<void> = Promise.resolve();
    const catchUp = (announced: number | null): void => {
      if (announced !== null) this.behind = Math.max(0, announced - caught);
      this.changed();
      running = running.then(async () => {
        if (this.engine !== engine || engine.ledger.offline !== null) return;
        const head = (await engine.ledger.events.head()).position;
        await engine.catchUp();
        caught = Math.max(caught, head);
        this.behind = announced !== null ? Math.max(0, announced - caught) : 0;
        this.changed();
      }).catch((err: unknown) => this.log.warn(`catching up with the team ledger failed: ${(err as Error).message}`));
    };
    const listener = new LedgerListener(team.url, {
      ...(team.password ? { password: team.password } : {}),
      onHead: catchUp,
      onStatus: (up, reason) => {
        this.log.info(up ? `connected to the team ledger ${engine.ledger.team ?? ''}` : `lost the team ledger ${engine.ledger.team ?? ''}: ${reason ?? ''}`);
        // Offline and back, or online and lost: reopen the engine in the other state (which refreshes the views).
        if (this.engine === engine && up === (engine.ledger.offline !== null)) void this.reopen();
        else this.changed();
      },
    });
    this.listener = listener;
    void listener.start();
  }

  /** Closes the engine and opens it again (settings, the password, or the server's reachability changed). */
  async reopen(): Promise<void> {
    if (!this.engine) return;
    await this.close();
    try {
      await this.get();
    } catch (err) {
      this.log.warn(`reopening the store failed: ${(err as Error).message}`);
      this.changed();
    }
  }

  async close(): Promise<void> {
    const engine = this.engine;
    this.engine = null;
    this.watch?.dispose();
    this.watch = null;
    const listener = this.listener;
    this.listener = null;
    this.behind = 0;
    await listener?.stop();
    if (engine) await engine.close();
  }

  dispose(): void {
    void this.close();
    this.changedEmitter.dispose();
  }
}

/** An error meant for the user as is, with an optional action (a button that runs a command). */
export class UserError extends Error {
  constructor(
    message: string,
    readonly action?: string,
    readonly command?: string,
    readonly args: unknown[] = [],
  ) {
    super(message);
  }
}

/** Shows an error the way a user can act on it. */
export async function showError(err: unknown, log: vscode.LogOutputChannel, what: string): Promise<void> {
  const e = err as Error & { hint?: string };
  log.error(`${what}: ${e.stack ?? e.message}`);
  if (err instanceof UserError) {
    const picked = await vscode.window.showErrorMessage(err.message, ...(err.action ? [err.action] : []));
    if (picked && err.command) await vscode.commands.executeCommand(err.command, ...err.args);
    return;
  }
  if (err instanceof StoreLockedError) {
    const picked = await vscode.window.showErrorMessage(`RAG Ledger: ${err.message}.`, { detail: err.hint, modal: false }, 'Retry', 'Show Log');
    if (picked === 'Retry') await vscode.commands.executeCommand('ragLedger.refreshViews');
    if (picked === 'Show Log') log.show();
    return;
  }
  if (err instanceof CorruptStoreError) {
    const picked = await vscode.window.showErrorMessage(`RAG Ledger: ${err.message}. ${err.hint}`, 'Show Log');
    if (picked === 'Show Log') log.show();
    return;
  }
  const hint = e.hint ? ` ${e.hint}` : '';
  const picked = await vscode.window.showErrorMessage(`RAG Ledger: ${what} failed: ${e.message.replace(/\.$/, '')}.${hint}`, 'Show Log');
  if (picked === 'Show Log') log.show();
}
