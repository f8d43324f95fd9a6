import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { forgetConfirmation } from '../app/forget/forgetConfirmation.js';
import { secretStoreSigner, setDefaultHeadSigner } from '../adapters/node/signing.js';
import { refusedWarning } from '../adapters/archive/jsonlArchive.js';
import { setDefaultStoreNotice } from '../adapters/sqljs/sqljsEventStore.js';
import type { HeadSigner } from '../core/signing.js';
import * as vscode from 'vscode';
import type { EngineIngestReport, EngineProgress } from '../adapters/engineSettings.js';
import type { WorkspaceEngine } from '../adapters/workspaceEngine.js';
import { CancelledError, WorkspaceMismatchError } from '../core/errors.js';
import type { DocumentStatus } from '../core/projections/documentStatus.js';
import type { Citation } from '../shared/protocol.js';
import { AnswerPanel } from './answerPanel.js';
import { EngineHost, UserError, showError } from './engineHost.js';
import { ExplorerPanel } from './explorer/explorerPanel.js';
import { registerExplorerCommands } from './explorer/explorerCommands.js';
import { setTeamLedgerPassword } from './teamLedgerPassword.js';
import { watchSettingsChanges } from './settingsChanges.js';
import { StatusBar } from './statusBar.js';
import { DocumentsView } from './views/documentsView.js';
import type { PipelineNode } from './views/pipelinesView.js';
import { PipelinesView } from './views/pipelinesView.js';
import type { QuestionNode, RetrievedChunk } from './views/questionsView.js';
import { QuestionsView, openChunk } from './views/questionsView.js';
import { WorkspaceFolderChanges } from './folderChanges.js';
import { FileWatcher } from './watcher.js';

const PHASE_LABELS: Record<EngineProgress['phase'], string> = { scan: 'Scanning files', submit: 'Reading files', chunk: 'Chunking', delete: 'Removing deleted files', embed: 'Embedding', index: 'Indexing', compare: 'Comparing', wait: 'Waiting for' };

/** What the extension's commands return, so tests (and other extensions) can check what happened. */
export interface RagLedgerApi {
  readonly host: EngineHost;
  readonly views: { readonly documents: DocumentsView; readonly questions: QuestionsView; readonly pipelines: PipelinesView };
}

