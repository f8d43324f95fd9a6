// Benchmark of the store at scale (npm run bench:scale): what opening, asking, appending and
// rebuilding cost on a log of ~1M events (100k documents of 0.3–8 KB, questions, a second pipeline
// version in the shadow) against the same on ~10k events, and ingest speed at 100k files against 10k.
//
//   npm run bench:scale [-- --scale 0.1] [--fresh] [--only stats,ask,append] [--timeout SECONDS]
//
// What runs where:
//   - The two synthetic stores are built by appending the events of test/support/syntheticLog.ts in
//     large batches (not through the pipeline), then `rag-ledger rebuild --projection vectors` makes the
//     active version's LanceDB table from the log. They are cached under ~/.cache/rag-ledger/bench-scale
//     (or $RAG_LEDGER_BENCH_CACHE), keyed by the generator's version and the store's format files;
//     --fresh builds them anew. Every measurement runs on a copy, so the cache is never changed.
//   - Each figure comes from a process of its own (peak RSS is the process's: a preload writes
//     process.resourceUsage() when it exits): the real CLI (dist/cli.js) for stats, search, ask
//     --extractive and rebuild; this file in a child mode for retrieval latency, append latency and the
//     extension host's memory (approximated by a Node process that opens the store as the extension does:
//     WorkspaceEngine.open, then the explorer and its index caught up, then a first page of the timeline).
//   - Bytes written per ask: the child's write_bytes (getrusage's block outputs × 512, what
//     /proc/<pid>/io reports) and the growth of the store's files.
//   - Ingest: the real pipeline (`rag-ledger ingest`) over a generated workspace of mixed md/rs/toml files.
//   - Embedder: the generated tiny ONNX model (test/support/tinyModel.ts) through the real transformers.js
//     path, for both ingest sizes; for queries on the synthetic stores, a tiny model under the stores'
//     model id (synthetic/model, 384 dimensions) whose vectors mean nothing: the point is the store.
// Every child has a deadline (--timeout, default 900 s); a child that fails, is killed or times out
// becomes a FAILED row, and the run goes on.
//
// --scale F runs everything at F times the size (0.1: 1k and 100k events, 1k and 10k files).
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join, relative } from 'node:path';
import { openLedger, openVectorIndex } from '../src/adapters/ledger.js';
import { TransformersEmbedder } from '../src/adapters/transformers/transformersEmbedder.js';
import { WorkspaceEngine } from '../src/adapters/workspaceEngine.js';
import { RetrievalService } from '../src/app/retrieval/retrievalService.js';
import { DEFAULT_MAX_BYTES } from '../src/core/ingest/documentCheck.js';
import { DEFAULT_PIPELINE } from '../src/core/pipeline/pipelineConfig.js';
import { buildDist, cliPath } from '../test/support/cli.js';
import type { SyntheticLogOptions } from '../test/support/syntheticLog.js';
import { PV1, syntheticLog } from '../test/support/syntheticLog.js';
import { TINY_MODEL_DIMS, TINY_MODEL_ID, ensureTinyModel } from '../test/support/tinyModel.js';
import { TempDirs, dirBytes, fmt, fmtInt, markdownTable, median, percentile } from './benchUtil.js';
import { cacheKey } from './explorerStores.js';
import { FILE_BYTES, SCALE_GENERATOR_VERSION, ensureWorkspace, scaleCacheRoot } from './scaleWorkspace.js';

const repoRoot = join(__dirname, '..');
const MiB = 1024 * 1024;
/** The model id and dimensions the synthetic log's pipeline versions name. */
const SYNTHETIC_MODEL = { id: 'synthetic/model', dims: 384 };
const SECTIONS = ['stats', 'search', 'retrieval', 'ask', 'append', 'host', 'rebuild', 'ingest'] as const;
type Section = (typeof SECTIONS)[number];
const QUERIES = ['how does borrow work', 'what is the lifetime of a kamiro', 'zeppelin', 'where is the serdaro configured', 'tellu vonka pex', 'borrow lifetime of the index'];

// ---------------------------------------------------------------------------------------
// Options

interface Options {
  readonly scale: number;
  readonly fresh: boolean;
  readonly only: ReadonlySet<Section>;
  readonly timeoutMs: number;
}

function parseOptions(argv: readonly string[]): Options {
  let scale = Number(process.env.RAG_LEDGER_BENCH_SCALE ?? '1');
  let fresh = false;
  let only: Set<Section> = new Set(SECTIONS);
  let timeoutMs = 900_000;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = (): string => {
      const v = a.includes('=') ? a.slice(a.indexOf('=') + 1) : argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--fresh') fresh = true;
    else if (a.startsWith('--scale')) scale = Number(value());
    else if (a.startsWith('--timeout')) timeoutMs = Number(value()) * 1000;
    else if (a.startsWith('--only')) {
      const names = value().split(',').filter((s) => s !== '');
      const unknown = names.filter((n) => !(SECTIONS as readonly string[]).includes(n));
      if (unknown.length > 0) throw new Error(`--only: unknown section(s) ${unknown.join(', ')}; known: ${SECTIONS.join(', ')}`);
      only = new Set(names as Section[]);
    } else throw new Error(`unknown option ${a}; usage: bench:scale [--scale F] [--fresh] [--only ${SECTIONS.join(',')}] [--timeout SECONDS]`);
  }
  if (!(scale > 0 && scale <= 1)) throw new Error(`--scale must be in (0, 1], got ${scale}`);
  if (!(timeoutMs > 0)) throw new Error('--timeout must be a positive number of seconds');
  return { scale, fresh, only, timeoutMs };
}

