import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { AskResult } from '../app/ask/askService.js';
import { AskService } from '../app/ask/askService.js';
import type { EngineDeps } from '../app/engineDeps.js';
import type { SyncReport } from '../app/indexing/indexService.js';
import { IndexService } from '../app/indexing/indexService.js';
import type { BuildReport } from '../app/pipelines/buildService.js';
import { PipelineBuildService } from '../app/pipelines/buildService.js';
import { PipelineService } from '../app/pipelines/pipelineService.js';
import type { Provenance } from '../app/provenance/provenanceService.js';
import { ProvenanceService } from '../app/provenance/provenanceService.js';
import { RetrievalService } from '../app/retrieval/retrievalService.js';
import type { CompareQuestion } from '../app/compare/compareService.js';
import type { Explorer } from '../app/explorer/explorer.js';
import type { ForgetPreview, ForgetReport } from '../app/forget/forgetService.js';
import { ForgetService } from '../app/forget/forgetService.js';
import { TeamLedgerUnavailableError, ValidationError } from '../core/errors.js';
import { InMemoryEventStore } from './memory/inMemoryEventStore.js';
import type { LabelledFolder, NamedFolder } from '../core/ingest/folderLabels.js';
import { folderLabels } from '../core/ingest/folderLabels.js';
import type { PipelineConfig } from '../core/pipeline/pipelineConfig.js';
import { DEFAULT_PIPELINE, pipelineVersionOf } from '../core/pipeline/pipelineConfig.js';
import type { VerifyReport } from '../core/eventStore.js';
import type { CompareReport, ReanswerReport, ReplayReport } from '../shared/explorerModel.js';
import type { RefusedByImport } from './archive/jsonlArchive.js';
import { exportArchive } from './archive/jsonlArchive.js';
import { defaultHeadSigner } from './node/signing.js';
import { MultiRootWorkspaceSource } from './fs/multiRootWorkspaceSource.js';
import type { Ledger } from './ledger.js';
import { withPipelineLock } from './pipelineLock.js';
import { assertIndexPresent, openExplorer, openLedger, openVectorIndex } from './ledger.js';
import { EXPLORER_DIR } from './sqljs/sqljsEventIndex.js';
import { keptCopies } from './sqljs/forgetFiles.js';
import type { LanceVectorIndex } from './lancedb/lanceVectorIndex.js';
import { SecretlintScanner } from './secretlint/secretlintScanner.js';
import { sha256 } from './node/sha256.js';
import { OllamaGenerator } from './ollama/ollamaGenerator.js';
import { settleEmbedderDimensions } from './transformers/modelDimensions.js';
import { EmbedderCache, unavailableMessage } from './engineEmbedders.js';
import type { ExplorerOpsContext, ReanswerOptions } from './engineExplorerOps.js';
import { compareVersions, reanswerReplay, replayQuestion } from './engineExplorerOps.js';
import type { IngestOpsContext, ReembedReport } from './engineIngestOps.js';
import { ingestWorkspace, reembedPaths, retireFolder, work } from './engineIngestOps.js';
import type { EngineIngestOptions, EngineIngestReport, EngineSettings, WorkOptions } from './engineSettings.js';

/**
 * The engine behind one workspace window: the store opened once (holding the write lock while
 * the window is open), the vector index, the embedding model loaded on first use (in its worker),
 * and every operation the extension offers, serialised so two commands never interleave their
 * writes. It has no `vscode` in it: the extension is a thin shell over it, and the same engine
 * is tested in plain Node.
 */
export class WorkspaceEngine {
  private queue: Promise<unknown> = Promise.resolve();
  /** Told when each operation starts and ends (the extension writes it to its log at debug level). */
  trace: ((line: string) => void) | null = null;
  /** The embedding model, loaded on first use and kept while the settings name the same one. */
  private readonly embedders = new EmbedderCache(() => this.settings);
  private explorerOpening: Promise<Explorer> | null = null;
  private explorerOpened: Explorer | null = null;
  private closed = false;
  /** Aborted by close(): answers in progress stop (and record their cancellation) instead of running on. */
  private readonly closing = new AbortController();
  /** Checks every ingested document's content for credentials (loaded on first use). */
  private readonly secretScanner = new SecretlintScanner();