/** Activates RAG Ledger: views, commands, status bar and the file watcher over one engine per window. */
export function activate(context: vscode.ExtensionContext): RagLedgerApi {
  const log = vscode.window.createOutputChannel('RAG Ledger', { log: true });
  context.subscriptions.push(log);
  log.info(`RAG Ledger ${(context.extension.packageJSON as { version?: string }).version ?? 'dev'} activated`);

  // The key that seals the log's head, kept in VS Code's secret storage (created on first use).
  let signer: HeadSigner | null = null;
  setDefaultHeadSigner(() => signer, (reason) => log.warn(reason));
  setDefaultStoreNotice((message) => {
    log.info(message);
    void vscode.window.showInformationMessage(message);
  });
  const signerReady = secretStoreSigner(context.secrets).then(
    (s) => void (signer = s, log.info(`the log's head is signed with key ${s.keyId}`)),
    (err: unknown) => log.warn(`no signing key, the head is not signed: ${(err as Error).message}`),
  );
  const host = new EngineHost(context, log, signerReady);
  const documents = new DocumentsView(host);
  const questions = new QuestionsView(host);
  const pipelines = new PipelinesView(host);
  const status = new StatusBar(host);
  const refresh = (): void => {
    documents.refresh();
    questions.refresh();
    pipelines.refresh();
    status.refresh();
  };
  context.subscriptions.push(
    host,
    status,
    host.onDidChange(refresh),
    vscode.window.registerTreeDataProvider('ragLedger.documents', documents),
    vscode.window.registerTreeDataProvider('ragLedger.questions', questions),
    vscode.window.registerTreeDataProvider('ragLedger.pipelines', pipelines),
    ExplorerPanel.register(context, host),
  );

  /** Runs long work with a cancellable progress notification and the status bar. */
  const withProgress = <T>(title: string, work: (signal: AbortSignal, report: (p: EngineProgress) => void) => Promise<T>): Thenable<T> =>
    vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `RAG Ledger: ${title}`, cancellable: true }, async (progress, token) => {
      const controller = new AbortController();
      const sub = token.onCancellationRequested(() => controller.abort());
      let last = '';
      let lastFraction = 0;
      try {
        return await work(controller.signal, (p) => {
          const label = p.phase === 'wait' ? `${PHASE_LABELS.wait} ${p.detail ?? 'another process'} to finish its ingest` : `${PHASE_LABELS[p.phase]} ${p.done.toLocaleString()}${p.total !== undefined ? `/${p.total.toLocaleString()}` : ''}`;
          status.busy(label);
          const fraction = p.total ? p.done / p.total : 0;
          const phaseChanged = label.split(' ')[0] !== last.split(' ')[0];
          progress.report({ message: label, ...(p.total && !phaseChanged ? { increment: Math.max(0, (fraction - lastFraction) * 100) } : {}) });
          lastFraction = phaseChanged ? 0 : fraction;
          last = label;
        });
      } finally {
        sub.dispose();
        status.idle();
        host.changed();
      }
    });

  /** Wraps a command: errors become actionable messages, cancellation a quiet note. */
  const command = (id: string, fn: (...args: never[]) => Promise<unknown>): void => {
    context.subscriptions.push(
      vscode.commands.registerCommand(`ragLedger.${id}`, async (...args: never[]) => {
        try {
          return await fn(...args);
        } catch (err) {
          if (err instanceof CancelledError || (err as Error).name === 'AbortError') {
            void vscode.window.showInformationMessage('RAG Ledger: cancelled. Everything done before the cancel is kept in the log; run it again to finish.');
            return undefined;
          }
          // Not awaited: the message stays until the user acts, and the command must not hang on it.
          void showError(err, log, id.replace(/([A-Z])/g, ' $1').toLowerCase());
          return undefined;
        }
      }),
    );
  };

  const ingest = async (options: { replaceAll?: boolean } = {}): Promise<EngineIngestReport | undefined> => {
    const engine = await host.get();
    try {
      const report = await withProgress('Ingesting the workspace', (signal, onProgress) => engine.ingest({ signal, onProgress, ...options }));
      const r = report.ingest;
      const summary = `RAG Ledger: ${r.scanned} files scanned: ${r.submitted} new or changed, ${r.unchanged} unchanged, ${r.rejected.length} rejected, ${r.deleted} deleted; ${report.indexing.upserted} chunks indexed.`;
      log.info(summary);
      for (const x of r.rejected) log.info(`rejected ${x.path}: ${x.reason}: ${x.detail}`);
      if (r.unreadable.length > 0) void vscode.window.showWarningMessage(`RAG Ledger: cannot read ${r.unreadable.map((d) => d || '.').join(', ')} (permission denied): the documents there are kept as they were. Fix the permissions and ingest again.`);
      if (report.embeddingUnavailable) {
        void vscode.window
          .showWarningMessage(`RAG Ledger: the embedding model cannot be loaded (${report.embeddingUnavailable.message.replace(/\.$/, '')}). Retrieval is full-text only until it can. ${report.embeddingUnavailable.hint}`, 'Set a Local Model Folder', 'Show Log')
          .then((picked) => {
            if (picked === 'Set a Local Model Folder') void vscode.commands.executeCommand('workbench.action.openSettings', 'ragLedger.embedding.modelDirectory');
            if (picked === 'Show Log') log.show();
          });
      } else {
        void vscode.window.showInformationMessage(summary, ...(r.rejected.length > 0 ? ['Show Rejected'] : [])).then((picked) => picked && log.show());
      }
      return report;
    } catch (err) {
      if (!(err instanceof WorkspaceMismatchError)) throw err;
      const picked = await vscode.window.showWarningMessage(`RAG Ledger: ${err.message}.`, { modal: true, detail: err.hint }, 'Replace All Documents');
      return picked ? ingest({ replaceAll: true }) : undefined;
    }
  };
  command('ingestWorkspace', () => ingest());

  command('ask', async (preset?: string) => {
    const question = typeof preset === 'string' && preset.trim() ? preset : await vscode.window.showInputBox({ title: 'RAG Ledger: Ask a Question', prompt: 'Answered from this workspace by your local model; the answer cites its sources.', placeHolder: 'How does…?', ignoreFocusOut: true, validateInput: (v) => (v.trim() ? undefined : 'Type a question') });
    if (!question) return undefined;
    const engine = await host.get();
    if (engine.ledger.readModels.documents().every((d) => d.state === 'deleted' || d.state === 'rejected')) {
      const picked = await vscode.window.showWarningMessage('RAG Ledger: nothing is ingested yet, so there is nothing to answer from.', 'Ingest Workspace');
      if (picked) await ingest();
      if (engine.ledger.readModels.documents().length === 0) return undefined;
    }
    const panel = AnswerPanel.show(context.extensionUri, { openCitation: (c) => void openChunk((p) => host.fileOf(p), c, { besides: AnswerPanel.column }), openProvenance: (id) => void showProvenance(id, { besides: AnswerPanel.column }) });
    const run = panel.begin(question);
    const controller = new AbortController();
    const sub = run.token.onCancellationRequested(() => controller.abort());
    status.busy('Answering…');
    try {
      const result = await engine.ask(question, {
        userId: process.env.USER ?? process.env.USERNAME ?? 'vscode',
        signal: controller.signal,
        onText: (text) => run.post({ kind: 'text', text }),
        onRetrievalUnavailable: (message) => run.post({ kind: 'notice', level: 'warning', text: `Full-text retrieval only: ${message}` }),
        onFailure: (f) => {
          const text = f.reason === 'unreachable' ? `Ollama is not running (${f.message.replace(/\.$/, '')}). Start it with \`ollama serve\`, or set ragLedger.ollama.host. Showing an extractive answer: the most relevant passages, cited.` : f.reason === 'model_missing' ? `${f.message.replace(/\.$/, '')}. ${f.hint} Showing an extractive answer meanwhile.` : `${f.message.replace(/\.$/, '')}. ${f.hint}`;
          run.post({ kind: 'notice', level: f.reason === 'cancelled' ? 'info' : 'warning', text });
          if (f.reason !== 'cancelled') {
            void vscode.window.showWarningMessage(`RAG Ledger: ${text}`, 'Open Settings').then((picked) => picked && vscode.commands.executeCommand('workbench.action.openSettings', 'ragLedger.ollama'));
          }
        },
      });
      const citations: Citation[] = result.context.map((c) => ({ n: c.n, path: c.path, startLine: c.startLine, endLine: c.endLine }));
      run.finish({ queryId: result.queryId, modelId: result.modelId, pipelineVersion: result.pipelineVersion, answer: result.answer, citations, unmatchedCitations: result.unmatchedCitations });
      return result;
    } catch (err) {
      if (err instanceof CancelledError || controller.signal.aborted) {
        run.post({ kind: 'cancelled' });
        return undefined;
      }
      run.post({ kind: 'failed', text: (err as Error).message });
      throw err;
    } finally {
      sub.dispose();
      status.idle();
      host.changed();
    }
  });

  command('reembedDocument', async (target?: vscode.Uri | { kind: 'document'; doc: DocumentStatus }, selected?: vscode.Uri[]) => {
    if (host.folders().length === 0) throw new UserError('RAG Ledger needs a folder: open a folder or workspace first.');
    let paths: string[];
    if (target && 'kind' in target && target.kind === 'document') paths = [target.doc.source];
    else {
      const uris = selected && selected.length > 0 ? selected : target instanceof vscode.Uri ? [target] : vscode.window.activeTextEditor ? [vscode.window.activeTextEditor.document.uri] : [];
      if (uris.length === 0) throw new UserError('RAG Ledger: pick a file or folder to re-embed (right-click it in the Explorer, or open it in an editor).');
      paths = uris.map((u) => {
        const path = host.pathOf(u);
        if (path === undefined) throw new UserError(`RAG Ledger: ${u.fsPath} is outside the workspace's folders.`);
        return path;
      });
    }
    const engine = await host.get();
    const label = paths.length === 1 ? paths[0]! || 'the workspace' : `${paths.length} items`;
    const r = await withProgress(`Re-embedding ${label}`, (signal, onProgress) => engine.reembed(paths, { signal, onProgress }));
    const message = `RAG Ledger: re-embedded ${r.embedding.embedded} chunks of ${r.documents} document${r.documents === 1 ? '' : 's'} (${label}).`;
    log.info(`${message} Request ${r.requestId}.`);
    void vscode.window.showInformationMessage(message);
    return r;
  });

  command('forgetDocument', async (target?: vscode.Uri | { kind: 'document'; doc: DocumentStatus }) => {
    if (host.folders().length === 0) throw new UserError('RAG Ledger needs a folder: open a folder or workspace first.');
    let path: string;
    if (target && 'kind' in target && target.kind === 'document') path = target.doc.source;
    else {
      const uri = target instanceof vscode.Uri ? target : vscode.window.activeTextEditor?.document.uri;
      if (!uri) throw new UserError('RAG Ledger: pick a document to forget (right-click it in the Documents view).');
      const found = host.pathOf(uri);
      if (found === undefined) throw new UserError(`RAG Ledger: ${uri.fsPath} is outside the workspace's folders.`);
      path = found;
    }
    const engine = await host.get();
    let user = 'unknown user';
    try {
      user = userInfo().username;
    } catch {
      /* no user name on this platform */
    }
    const requestedBy = `${user} via VS Code`;
    const preview = await engine.previewForget(path);
    const confirmation = forgetConfirmation(preview, requestedBy);
    const picked = await vscode.window.showWarningMessage(confirmation.message, { modal: true, detail: confirmation.detail }, confirmation.confirm);
    if (picked !== confirmation.confirm) return undefined;
    const reason = await vscode.window.showInputBox({ title: `Forget ${preview.source}`, prompt: 'Why is it forgotten? (recorded in the log; may be empty)', ignoreFocusOut: true });
    if (reason === undefined) return undefined;
    const r = await withProgress(`Forgetting ${preview.source}`, () => engine.forget(path, reason, requestedBy));
    const message = `RAG Ledger: forgot ${r.source}: ${r.emptied} event${r.emptied === 1 ? '' : 's'} emptied${r.questions.length > 0 ? `, ${r.questions.length} question${r.questions.length === 1 ? '' : 's'} marked "source forgotten"` : ''}. The file itself is untouched.`;
    log.info(`${message} DocumentForgotten ${r.forgottenEventId ?? '(already forgotten)'}.`);
    if (r.keptCopies.length > 0) {
      const warning = `RAG Ledger: ${r.keptCopies.length} file${r.keptCopies.length === 1 ? '' : 's'} kept beside the store (${r.keptCopies.join(', ')}) predate the forget and may still hold the content; delete them to complete it.`;
      log.warn(warning);
      void vscode.window.showWarningMessage(warning);
    } else void vscode.window.showInformationMessage(message);
    return r;
  });

  command('rebuildIndex', async () => {
    const engine = await host.get();
    const r = await withProgress('Rebuilding the vector index from the log', (signal, onProgress) => engine.rebuildIndex({ signal, onProgress }));
    void vscode.window.showInformationMessage(`RAG Ledger: rebuilt the index of ${r.pipelineVersion} from the log: ${r.upserted} chunks of ${r.documents} documents, nothing re-embedded or re-read.`);
    return r;
  });

  command('verifyLog', async () => {
    const engine = await host.get();
    const r = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: 'RAG Ledger: verifying the event log' }, () => engine.verify());
    if (r.ok) void vscode.window.showInformationMessage(`RAG Ledger: the event log is intact: ${r.checked.toLocaleString()} events, hash chain verified.`);
    else void vscode.window.showErrorMessage(`RAG Ledger: the event log was altered: ${r.firstFailure?.kind ?? 'tampered'} at position ${r.firstFailure?.position ?? '?'}${r.firstFailure?.detail ? ` (${r.firstFailure.detail})` : ''}. Keep the store as it is for inspection; restore from an exported archive.`);
    return r;
  });

  command('exportAudit', async (target?: vscode.Uri) => {
    const engine = await host.get();
    const picked = target ? [target] : await vscode.window.showOpenDialog({ canSelectFiles: false, canSelectFolders: true, canSelectMany: false, openLabel: 'Export Here', title: 'RAG Ledger: Export Audit Trail (a new folder is created inside)' });
    if (!picked?.[0]) return undefined;
    const dir = join(picked[0].fsPath, `rag-ledger-audit-${new Date().toISOString().replace(/[:.]/g, '-')}`);
    mkdirSync(dir, { recursive: true });
    const { events, refused } = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: 'RAG Ledger: exporting the audit trail' }, () => engine.exportAudit(dir));
    const reveal = (open: string | undefined): unknown => open && vscode.commands.executeCommand('revealFileInOS', vscode.Uri.file(dir));
    if (refused.length > 0) void vscode.window.showWarningMessage(`RAG Ledger: exported ${events.toLocaleString()} events to ${dir}; ${refusedWarning(refused).replace(/^warning: /, '')}`, 'Reveal').then(reveal);
    else void vscode.window.showInformationMessage(`RAG Ledger: exported ${events.toLocaleString()} events (vectors included) to ${dir}. \`rag-ledger import\` and \`verify\` reproduce the log from it.`, 'Reveal').then(reveal);
    return { dir, events, refused: refused.length };
  });

  const { showProvenance } = registerExplorerCommands(context, host, command);

  const answerHandlers = { openCitation: (c: Citation) => void openChunk((p) => host.fileOf(p), c, { besides: AnswerPanel.column }), openProvenance: (id: string) => void showProvenance(id, { besides: AnswerPanel.column }) };
  /** Shows a recorded question's answer (or why there is none) in the answer view, from the log. */
  const showRecordedAnswer = async (queryId: string): Promise<void> => {
    const engine = await host.get();
    const p = await engine.provenance(queryId);
    const asked = p.chain.find((e) => e.type === 'QueryReceived');
    const panel = AnswerPanel.show(context.extensionUri, answerHandlers);
    const run = panel.begin(asked?.type === 'QueryReceived' ? asked.data.query_text : queryId);
    const done = p.chain.find((e) => e.type === 'InferenceCompleted');
    const failed = p.chain.find((e) => e.type === 'InferenceFailed');
    const answer = done?.type === 'InferenceCompleted' ? done.data.response_text : failed?.type === 'InferenceFailed' ? `(no answer: ${failed.data.reason})` : '(no answer recorded)';
    const citations = p.chunks.map((c) => {
      const [start, end] = (c.lines ?? '1-1').split('-').map(Number);
      return { n: c.rank, path: c.path ?? '(unknown)', startLine: start ?? 1, endLine: end ?? start ?? 1 };
    });
    const unmatchedCitations = done?.type === 'InferenceCompleted' ? done.data.unmatched_citations : [];
    const modelId = done?.type === 'InferenceCompleted' ? done.data.model_id : failed?.type === 'InferenceFailed' ? failed.data.model_id : undefined;
    run.finish({ queryId: p.queryId, modelId: modelId ?? 'unknown', pipelineVersion: (p.chain.find((e) => e.type === 'ContextRetrieved')?.metadata.pipeline_version) ?? '', answer, citations, unmatchedCitations });
  };
  context.subscriptions.push(AnswerPanel.register(context.extensionUri, answerHandlers, showRecordedAnswer));

  command('showAnswer', async (node?: QuestionNode) => {
    if (node?.kind !== 'question') return;
    await showRecordedAnswer(node.query.query_id);
  });

  command('openChunk', async (arg?: RetrievedChunk | QuestionNode) => {
    // The row's own command passes the chunk; the inline button passes the tree node.
    const chunk = arg && 'kind' in arg ? (arg.kind === 'chunk' ? arg.chunk : undefined) : arg;
    if (!chunk) return;
    await openChunk((p) => host.fileOf(p), chunk);
  });

  const pickVersion = async (engine: WorkspaceEngine, title: string, filter: (v: string) => boolean = () => true): Promise<string | undefined> => {
    const active = engine.ledger.readModels.activePipeline();
    const items = engine.ledger.readModels
      .pipelines()
      .filter((p) => filter(p.pipeline_version))
      .map((p) => {
        const progress = engine.ledger.readModels.pipelineProgress(p.pipeline_version);
        return { label: p.pipeline_version, description: `${p.label}${p.pipeline_version === active ? ' · active' : progress.complete ? ' · built' : ' · not built'}`, version: p.pipeline_version };
      });
    if (items.length === 0) throw new UserError('RAG Ledger: there is no other pipeline version. Change an embedding, chunking, retrieval or model setting, or run Define Pipeline Version….', 'Define Pipeline Version…', 'ragLedger.definePipeline');
    return (await vscode.window.showQuickPick(items, { title }))?.version;
  };

  const buildVersion = async (version: string): Promise<unknown> => {
    const engine = await host.get();
    pipelines.building.set(version, 'starting');
    try {
      const r = await withProgress(`Building ${version} in the shadow`, (signal, onProgress) =>
        engine.build(version, {
          signal,
          onProgress: (p) => {
            pipelines.building.set(version, `${PHASE_LABELS[p.phase].toLowerCase()} ${p.done}/${p.total ?? '?'}`);
            pipelines.refresh();
            onProgress(p);
          },
        }),
      );
      pipelines.building.delete(version);
      host.changed();
      void vscode.window.showInformationMessage(`RAG Ledger: ${version} is built from the log: ${r.totals.chunks} chunks, ${r.totals.withVectors} with vectors, ${r.totals.indexed} indexed. Questions still use the active version until you activate it.`, 'Activate', 'Compare First').then((picked) => {
        if (picked === 'Activate') void vscode.commands.executeCommand('ragLedger.activatePipeline', version);
        if (picked === 'Compare First') void vscode.commands.executeCommand('ragLedger.compareWithActive', version);
      });
      return r;
    } finally {
      pipelines.building.delete(version);
      host.changed();
    }
  };

  command('definePipeline', async (label?: string) => {
    const engine = await host.get();
    const configured = engine.configuredVersion();
    if (configured.defined) {
      void vscode.window.showInformationMessage(`RAG Ledger: the current settings are pipeline version ${configured.version}${configured.active ? ', the active one' : ''}. Change an embedding, chunking, retrieval or model setting to define another.`, 'Open Settings').then((p) => p && vscode.commands.executeCommand('workbench.action.openSettings', 'ragLedger'));
      return configured.version;
    }
    const name = typeof label === 'string' ? label : await vscode.window.showInputBox({ title: 'RAG Ledger: Define Pipeline Version', prompt: 'A short label for the version the current settings describe', value: `settings ${new Date().toISOString().slice(0, 16).replace('T', ' ')}` });
    if (!name) return undefined;
    const version = await engine.defineConfigured(name);
    host.changed();
    if (typeof label !== 'string') {
      const picked = await vscode.window.showInformationMessage(`RAG Ledger: defined ${version} ("${name}"). Build it in the shadow now (from the log, without disturbing questions)?`, 'Build in the Shadow', 'Later');
      if (picked === 'Build in the Shadow') await buildVersion(version);
    }
    return version;
  });

  command('buildPipeline', async (node?: PipelineNode | string) => {
    const engine = await host.get();
    const version = typeof node === 'string' ? node : node?.kind === 'pipeline' ? node.record.pipeline_version : await pickVersion(engine, 'Build which version in the shadow?', (v) => v !== engine.ledger.readModels.activePipeline());
    if (version) await buildVersion(version);
  });

  command('activatePipeline', async (node?: PipelineNode | string) => {
    const engine = await host.get();
    const version = typeof node === 'string' ? node : node?.kind === 'pipeline' ? node.record.pipeline_version : await pickVersion(engine, 'Activate which pipeline version?', (v) => v !== engine.ledger.readModels.activePipeline());
    if (!version) return undefined;
    if (!engine.ledger.readModels.pipelineProgress(version).complete) {
      const picked = await vscode.window.showWarningMessage(`RAG Ledger: ${version} is not fully built: questions would miss documents.`, { modal: true }, 'Build, Then Activate', 'Activate Anyway');
      if (picked === 'Build, Then Activate') await buildVersion(version);
      else if (picked !== 'Activate Anyway') return undefined;
      await engine.activate(version, { force: picked === 'Activate Anyway' });
    } else await engine.activate(version);
    host.changed();
    void vscode.window.showInformationMessage(`RAG Ledger: ${version} is now active; new questions use it.`);
    return version;
  });

  command('refreshViews', async () => {
    await host.get();
    host.changed();
  });

  // The team ledger's password: kept in VS Code's secret storage, never in settings.
  command('setTeamLedgerPassword', () => setTeamLedgerPassword(context, host, log));

  command('showStatus', async () => {
    await vscode.commands.executeCommand('workbench.view.extension.ragLedger');
  });

  // Settings that change results define a new pipeline version, then ask what to do with it.
  context.subscriptions.push(watchSettingsChanges(host, log, buildVersion));

  // Saved, created, renamed and deleted files are ingested as they change.
  const watcher = new FileWatcher(host, log, status);
  // Folders added to or removed from the workspace are ingested or retired.
  const folderChanges = new WorkspaceFolderChanges(host, log, status);
  context.subscriptions.push(watcher, folderChanges);

  // An existing store is opened at start-up so the views show it; a new one waits for the first ingest.
  void host.openIfPresent((dir) => existsSync(dir) && readdirSync(dir).length > 0);
  activeHost = host;
  return { host, views: { documents, questions, pipelines } };
}

let activeHost: EngineHost | undefined;

/** How long deactivation waits for the store to close (VS Code stops waiting after about 5 s). */
const DEACTIVATE_DEADLINE_MS = 4_000;

/**
 * Cancels an answer in progress (recording the cancellation), lets queued work finish, closes the
 * store and releases its lock before the extension host stops, within a short deadline.
 */
export async function deactivate(): Promise<void> {
  const host = activeHost;
  activeHost = undefined;
  if (!host) return;
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([host.close(), new Promise<void>((resolve) => (timer = setTimeout(resolve, DEACTIVATE_DEADLINE_MS)))]).finally(() => clearTimeout(timer));
}