// ---------------------------------------------------------------------------------------
// Children: a process each, measured

interface Measured {
  readonly ok: boolean;
  /** Why it failed, in one line (exit code, signal or timeout, and the last line of stderr). */
  readonly failure: string;
  readonly wallMs: number;
  readonly peakRss: number;
  /**
   * The largest peak of the Node processes it started (LanceDB's index build process), 0 when none:
   * every Node process started under the measured one reports its own usage (NODE_OPTIONS preload).
   */
  readonly helperPeakRss: number;
  /** Bytes the process and its helpers caused to be written to storage (getrusage block outputs × 512). */
  readonly writeBytes: number;
  readonly stdout: string;
}

let preloadFile = '';

function runMeasured(label: string, args: readonly string[], options: { readonly timeoutMs: number; readonly env?: NodeJS.ProcessEnv; readonly execArgv?: readonly string[]; readonly showStderr?: boolean }): Measured {
  const usageFile = join(temp.create('usage'), 'usage.json');
  const t0 = performance.now();
  const nodeOptions = `${process.env.NODE_OPTIONS ?? ''} --import ${preloadFile}`.trim();
  const r = spawnSync(process.execPath, [...(options.execArgv ?? []), ...args], {
    cwd: repoRoot,
    env: { ...process.env, RAG_LEDGER_STORE: '', ...options.env, BENCH_USAGE_FILE: usageFile, NODE_OPTIONS: nodeOptions },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', options.showStderr ? 'inherit' : 'pipe'],
    timeout: options.timeoutMs,
    killSignal: 'SIGKILL',
    maxBuffer: 256 * MiB,
  });
  const wallMs = performance.now() - t0;
  // One line per process: the measured one (its pid) and any Node process it started.
  const lines = existsSync(usageFile) ? readFileSync(usageFile, 'utf8').trim().split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as { pid: number; maxRSS: number; fsWrite: number }) : [];
  const usage = lines.find((u) => u.pid === r.pid) ?? null;
  const helpers = lines.filter((u) => u.pid !== r.pid);
  const stderr = r.stderr ?? '';
  const lastErr = stderr.trim().split('\n').filter((l) => l.trim() !== '').at(-1) ?? '';
  const timedOut = r.error !== undefined && 'code' in r.error && r.error.code === 'ETIMEDOUT';
  const ok = !timedOut && r.status === 0 && !r.error;
  const spent = `after ${fmt(wallMs / 1000, 1)} s${usage ? `, peak RSS ${fmt(usage.maxRSS / 1024, 0)} MB` : ''}`;
  const failure = ok ? '' : `${label} ${spent}: ` + (timedOut ? `timed out after ${fmt(options.timeoutMs / 1000, 0)} s` : r.signal ? `killed by ${r.signal}${r.signal === 'SIGKILL' ? ' (out of memory?)' : ''}` : r.error ? r.error.message : `exit ${r.status}: ${lastErr.slice(0, 400)}`);
  if (!ok) {
    // The whole stderr of a failed child is kept beside the results, for its stack.
    const dir = join(repoRoot, 'bench', 'results');
    mkdirSync(dir, { recursive: true });
    const file = join(dir, `scale-failed-${label.replace(/[^a-z0-9]+/gi, '-')}-${new Date().toISOString().replace(/[:.]/g, '-')}.txt`);
    writeFileSync(file, `node ${args.join(' ')}\n\n${stderr}`);
    log(`  ${label}: FAILED (${failure}); stderr in ${relative(repoRoot, file)}`);
  }
  const helperPeakRss = Math.max(0, ...helpers.map((u) => u.maxRSS)) * 1024;
  const writeBytes = lines.reduce((n, u) => n + u.fsWrite, 0) * 512;
  return { ok, failure, wallMs, peakRss: (usage?.maxRSS ?? 0) * 1024, helperPeakRss, writeBytes, stdout: r.stdout ?? '' };
}

function runCli(label: string, args: readonly string[], timeoutMs: number): Measured {
  return runMeasured(label, [cliPath, ...args], { timeoutMs });
}

/** This file in a child mode; its result is the last line of its stdout, as JSON. */
function runChild<T>(label: string, spec: ChildSpec, timeoutMs: number): { m: Measured; result: T | null } {
  const m = runMeasured(label, [__filename], { timeoutMs, execArgv: process.execArgv, env: { BENCH_SCALE_CHILD: JSON.stringify(spec) }, showStderr: spec.mode === 'build' });
  const line = m.stdout.trim().split('\n').at(-1) ?? '';
  return { m, result: m.ok && (line.startsWith('{') || line.startsWith('[')) ? (JSON.parse(line) as T) : null };
}