  private constructor(
    private settings: EngineSettings,
    readonly ledger: Ledger,
    private readonly index: LanceVectorIndex,
  ) {}

  /** Opens (`create: false`: only opens) the store with the write lock, and the vector index. */
  static async open(settings: EngineSettings, options: { readonly create?: boolean } = {}): Promise<WorkspaceEngine> {
    // A member of a team ledger whose server cannot be reached opens offline: it answers from its projections.
    const ledger = await openLedger(settings.storeDir, { mode: 'write', owner: settings.owner, ...(options.create === false ? { create: false } : {}), ...(settings.team ? { team: { ...settings.team, allowOffline: true } } : {}) });
    try {
      // This window holds the write lock: scratch tables left by a replay that died are its to sweep.
      const index = await openVectorIndex(settings.storeDir, { sweepScratch: true, ...(settings.indexBuildTimeoutMs !== undefined ? { buildTimeoutMs: settings.indexBuildTimeoutMs } : {}) });
      await ledger.runner.catchUp();
      return new WorkspaceEngine(settings, ledger, index);
    } catch (err) {
      await ledger.close();
      throw err;
    }
  }

  get storeDir(): string {
    return this.settings.storeDir;
  }

  get writable(): boolean {
    return this.ledger.events.writable;
  }

  /**
   * New settings (the next operation uses them; a changed embedder is loaded again on use). The
   * store stays where it was opened: another store location takes effect when the engine reopens.
   */
  updateSettings(settings: EngineSettings): void {
    this.settings = { ...settings, storeDir: this.settings.storeDir, owner: this.settings.owner, ...(this.settings.team ? { team: this.settings.team } : {}) };
  }

  /**
   * The pipeline configuration the settings describe, the embedding dimensions settled against the
   * model's config.json. Throws EmbeddingDimensionsMismatchError or EmbeddingDimensionsUnknownError
   * (nothing is written).
   */
  configuredPipeline(): PipelineConfig {
    const { pipeline, modelDir } = this.settings;
    return { ...pipeline, embedder: settleEmbedderDimensions(pipeline.embedder, { modelDir: modelDir ?? null, known: DEFAULT_PIPELINE.embedder }) };
  }

  /** The version the current settings describe, and whether the store knows it yet. */
  configuredVersion(): { readonly version: string; readonly defined: boolean; readonly active: boolean } {
    const version = pipelineVersionOf(this.configuredPipeline(), sha256);
    return { version, defined: this.ledger.readModels.pipeline(version) !== undefined, active: this.ledger.readModels.activePipeline() === version };
  }

  /** The workspace's folders with the labels their documents' paths start with ('' for a single folder). */
  folders(): LabelledFolder[] {
    return folderLabels(this.namedFolders());
  }

  private namedFolders(): readonly NamedFolder[] {
    const { folders, workspaceRoot } = this.settings;
    return folders && folders.length > 0 ? folders : [{ name: basename(workspaceRoot), path: workspaceRoot }];
  }

  private source(): MultiRootWorkspaceSource {
    return new MultiRootWorkspaceSource(this.namedFolders(), [this.settings.storeDir]);
  }

  /**
   * A folder left the workspace: its live documents (paths under `label/`) are recorded as
   * deleted with that reason and leave the index. Nothing is read from disk. Call it with the
   * label the folder had before it was removed.
   */
  retireFolder(label: string, options: WorkOptions = {}): Promise<{ readonly retired: number; readonly indexing: SyncReport }> {
    return this.pipelined(() => retireFolder(this.ingestContext(), label, options), options, 'retire folder');
  }

  /** What the ingest-side operations need of this engine (see engineIngestOps.ts). */
  private ingestContext(): IngestOpsContext {
    return {
      ledger: this.ledger,
      index: this.index,
      embedders: this.embedders,
      settings: this.settings,
      secretScanner: this.secretScanner,
      deps: () => this.deps(),
      source: () => this.source(),
      settingsVersion: () => this.activeVersion(),
      buildVersion: (version, options) => this.buildUnlocked(version, options),
    };
  }

