import * as vscode from 'vscode';
import { documentPathOf, fileOfDocument } from '../adapters/fs/workspaceFolders.js';
import { WorkspaceEngine } from '../adapters/workspaceEngine.js';
import type { StoreWatch } from '../adapters/storeWatcher.js';
import { watchStore } from '../adapters/storeWatcher.js';
import type { LabelledFolder } from '../core/ingest/folderLabels.js';
import { folderLabels } from '../core/ingest/folderLabels.js';
import { CorruptStoreError, StoreLockedError } from '../core/errors.js';
import { engineSettings } from './settings.js';

/**
 * Owns the window's engine: opened on first use, re-opened after a failure, closed on deactivate.
 * Tells listeners when the ledger changed, including when another window or the CLI appended.
 */
export class EngineHost implements vscode.Disposable {
  private engine: WorkspaceEngine | null = null;
  private watch: StoreWatch | null = null;
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

  /** The engine, opening the store if needed. Throws a user-facing error. */
  async get(): Promise<WorkspaceEngine> {
    if (this.engine) return this.engine;
    const folder = this.folder;
    if (!folder) throw new UserError('RAG Ledger needs a folder: open a folder or workspace first.', 'Open Folder…', 'workbench.action.files.openFolder');
    this.opening ??= this.signerReady
      .then(() => WorkspaceEngine.open(engineSettings(this.context, folder)))
      .then((engine) => {
        engine.trace = (line) => this.log.debug(`engine ${line}`);
        this.engine = engine;
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
    if (!exists(engineSettings(this.context, folder).storeDir)) return;
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

  async close(): Promise<void> {
    const engine = this.engine;
    this.engine = null;
    this.watch?.dispose();
    this.watch = null;
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