type ChildSpec =
  | { readonly mode: 'build'; readonly store: string; readonly options: SyntheticLogOptions }
  | { readonly mode: 'retrieval'; readonly stores: readonly string[]; readonly modelDir: string; readonly queries: number }
  | { readonly mode: 'append'; readonly store: string; readonly appends: number }
  | { readonly mode: 'host'; readonly store: string; readonly modelDir: string; readonly workspace: string };

async function child(spec: ChildSpec): Promise<unknown> {
  switch (spec.mode) {
    case 'build': {
      // The synthetic log appended in its batches, each at its own time, then the read models caught up.
      let now = new Date().toISOString();
      const t0 = performance.now();
      const ledger = await openLedger(spec.store, { mode: 'write', clock: () => now, owner: 'bench:scale (build)' });
      let sourceBytes = 0;
      let documents = 0;
      let last = performance.now();
      try {
        for (const batch of syntheticLog(spec.options)) {
          now = batch.time;
          for (const w of batch.writes)
            for (const e of w.events)
              if (e.type === 'DocumentSubmitted') {
                sourceBytes += Buffer.byteLength(e.data.raw_content);
                documents++;
              }
          await ledger.events.appendMany(batch.writes);
          if (performance.now() - last > 15_000) {
            last = performance.now();
            process.stderr.write(`    building: ${fmtInt((await ledger.events.head()).position)} events after ${fmt((last - t0) / 1000, 0)} s\n`);
          }
        }
        const appendMs = performance.now() - t0;
        await ledger.runner.catchUp();
        await ledger.projections.flush();
        return { events: (await ledger.events.head()).position, documents, sourceBytes, appendMs, readModelsMs: performance.now() - t0 - appendMs };
      } finally {
        await ledger.close();
      }
    }
    case 'retrieval': {
      // Retrieval as ask does it (hybrid, k 8), timed per query after the stores and model are open.
      // The stores are queried in turn, query by query, in one process: a shared machine's load
      // then weighs on both sizes alike, and the ratio compares like with like.
      const opened = await Promise.all(spec.stores.map(async (store) => ({ ledger: await openLedger(store, { mode: 'read' }), index: await openVectorIndex(store) })));
      const embedder = await TransformersEmbedder.load({ model: SYNTHETIC_MODEL.id, modelDir: spec.modelDir, dtype: 'fp32' });
      try {
        const services = opened.map((o) => new RetrievalService(o.index));
        for (const service of services) await service.retrieve(PV1, 'warm up', { k: 8, mode: 'hybrid', embedder });
        const ms: number[][] = services.map(() => []);
        const hits: number[] = services.map(() => 0);
        for (let q = 0; q < spec.queries; q++) {
          for (const [i, service] of services.entries()) {
            const t = performance.now();
            const r = await service.retrieve(PV1, `${QUERIES[q % QUERIES.length]!} ${q}`, { k: 8, mode: 'hybrid', embedder });
            ms[i]!.push(performance.now() - t);
            hits[i]! += r.chunks.length;
          }
        }
        return services.map((_, i) => ({ p50: percentile(ms[i]!, 50), p95: percentile(ms[i]!, 95), hits: hits[i]! }));
      } finally {
        await embedder.close();
        for (const o of opened) {
          await o.index.close();
          await o.ledger.close();
        }
      }
    }
    case 'append': {
      // Single appends of one event each, as a question's first event is appended.
      const t0 = performance.now();
      const ledger = await openLedger(spec.store, { mode: 'write', owner: 'bench:scale (append)' });
      const openMs = performance.now() - t0;
      try {
        const ms: number[] = [];
        for (let i = 0; i < spec.appends; i++) {
          const id = `bench-${process.pid}-${i}`;
          const t = performance.now();
          await ledger.events.append(`query-${id}`, [{ type: 'QueryReceived', data: { query_id: id, query_text: `${QUERIES[i % QUERIES.length]!} ${i}`, user_id: 'bench', received_at: new Date().toISOString() } }], { expectedVersion: 'no_stream' });
          ms.push(performance.now() - t);
        }
        return { openMs, p50: percentile(ms, 50), p95: percentile(ms, 95) };
      } finally {
        await ledger.close();
      }
    }
    case 'host': {
      // What the extension host holds with the store open: the engine (ledger, projections caught up,
      // vector index), then the explorer with its index caught up and a first page of the timeline.
      const t0 = performance.now();
      const engine = await WorkspaceEngine.open({
        storeDir: spec.store,
        workspaceRoot: spec.workspace,
        pipeline: DEFAULT_PIPELINE,
        walk: { include: [], exclude: [], respectGitignore: true },
        documents: { maxBytes: DEFAULT_MAX_BYTES, allowSecrets: false },
        modelDir: spec.modelDir,
        ollama: {},
        actor: 'bench',
        owner: 'bench:scale (extension host)',
      });
      const openMs = performance.now() - t0;
      const rssOpen = process.memoryUsage().rss;
      try {
        const t1 = performance.now();
        const explorer = await engine.explorer();
        await explorer.timeline.catchUp();
        const page = await explorer.timeline.page({}, 0, 200);
        const explorerMs = performance.now() - t1;
        return { openMs, explorerMs, rssOpen, rssExplorer: process.memoryUsage().rss, rows: page.rows.length };
      } finally {
        await engine.close();
      }
    }
  }
}

