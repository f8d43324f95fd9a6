// Benchmark of the event-log explorer (npm run bench:explorer): the host's queries on big logs, replay
// and compare on a real store, and the webview in a real VS Code.
//
//   node --expose-gc --import tsx bench/explorer.bench.ts
//
// What is measured:
//   1. Synthetic logs of ~100k and ~1M events (test/support/syntheticLog.ts: documents for an active
//      version and, in part, a second one built in the shadow; questions with their chains and replays;
//      failures; 384-dimension vectors), built once and cached under .cache/bench-explorer/. For each:
//      the explorer index's catch-up from scratch (time, events/s, RSS; in a process of its own), and
//      reopening the indexed store (time to a usable timeline).
//   2. Page queries (Explorer.timeline.page, 300 rows) per filter: none, one type (common, rare),
//      several types (common, rare), a pipeline version, a question's correlation, failures, a time
//      range, full text with a common / uncommon / rare word (MARKERS), full text with a type. For each:
//      the first page of the new filter (cold: counts, creates the selection, searches), the first jump
//      to its last page (finds every anchor), then p50/p95/max over BENCH_EXPLORER_PAGES pages at
//      random starts (warm); locate (p50/p95) and density(filter, 300) (median of 3). Then a traced
//      pass per filter: where the time goes (SQL statements with EXPLAIN QUERY PLAN, text search, rows).
//   3. A real store of the Rust book copied BENCH_EXPLORER_COPIES times (~10k chunks), ingested with a
//      generated 384-dimension model (test/support/tinyModel.ts), a second version with smaller chunks
//      built in the shadow, BENCH_EXPLORER_QUESTIONS questions asked (extractive answers: the Ollama host
//      points nowhere); cached too. Then, on a copy: replay of one question against the second version
//      (median of BENCH_EXPLORER_REPLAYS, now and as of when it was asked) and compare of the two versions
//      over every question (median of BENCH_EXPLORER_COMPARES).
//   4. In a real VS Code (code-server + Chromium, test/e2e/): the extension opens a copy of a synthetic
//      store at start-up; palette "RAG Ledger: Open Event Log Explorer" → first timeline row painted
//      (first opening, then the median of BENCH_EXPLORER_OPENINGS); scrolling the whole timeline with at
//      most 300 rows in the DOM, and the webview's JS heap (after gc()) before and after.
// Every figure is printed as it comes, then a summary table (metric | measured | target | ok); results
// and screenshots go to bench/results/explorer-<time>/.
//
// Knobs (environment):
//   BENCH_EXPLORER_SIZES         log sizes in events (default "100000,1000000"): documents = size/10,
//                                questions = size/40
//   BENCH_EXPLORER_PAGES         random pages per filter (default 200)
//   BENCH_EXPLORER_QUERIES=0     skip parts 1-2 (the stores are still built when missing)
//   BENCH_EXPLORER_REPLAY=0      skip part 3;  BENCH_EXPLORER_VSCODE=0  skip part 4
//   BENCH_EXPLORER_VSCODE_SIZES  sizes opened in VS Code (default: BENCH_EXPLORER_SIZES)
//   BENCH_EXPLORER_OPENINGS      panel openings after the first (default 5)
//   BENCH_EXPLORER_SETTLE_MS     wait after the extension opened the store, before the first opening (default
//                                10000: the workbench is still busy starting up; 0 measures that too)
//   BENCH_EXPLORER_SCROLL=0      only the openings in VS Code (no jumps, no scrolling, no heap figures)
//   BENCH_EXPLORER_SCROLL_STEP   pixels per scroll step (default: enough for ~1,000 steps, at least 3,000)
//   BENCH_EXPLORER_COPIES        copies of the corpus (default 3); BENCH_EXPLORER_QUESTIONS (500)
//   BENCH_EXPLORER_REPLAYS (5), BENCH_EXPLORER_COMPARES (3)
//   RAG_LEDGER_CORPUS            the corpus (default ../shared/corpora/rust-book)
// Caches: .cache/bench-explorer/ (delete a folder to rebuild it). Temporary folders are removed.
import { fork } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join, relative } from 'node:path';
import type { Frame, FrameLocator, Locator, Page } from 'playwright-core';
// The end-to-end harness is plain JavaScript (ESM), loaded with import() in part 4.
import type * as BrowserModule from '../test/e2e/browser.mjs' with { 'resolution-mode': 'import' };
import type * as ServerModule from '../test/e2e/codeServer.mjs' with { 'resolution-mode': 'import' };
import type * as ToolsModule from '../test/e2e/tools.mjs' with { 'resolution-mode': 'import' };
import type { Database, SqlValue } from 'sql.js';
import { openExplorer, openLedger } from '../src/adapters/ledger.js';
import type { EngineSettings } from '../src/adapters/engineSettings.js';
import { WorkspaceEngine } from '../src/adapters/workspaceEngine.js';
import { LanceVectorIndex } from '../src/adapters/lancedb/lanceVectorIndex.js';
import type { Explorer } from '../src/app/explorer/explorer.js';
import { chunksAsOf } from '../src/app/retrieval/pointInTime.js';
import type { EventStore } from '../src/core/eventStore.js';
import { parseTimelineFilter } from '../src/core/explorer/timelineFilter.js';
import { DEFAULT_MAX_BYTES } from '../src/core/ingest/documentCheck.js';
import type { PipelineConfig } from '../src/core/pipeline/pipelineConfig.js';
import { DEFAULT_PIPELINE } from '../src/core/pipeline/pipelineConfig.js';
import type { TimelineFilter } from '../src/shared/explorerModel.js';
import { rustBookCorpus } from '../test/support/corpus.js';
import type { SyntheticLogOptions } from '../test/support/syntheticLog.js';
import { MARKERS, PV2 } from '../test/support/syntheticLog.js';
import { ensureTinyModel } from '../test/support/tinyModel.js';
import { TempDirs, corpusWords, dirBytes, envInt, fmt, fmtInt, fmtMiB, gcNow, markdownTable, max, median, peakRss, percentile, rss } from './benchUtil.js';
import type { SyntheticStoreMeta } from './explorerStores.js';
import { CACHE_ROOT, STORE_META, cacheKey, cachedOrPartial, ensureSyntheticStore, readMeta, repoRoot, syntheticStoreDir } from './explorerStores.js';
import { rng } from './storeWorkload.js';

const SIZES = (process.env.BENCH_EXPLORER_SIZES ?? '100000,1000000').split(',').map((s) => Number(s.trim()));
const VSCODE_SIZES = (process.env.BENCH_EXPLORER_VSCODE_SIZES ?? SIZES.join(',')).split(',').map((s) => Number(s.trim()));
const PAGES = envInt('BENCH_EXPLORER_PAGES', 200);
const OPENINGS = envInt('BENCH_EXPLORER_OPENINGS', 5);
const SETTLE_MS = Number(process.env.BENCH_EXPLORER_SETTLE_MS ?? 10_000);
const SCROLL = process.env.BENCH_EXPLORER_SCROLL !== '0';
const COPIES = envInt('BENCH_EXPLORER_COPIES', 3);
const QUESTIONS = envInt('BENCH_EXPLORER_QUESTIONS', 500);
const REPLAYS = envInt('BENCH_EXPLORER_REPLAYS', 5);
const COMPARES = envInt('BENCH_EXPLORER_COMPARES', 3);
const RUN_QUERIES = process.env.BENCH_EXPLORER_QUERIES !== '0';
const RUN_REPLAY = process.env.BENCH_EXPLORER_REPLAY !== '0';
const RUN_VSCODE = process.env.BENCH_EXPLORER_VSCODE !== '0';
const CORPUS = rustBookCorpus;
const PAGE_ROWS = 300;
const DIMS = 384;
/** DOM rows the timeline may hold at any time (the acceptance criterion). */
const MAX_DOM_ROWS = 300;

const temp = new TempDirs('rag-ledger-explorer-bench-');
const log = (line: string): void => console.log(line);
const started = performance.now();
const elapsed = (): string => `${((performance.now() - started) / 1000).toFixed(0)} s`;
const ms = (x: number): string => (x >= 100 ? fmt(x, 0) : x >= 10 ? fmt(x, 1) : fmt(x, 2));
const secs = (x: number): string => fmt(x / 1000, 2);

function sizeLabel(events: number): string {
  return events >= 1_000_000 ? `${fmt(events / 1_000_000, events % 1_000_000 === 0 ? 0 : 2)}M` : `${fmt(events / 1000, 0)}k`;
}

function optionsFor(size: number): SyntheticLogOptions {
  // About 9.1 events per document and 4.05 per question (see syntheticLog.ts).
  return { documents: Math.round(size / 10), questions: Math.round(size / 40), dimensions: DIMS };
}

// ---------------------------------------------------------------------------------------------------
// Child processes: each store is built, indexed and queried in a process of its own, so its peak RSS is
// its own and not what ran before it.