  private deps(): EngineDeps {
    return { events: this.ledger.events, runner: this.ledger.runner, readModels: this.ledger.readModels, hasher: sha256, clock: () => new Date().toISOString(), actor: this.settings.actor };
  }

  /** Runs one operation after the previous one has finished; the read models follow its events. */
  /**
   * An operation that changes what the pipeline produced (ingest, embed, index, build, forget): run as
   * the only process running this store's pipeline (see pipelineLock.ts), after catching up with what
   * another window or the CLI did meanwhile, so nothing is recorded or embedded twice.
   */
  private pipelined<T>(fn: () => Promise<T>, options: WorkOptions, name: string): Promise<T> {
    return this.exclusive(
      () =>
        // Offline from the team ledger: nothing can be recorded, so nothing starts.
        this.ledger.offline !== null ? Promise.reject(new TeamLedgerUnavailableError(this.ledger.team ?? this.settings.storeDir, this.ledger.offline)) :
        withPipelineLock(
          this.settings.storeDir,
          this.ledger,
          {
            owner: this.settings.owner,
            ...(options.signal ? { signal: options.signal } : {}),
            onWait: (holder) => {
              // A team member's holder names itself (who, where, its pid) in its owner.
              const who = holder.pid > 0 ? `${holder.owner} (pid ${holder.pid} on ${holder.hostname})` : holder.owner;
              this.trace?.(`${name}: waiting for ${who}`);
              options.onProgress?.({ phase: 'wait', done: 0, detail: who });
            },
          },
          fn,
        ),
      name,
    );
  }