// ---------------------------------------------------------------------------------------
// Results

const temp = new TempDirs('rag-ledger-scale-bench-');
const log = (s: string): void => console.log(s);

type Value = number | { readonly failed: string } | null;
interface SizeResults {
  [metric: string]: Value;
}

interface Row {
  readonly metric: string;
  readonly small: Value;
  readonly large: Value;
  readonly unit: 'ms' | 's' | 'MB' | 'x' | '/s' | 'n';
  /** How the target is checked: on the large figure, or on large/small. */
  readonly target?: { readonly on: 'large' | 'ratio'; readonly op: '<=' | '>='; readonly limit: number; readonly text: string };
}

/** Failures are listed under the table, numbered; a cell shows the number. */
const failureNotes: string[] = [];
function failureNote(text: string): string {
  let i = failureNotes.indexOf(text);
  if (i < 0) i = failureNotes.push(text) - 1;
  return `#${i + 1}`;
}

function show(v: Value, unit: Row['unit']): string {
  if (v === null) return '–';
  if (typeof v !== 'number') return `FAILED (${failureNote(v.failed)})`;
  switch (unit) {
    case 'ms':
      return `${fmt(v, v < 10 ? 2 : 1)} ms`;
    case 's':
      return `${fmt(v / 1000, 2)} s`;
    case 'MB':
      return `${fmt(v / MiB, v < 10 * MiB ? 2 : 0)} MB`;
    case 'x':
      return `${fmt(v, 1)}×`;
    case '/s':
      return `${fmt(v, 1)}/s`;
    case 'n':
      return fmtInt(v);
  }
}

function tableOf(rows: readonly Row[], smallLabel: string, largeLabel: string): string {
  return markdownTable(
    ['metric', smallLabel, largeLabel, 'ratio', 'target', 'pass'],
    rows.map((r) => {
      const small = typeof r.small === 'number' ? r.small : null;
      const large = typeof r.large === 'number' ? r.large : null;
      const ratio = small !== null && large !== null && small > 0 ? large / small : null;
      let pass = '';
      if (r.target) {
        const x = r.target.on === 'large' ? large : ratio;
        pass = x === null ? (r.large !== null || r.small !== null ? 'FAIL' : 'not run') : (r.target.op === '<=' ? x <= r.target.limit : x >= r.target.limit) ? 'pass' : 'FAIL';
      }
      return [r.metric, show(r.small, r.unit), show(r.large, r.unit), ratio === null ? '' : fmt(ratio, 2), r.target?.text ?? '', pass];
    }),
  );
}

// ---------------------------------------------------------------------------------------
// Stores

interface StoreMeta {
  readonly events: number;
  readonly documents: number;
  readonly questions: number;
  readonly sourceBytes: number;
  readonly appendMs: number;
  readonly readModelsMs: number;
  readonly buildPeakRss: number;
  readonly vectorsMs: number;
  readonly vectorsPeakRss: number;
  /** The index build process's peak during that rebuild (0: built in the CLI's own process). */
  readonly vectorsHelperPeakRss?: number;
  /** Why `rebuild --projection vectors` failed on this store (it is tried again on the next run). */
  readonly vectorsFailure?: string;
  readonly bytes: number;
  readonly builtAt: string;
}

/** The files that define the store's format on disk and what its writers leave there: a change there makes cached stores stale. */
function formatFiles(): string[] {
  return ['src/adapters/sqljs/schema.ts', 'src/adapters/sqljs/storeFiles.ts', 'src/adapters/sqljs/sqljsEventStore.ts', 'src/adapters/sqljs/sqljsProjectionStore.ts', 'src/adapters/lancedb/lanceVectorIndex.ts']
    .map((f) => join(repoRoot, f))
    .filter((f) => existsSync(f));
}

/** Removes partial builds left in the cache by processes that are gone. */
function removeStalePartials(): void {
  const root = scaleCacheRoot();
  if (!existsSync(root)) return;
  for (const name of readdirSync(root)) {
    const m = /\.partial-(\d+)$/.exec(name);
    if (!m) continue;
    try {
      process.kill(Number(m[1]), 0);
    } catch {
      rmSync(join(root, name), { recursive: true, force: true });
    }
  }
}

/** What the synthetic log generator produces for these options, in short (a small log of the same kind). */
function generatorFingerprint(options: SyntheticLogOptions): string {
  const h = createHash('sha256');
  for (const batch of syntheticLog({ ...options, documents: 200, questions: 50 })) {
    h.update(batch.time);
    for (const w of batch.writes) for (const e of w.events) h.update(JSON.stringify([w.streamId, e.type, e.eventId ?? null, e.metadata ?? null, e.data]));
  }
  return h.digest('hex');
}