type ChildSpec = { readonly role: 'build'; readonly options: SyntheticLogOptions } | { readonly role: 'synthetic'; readonly options: SyntheticLogOptions } | { readonly role: 'replay' };

function inChild<T>(spec: ChildSpec): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = fork(__filename, [], { env: { ...process.env, BENCH_EXPLORER_CHILD: JSON.stringify(spec) }, execArgv: process.execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    let answer: { ok: boolean; value?: T; error?: string } | undefined;
    child.on('message', (m) => (answer = m as typeof answer));
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (answer?.ok) resolve(answer.value as T);
      else reject(new Error(`child ${spec.role} failed (exit ${code ?? signal}): ${answer?.error ?? 'no answer'}`));
    });
  });
}

async function childMain(spec: ChildSpec): Promise<void> {
  let answer: { ok: boolean; value?: unknown; error?: string };
  try {
    const value = spec.role === 'build' ? (await ensureSyntheticStore(spec.options, log)).meta : spec.role === 'synthetic' ? await measureSynthetic(spec.options) : await measureReplay();
    answer = { ok: true, value };
  } catch (err) {
    console.error(err);
    answer = { ok: false, error: (err as Error).stack ?? String(err) };
  }
  await new Promise<void>((resolve) => process.send!(answer, () => resolve()));
}

// ---------------------------------------------------------------------------------------------------
// Parts 1 and 2: the explorer's index and page queries on a synthetic log.

interface FilterSpec {
  readonly name: string;
  readonly filter: TimelineFilter;
}

interface FilterResult {
  readonly name: string;
  readonly filter: TimelineFilter;
  readonly total: number;
  readonly truncated: boolean;
  readonly coldMs: number;
  readonly endMs: number;
  readonly warm: { readonly n: number; readonly p50: number; readonly p95: number; readonly max: number };
  readonly locate: { readonly p50: number; readonly p95: number };
  readonly densityMs: number;
  /** Where a traced pass spent its time, and the plans of its slowest statements. */
  readonly profile: FilterProfile;
}

interface StatementStat {
  readonly sql: string;
  readonly calls: number;
  readonly totalMs: number;
  readonly maxMs: number;
  readonly plan: string;
}

interface FilterProfile {
  readonly pages: number;
  readonly pageMs: number;
  readonly sqlMs: number;
  readonly searchMs: number;
  /** Reading the rows: the events read from the log, their stream labels, decoding and summaries (the rest). */
  readonly rowsMs: number;
  readonly readMs: number;
  readonly labelsMs: number;
  readonly statements: readonly StatementStat[];
  /** The slowest statement of a density(filter, 300) call. */
  readonly density: StatementStat | null;
}

interface SyntheticResult {
  readonly options: SyntheticLogOptions;
  readonly events: number;
  readonly storeBytes: number;
  readonly build: SyntheticStoreMeta;
  readonly catchUp: {
    readonly ledgerOpenMs: number;
    readonly ms: number;
    readonly flushMs: number;
    readonly eventsPerSec: number;
    readonly rssAfterOpen: number;
    readonly rssMaxSampled: number;
    readonly processPeakRss: number;
    readonly indexBytes: number;
    readonly textBytes: number;
  };
  readonly reopen: { readonly ledgerMs: number; readonly explorerMs: number; readonly checkMs: number; readonly firstPageMs: number; readonly firstFilteredPageMs: number; readonly usableMs: number };
  readonly opening: { readonly initMs: number; readonly documentsMs: number; readonly versions: number; readonly pageMs: number; readonly densityMs: number; readonly questionsMs: number };
  readonly locateTimeMs: number;
  readonly filters: readonly FilterResult[];
  readonly processPeakRss: number;
}

/** What the bench reaches inside the explorer (private fields; read only, or wrapped for tracing). */
interface ExplorerInternals {
  readonly deps: {
    readonly index: { readonly db: Database; readonly selections: Map<string, unknown>; column(sql: string, params: readonly SqlValue[]): number[]; labels(streamIds: readonly string[]): Map<string, string> };
    readonly text: { search(words: readonly string[], maxPosition: number, limit: number): Promise<unknown> } | null;
  };
}

function internals(explorer: Explorer): ExplorerInternals['deps'] {
  return (explorer as unknown as ExplorerInternals).deps;
}

/** Forgets the explorer's cached selections and search result, so the next page of a filter is cold. */
function forgetSelections(explorer: Explorer): void {
  internals(explorer).index.selections.clear();
  (explorer.timeline as unknown as { searchCache: unknown }).searchCache = null;
}

function filtersFor(options: SyntheticLogOptions, from: number, to: number): FilterSpec[] {
  const span = to - from;
  const question = `q-${Math.floor(options.questions / 2).toString(16).padStart(8, '0')}-synthetic`;
  const f = (name: string, raw: Record<string, unknown>): FilterSpec => ({ name, filter: parseTimelineFilter(raw) });
  return [
    f('no filter', {}),
    f('one type (ChunkEmbedded)', { types: ['ChunkEmbedded'] }),
    f('one type, rare (InferenceFailed)', { types: ['InferenceFailed'] }),
    f('several types (question, answer, failed answer)', { types: ['QueryReceived', 'InferenceCompleted', 'InferenceFailed'] }),
    f('several types, rare (rejected, deleted)', { types: ['DocumentRejected', 'DocumentDeleted'] }),
    f(`pipeline version (${PV2})`, { pipeline: PV2 }),
    f('a question\'s correlation', { correlation: question }),
    f('failures only', { failures: true }),
    f('time range (10% of the span, mid-log)', { since: new Date(from + 0.45 * span).toISOString(), until: new Date(from + 0.55 * span).toISOString() }),
    f(`full text, common ("${MARKERS.common[0]}", ${MARKERS.common[1] * 100}%)`, { text: MARKERS.common[0] }),
    f(`full text, uncommon ("${MARKERS.uncommon[0]}", ${MARKERS.uncommon[1] * 100}%)`, { text: MARKERS.uncommon[0] }),
    f(`full text, rare ("${MARKERS.rare[0]}", ${MARKERS.rare[1] * 100}%)`, { text: MARKERS.rare[0] }),
    f(`full text + type ("${MARKERS.common[0]}", QueryReceived)`, { text: MARKERS.common[0], types: ['QueryReceived'] }),
  ];
}

async function timed<T>(fn: () => Promise<T>): Promise<[number, T]> {
  const t0 = performance.now();
  const value = await fn();
  return [performance.now() - t0, value];
}

async function measureFilter(explorer: Explorer, spec: FilterSpec, head: number, next: () => number): Promise<Omit<FilterResult, 'profile'>> {
  const timeline = explorer.timeline;
  gcNow();
  const [coldMs, first] = await timed(() => timeline.page(spec.filter, 0, PAGE_ROWS));
  const total = first.total;
  const lastStart = Math.max(0, total - PAGE_ROWS);
  const [endMs] = await timed(() => timeline.page(spec.filter, lastStart, PAGE_ROWS));
  const warm: number[] = [];
  for (let i = 0; i < PAGES; i++) {
    const start = Math.floor(next() * (lastStart + 1));
    const [t, page] = await timed(() => timeline.page(spec.filter, start, PAGE_ROWS));
    if (page.rows.length !== Math.min(PAGE_ROWS, total - start)) throw new Error(`${spec.name}: page at ${start} has ${page.rows.length} rows of ${total}`);
    warm.push(t);
  }
  const locates: number[] = [];
  for (let i = 0; i < 20; i++) {
    const position = 1 + Math.floor(next() * head);
    const [t] = await timed(() => timeline.locate(spec.filter, { position }));
    locates.push(t);
  }
  const density: number[] = [];
  for (let i = 0; i < 3; i++) density.push((await timed(() => timeline.density(spec.filter, 300)))[0]);
  return {
    name: spec.name,
    filter: spec.filter,
    total,
    truncated: first.truncated !== undefined,
    coldMs,
    endMs,
    warm: { n: warm.length, p50: percentile(warm, 50), p95: percentile(warm, 95), max: max(warm) },
    locate: { p50: percentile(locates, 50), p95: percentile(locates, 95) },
    densityMs: median(density),
  };
}

/**
 * A traced pass over a filter (cold page, last page, 20 random pages, on a fresh selection): the time
 * spent in the index's SQL (per statement, with its plan), in the text search and in reading rows.
 */