  private exclusive<T>(fn: () => Promise<T>, name = 'operation'): Promise<T> {
    if (this.closed) return Promise.reject(new Error('RAG Ledger: the store is closed'));
    this.trace?.(`${name}: queued`);
    const op = async (): Promise<T> => {
      const started = Date.now();
      this.trace?.(`${name}: started`);
      try {
        return await fn();
      } finally {
        await this.ledger.runner.catchUp().catch(() => undefined);
        // Seal the head this operation left (when a signing key is set): see core/signing.ts.
        await this.ledger.events.sealHead().catch((err: unknown) => this.trace?.(`${name}: the head was not signed: ${(err as Error).message}`));
        this.trace?.(`${name}: ended after ${Date.now() - started} ms`);
      }
    };
    const run = this.queue.then(op, op);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /**
   * The version questions use: the active one, or, before any was activated, the settings'
   * version (defined and activated now).
   */
  private async askedVersion(): Promise<{ version: string; config: PipelineConfig }> {
    await this.ledger.runner.catchUp();
    const active = this.ledger.readModels.activePipeline();
    const record = active === undefined ? undefined : this.ledger.readModels.pipeline(active);
    return active !== undefined && record ? { version: active, config: record.config as unknown as PipelineConfig } : this.activeVersion();
  }

  /**
   * The version the settings describe (the one an ingest chunks) and its configuration; the first
   * use defines it, and activates it when no version is active yet.
   */
  private async activeVersion(): Promise<{ version: string; config: PipelineConfig }> {
    const configured = this.configuredPipeline();
    const version = await new PipelineService(this.deps()).defineAndActivateIfNone(configured, configured.embedder.model);
    const record = this.ledger.readModels.pipeline(version);
    return { version, config: (record?.config as unknown as PipelineConfig | undefined) ?? configured };
  }

  /**
   * Ingests the workspace (or only `scope`: workspace-relative files and folders), then embeds
   * (unless `embed` is false) and indexes what it chunked for the version the settings describe
   * (the first ingest defines and activates it). The active version's table, when it is another
   * one, loses deleted, rejected and superseded documents too, and every version built in the
   * shadow follows the workspace (from the log: chunk, embed, index).
   */
  ingest(options: EngineIngestOptions = {}): Promise<EngineIngestReport> {
    return this.pipelined(() => ingestWorkspace(this.ingestContext(), options), options, 'ingest');
  }

  /**
   * Re-embeds the documents at the given workspace-relative paths (files, or folders: every
   * document under them): ingests them first (a changed file becomes a new version), computes
   * fresh vectors for their chunks under the settings' version, and writes them into the index.
   * Only those documents' streams receive events.
   */
  reembed(paths: readonly string[], options: WorkOptions = {}): Promise<ReembedReport> {
    return this.pipelined(() => reembedPaths(this.ingestContext(), paths, options), options, 're-embed');
  }

  private generator(model: string): OllamaGenerator {
    const o = this.settings.ollama;
    return new OllamaGenerator({
      model,
      ...(o.host ? { host: o.host } : {}),
      ...(o.idleTimeoutMs ? { idleTimeoutMs: o.idleTimeoutMs } : {}),
      ...(o.answerTimeoutMs ? { answerTimeoutMs: o.answerTimeoutMs } : {}),
      ...(o.maxAnswerChars ? { maxAnswerChars: o.maxAnswerChars } : {}),
      ...(o.contextTokens ? { contextTokens: o.contextTokens } : {}),
    });
  }

  /** The caller's signal, also aborted when the engine closes (a window closed mid-answer). */
  private answerSignal(signal: AbortSignal | undefined): AbortSignal {
    return signal ? AbortSignal.any([signal, this.closing.signal]) : this.closing.signal;
  }

  /**
   * Asks a question against the active version (not the settings' one while that is built in the
   * shadow); the answer streams through `onText`. Closing the engine meanwhile cancels the answer,
   * and the cancellation is recorded before the store closes.
   */
  ask(
    question: string,
    options: {
      readonly signal?: AbortSignal;
      readonly onText?: (text: string) => void;
      readonly onFailure?: (f: NonNullable<AskResult['failure']>) => void;
      /** Retrieval is full-text only: the embedding model could not be loaded (`why` has the message and hint apart). */
      readonly onRetrievalUnavailable?: (message: string, why: { readonly message: string; readonly hint: string }) => void;
      readonly userId: string;
      readonly k?: number;
      readonly mode?: 'vector' | 'lexical' | 'hybrid';
      readonly model?: string;
      /** Answer from the retrieved passages alone, without the model. */
      readonly extractive?: boolean;
    },
  ): Promise<AskResult & { readonly pipelineVersion: string; readonly offline?: string }> {
    return this.exclusive(async () => {
      const { version, config } = await this.askedVersion();
      const offline = this.ledger.offline;
      // A member of a team ledger first brings its own index up to the shared log: chunks other
      // members indexed come with their vectors from the log (nothing is embedded again).
      if (this.ledger.team !== null && offline === null) await new IndexService({ ...this.deps(), index: this.index }).sync(version, options.signal ? { signal: options.signal } : {});
      // A version with indexed chunks but no table (vectors/ deleted) must not answer from nothing.
      await assertIndexPresent(this.ledger, this.index, version);
      const mode = options.mode ?? config.retrieval.mode;
      const embedder = await this.embedders.retrievalEmbedder(config, mode, (err) => options.onRetrievalUnavailable?.(unavailableMessage(err), err));
      const generator = options.extractive === true ? null : this.generator(options.model ?? config.generator.model);
      // Offline, the question is answered from this member's projections and recorded nowhere: the result says so.
      const service = new AskService({ events: offline === null ? this.ledger.events : new InMemoryEventStore(), retrieval: new RetrievalService(this.index), hasher: sha256, clock: () => new Date().toISOString(), newId: randomUUID, actor: this.settings.actor });
      const result = await service.ask(question, {
        pipelineVersion: version,
        k: options.k ?? config.retrieval.k,
        mode,
        promptTemplate: config.prompt.template,
        embedder,
        generator,
        userId: options.userId,
        signal: this.answerSignal(options.signal),
        ...(options.onText ? { onText: options.onText } : {}),
        ...(options.onFailure ? { onFailure: options.onFailure } : {}),
      });
      if (offline !== null) return { ...result, pipelineVersion: version, offline };
      await this.ledger.runner.catchUp();
      await this.ledger.projections.flush();
      return { ...result, pipelineVersion: version };
    });
  }

  /** Catches the read models up with the log (what other members appended), in turn with the other operations. */
  catchUp(): Promise<void> {
    return this.exclusive(async () => {
      await this.ledger.runner.catchUp();
      await this.ledger.projections.flush();
    }, 'catch up');
  }

  /** A question's provenance chain, from the log. */
  provenance(queryId: string): Promise<Provenance> {
    // Through the queue: it catches the read models up, which must never run beside another operation's catch-up.
    return this.exclusive(() => new ProvenanceService({ events: this.ledger.events, runner: this.ledger.runner, readModels: this.ledger.readModels }).show(queryId), 'provenance');
  }

  /** Drops a version's vector table and rebuilds it from the log (nothing embedded, no source read). */
  rebuildIndex(options: WorkOptions & { readonly pipelineVersion?: string } = {}): Promise<SyncReport & { readonly pipelineVersion: string }> {
    return this.pipelined(async () => {
      const version = options.pipelineVersion ?? (await this.askedVersion()).version;
      const report = await new IndexService({ ...this.deps(), index: this.index }).rebuild(version, work('index', options));
      await this.ledger.projections.flush();
      return { ...report, pipelineVersion: version };
    }, options, 'rebuild index');
  }

  verify(): Promise<VerifyReport> {
    return this.exclusive(() => this.ledger.events.verify());
  }

  /**
   * Writes the audit trail (the whole log, vectors included) as a JSON Lines archive, its manifest
   * signed with the log's key (an archive of a signed log without it is refused by `import`).
   * `refused` lists events recorded under older limits that an import refuses (RefusedByImport).
   */
  exportAudit(dir: string): Promise<{ readonly events: number; readonly refused: readonly RefusedByImport[] }> {
    return this.exclusive(async () => {
      const refused: RefusedByImport[] = [];
      const events = await exportArchive(this.ledger.events, dir, undefined, { signer: defaultHeadSigner(), logKey: await this.ledger.events.signingKey() }, (e) => refused.push(e));
      return { events, refused };
    });
  }

  /** Defines the version the settings describe (idempotent). */
  defineConfigured(label: string): Promise<string> {
    return this.pipelined(() => new PipelineService(this.deps()).define(this.configuredPipeline(), label), {}, 'define');
  }

  activate(version: string, options: { readonly force?: boolean } = {}): Promise<void> {
    return this.pipelined(async () => {
      await new PipelineService(this.deps()).activate(version, options);
      await this.ledger.projections.flush();
    }, {}, 'activate');
  }

  /** Builds a version in the shadow of the active one, from the log alone. */
  build(version: string, options: WorkOptions = {}): Promise<BuildReport> {
    return this.pipelined(() => this.buildUnlocked(version, options), options, 'build');
  }

  private async buildUnlocked(version: string, options: WorkOptions): Promise<BuildReport> {
    const record = this.ledger.readModels.pipeline(version);
    if (!record) throw new ValidationError(`pipeline version ${version} is not defined`, [], 'Define it first (RAG Ledger: Define Pipeline Version…).');
    const config = record.config as unknown as PipelineConfig;
    // Without a loadable model the version is built lexical only (the report says so).
    const embedder = await this.embedders.retrievalEmbedder(config, 'vector', options.onEmbedderUnavailable);
    const report = await new PipelineBuildService({ ...this.deps(), index: this.index }).build(version, {
      embedder,
      ...(options.signal ? { signal: options.signal } : {}),
      onProgress: (p) => options.onProgress?.({ phase: p.phase === 'chunk' ? 'chunk' : p.phase, done: p.done, total: p.total }),
    });
    await this.ledger.projections.flush();
    return report;
  }

  private forgetService(): ForgetService {
    return new ForgetService({
      ...this.deps(),
      index: this.index,
      compactReadModels: async () => {
        await (this.ledger.projections.compact?.() ?? this.ledger.projections.flush());
      },
      resetExplorer: async () => {
        // An open explorer re-indexes the emptied log; a closed one's folder goes (rebuilt on first use).
        const opening = this.explorerOpening;
        if (opening) await (await opening).timeline.rebuild();
        else rmSync(join(this.settings.storeDir, EXPLORER_DIR), { recursive: true, force: true });
      },
    });
  }

  /** What forgetting the document at a workspace-relative path (or with this id) would empty. */
  previewForget(target: string): Promise<ForgetPreview> {
    return this.exclusive(() => this.forgetService().preview(target), 'forget preview');
  }

  /**
   * Forgets a document: its content, chunk text and vectors (and the prompts and answers of the
   * questions that cited it) are emptied in the log, and every derived copy is rebuilt without them.
   */
  forget(target: string, reason: string, requestedBy: string): Promise<ForgetReport & { readonly keptCopies: readonly string[] }> {
    return this.pipelined(async () => {
      const report = await this.forgetService().forget({ target, reason, requestedBy });
      await this.ledger.projections.flush();
      return { ...report, keptCopies: keptCopies(this.settings.storeDir) };
    }, {}, 'forget');
  }

  /**
   * The event-log explorer over this store, opened on first use. Its reads do not queue behind
   * operations (a long ingest), so the timeline follows the log while work runs.
   */
  explorer(): Promise<Explorer> {
    if (this.closed) return Promise.reject(new Error('RAG Ledger: the store is closed'));
    this.explorerOpening ??= openExplorer(this.settings.storeDir, this.ledger, this.settings.indexBuildTimeoutMs !== undefined ? { buildTimeoutMs: this.settings.indexBuildTimeoutMs } : {}).then(
      (explorer) => (this.explorerOpened = explorer),
      (err: unknown) => {
        this.explorerOpening = null;
        throw err;
      },
    );
    return this.explorerOpening;
  }

  /** The explorer if it has finished opening (the panel's first rows do not wait for it). */
  explorerIfOpen(): Explorer | null {
    return this.closed ? null : this.explorerOpened;
  }

  /** What the explorer's operations need of this engine (see engineExplorerOps.ts). */
  private explorerContext(): ExplorerOpsContext {
    return {
      ledger: this.ledger,
      index: this.index,
      embedders: this.embedders,
      deps: () => this.deps(),
      generator: (model) => this.generator(model),
      answerSignal: (signal) => this.answerSignal(signal),
      configuredPipeline: () => this.configuredPipeline(),
      settingsGeneratorModel: () => this.settings.pipeline.generator.model,
    };
  }

  /**
   * Replays a recorded question against a version (as of when it was asked, or now) and records
   * the diff as ContextReplayed; the report aligns both contexts chunk by chunk.
   */
  replay(queryId: string, version: string, options: { readonly asOf?: 'now' | 'asked' | number; readonly signal?: AbortSignal } = {}): Promise<ReplayReport> {
    return this.exclusive(() => replayQuestion(this.explorerContext(), queryId, version, options), 'replay');
  }

  /** Answers a question again from a recorded replay's context (ReplayAnswered), streaming through `onText`. */
  reanswer(queryId: string, replayId: string, options: ReanswerOptions = {}): Promise<ReanswerReport> {
    return this.exclusive(() => reanswerReplay(this.explorerContext(), queryId, replayId, options), 'reanswer');
  }

  /** Retrieves every recorded question (or a golden set) with two versions and reports how the contexts differ. */
  compare(from: string, to: string, options: WorkOptions & { readonly k?: number; readonly golden?: readonly CompareQuestion[] } = {}): Promise<CompareReport> {
    return this.exclusive(() => compareVersions(this.explorerContext(), from, to, options), 'compare');
  }

  async close(): Promise<void> {
    if (this.closed) return;
    // Refuse new operations at once, cancel answers in progress, then let the queued work finish.
    this.closed = true;
    this.closing.abort();
    await this.queue;
    const explorer = this.explorerOpening;
    this.explorerOpening = null;
    this.explorerOpened = null;
    try {
      if (explorer) await explorer.then((x) => x.close()).catch(() => undefined);
      await this.embedders.close();
      await this.index.close();
    } finally {
      await this.ledger.close();
    }
  }
}