/** The cached synthetic store of about `events` events, built when missing (or with --fresh). */
function ensureStore(events: number, opts: Options): { dir: string; meta: StoreMeta } | { failed: string } {
  const documents = Math.max(20, Math.round(events / 9.9));
  const options: SyntheticLogOptions = { documents, questions: Math.round(documents / 5), documentCharsRange: FILE_BYTES, seed: 42 };
  const key = cacheKey({ options, version: SCALE_GENERATOR_VERSION, generator: generatorFingerprint(options) }, formatFiles());
  const dir = join(scaleCacheRoot(), `store-${documents}d-${key}`);
  const metaFile = join(dir, 'bench-store.json');
  removeStalePartials();
  if (!opts.fresh && existsSync(metaFile)) {
    let meta = JSON.parse(readFileSync(metaFile, 'utf8')) as StoreMeta;
    if (meta.vectorsFailure !== undefined) {
      // The log is complete; only its vector table is missing: try again (a fixed CLI may make it).
      log(`  the vector table of ${dir} failed last time (${meta.vectorsFailure}); rebuilding it`);
      const vectors = runCli('rebuild vectors', ['rebuild', '--projection', 'vectors', '--store', join(dir, 'store'), '--json'], opts.timeoutMs * 2);
      const { vectorsFailure: _, ...rest } = meta;
      meta = { ...rest, vectorsMs: vectors.wallMs, vectorsPeakRss: vectors.peakRss, vectorsHelperPeakRss: vectors.helperPeakRss, ...(vectors.ok ? {} : { vectorsFailure: vectors.failure }) };
      writeFileSync(metaFile, `${JSON.stringify(meta, null, 2)}\n`);
    }
    return { dir, meta };
  }
  rmSync(dir, { recursive: true, force: true });
  const partial = `${dir}.partial-${process.pid}`;
  rmSync(partial, { recursive: true, force: true });
  mkdirSync(partial, { recursive: true });
  const store = join(partial, 'store');
  log(`  building a synthetic store of ${fmtInt(documents)} documents and ${fmtInt(options.questions)} questions in ${dir}`);
  const built = runChild<{ events: number; documents: number; sourceBytes: number; appendMs: number; readModelsMs: number }>('build', { mode: 'build', store, options }, opts.timeoutMs * 4);
  if (!built.result) {
    rmSync(partial, { recursive: true, force: true });
    return { failed: `building the store: ${built.m.failure}` };
  }
  // The active version's vector table, made from the log; when that fails the log is still measured.
  const vectors = runCli('rebuild vectors', ['rebuild', '--projection', 'vectors', '--store', store, '--json'], opts.timeoutMs * 2);
  const meta: StoreMeta = {
    ...built.result,
    questions: options.questions,
    buildPeakRss: built.m.peakRss,
    vectorsMs: vectors.wallMs,
    vectorsPeakRss: vectors.peakRss,
    vectorsHelperPeakRss: vectors.helperPeakRss,
    ...(vectors.ok ? {} : { vectorsFailure: vectors.failure }),
    bytes: dirBytes(store),
    builtAt: new Date().toISOString(),
  };
  log(`  built: ${fmtInt(meta.events)} events in ${fmt(meta.appendMs / 1000, 0)} s (peak RSS ${fmt(meta.buildPeakRss / MiB, 0)} MB), vectors ${vectors.ok ? `in ${fmt(meta.vectorsMs / 1000, 0)} s` : 'FAILED'}; ${fmt(meta.bytes / MiB, 0)} MB on disk`);
  writeFileSync(join(partial, 'bench-store.json'), `${JSON.stringify(meta, null, 2)}\n`);
  renameSync(partial, dir);
  return { dir, meta };
}

const failed = (m: Measured): Value => ({ failed: m.failure });