async function profileFilter(explorer: Explorer, events: Pick<EventStore, 'readPositions'>, spec: FilterSpec, total: number, next: () => number): Promise<FilterProfile> {
  const deps = internals(explorer);
  const index = deps.index;
  const db = index.db;
  type Stats = Map<string, { calls: number; totalMs: number; maxMs: number; params: readonly SqlValue[] }>;
  const stats: Stats = new Map();
  const densityStats: Stats = new Map();
  let sink = stats;
  const note = (sql: string, params: readonly SqlValue[] | undefined, t: number): void => {
    const s = sink.get(sql) ?? { calls: 0, totalMs: 0, maxMs: 0, params: [] };
    s.calls++;
    s.totalMs += t;
    s.maxMs = Math.max(s.maxMs, t);
    s.params = params ?? [];
    sink.set(sql, s);
  };
  const column = index.column.bind(index);
  const exec = db.exec.bind(db);
  const text = deps.text;
  const search = text?.search.bind(text);
  const timeline = explorer.timeline;
  const rows = timeline.rows.bind(timeline);
  const readPositions = events.readPositions.bind(events);
  const labels = index.labels.bind(index);
  let searchMs = 0;
  let rowsMs = 0;
  let readMs = 0;
  let labelsMs = 0;
  events.readPositions = async (...args) => {
    const t0 = performance.now();
    try {
      return await readPositions(...args);
    } finally {
      readMs += performance.now() - t0;
    }
  };
  index.labels = (...args) => {
    const t0 = performance.now();
    try {
      return labels(...args);
    } finally {
      labelsMs += performance.now() - t0;
    }
  };
  index.column = (sql: string, params: readonly SqlValue[]): number[] => {
    const t0 = performance.now();
    try {
      return column(sql, params);
    } finally {
      note(sql, params, performance.now() - t0);
    }
  };
  db.exec = (sql: string, params?: SqlValue[]) => {
    const t0 = performance.now();
    try {
      return exec(sql, params);
    } finally {
      note(sql, params, performance.now() - t0);
    }
  };
  if (text && search) {
    text.search = async (...args) => {
      const t0 = performance.now();
      try {
        return await search(...args);
      } finally {
        searchMs += performance.now() - t0;
      }
    };
  }
  timeline.rows = async (...args) => {
    const t0 = performance.now();
    try {
      return await rows(...args);
    } finally {
      rowsMs += performance.now() - t0;
    }
  };
  let pageMs = 0;
  let pages = 0;
  try {
    forgetSelections(explorer);
    const lastStart = Math.max(0, total - PAGE_ROWS);
    for (const start of [0, lastStart, ...Array.from({ length: 20 }, () => Math.floor(next() * (lastStart + 1)))]) {
      pageMs += (await timed(() => timeline.page(spec.filter, start, PAGE_ROWS)))[0];
      pages++;
    }
    sink = densityStats;
    await timeline.density(spec.filter, 300);
  } finally {
    index.column = column;
    db.exec = exec;
    if (text && search) text.search = search;
    timeline.rows = rows;
    events.readPositions = readPositions;
    index.labels = labels;
  }
  const sqlMs = [...stats.values()].reduce((n, s) => n + s.totalMs, 0);
  const top = (from: Stats, n: number): StatementStat[] =>
    [...from.entries()]
      .sort((a, b) => b[1].totalMs - a[1].totalMs)
      .slice(0, n)
      .map(([sql, s]): StatementStat => ({ sql, calls: s.calls, totalMs: s.totalMs, maxMs: s.maxMs, plan: explain(db, sql, s.params) }));
  return { pages, pageMs, sqlMs, searchMs, rowsMs, readMs, labelsMs, statements: top(stats, 3), density: top(densityStats, 1)[0] ?? null };
}

function explain(db: Database, sql: string, params: readonly SqlValue[]): string {
  if (!/^\s*SELECT/i.test(sql)) return '(not a query)';
  try {
    const rows = db.exec(`EXPLAIN QUERY PLAN ${sql}`, [...params])[0]?.values ?? [];
    return rows.map((r) => String(r[3])).join('; ');
  } catch (err) {
    return `(no plan: ${(err as Error).message})`;
  }
}

/** Shortens the IN lists of a statement for printing. */
function shortSql(sql: string): string {
  return sql.replace(/\((\?,){8,}\?\)/g, (m) => `(?×${m.split('?').length - 1})`).replace(/\s+/g, ' ');
}

async function measureSynthetic(options: SyntheticLogOptions): Promise<SyntheticResult> {
  const dir = syntheticStoreDir(options);
  const build = readMeta<SyntheticStoreMeta>(dir);
  if (!build) throw new Error(`no cached store at ${dir}`);
  const store = join(dir, 'store');
  const label = sizeLabel(build.events);
  log(`\n## ${label} events (${fmtInt(options.documents)} documents, ${fmtInt(options.questions)} questions): ${relative(repoRoot, dir)}`);

  // 1. Catch-up from scratch: the explorer's folder is a projection, deleted and rebuilt.
  rmSync(join(store, 'explorer'), { recursive: true, force: true });
  gcNow();
  const [ledgerOpenMs, ledger] = await timed(() => openLedger(store, { mode: 'write', owner: 'bench:explorer' }));
  const head = (await ledger.events.head()).position;
  const rssAfterOpen = rss();
  let rssMaxSampled = rssAfterOpen;
  let explorer = await openExplorer(store, ledger);
  const [catchUpMs] = await timed(() => explorer.timeline.catchUp({ onProgress: () => (rssMaxSampled = Math.max(rssMaxSampled, rss())) }));
  rssMaxSampled = Math.max(rssMaxSampled, rss());
  const [flushMs] = await timed(() => explorer.flush());
  const processPeakAfterCatchUp = peakRss();
  await explorer.close();
  await ledger.close();
  const indexBytes = statSync(join(store, 'explorer', 'index.sqlite')).size;
  const textBytes = dirBytes(join(store, 'explorer', 'text'));
  const eventsPerSec = (head / catchUpMs) * 1000;
  log(`  ledger open ${secs(ledgerOpenMs)} s (RSS ${fmtMiB(rssAfterOpen)}); explorer index catch-up from scratch: ${secs(catchUpMs)} s for ${fmtInt(head)} events (${fmtInt(eventsPerSec)} events/s), written in ${secs(flushMs)} s; RSS during catch-up up to ${fmtMiB(rssMaxSampled)}, process peak ${fmtMiB(processPeakAfterCatchUp)}; index.sqlite ${fmtMiB(indexBytes)}, text index ${fmtMiB(textBytes)}`);

  // Reopen: time to a usable timeline (ledger, explorer, catch-up check, first page).
  gcNow();
  const t0 = performance.now();
  const [ledgerMs, ledger2] = await timed(() => openLedger(store, { mode: 'write', owner: 'bench:explorer' }));
  const [explorerMs, explorer2] = await timed(() => openExplorer(store, ledger2));
  explorer = explorer2;
  const [checkMs] = await timed(() => explorer.timeline.catchUp());
  const [firstPageMs] = await timed(() => explorer.timeline.page({}, 0, PAGE_ROWS));
  const usableMs = performance.now() - t0;
  const [firstFilteredPageMs] = await timed(() => explorer.timeline.page({ types: ['QueryReceived'] }, 0, PAGE_ROWS));
  log(`  reopen: ledger ${secs(ledgerMs)} s, explorer ${ms(explorerMs)} ms, catch-up check ${ms(checkMs)} ms, first page ${ms(firstPageMs)} ms: usable timeline after ${secs(usableMs)} s (first filtered page then ${ms(firstFilteredPageMs)} ms)`);

  // What the host does when the panel opens: `init` (the versions with how far each is built, the head)
  // must be answered before the timeline asks for its first page (100 rows) and the density chart.
  const med3 = async (fn: () => unknown): Promise<number> => {
    const t: number[] = [];
    for (let i = 0; i < 3; i++) t.push((await timed(async () => fn()))[0]);
    return median(t);
  };
  const opening = {
    initMs: await med3(async () => ({ ...explorer.pipelines(), head: (await ledger2.events.head()).position })),
    documentsMs: await med3(() => ledger2.readModels.documents()),
    versions: ledger2.readModels.pipelines().length,
    pageMs: await med3(() => explorer.timeline.page({}, 0, 100)),
    densityMs: await med3(() => explorer.timeline.density({}, 300)),
    questionsMs: await med3(() => explorer.questions(undefined, 500)),
  };
  log(`  the panel's opening requests on the host (median of 3): init ${ms(opening.initMs)} ms (versions with their build progress: readModels.pipelineProgress reads every document's status once per version, ${opening.versions} versions; readModels.documents() alone ${ms(opening.documentsMs)} ms), then page(100 rows) ${ms(opening.pageMs)} ms, density ${ms(opening.densityMs)} ms; questions(500) for the replay picker ${ms(opening.questionsMs)} ms`);

  const [firstRaw, lastRaw] = await ledger2.events.readPositions([1, head]);
  const from = Date.parse(firstRaw!.recordedAt);
  const to = Date.parse(lastRaw!.recordedAt);
  const [locateTimeMs] = await timed(() => explorer.timeline.locate({}, { time: new Date((from + to) / 2).toISOString() }));

  // 2. Page queries.
  log(`  page queries (${PAGE_ROWS} rows): cold = first page of a new filter; end = first jump to its last page; warm = ${PAGES} pages at random starts`);
  const next = rng(head);
  const filters: FilterResult[] = [];
  for (const spec of filtersFor(options, from, to)) {
    const r = await measureFilter(explorer, spec, head, next);
    const profile = await profileFilter(explorer, ledger2.events, spec, r.total, next);
    filters.push({ ...r, profile });
    log(`  - ${spec.name}: ${fmtInt(r.total)} rows${r.truncated ? ' (truncated)' : ''}; cold ${ms(r.coldMs)} ms, end ${ms(r.endMs)} ms, warm p50 ${ms(r.warm.p50)} / p95 ${ms(r.warm.p95)} / max ${ms(r.warm.max)} ms; locate p50 ${ms(r.locate.p50)} / p95 ${ms(r.locate.p95)} ms; density ${ms(r.densityMs)} ms`);
    const p = profile;
    log(`      traced ${p.pages} pages, ${ms(p.pageMs / p.pages)} ms/page: index SQL ${ms(p.sqlMs / p.pages)}, text search ${ms(p.searchMs / p.pages)}, rows ${ms(p.rowsMs / p.pages)} (log read ${ms(p.readMs / p.pages)}, labels ${ms(p.labelsMs / p.pages)}, decode + summary ${ms((p.rowsMs - p.readMs - p.labelsMs) / p.pages)}) ms/page`);
    for (const s of p.statements) if (s.totalMs >= 1) log(`      ${fmt(s.totalMs, 1)} ms in ${s.calls} call(s) (max ${fmt(s.maxMs, 1)}): ${shortSql(s.sql)}\n        plan: ${s.plan}`);
    if (p.density && p.density.totalMs >= 10) log(`      density: ${fmt(p.density.totalMs, 1)} ms in ${p.density.calls} call(s): ${shortSql(p.density.sql)}\n        plan: ${p.density.plan}`);
  }
  await explorer.close();
  await ledger2.close();
  return {
    options,
    events: head,
    storeBytes: build.bytes,
    build,
    catchUp: { ledgerOpenMs, ms: catchUpMs, flushMs, eventsPerSec, rssAfterOpen, rssMaxSampled, processPeakRss: processPeakAfterCatchUp, indexBytes, textBytes },
    reopen: { ledgerMs, explorerMs, checkMs, firstPageMs, firstFilteredPageMs, usableMs },
    opening,
    locateTimeMs,
    filters,
    processPeakRss: peakRss(),
  };
}

