import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { CompareQuestion } from '../../app/compare/compareService.js';
import { readModelLabel } from '../../app/explorer/explorer.js';
import { logPage } from '../../app/explorer/timelineService.js';
import { ValidationError } from '../../core/errors.js';
import { typeGroups } from '../../core/explorer/eventGroups.js';
import { isEmptyFilter } from '../../core/explorer/timelineFilter.js';
import { parseGolden } from '../../core/retrieval/evaluation.js';
import type { PipelineSummary } from '../../shared/explorerModel.js';
import type { ExplorerInit, ExplorerPush, ExplorerRequest, ExplorerRequests } from '../../shared/explorerProtocol.js';
import { TIMELINE_PAGE_ROWS, bootKey } from '../../shared/explorerProtocol.js';
import { UserError } from '../engineHost.js';
import type { EngineHost } from '../engineHost.js';
import { isInside } from '../paths.js';
import { openChunk } from '../views/questionsView.js';

/** Versions are listed again this long after the last change (an ingest changes the ledger many times). */
const PIPELINES_SETTLE_MS = 500;
/**
 * When the versions are listed if no timeline page asks first (a panel opened on a replay, say):
 * listing them opens the explorer's index, which must not hold up the first rows.
 */
const PIPELINES_FALLBACK_MS = 1_500;
/** A prefetched answer is used only if the webview asks this soon after it was worked out. */
const PREFETCH_FRESH_MS = 10_000;
/** A golden set larger than this is refused (it is read whole). */
const GOLDEN_MAX_BYTES = 16 * 1024 * 1024;

/**
 * Answers the explorer's requests (already validated) from the window's engine: reads go straight
 * to the explorer's services; replays, re-answers, comparisons and activation queue behind other
 * operations, can be cancelled, and report progress as pushes.
 */
export class ExplorerRequestHandler {
  private readonly running = new Map<number, AbortController>();
  /**
   * Whether the first rows are on their way (a timeline page was answered, or the fallback passed):
   * until then the density chart waits, so that opening the index for it does not hold up the page.
   */
  private rowsShown = false;
  private readonly rowsWaiters: (() => void)[] = [];
  private rowsTimer: ReturnType<typeof setTimeout> | undefined;
  /** The pipeline versions as last listed (null: to be listed again). */
  private summaries: { pipelines: PipelineSummary[]; active: string | null } | null = null;
  private pipelinesTimer: ReturnType<typeof setTimeout> | undefined;
  /**
   * Answers worked out while a new panel's webview loads (see prefetch), by request key; each is
   * used once, and only while fresh.
   */
  private prefetched: { readonly at: number; readonly answers: Map<string, Promise<unknown>> } | null = null;

  constructor(
    private readonly host: EngineHost,
    private readonly push: (message: ExplorerPush) => Promise<void>,
    /** The explorer's editor group: sources open in another one. */
    private readonly column: () => vscode.ViewColumn | undefined = () => undefined,
  ) {}

  async handle(request: ExplorerRequest): Promise<ExplorerRequests[ExplorerRequest['method']]['result']> {
    const early = this.takePrefetched(request);
    if (early) {
      try {
        if (request.method === 'init') this.initTimers();
        return (await early) as ExplorerRequests[ExplorerRequest['method']]['result'];
      } catch {
        // Worked out again (and the error, if it persists, is reported then).
      }
    }
    return this.work(request);
  }