/** Everything measured on one synthetic store, on a copy of it. */
/** Measures one store; returns the cached store's folder (read-only uses), or null when it could not be built. */
function measureStore(events: number, opts: Options, modelDir: string, out: SizeResults): string | null {
  const t = opts.timeoutMs;
  const cached = ensureStore(events, opts);
  if ('failed' in cached) {
    log(`  the store of ${fmtInt(events)} events could not be built: ${cached.failed}`);
    out.events = { failed: cached.failed };
    return null;
  }
  const { meta } = cached;
  out.events = meta.events;
  out.buildMs = meta.appendMs;
  out.buildRss = meta.buildPeakRss;
  out.vectorsMs = meta.vectorsFailure !== undefined ? { failed: meta.vectorsFailure } : meta.vectorsMs;
  out.vectorsRss = meta.vectorsFailure !== undefined ? { failed: meta.vectorsFailure } : meta.vectorsPeakRss;
  out.vectorsHelperRss = meta.vectorsFailure !== undefined ? { failed: meta.vectorsFailure } : meta.vectorsHelperPeakRss || null;
  out.storeBytes = meta.bytes;
  out.storeRatio = meta.bytes / meta.sourceBytes;
  const work = temp.create(`store-${events}`);
  const store = join(work, 'store');
  cpSync(join(cached.dir, 'store'), store, { recursive: true });
  log(`\n## ${fmtInt(meta.events)} events (${fmtInt(meta.documents)} documents, ${fmtInt(meta.questions)} questions, ${fmt(meta.sourceBytes / MiB, 1)} MB of source; store ${fmt(meta.bytes / MiB, 1)} MB)`);

  if (opts.only.has('stats')) {
    const runs = [0, 1].map(() => runCli('stats', ['stats', '--store', store, '--json'], t));
    const ok = runs.filter((r) => r.ok);
    out.statsMs = ok.length ? median(ok.map((r) => r.wallMs)) : failed(runs[0]!);
    out.statsRss = ok.length ? Math.max(...ok.map((r) => r.peakRss)) : failed(runs[0]!);
    log(`  stats: ${show(out.statsMs, 's')}, peak RSS ${show(out.statsRss, 'MB')}`);
  }
  if (opts.only.has('search')) {
    const r = runCli('search', ['search', QUERIES[0]!, '--store', store, '--model-dir', modelDir, '--json'], t);
    out.searchMs = r.ok ? r.wallMs : failed(r);
    out.searchRss = r.ok ? r.peakRss : failed(r);
    log(`  search: ${show(out.searchMs, 's')}, peak RSS ${show(out.searchRss, 'MB')}`);
  }
  if (opts.only.has('ask')) {
    const runs: Measured[] = [];
    const grown: number[] = [];
    for (let i = 0; i < 3; i++) {
      const before = dirBytes(store);
      const r = runCli('ask --extractive', ['ask', QUERIES[i]!, '--extractive', '--store', store, '--model-dir', modelDir, '--json'], t);
      runs.push(r);
      if (r.ok) grown.push(dirBytes(store) - before);
      if (!r.ok) break;
    }
    const ok = runs.filter((r) => r.ok);
    const fail = runs.find((r) => !r.ok);
    out.askMs = fail ? failed(fail) : median(ok.map((r) => r.wallMs));
    out.askRss = fail ? failed(fail) : Math.max(...ok.map((r) => r.peakRss));
    out.askWritten = fail ? failed(fail) : median(ok.map((r) => r.writeBytes));
    out.askGrowth = fail ? failed(fail) : median(grown);
    log(`  ask --extractive: ${show(out.askMs, 's')}, peak RSS ${show(out.askRss, 'MB')}, written ${show(out.askWritten, 'MB')}, files grew ${show(out.askGrowth, 'MB')}`);
  }
  if (opts.only.has('append')) {
    const { m, result } = runChild<{ openMs: number; p50: number; p95: number }>('append', { mode: 'append', store, appends: 100 }, t);
    out.appendOpenMs = result ? result.openMs : failed(m);
    out.appendP50 = result ? result.p50 : failed(m);
    out.appendP95 = result ? result.p95 : failed(m);
    out.appendRss = result ? m.peakRss : failed(m);
    log(`  append (100 single appends): open ${show(out.appendOpenMs, 's')}, p50 ${show(out.appendP50, 'ms')}, p95 ${show(out.appendP95, 'ms')}, peak RSS ${show(out.appendRss, 'MB')}`);
  }
  if (opts.only.has('host')) {
    const workspace = temp.create('host-workspace');
    const { m, result } = runChild<{ openMs: number; explorerMs: number; rssOpen: number; rssExplorer: number }>('host', { mode: 'host', store, modelDir, workspace }, t);
    out.hostOpenMs = result ? result.openMs : failed(m);
    out.hostRssOpen = result ? result.rssOpen : failed(m);
    out.hostRss = result ? m.peakRss : failed(m);
    out.hostHelperRss = result ? m.helperPeakRss || null : failed(m);
    out.hostExplorerMs = result ? result.explorerMs : failed(m);
    log(`  extension host (approximated in Node): engine open ${show(out.hostOpenMs, 's')}, RSS ${show(out.hostRssOpen, 'MB')}; explorer caught up in ${show(out.hostExplorerMs, 's')}; peak RSS ${show(out.hostRss, 'MB')} (index build process ${show(out.hostHelperRss, 'MB')})`);
  }
  if (opts.only.has('rebuild')) {
    const r = runCli('rebuild', ['rebuild', '--store', store, '--json'], t);
    out.rebuildMs = r.ok ? r.wallMs : failed(r);
    out.rebuildRss = r.ok ? r.peakRss : failed(r);
    log(`  rebuild (all read models): ${show(out.rebuildMs, 's')}, peak RSS ${show(out.rebuildRss, 'MB')}`);
  }
  temp.remove(work);
  return join(cached.dir, 'store');
}

/** Retrieval latency of both stores, measured side by side in one process (read-only: the cached stores are used as they are). */
function measureRetrieval(stores: readonly (string | null)[], modelDir: string, outs: readonly SizeResults[], opts: Options): void {
  const queries = 120;
  const { m, result } = runChild<{ p50: number; p95: number; hits: number }[]>('retrieval', { mode: 'retrieval', stores: stores.filter((s): s is string => s !== null), modelDir, queries }, opts.timeoutMs);
  log(`\n## retrieval (hybrid, k 8, ${queries} queries per store, the stores in turn)`);
  let i = 0;
  for (const [j, store] of stores.entries()) {
    const out = outs[j]!;
    const r = store === null ? null : (result?.[i++] ?? null);
    out.retrievalP50 = r ? r.p50 : failed(m);
    out.retrievalP95 = r ? r.p95 : failed(m);
    log(`  ${show(out.events ?? null, 'n')} events: p50 ${show(out.retrievalP50, 'ms')}, p95 ${show(out.retrievalP95, 'ms')}${r ? `, ${fmtInt(r.hits)} chunks returned` : ''}`);
  }
}