// ---------------------------------------------------------------------------------------------------
// Part 3: replay and compare on a real store.

const MODEL_ID = `rag-ledger/tiny-bert-explorer-bench-${DIMS}`;
const PV1_CONFIG: PipelineConfig = { ...DEFAULT_PIPELINE, embedder: { ...DEFAULT_PIPELINE.embedder, model: MODEL_ID, dtype: 'fp32', dimensions: DIMS } };
const PV2_CONFIG: PipelineConfig = { ...PV1_CONFIG, chunker: { ...PV1_CONFIG.chunker, markdownMaxChars: 600, textMaxChars: 600, codeWindowLines: 30, codeOverlapLines: 4 } };

interface RealStoreMeta {
  readonly kind: 'real';
  readonly copies: number;
  readonly documents: number;
  readonly pv1: string;
  readonly pv2: string;
  readonly pv1Chunks: number;
  readonly pv2Chunks: number;
  readonly queryIds: readonly string[];
  readonly ingestMs: number;
  readonly buildMs: number;
  readonly askMs: number;
  readonly askP50: number;
  readonly events: number;
  readonly bytes: number;
  readonly builtAt: string;
}

interface ReplayResult {
  readonly store: RealStoreMeta;
  readonly built: boolean;
  readonly openMs: number;
  readonly question: string;
  readonly firstReplayMs: number;
  readonly replayMs: readonly number[];
  readonly replayAskedMs: readonly number[];
  readonly replayPv1Ms: readonly number[];
  readonly asOf: AsOfBreakdown;
  readonly compareMs: readonly number[];
  readonly compared: number;
  readonly unchanged: number;
  readonly meanOverlap: number;
  readonly processPeakRss: number;
}


/** Varied, distinct questions made of the corpus's words (deterministic). */
function questionsFrom(words: readonly string[], n: number): string[] {
  const pool = words.filter((w) => /^[a-z]{4,14}$/.test(w)).slice(0, 2_000);
  const next = rng(7);
  const pick = (): string => pool[Math.floor(next() ** 1.5 * pool.length)]!;
  const templates = [
    (a: string, b: string) => `how does ${a} ${b} work`,
    (a: string, b: string) => `what is the difference between ${a} and ${b}`,
    (a: string, b: string, c: string) => `why does ${a} need ${b} when using ${c}`,
    (a: string, b: string, c: string) => `show an example of ${a} with ${b} and ${c}`,
    (a: string, b: string) => `when should I use ${a} instead of ${b}`,
    (a: string) => `explain ${a}`,
  ];
  const out = new Set<string>();
  while (out.size < n) out.add(templates[Math.floor(next() * templates.length)]!(pick(), pick(), pick()));
  return [...out];
}

function engineSettings(storeDir: string, workspaceRoot: string, modelDir: string): EngineSettings {
  return {
    storeDir,
    workspaceRoot,
    pipeline: PV1_CONFIG,
    walk: { include: [], exclude: [], respectGitignore: true },
    documents: { maxBytes: DEFAULT_MAX_BYTES, allowSecrets: false },
    modelDir,
    // Nothing listens on the discard port: every answer is extractive, after a refused connection.
    ollama: { host: 'http://127.0.0.1:9' },
    actor: 'bench',
    owner: 'bench:explorer',
  };
}

async function ensureRealStore(modelDir: string, words: readonly string[]): Promise<{ dir: string; meta: RealStoreMeta; built: boolean }> {
  const key = cacheKey({ corpus: CORPUS, copies: COPIES, questions: QUESTIONS, pv1: PV1_CONFIG, pv2: PV2_CONFIG, v: 2 });
  const dir = join(CACHE_ROOT, `rust-book-x${COPIES}-${QUESTIONS}q-${key}`);
  const slot = cachedOrPartial<RealStoreMeta>(dir);
  if ('cached' in slot) return { dir, meta: slot.cached, built: false };
  const { partial } = slot;
  const storeDir = join(partial, 'store');
  const workspace = temp.create('workspace');
  for (let i = 0; i < COPIES; i++) cpSync(CORPUS, join(workspace, `copy-${i}`), { recursive: true });
  log(`  building the real store: the corpus x${COPIES}, ${DIMS}-dimension generated model, into ${relative(repoRoot, dir)}`);
  const engine = await WorkspaceEngine.open(engineSettings(storeDir, workspace, modelDir));
  try {
    const [ingestMs, ingest] = await timed(() => engine.ingest());
    log(`    ingest: ${secs(ingestMs)} s, ${fmtInt(ingest.ingest.submitted)} documents, ${fmtInt(ingest.ingest.chunks)} chunks (${ingest.pipelineVersion})`);
    engine.updateSettings({ ...engineSettings(storeDir, workspace, modelDir), pipeline: PV2_CONFIG });
    const pv2 = await engine.defineConfigured('smaller chunks');
    engine.updateSettings(engineSettings(storeDir, workspace, modelDir));
    const [buildMs, built] = await timed(() => engine.build(pv2));
    log(`    shadow build of ${pv2} (smaller chunks): ${secs(buildMs)} s, ${fmtInt(built.totals.chunks)} chunks (${fmtInt(built.embedding?.embedded ?? 0)} embedded)`);
    const questions = questionsFrom(words, QUESTIONS);
    const askTimes: number[] = [];
    const queryIds: string[] = [];
    const a0 = performance.now();
    for (const q of questions) {
      const [t, answer] = await timed(() => engine.ask(q, { userId: 'bench' }));
      askTimes.push(t);
      queryIds.push(answer.queryId);
    }
    const askMs = performance.now() - a0;
    log(`    ${questions.length} questions asked in ${secs(askMs)} s (p50 ${ms(percentile(askTimes, 50))} ms each)`);
    const events = (await engine.ledger.events.head()).position;
    const meta: RealStoreMeta = {
      kind: 'real',
      copies: COPIES,
      documents: ingest.ingest.submitted,
      pv1: ingest.pipelineVersion,
      pv2,
      pv1Chunks: ingest.ingest.chunks,
      pv2Chunks: built.totals.chunks,
      queryIds,
      ingestMs,
      buildMs,
      askMs,
      askP50: percentile(askTimes, 50),
      events,
      bytes: 0,
      builtAt: new Date().toISOString(),
    };
    await engine.close();
    writeFileSync(join(partial, STORE_META), `${JSON.stringify({ ...meta, bytes: dirBytes(storeDir) }, null, 2)}\n`);
  } catch (err) {
    await engine.close().catch(() => undefined);
    throw err;
  } finally {
    temp.remove(workspace);
  }
  renameSync(partial, dir);
  return { dir, meta: readMeta<RealStoreMeta>(dir)!, built: true };
}