  private async work(request: ExplorerRequest): Promise<ExplorerRequests[ExplorerRequest['method']]['result']> {
    const engine = await this.host.get();
    // The panel's opening requests do not wait for the explorer's index to open (it is read whole,
    // ~90 MB at a million events): `init` needs none, and the unfiltered timeline has no use for it.
    const opened = engine.explorerIfOpen();
    if (request.method === 'init') {
      this.initTimers();
      return this.initResult();
    }
    if (request.method === 'page' && !opened && isEmptyFilter(request.params.filter)) {
      return logPage(engine.ledger.events, readModelLabel(engine.ledger.readModels), request.params.start, request.params.limit);
    }
    if (request.method === 'density' && !opened && !this.rowsShown) await new Promise<void>((resolve) => this.rowsWaiters.push(resolve));
    const explorer = opened ?? (await engine.explorer());
    switch (request.method) {
      case 'page':
        return explorer.timeline.page(request.params.filter, request.params.start, request.params.limit);
      case 'locate':
        return explorer.timeline.locate(request.params.filter, request.params);
      case 'density':
        return explorer.timeline.density(request.params.filter, request.params.buckets);
      case 'event':
        return explorer.details.detail(request.params.position);
      case 'field':
        return explorer.details.field(request.params.position, request.params.path);
      case 'findEvent':
        return { position: await explorer.details.findEvent(request.params.eventId) };
      case 'questions':
        return explorer.questions(request.params.search, request.params.limit);
      case 'pipelines':
        return (this.summaries = explorer.pipelines());
      case 'replay':
        return this.cancellable(request.id, (signal) => engine.replay(request.params.queryId, request.params.pipelineVersion, { asOf: request.params.asOf, signal }));
      case 'reanswer':
        return this.cancellable(request.id, (signal) =>
          engine.reanswer(request.params.queryId, request.params.replayId, { signal, onText: (text) => void this.push({ kind: 'push', type: 'answerText', id: request.id, text }) }),
        );
      case 'compare': {
        const golden = request.params.golden ? this.goldenSet() : undefined;
        return this.cancellable(request.id, (signal) =>
          engine.compare(request.params.from, request.params.to, {
            signal,
            ...(golden ? { golden } : {}),
            onProgress: (p) => void this.push({ kind: 'push', type: 'progress', id: request.id, done: p.done, total: p.total ?? p.done, label: `Compared ${p.done} of ${p.total ?? '?'} questions` }),
          }),
        );
      }
      case 'activate':
        return { activated: await this.activate(request.params.version, request.params.summary) };
      case 'documentHistory':
        return explorer.documents.history(request.params.documentId);
      case 'documentDiff':
        return explorer.documents.diff(request.params.documentId, request.params.from, request.params.to);
    }
  }