/** The real pipeline over a generated workspace of `files` files. */
function measureIngest(files: number, opts: Options, modelDir: string, out: SizeResults): void {
  const ws = ensureWorkspace(files, { fresh: opts.fresh });
  const store = join(temp.create(`ingest-${files}`), 'store');
  log(`\n## ingest of ${fmtInt(files)} files (${fmt(ws.meta.bytes / MiB, 1)} MB, md/rs/toml of ${FILE_BYTES[0]}–${FILE_BYTES[1]} bytes)`);
  const r = runCli('ingest', ['ingest', ws.dir, '--store', store, '--embedding-model', TINY_MODEL_ID, '--embedding-dims', String(TINY_MODEL_DIMS), '--embedding-dtype', 'fp32', '--model-dir', modelDir, '--json'], opts.timeoutMs * 2);
  if (!r.ok) {
    out.ingestRate = failed(r);
    return;
  }
  const report = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { submitted: number; chunks: number; embedding: { embedded: number } | null };
  const bytes = dirBytes(store);
  out.ingestRate = report.submitted / (r.wallMs / 1000);
  out.ingestRss = r.peakRss;
  out.ingestStoreRatio = bytes / ws.meta.bytes;
  log(`  ${fmtInt(report.submitted)} documents, ${fmtInt(report.chunks)} chunks (${fmtInt(report.embedding?.embedded ?? 0)} embedded) in ${fmt(r.wallMs / 1000, 1)} s: ${show(out.ingestRate, '/s')}; peak RSS ${show(out.ingestRss, 'MB')}; store ${fmt(bytes / MiB, 1)} MB = ${fmt(out.ingestStoreRatio, 1)}× the source`);
  temp.remove(join(store, '..'));
}