interface AsOfBreakdown {
  readonly rows: number;
  readonly readMs: number;
  readonly writeMs: number;
  readonly optimizeMs: number;
  readonly optimizeNoAnnMs: number;
  readonly flatSearchMs: number;
}

/**
 * The steps of materializeAsOf (src/app/retrieval/pointInTime.ts) timed one by one, on scratch indexes in
 * a temporary folder: reading the version's chunks and vectors as of the question from the log, writing
 * them in commits of 500 documents, and optimize with and without the ANN index.
 */
async function asOfBreakdown(engine: WorkspaceEngine, version: string, queryId: string): Promise<AsOfBreakdown> {
  const position = engine.ledger.readModels.query(queryId)!.position;
  const config = engine.ledger.readModels.pipeline(version)!.config as unknown as PipelineConfig;
  const [readMs, byDoc] = await timed(() => chunksAsOf(engine.ledger.events, version, config.embedder, position));
  const docs = [...byDoc.entries()];
  const rows = docs.reduce((n, [, r]) => n + r.length, 0);
  const write = async (index: LanceVectorIndex): Promise<void> => {
    for (let i = 0; i < docs.length; i += 500) {
      const batch = docs.slice(i, i + 500);
      await index.replaceDocuments('asof', config.embedder.dimensions, batch.map(([id]) => id), batch.flatMap(([, r]) => r));
    }
  };
  const dir = temp.create('asof');
  const withAnn = await LanceVectorIndex.open(join(dir, 'ann'));
  const noAnn = await LanceVectorIndex.open(join(dir, 'flat'), { annThreshold: Number.MAX_SAFE_INTEGER });
  try {
    const [writeMs] = await timed(() => write(withAnn));
    const [optimizeMs] = await timed(() => withAnn.optimize('asof'));
    await write(noAnn);
    const [optimizeNoAnnMs] = await timed(() => noAnn.optimize('asof'));
    const probe = docs[0]?.[1][0]?.vector ?? new Float32Array(config.embedder.dimensions).fill(1 / Math.sqrt(config.embedder.dimensions));
    await noAnn.vectorSearch('asof', probe, 8);
    const [flatSearchMs] = await timed(() => noAnn.vectorSearch('asof', probe, 8));
    return { rows, readMs, writeMs, optimizeMs, optimizeNoAnnMs, flatSearchMs };
  } finally {
    await withAnn.close();
    await noAnn.close();
    temp.remove(dir);
  }
}

async function measureReplay(): Promise<ReplayResult> {
  log(`\n## Replay and compare on a real store`);
  const modelRoot = join(CACHE_ROOT, 'models');
  const words = corpusWords(CORPUS, DEFAULT_MAX_BYTES);
  ensureTinyModel(modelRoot, DIMS, { id: MODEL_ID, words });
  const { dir, meta, built } = await ensureRealStore(modelRoot, words);
  log(`  store: ${fmtInt(meta.documents)} documents, ${meta.pv1} ${fmtInt(meta.pv1Chunks)} chunks, ${meta.pv2} ${fmtInt(meta.pv2Chunks)} chunks, ${fmtInt(meta.queryIds.length)} questions, ${fmtInt(meta.events)} events, ${fmtMiB(meta.bytes)}${built ? '' : ' (cached)'}`);
  // Replays append to the log: they run on a copy.
  const storeDir = join(temp.create('real'), 'store');
  cpSync(join(dir, 'store'), storeDir, { recursive: true });
  const workspace = temp.create('empty-workspace');
  const [openMs, engine] = await timed(() => WorkspaceEngine.open(engineSettings(storeDir, workspace, modelRoot)));
  try {
    const queryId = meta.queryIds[Math.floor(meta.queryIds.length / 2)]!;
    const question = engine.ledger.readModels.query(queryId)?.query_text ?? queryId;
    const [firstReplayMs] = await timed(() => engine.replay(queryId, meta.pv2));
    const replayMs: number[] = [];
    const replayAskedMs: number[] = [];
    const replayPv1Ms: number[] = [];
    for (let i = 0; i < REPLAYS; i++) {
      replayMs.push((await timed(() => engine.replay(queryId, meta.pv2)))[0]);
      replayPv1Ms.push((await timed(() => engine.replay(queryId, meta.pv1)))[0]);
      replayAskedMs.push((await timed(() => engine.replay(queryId, meta.pv2, { asOf: 'asked' })))[0]);
    }
    log(`  engine open ${secs(openMs)} s; replay of "${question}" against ${meta.pv2}: first ${ms(firstReplayMs)} ms (loads the model), then ${replayMs.map(ms).join(', ')} ms (median ${ms(median(replayMs))}); against ${meta.pv1} median ${ms(median(replayPv1Ms))} ms; as of when asked: ${replayAskedMs.map(ms).join(', ')} ms (median ${ms(median(replayAskedMs))})`);
    const asOf = await asOfBreakdown(engine, meta.pv2, queryId);
    log(`  where an as-of replay's time goes (the same steps as materializeAsOf, timed one by one): reading the chunks and vectors from the log ${ms(asOf.readMs)} ms (${fmtInt(asOf.rows)} rows), writing the scratch table ${ms(asOf.writeMs)} ms, optimize (full-text index, IVF_RQ index, compaction) ${ms(asOf.optimizeMs)} ms; without the ANN index: optimize ${ms(asOf.optimizeNoAnnMs)} ms, then a flat vector search ${ms(asOf.flatSearchMs)} ms`);
    const compareMs: number[] = [];
    let compared = 0;
    let unchanged = 0;
    let meanOverlap = 0;
    for (let i = 0; i < COMPARES; i++) {
      const [t, report] = await timed(() => engine.compare(meta.pv1, meta.pv2));
      compareMs.push(t);
      compared = report.questions;
      unchanged = report.unchanged;
      meanOverlap = report.means.overlapAtK;
      log(`  compare ${meta.pv1} → ${meta.pv2} over ${fmtInt(report.questions)} questions: ${secs(t)} s (${fmt((report.questions / t) * 1000, 1)} questions/s); ${report.unchanged} unchanged, mean overlap@${report.k} ${fmt(report.means.overlapAtK, 3)}`);
    }
    return { store: meta, built, openMs, question, firstReplayMs, replayMs, replayAskedMs, replayPv1Ms, asOf, compareMs, compared, unchanged, meanOverlap, processPeakRss: peakRss() };
  } finally {
    await engine.close();
  }
}

// ---------------------------------------------------------------------------------------------------
// Part 4: the webview in a real VS Code.

interface VscodeResult {
  readonly size: number;
  readonly events: number;
  readonly storeOpenMs: number;
  readonly firstOpenMs: number;
  /** The first opening built the explorer's index (the store had none): how long that took, from Enter. */
  readonly indexBuiltMs: number | null;
  readonly openMs: readonly number[];
  /** Each opening: its time, and when the webview's document started, its script arrived and it first painted (after Enter). */
  readonly openings: readonly { readonly ms: number; readonly frameMs: number; readonly scriptMs: number; readonly paintMs: number; readonly initMs: number; readonly marks: Readonly<Record<string, number>> }[];
  /** A jump to a random place in the timeline → every row in the DOM loaded (ms). */
  readonly jumps: readonly number[];
  readonly scroll: {
    readonly total: number;
    readonly steps: number;
    readonly stepPx: number;
    readonly ms: number;
    readonly settledMs: number;
    readonly maxDomRows: number;
    readonly loadingSamples: number;
    readonly windowSlides: number;
    readonly reachedEnd: boolean;
  } | null;
  readonly heap: { readonly before: number; readonly after: number; readonly maxDuring: number; readonly workbenchBefore: number; readonly workbenchAfter: number; readonly sameIsolate: boolean; readonly panelClosed: number } | null;
  readonly screenshots: readonly string[];
  readonly error?: string;
}

type E2eBrowser = typeof BrowserModule;
type E2eServer = typeof ServerModule;
type E2eTools = typeof ToolsModule;

interface Heap {
  readonly used: number;
}

/** usedJSHeapSize of a frame's JS heap, after a full gc() when asked (Chromium: --enable-precise-memory-info, --js-flags=--expose-gc). */
async function heapOf(frame: Frame, collect: boolean): Promise<number> {
  return frame.evaluate((gc: boolean): Heap => {
    const w = globalThis as unknown as { gc?: () => void; performance: { memory?: { usedJSHeapSize: number } } };
    if (gc && w.gc) {
      w.gc();
      w.gc();
    }
    return { used: w.performance.memory?.usedJSHeapSize ?? -1 };
  }, collect).then((h) => h.used);
}