  /**
   * Works out what a new panel on the timeline's top asks first (init and the first two pages) while
   * its webview loads (~0.5 s, more on a window's first webview): reading them may load read models
   * from disk (the document paths at a million events: ~0.1 s), which then no longer delays the first
   * rows. Started on the next turn, so the panel's creation reaches the window first. Resolves with
   * the answers by request key (see bootKey) once all are ready, or with null after `waitMs` or on an
   * error; until used or stale they also answer the webview's requests.
   */
  async prefetch(waitMs: number): Promise<Record<string, unknown> | null> {
    await new Promise((resolve) => setTimeout(resolve, 0));
    if (!this.host.current) return null;
    const answers = new Map<string, Promise<unknown>>();
    const keep = (request: ExplorerRequest): void => {
      const key = bootKey(request.method, request.params);
      if (key === null) return;
      const answer = this.work(request);
      answer.catch(() => undefined);
      answers.set(key, answer);
    };
    this.prefetched = { at: Date.now(), answers };
    keep({ kind: 'request', id: 0, method: 'init', params: {} });
    for (const start of [0, TIMELINE_PAGE_ROWS]) keep({ kind: 'request', id: 0, method: 'page', params: { filter: {}, start, limit: TIMELINE_PAGE_ROWS } });
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), waitMs)));
    const all = Promise.all([...answers].map(async ([key, answer]) => [key, await answer] as const)).then((entries) => Object.fromEntries(entries));
    try {
      return await Promise.race([all, late]);
    } catch {
      return null;
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * The webview took init and its first pages from its page (see prefetch) and will not ask for them:
   * what asking would have started starts now.
   */
  booted(): void {
    this.prefetched = null;
    this.initTimers();
  }

  /** The prefetched answer to this request, if there is one and it is fresh (it is then forgotten). */
  private takePrefetched(request: ExplorerRequest): Promise<unknown> | undefined {
    const key = bootKey(request.method, request.params);
    const prefetched = this.prefetched;
    if (key === null || !prefetched) return undefined;
    if (Date.now() - prefetched.at > PREFETCH_FRESH_MS) {
      this.prefetched = null;
      return undefined;
    }
    const answer = prefetched.answers.get(key);
    prefetched.answers.delete(key);
    return answer;
  }

  private async initResult(): Promise<ExplorerInit> {
    const engine = await this.host.get();
    const head = (await engine.ledger.events.head()).position;
    const known = this.summaries;
    const indexing = engine.explorerIfOpen()?.timeline.indexing;
    return { head, storeLocation: engine.storeDir, eventTypes: typeGroups(), pipelines: known?.pipelines ?? [], activePipeline: known?.active ?? engine.ledger.readModels.activePipeline() ?? null, goldenSet: this.goldenSetting(), ...(indexing ? { indexing } : {}) };
  }

  /** The versions follow `init` as a push, once the first rows are on their way (see timelineShown). */
  private initTimers(): void {
    if (!this.summaries) this.schedulePipelines(PIPELINES_FALLBACK_MS);
    if (!this.rowsShown && !this.rowsTimer) this.rowsTimer = setTimeout(() => this.showRows(), PIPELINES_FALLBACK_MS);
  }

  private async cancellable<T>(id: number, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const controller = new AbortController();
    this.running.set(id, controller);
    try {
      return await work(controller.signal);
    } finally {
      this.running.delete(id);
    }
  }

  cancel(id: number): void {
    this.running.get(id)?.abort();
  }

  /** Asks before cutting over: the comparison's figures are in the question. */
  private async activate(version: string, summary: string): Promise<boolean> {
    const engine = await this.host.get();
    const progress = engine.ledger.readModels.pipelineProgress(version);
    if (!engine.ledger.readModels.pipeline(version)) throw new ValidationError(`pipeline version ${version} is not defined`);
    if (engine.ledger.readModels.activePipeline() === version) return true;
    const detail = `${summary.trim()}\n\nNew questions will use ${version}. Past questions, their contexts and answers stay as recorded.${progress.complete ? '' : `\n\n${version} is not fully built (${progress.documents} of ${progress.liveDocuments} documents chunked, ${progress.indexed} of ${progress.chunks} chunks indexed): questions would miss documents.`}`;
    const choice = await vscode.window.showWarningMessage(`Activate pipeline version ${version}?`, { modal: true, detail }, progress.complete ? 'Activate' : 'Activate Anyway');
    if (!choice) return false;
    await engine.activate(version, { force: !progress.complete });
    this.host.changed();
    return true;
  }

  /** Opens a chunk the event at `position` carries or cites; the path comes from the log and must be inside the workspace. */
  async openChunk(position: number, chunkId: string): Promise<void> {
    try {
      const engine = await this.host.get();
      const chunk = await (await engine.explorer()).details.chunkSource(position, chunkId);
      if (!chunk || chunk.path === null) throw new UserError(`RAG Ledger: the chunk ${chunkId} has no known source in the log.`);
      if (this.host.fileOf(chunk.path) === undefined) throw new UserError(`RAG Ledger: refused to open ${chunk.path}: it is outside the workspace's folders.`);
      await openChunk((p) => this.host.fileOf(p), { path: chunk.path, startLine: chunk.startLine ?? 1, endLine: chunk.endLine ?? chunk.startLine ?? 1 }, { besides: this.column() });
    } catch (err) {
      void vscode.window.showWarningMessage((err as Error).message);
    }
  }

  /** The ledger changed: the versions are pushed again, once the changes settle. */
  pushPipelines(): void {
    this.summaries = null;
    this.prefetched = null;
    this.schedulePipelines(PIPELINES_SETTLE_MS);
  }

  /** A timeline page was answered: the versions are listed now if they are not known yet. */
  timelineShown(): void {
    this.showRows();
    if (!this.summaries) this.schedulePipelines(0);
  }

  private showRows(): void {
    clearTimeout(this.rowsTimer);
    this.rowsShown = true;
    for (const resolve of this.rowsWaiters.splice(0)) resolve();
  }

  private schedulePipelines(delayMs: number): void {
    clearTimeout(this.pipelinesTimer);
    this.pipelinesTimer = setTimeout(() => {
      void (async () => {
        const engine = this.host.current;
        if (!engine) return;
        const summaries = (this.summaries = (await engine.explorer()).pipelines());
        await this.push({ kind: 'push', type: 'pipelines', pipelines: summaries.pipelines, active: summaries.active });
      })().catch((err: unknown) => this.host.log.warn(`explorer: could not list the pipeline versions: ${(err as Error).message}`));
    }, delayMs);
  }

  private goldenSetting(): string | null {
    const value = vscode.workspace.getConfiguration('ragLedger', this.host.folder?.uri).get<string>('evaluation.goldenSet', '').trim();
    return value === '' ? null : value;
  }

  /** The golden set the settings name (a JSON Lines file in the workspace), parsed. */
  private goldenSet(): CompareQuestion[] {
    const setting = this.goldenSetting();
    const root = this.host.workspaceRoot;
    if (!setting || !root) throw new UserError('RAG Ledger: no golden set is configured. Set ragLedger.evaluation.goldenSet to a JSON Lines file in the workspace.');
    const path = join(root, setting);
    if (!isInside(root, path)) throw new UserError(`RAG Ledger: the golden set ${setting} is outside the workspace folder.`);
    if (!existsSync(path)) throw new UserError(`RAG Ledger: the golden set ${setting} does not exist.`);
    if (statSync(path).size > GOLDEN_MAX_BYTES) throw new UserError(`RAG Ledger: the golden set ${setting} is larger than 16 MiB.`);
    try {
      return parseGolden(readFileSync(path, 'utf8'));
    } catch (err) {
      throw new UserError(`RAG Ledger: the golden set ${setting} is invalid: ${(err as Error).message}.`);
    }
  }

  dispose(): void {
    this.prefetched = null;
    clearTimeout(this.pipelinesTimer);
    this.showRows();
    for (const c of this.running.values()) c.abort();
    this.running.clear();
  }
}