// ---------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const opts = parseOptions(process.argv.slice(2));
  const smallEvents = Math.round(10_000 * opts.scale);
  const largeEvents = Math.round(1_000_000 * opts.scale);
  const smallFiles = Math.round(10_000 * opts.scale);
  const largeFiles = Math.round(100_000 * opts.scale);
  log(`# bench:scale  scale ${opts.scale}: ${fmtInt(smallEvents)} vs ${fmtInt(largeEvents)} events, ingest ${fmtInt(smallFiles)} vs ${fmtInt(largeFiles)} files`);
  log(`# ${cpus().length} cores, ${fmt(totalmem() / 1024 ** 3, 0)} GB, load ${loadavg().map((x) => x.toFixed(2)).join(' ')}; cache ${scaleCacheRoot()}; deadline per child ${fmt(opts.timeoutMs / 1000, 0)} s`);
  log('# embedder: the generated tiny ONNX model (test/support/tinyModel.ts), not a real one: the point is the store');
  buildDist();
  const setup = temp.create('setup');
  preloadFile = join(setup, 'usage.mjs');
  writeFileSync(
    preloadFile,
    `import { appendFileSync } from 'node:fs';\nconst file = process.env.BENCH_USAGE_FILE;\nif (file) process.on('exit', () => { try { const u = process.resourceUsage(); appendFileSync(file, JSON.stringify({ pid: process.pid, maxRSS: u.maxRSS, fsWrite: u.fsWrite }) + '\\n'); } catch {} });\n`,
  );
  const modelDir = join(scaleCacheRoot(), 'models');
  ensureTinyModel(modelDir, SYNTHETIC_MODEL.dims, { id: SYNTHETIC_MODEL.id });
  ensureTinyModel(modelDir);

  const small: SizeResults = {};
  const large: SizeResults = {};
  const storeSections = SECTIONS.filter((s) => s !== 'ingest' && opts.only.has(s));
  if (storeSections.length > 0) {
    const stores = [measureStore(smallEvents, opts, modelDir, small), measureStore(largeEvents, opts, modelDir, large)];
    if (opts.only.has('retrieval')) measureRetrieval(stores, modelDir, [small, large], opts);
  }
  if (opts.only.has('ingest')) {
    measureIngest(smallFiles, opts, modelDir, small);
    measureIngest(largeFiles, opts, modelDir, large);
  }

  const g = (r: SizeResults, k: string): Value => (k in r ? r[k]! : null);
  const pair = (k: string): { small: Value; large: Value } => ({ small: g(small, k), large: g(large, k) });
  const rows: Row[] = [
    { metric: 'events in the log', ...pair('events'), unit: 'n' },
    { metric: 'store on disk', ...pair('storeBytes'), unit: 'MB' },
    { metric: 'build: append the synthetic log in batches (cached)', ...pair('buildMs'), unit: 's' },
    { metric: 'build: peak RSS (cached)', ...pair('buildRss'), unit: 'MB' },
    { metric: 'rebuild vectors from the log (cached): wall time', ...pair('vectorsMs'), unit: 's' },
    { metric: 'rebuild vectors from the log (cached): peak RSS', ...pair('vectorsRss'), unit: 'MB', target: { on: 'large', op: '<=', limit: 500 * MiB, text: '<= 500 MB' } },
    { metric: 'rebuild vectors: its index build process, peak RSS', ...pair('vectorsHelperRss'), unit: 'MB' },
    { metric: 'store on disk / source bytes (synthetic)', ...pair('storeRatio'), unit: 'x' },
    { metric: 'stats: wall time (open + summary)', ...pair('statsMs'), unit: 's', target: { on: 'large', op: '<=', limit: 2000, text: '<= 2 s' } },
    { metric: 'stats: peak RSS', ...pair('statsRss'), unit: 'MB', target: { on: 'large', op: '<=', limit: 300 * MiB, text: '<= 300 MB' } },
    { metric: 'search: wall time', ...pair('searchMs'), unit: 's' },
    { metric: 'search: peak RSS', ...pair('searchRss'), unit: 'MB' },
    { metric: 'retrieval p50 (in process)', ...pair('retrievalP50'), unit: 'ms' },
    { metric: 'retrieval p95 (in process)', ...pair('retrievalP95'), unit: 'ms', target: { on: 'ratio', op: '<=', limit: 1.5, text: 'ratio <= 1.5' } },
    { metric: 'ask --extractive: wall time', ...pair('askMs'), unit: 's' },
    { metric: 'ask --extractive: peak RSS', ...pair('askRss'), unit: 'MB', target: { on: 'large', op: '<=', limit: 400 * MiB, text: '<= 400 MB' } },
    { metric: 'ask: bytes written (write_bytes)', ...pair('askWritten'), unit: 'MB' },
    { metric: 'ask: growth of the store files', ...pair('askGrowth'), unit: 'MB' },
    { metric: 'append: open the store for writing', ...pair('appendOpenMs'), unit: 's' },
    { metric: 'append p50 (one event)', ...pair('appendP50'), unit: 'ms', target: { on: 'ratio', op: '<=', limit: 2, text: 'ratio <= 2' } },
    { metric: 'append p95 (one event)', ...pair('appendP95'), unit: 'ms' },
    { metric: 'append: peak RSS', ...pair('appendRss'), unit: 'MB' },
    { metric: 'extension host (Node approx.): engine open', ...pair('hostOpenMs'), unit: 's' },
    { metric: 'extension host (Node approx.): RSS after open', ...pair('hostRssOpen'), unit: 'MB' },
    { metric: 'extension host (Node approx.): explorer caught up', ...pair('hostExplorerMs'), unit: 's' },
    { metric: 'extension host (Node approx.): peak RSS', ...pair('hostRss'), unit: 'MB', target: { on: 'large', op: '<=', limit: 500 * MiB, text: '<= 500 MB' } },
    { metric: 'extension host: its index build process, peak RSS', ...pair('hostHelperRss'), unit: 'MB' },
    { metric: 'rebuild all read models: wall time', ...pair('rebuildMs'), unit: 's' },
    { metric: 'rebuild all read models: peak RSS', ...pair('rebuildRss'), unit: 'MB', target: { on: 'large', op: '<=', limit: 500 * MiB, text: '<= 500 MB' } },
  ].filter((r) => r.small !== null || r.large !== null) as Row[];
  const ingestRows: Row[] = [
    { metric: 'ingest (real pipeline, tiny model): documents/s', ...pair('ingestRate'), unit: '/s', target: { on: 'ratio', op: '>=', limit: 0.8, text: 'ratio >= 0.8' } },
    { metric: 'ingest: peak RSS', ...pair('ingestRss'), unit: 'MB' },
    { metric: 'ingest: store on disk / source bytes', ...pair('ingestStoreRatio'), unit: 'x' },
  ].filter((r) => r.small !== null || r.large !== null) as Row[];

  log('\n## Summary (wall times include starting node; peak RSS is the whole process)\n');
  if (opts.scale < 1) log(`Absolute targets are set for 1M events and 100k files; at --scale ${opts.scale} they are checked against the larger column as it is.\n`);
  if (rows.length > 0) log(tableOf(rows, `${fmtInt(smallEvents)} ev`, `${fmtInt(largeEvents)} ev`));
  if (ingestRows.length > 0) log(`\n${tableOf(ingestRows, `${fmtInt(smallFiles)} files`, `${fmtInt(largeFiles)} files`)}`);
  if (failureNotes.length > 0) log(`\nFailures:\n${failureNotes.map((f, i) => `  #${i + 1} ${f}`).join('\n')}`);
  const outDir = join(repoRoot, 'bench', 'results');
  mkdirSync(outDir, { recursive: true });
  const file = join(outDir, `scale-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify({ options: { ...opts, only: [...opts.only] }, small, large }, null, 2));
  log(`\nresults written to ${relative(repoRoot, file)}`);
}

if (process.env.BENCH_SCALE_CHILD) {
  const spec = JSON.parse(process.env.BENCH_SCALE_CHILD) as ChildSpec;
  child(spec)
    .then((r) => process.stdout.write(`${JSON.stringify(r)}\n`))
    .catch((err: unknown) => {
      // The stack first, then the error in one line (the parent reports the last line).
      console.error(err);
      console.error(err instanceof Error ? `${err.name}: ${err.message}` : String(err));
      process.exitCode = 1;
    });
} else {
  main()
    .catch((err: unknown) => {
      console.error(err instanceof Error ? err.message : err);
      process.exitCode = 1;
    })
    .finally(() => temp.removeAll());
}