/**
 * When, after Enter (epoch ms), the webview's document started loading, its script had arrived and it
 * first painted; and the explorer's own marks (rl:…: modules evaluated, first request of each method
 * sent and answered, first rows painted), in ms after Enter.
 */
async function openBreakdown(frame: Frame, enteredAt: number): Promise<{ frameMs: number; scriptMs: number; paintMs: number; marks: Record<string, number> }> {
  const t = await frame.evaluate(() => {
    const script = performance.getEntriesByType('resource').find((e) => e.name.includes('explorer.js')) as PerformanceResourceTiming | undefined;
    const paint = performance.getEntriesByName('first-contentful-paint')[0] ?? performance.getEntriesByName('first-paint')[0];
    const marks = performance.getEntriesByType('mark').filter((m) => m.name.startsWith('rl:')).map((m) => [m.name.slice(3), m.startTime] as const);
    return { origin: performance.timeOrigin, script: script ? script.responseEnd : Number.NaN, paint: paint ? paint.startTime : Number.NaN, marks };
  });
  const frameMs = t.origin - enteredAt;
  return { frameMs, scriptMs: frameMs + t.script, paintMs: frameMs + t.paint, marks: Object.fromEntries(t.marks.map(([name, at]) => [name, frameMs + at])) };
}

/** The explorer's frame (the webview's inner frame holding the timeline grid). */
async function explorerFrame(page: Page): Promise<Frame> {
  for (let i = 0; i < 100; i++) {
    for (const f of page.frames()) {
      if (f === page.mainFrame() || f.isDetached()) continue;
      if ((await f.locator('rl-timeline-grid').count().catch(() => 0)) > 0) return f;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('no frame holds the timeline');
}

/** F1, ">title", waits for the command's row to be the focused one; Enter is left to the caller. */
async function paletteReady(page: Page, title: string): Promise<void> {
  const widget = page.locator('.quick-input-widget').first();
  const input = widget.locator('input').first();
  for (let attempt = 0; ; attempt++) {
    if (await widget.isVisible()) {
      await page.keyboard.press('Escape');
      await widget.waitFor({ state: 'hidden', timeout: 5_000 });
    }
    await page.keyboard.press('F1');
    await input.waitFor({ state: 'visible', timeout: 10_000 });
    await input.fill(`>${title}`);
    const row = widget.locator('.monaco-list-row.focused', { hasText: title }).first();
    try {
      await row.waitFor({ state: 'visible', timeout: 5_000 });
      return;
    } catch (err) {
      if (attempt >= 5) throw err;
    }
  }
}

async function measureVscode(size: number, storeDir: string, events: number, outDir: string, e2e: { browser: E2eBrowser; server: E2eServer; tools: E2eTools }, tools: Awaited<ReturnType<E2eTools['ensureTools']>>, vsix: string): Promise<VscodeResult> {
  const label = sizeLabel(events);
  log(`\n## VS Code: the explorer on the ${label}-event log`);
  const root = temp.create(`vscode-${label}`);
  const workspace = join(root, 'bench-explorer-workspace');
  mkdirSync(workspace);
  const c0 = performance.now();
  cpSync(storeDir, join(workspace, '.rag-ledger'), { recursive: true });
  log(`  store copied into the workspace's .rag-ledger/ in ${secs(performance.now() - c0)} s`);
  const server = await e2e.server.startCodeServer({ tools, runDir: join(root, 'server'), vsix, userSettings: { 'ragLedger.store.location': 'workspaceFolder', 'ragLedger.autoIngest': false } });
  const browser = await e2e.browser.openBrowser({ artifactsDir: outDir, extraArgs: ['--enable-precise-memory-info', '--js-flags=--expose-gc'] });
  const page = browser.page;
  const shots: string[] = [];
  const shot = async (name: string): Promise<void> => void shots.push(relative(repoRoot, await e2e.browser.screenshot(page, outDir, `${label}-${name}`)));
  let storeOpenMs = Number.NaN;
  let indexBuiltMs: number | null = null;
  const openMs: number[] = [];
  let scroll: VscodeResult['scroll'] = null;
  let heap: VscodeResult['heap'] = null;
  const openings: VscodeResult['openings'][number][] = [];
  let jumps: number[] = [];
  try {
    const workbenchMs = await e2e.browser.openWorkbench(page, server.baseUrl, workspace, { timeoutMs: 120_000 });
    const s0 = performance.now();
    const status = page.locator('.statusbar-item', { hasText: /RAG Ledger: [\d,]+ (documents|pending|with errors)/ }).first();
    await status.waitFor({ state: 'visible', timeout: 15 * 60_000 });
    storeOpenMs = performance.now() - s0;
    log(`  workbench ${secs(workbenchMs)} s; the extension opened the store ${secs(storeOpenMs)} s later ("${(await status.innerText()).trim()}")`);
    if (SETTLE_MS > 0) await new Promise((r) => setTimeout(r, SETTLE_MS));
    const webview: FrameLocator = page.frameLocator('iframe.webview.ready').frameLocator('#active-frame');
    const firstRow: Locator = webview.locator('[role="grid"] [role="row"][aria-rowindex="2"]:not(.loading)').first();
    const tabs: Locator = webview.locator('[role="tablist"]').first();
    let panelClosed = Number.NaN;
    for (let i = 0; i <= OPENINGS; i++) {
      if (i === OPENINGS) panelClosed = await heapOf(page.mainFrame(), true);
      await paletteReady(page, 'RAG Ledger: Open Event Log Explorer');
      const enteredAt = Date.now();
      const t0 = performance.now();
      await page.keyboard.press('Enter');
      // The tabs show once the host answered `init`; the timeline's first page is requested after that.
      const [initMs, t] = await Promise.all([
        tabs.waitFor({ state: 'visible', timeout: 120_000 }).then(() => performance.now() - t0),
        firstRow.waitFor({ state: 'visible', timeout: 120_000 }).then(() => performance.now() - t0),
      ]);
      openMs.push(t);
      const b = await openBreakdown(await explorerFrame(page), enteredAt);
      openings.push({ ms: t, initMs, ...b });
      log(`  opening ${i === 0 ? 'first' : i}: palette Enter → first row painted ${ms(t)} ms (webview document started +${ms(b.frameMs)} ms, explorer.js loaded +${ms(b.scriptMs)} ms, first paint +${ms(b.paintMs)} ms, tabs shown +${ms(initMs)} ms)`);
      log(`    marks (ms after Enter): ${Object.entries(b.marks).sort((x, y) => x[1] - y[1]).map(([name, at]) => `${name} ${ms(at)}`).join(', ')}`);
      if (i === 0) await shot('timeline-top');
      if (i === 0) {
        // A store without the explorer's index gets it built while the panel is open (rows show
        // meanwhile); the later openings are measured on the built index.
        const banner = webview.getByText(/Indexing the log for filters and search/).first();
        // The banner shows once the first batch is indexed: give it a few seconds to appear.
        if (await banner.waitFor({ state: 'visible', timeout: 8_000 }).then(() => true, () => false)) {
          await banner.waitFor({ state: 'detached', timeout: 30 * 60_000 });
          indexBuiltMs = performance.now() - t0;
          log(`  the explorer's index was built ${secs(indexBuiltMs)} s after Enter (the timeline showed rows meanwhile)`);
        }
      }
      if (i < OPENINGS) {
        await e2e.browser.runCommand(page, 'View: Close Editor');
        await page.locator('iframe.webview.ready').waitFor({ state: 'detached', timeout: 30_000 });
      }
    }

    if (!SCROLL) return { size, events, storeOpenMs, firstOpenMs: openMs[0]!, indexBuiltMs, openMs: openMs.slice(1), openings, jumps, scroll, heap, screenshots: shots };
    // Scroll end to end with the webview's heap before and after. The steps run inside the webview (one
    // round trip per stretch), each followed by a short wait so that pages load as they would while a
    // user scrolls.
    const frame = await explorerFrame(page);
    const before = await heapOf(frame, true);
    const workbenchBefore = await heapOf(page.mainFrame(), true);
    const total = Number(await frame.locator('rl-timeline-grid [role="grid"]').first().getAttribute('aria-rowcount')) - 1;
    const stepPx = envInt('BENCH_EXPLORER_SCROLL_STEP', Math.max(3_000, Math.ceil((total * 22) / 1_000)));
    const scroller = await frame.locator('rl-timeline-grid lit-virtualizer').first().elementHandle();
    if (!scroller) throw new Error('no scroller in the timeline');
    // Jumps: the scroller set to random places at least 1,000 rows apart, each timed until the DOM holds
    // rows around the new place and none of them is still loading (polled every frame).
    jumps = await scroller.evaluate(
      async (el: HTMLElement, arg: { n: number; rowPx: number }) => {
        const out: number[] = [];
        let seed = 12345;
        // (No named functions in here: the bundler would wrap them in a helper the page does not have.)
        for (let i = 0; i < arg.n; i++) {
          const from = el.scrollTop;
          seed = (seed * 1103515245 + 12345) % 2147483648;
          let top = Math.floor((seed / 2147483648) * Math.max(0, el.scrollHeight - el.clientHeight));
          if (Math.abs(top - from) < 1000 * arg.rowPx) top = (top + Math.floor((el.scrollHeight - el.clientHeight) / 2)) % Math.max(1, el.scrollHeight - el.clientHeight);
          const before = Math.min(...Array.from(el.querySelectorAll('[role="row"][data-i]'), (r) => Number(r.getAttribute('data-i'))));
          const t0 = performance.now();
          el.scrollTop = top;
          for (;;) {
            await new Promise((r) => requestAnimationFrame(() => r(null)));
            const now = Math.min(...Array.from(el.querySelectorAll('[role="row"][data-i]'), (r) => Number(r.getAttribute('data-i'))));
            if (Number.isFinite(now) && Math.abs(now - before) > 500 && el.querySelector('[role="row"].loading') === null) break;
            if (performance.now() - t0 > 10_000) break;
          }
          out.push(performance.now() - t0);
          await new Promise((r) => setTimeout(r, 150));
        }
        return out;
      },
      { n: 20, rowPx: 22 },
    );
    log(`  jump to a random place → rows painted: p50 ${ms(percentile(jumps, 50))} ms, p95 ${ms(percentile(jumps, 95))} ms, max ${ms(max(jumps))} ms (${jumps.length} jumps)`);
    // Back to the top of the window (on a log longer than the window, the jumps may have slid it), rows loaded.
    await scroller.evaluate(async (el: HTMLElement) => {
      el.scrollTop = 0;
      const t0 = performance.now();
      do await new Promise((r) => setTimeout(r, 50));
      while ((el.querySelector('[role="row"].loading') !== null || el.querySelector('[role="row"]') === null) && performance.now() - t0 < 30_000);
    });
    const t0 = performance.now();
    const stats = { steps: 0, maxDomRows: 0, loadingSamples: 0, windowSlides: 0, maxHeap: before, end: false };
    for (const stretch of [250, 50_000]) {
      const s = await scroller.evaluate(
        async (el: HTMLElement, arg: { dy: number; last: number; steps: number; waitMs: number; maxRows: number }) => {
          const out = { steps: 0, maxDomRows: 0, loadingSamples: 0, windowSlides: 0, maxHeap: 0, end: false, overflow: -1 };
          const perf = performance as unknown as { memory?: { usedJSHeapSize: number } };
          let lastTop = el.scrollTop;
          for (; out.steps < arg.steps; ) {
            el.scrollTop = el.scrollTop + arg.dy;
            out.steps++;
            await new Promise((r) => setTimeout(r, arg.waitMs));
            const grid = el.closest('[role="grid"]');
            const rows = grid ? grid.querySelectorAll('[role="row"]').length : -1;
            out.maxDomRows = Math.max(out.maxDomRows, rows);
            if (rows > arg.maxRows && out.overflow < 0) out.overflow = out.steps;
            if (el.querySelector('[role="row"].loading')) out.loadingSamples++;
            if (el.scrollTop < lastTop) out.windowSlides++;
            lastTop = el.scrollTop;
            if (out.steps % 50 === 0) out.maxHeap = Math.max(out.maxHeap, perf.memory?.usedJSHeapSize ?? 0);
            if (el.querySelector(`[role="row"][aria-rowindex="${arg.last}"]`)) {
              out.end = true;
              break;
            }
          }
          return out;
        },
        { dy: stepPx, last: total + 1, steps: stretch, waitMs: 40, maxRows: MAX_DOM_ROWS },
      );
      stats.steps += s.steps;
      stats.maxDomRows = Math.max(stats.maxDomRows, s.maxDomRows);
      stats.loadingSamples += s.loadingSamples;
      stats.windowSlides += s.windowSlides;
      stats.maxHeap = Math.max(stats.maxHeap, s.maxHeap);
      if (s.overflow >= 0) throw new Error(`more than ${MAX_DOM_ROWS} rows in the DOM at step ${stats.steps - s.steps + s.overflow}`);
      if (s.end) {
        stats.end = true;
        break;
      }
      await shot('timeline-scrolling');
    }
    const scrollMs = performance.now() - t0;
    await frame.locator(`[role="row"][aria-rowindex="${total + 1}"]:not(.loading)`).first().waitFor({ state: 'visible', timeout: 30_000 });
    const settledMs = performance.now() - t0;
    await shot('timeline-end');
    const after = await heapOf(frame, true);
    const workbenchAfter = await heapOf(page.mainFrame(), true);
    scroll = { total, steps: stats.steps, stepPx, ms: scrollMs, settledMs, maxDomRows: stats.maxDomRows, loadingSamples: stats.loadingSamples, windowSlides: stats.windowSlides, reachedEnd: stats.end };
    heap = { before, after, maxDuring: stats.maxHeap, workbenchBefore, workbenchAfter, sameIsolate: Math.abs(before - workbenchBefore) <= 0.02 * before, panelClosed };
    log(`  scrolled ${fmtInt(total)} rows end to end in ${secs(scrollMs)} s, last row painted after ${secs(settledMs)} s (${stats.steps} steps of ${fmtInt(stepPx)} px with 40 ms waits, ${stats.windowSlides} window slides); DOM rows at most ${stats.maxDomRows}; steps that still showed loading rows: ${stats.loadingSamples}`);
    log(`  JS heap after gc() read in the webview's frame: ${fmtMiB(before)} before, ${fmtMiB(after)} after scrolling (x${fmt(after / before, 2)}), at most ${fmtMiB(stats.maxHeap)} while scrolling (no gc); read in the workbench's frame: ${fmtMiB(workbenchBefore)} → ${fmtMiB(workbenchAfter)}${heap.sameIsolate ? ' (the same heap: the webview shares the workbench\'s renderer)' : ''}; with the panel closed ${fmtMiB(panelClosed)}, so the panel's share is ~${fmtMiB(before - panelClosed)} before and ~${fmtMiB(after - panelClosed)} after`);
    return { size, events, storeOpenMs, firstOpenMs: openMs[0]!, indexBuiltMs, openMs: openMs.slice(1), openings, jumps, scroll, heap, screenshots: shots };
  } catch (err) {
    log(`  FAILED: ${(err as Error).message}`);
    await e2e.browser.screenshot(page, outDir, `${label}-FAILED`).then((f) => shots.push(relative(repoRoot, f))).catch(() => undefined);
    return { size, events, storeOpenMs, firstOpenMs: openMs[0] ?? Number.NaN, indexBuiltMs, openMs: openMs.slice(1), openings, jumps, scroll, heap, screenshots: shots, error: (err as Error).message };
  } finally {
    await browser.close();
    await server.stop();
    if (existsSync(server.logFile)) copyFileSync(server.logFile, join(outDir, `code-server-${label}.log`));
    temp.remove(root);
  }
}

// ---------------------------------------------------------------------------------------------------

interface SummaryRow {
  readonly metric: string;
  readonly measured: string;
  readonly target: string;
  readonly ok: string;
}

async function main(): Promise<void> {
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const outDir = join(repoRoot, 'bench', 'results', `explorer-${stamp}`);
  mkdirSync(outDir, { recursive: true });
  log(`# bench:explorer  sizes ${SIZES.map(fmtInt).join(', ')}; ${cpus().length} cores, load ${loadavg().map((x) => x.toFixed(2)).join(' ')}; node ${process.version}`);
  const rows: SummaryRow[] = [];
  const row = (metric: string, measured: string, target = '', ok: boolean | null = null): void => void rows.push({ metric, measured, target, ok: ok === null ? '' : ok ? 'yes' : 'NO' });
  const results: Record<string, unknown> = { sizes: SIZES, startedAt: new Date().toISOString(), load: loadavg() };

  // 1-2. Synthetic logs.
  const synthetic: SyntheticResult[] = [];
  const storeDirs = new Map<number, { dir: string; events: number }>();
  for (const size of SIZES) {
    const options = optionsFor(size);
    let meta = readMeta<SyntheticStoreMeta>(syntheticStoreDir(options));
    if (!meta) {
      log(`\n## building the ${sizeLabel(size)} synthetic store (${fmtInt(options.documents)} documents, ${fmtInt(options.questions)} questions), cached in ${relative(repoRoot, syntheticStoreDir(options))}`);
      meta = await inChild<SyntheticStoreMeta>({ role: 'build', options });
      log(`  built ${fmtInt(meta.events)} events in ${secs(meta.buildMs)} s (${fmtInt((meta.events / meta.buildMs) * 1000)} events/s), read models caught up in ${secs(meta.readModelsMs)} s; ${fmtMiB(meta.bytes)} on disk; peak RSS ${fmtMiB(meta.buildPeakRss)}`);
    }
    storeDirs.set(size, { dir: join(syntheticStoreDir(options), 'store'), events: meta.events });
    if (!RUN_QUERIES) continue;
    const r = await inChild<SyntheticResult>({ role: 'synthetic', options });
    synthetic.push(r);
    const L = sizeLabel(r.events);
    row(`${L}: log (events, store on disk; built in)`, `${fmtInt(r.events)}, ${fmtMiB(r.storeBytes)}; ${secs(r.build.buildMs)} s`);
    row(`${L}: index catch-up from scratch`, `${secs(r.catchUp.ms)} s, ${fmtInt(r.catchUp.eventsPerSec)} events/s`);
    row(`${L}: RSS: store open / catch-up max / process peak`, `${fmtMiB(r.catchUp.rssAfterOpen)} / ${fmtMiB(r.catchUp.rssMaxSampled)} / ${fmtMiB(r.catchUp.processPeakRss)}`);
    row(`${L}: reopen indexed store → usable timeline`, `${secs(r.reopen.usableMs)} s (ledger ${secs(r.reopen.ledgerMs)} s, explorer ${ms(r.reopen.explorerMs)} ms, first page ${ms(r.reopen.firstPageMs)} ms)`);
    row(`${L}: host, panel opening: init / first page (100 rows) / density`, `${ms(r.opening.initMs)} / ${ms(r.opening.pageMs)} / ${ms(r.opening.densityMs)} ms`);
    const big = r.events >= 900_000;
    for (const f of r.filters) {
      const ok = f.warm.p95 <= 50;
      row(`${L}: page, ${f.name}: cold / end / warm p50 / p95 (ms)`, `${ms(f.coldMs)} / ${ms(f.endMs)} / ${ms(f.warm.p50)} / ${ms(f.warm.p95)}`, big ? 'p95 <= 50' : '', big ? ok : null);
    }
    const plain = r.filters.filter((f) => !f.filter.text);
    const text = r.filters.filter((f) => f.filter.text);
    const worst = (fs: readonly FilterResult[]): FilterResult => fs.reduce((a, b) => (b.warm.p95 > a.warm.p95 ? b : a));
    row(`${L}: page p95, worst without full text (${worst(plain).name})`, `${ms(worst(plain).warm.p95)} ms`, big ? 'p95 <= 50' : '', big ? worst(plain).warm.p95 <= 50 : null);
    row(`${L}: page p95, worst with full text (${worst(text).name})`, `${ms(worst(text).warm.p95)} ms`, big ? 'p95 <= 50' : '', big ? worst(text).warm.p95 <= 50 : null);
    row(`${L}: cold first page, worst (${r.filters.reduce((a, b) => (b.coldMs > a.coldMs ? b : a)).name})`, `${ms(max(r.filters.map((f) => f.coldMs)))} ms`);
    row(`${L}: locate p95, worst / density, worst (ms)`, `${ms(max(r.filters.map((f) => f.locate.p95)))} / ${ms(max(r.filters.map((f) => f.densityMs)))}`);
  }
  results.synthetic = synthetic;

  // 3. Replay and compare.
  if (RUN_REPLAY) {
    if (!existsSync(CORPUS)) throw new Error(`corpus not found at ${CORPUS}; set RAG_LEDGER_CORPUS`);
    const r = await inChild<ReplayResult>({ role: 'replay' });
    results.replay = r;
    const chunks = `${fmtInt(r.store.pv1Chunks)} / ${fmtInt(r.store.pv2Chunks)} chunks`;
    row(`replay of one question against the other version (${chunks}), median of ${r.replayMs.length}`, `${ms(median(r.replayMs))} ms (first, loading the model: ${ms(r.firstReplayMs)} ms)`, '<= 1000 ms', median(r.replayMs) <= 1000);
    row(`replay against its own version, median`, `${ms(median(r.replayPv1Ms))} ms`);
    row(`replay as of when asked (point-in-time table), median`, `${ms(median(r.replayAskedMs))} ms`);
    const cmp = median(r.compareMs);
    row(`compare over ${fmtInt(r.compared)} past questions, median of ${r.compareMs.length}`, `${secs(cmp)} s (${fmt((r.compared / cmp) * 1000, 1)} questions/s)`, '<= 30 s', cmp <= 30_000);
  }

  // 4. VS Code.
  if (RUN_VSCODE) {
    const e2e = { browser: await import('../test/e2e/browser.mjs'), server: await import('../test/e2e/codeServer.mjs'), tools: await import('../test/e2e/tools.mjs') };
    const tools = await e2e.tools.ensureTools({ log });
    const vsix = await e2e.tools.packagedVsix({ log });
    const vscode: VscodeResult[] = [];
    for (const size of VSCODE_SIZES) {
      const store = storeDirs.get(size);
      if (!store) throw new Error(`BENCH_EXPLORER_VSCODE_SIZES: ${size} is not in BENCH_EXPLORER_SIZES`);
      const r = await measureVscode(size, store.dir, store.events, outDir, e2e, tools, vsix);
      vscode.push(r);
      const L = sizeLabel(r.events);
      if (r.error) row(`${L}: VS Code`, `FAILED: ${r.error.slice(0, 120)}`, '', false);
      if (!Number.isNaN(r.storeOpenMs)) row(`${L}: VS Code: the extension opens the store at start-up`, `${secs(r.storeOpenMs)} s`);
      if (r.openMs.length > 0) {
        // Rows painted as timed by the webview itself (its rl:rows-painted mark, after Enter): the test
        // driver sees them later, by up to ~0.5 s on a window's first webview (it attaches to the new
        // frame first), so its figure is shown beside, not used for the target.
        const painted = r.openings.map((o) => o.marks['rows-painted'] ?? Number.NaN);
        const first = painted[0]!;
        const m = median(painted.slice(1));
        const init = median(r.openings.slice(1).map((o) => o.marks['init-answered'] ?? Number.NaN));
        const paint = median(r.openings.slice(1).map((o) => o.paintMs));
        const built = r.indexBuiltMs !== null ? ` (its index built meanwhile, in ${secs(r.indexBuiltMs)} s)` : '';
        row(`${L}: panel open → first rows painted (timed in the webview): first opening${built} / median of the next ${r.openMs.length}`, `${ms(first)} / ${ms(m)} ms`, '<= 1000 ms', Math.max(m, first) <= 1000);
        row(`${L}: … the same, seen by the test driver (Playwright): first / median`, `${ms(r.firstOpenMs)} / ${ms(median(r.openMs))} ms`);
        row(`${L}: … of which (medians): webview's first paint / host answered init`, `+${ms(paint)} / +${ms(init)} ms`);
      }
      if (r.jumps.length > 0) row(`${L}: jump to a random place → rows painted, p50 / p95`, `${ms(percentile(r.jumps, 50))} / ${ms(percentile(r.jumps, 95))} ms`);
      if (r.scroll && r.heap) {
        row(`${L}: scroll end to end: DOM rows at most`, `${r.scroll.maxDomRows} (${fmtInt(r.scroll.total)} rows in ${secs(r.scroll.ms)} s)`, `<= ${MAX_DOM_ROWS}`, r.scroll.maxDomRows <= MAX_DOM_ROWS && r.scroll.reachedEnd);
        const flat = r.heap.after <= 100 * 1024 * 1024 && r.heap.after / r.heap.before <= 1.25;
        row(`${L}: JS heap in the webview's frame before → after scrolling (after gc)${r.heap.sameIsolate ? ', shared with the workbench' : ''}`, `${fmtMiB(r.heap.before)} → ${fmtMiB(r.heap.after)} (x${fmt(r.heap.after / r.heap.before, 2)})`, '<= 100 MB, flat', flat);
        row(`${L}: … the panel's share (heap minus the heap with the panel closed; gc'd heaps vary by a few MiB)`, `${fmtMiB(r.heap.before - r.heap.panelClosed)} → ${fmtMiB(r.heap.after - r.heap.panelClosed)}`);
      }
    }
    results.vscode = vscode;
  }

  log(`\n## Summary (${elapsed()} in all)\n`);
  log(markdownTable(['metric', 'measured', 'target', 'ok'], rows.map((r) => [r.metric, r.measured, r.target, r.ok])));
  results.summary = rows;
  results.totalMs = performance.now() - started;
  const file = join(outDir, 'results.json');
  writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
  log(`\nresults written to ${relative(repoRoot, outDir)}/`);
}

const childSpec = process.env.BENCH_EXPLORER_CHILD;
(childSpec ? childMain(JSON.parse(childSpec) as ChildSpec) : main())
  .catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  })
  .finally(() => temp.removeAll());
