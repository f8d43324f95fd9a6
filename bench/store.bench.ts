// Benchmark of the sql.js event store (SqlJsEventStore) against raw sql.js baselines.
//
//   npm run bench:store          (node --expose-gc --import tsx bench/store.bench.ts)
//
// Measures, each phase repeated BENCH_ROUNDS times (default 3; medians are reported):
//   1. durable append throughput, 1 and 100 events per call: store vs raw sql.js INSERT (text
//      bound as JS strings, the target's baseline) vs the same INSERT with text bound as UTF-8
//      bytes (how the store binds) vs raw INSERT + journal write + fdatasync (what durability
//      alone costs);
//   2. single-append latency at a 10k and a 500k-event log (two stores, rounds alternate),
//      plus the pause of one snapshot of the big log;
//   3. readAll() (decoded) and readRaw() throughput over the big log;
//   4. projection rebuild over the big log: ProjectionRunner.rebuild() with the standard
//      projections (as src/adapters/ledger.ts wires them), and a plain fold as the floor;
//   5. reopen time, peak RSS and bytes on disk.
// Prints detail lines as it goes, then a markdown table; writes the same results as JSON to
// bench/results/store-<timestamp>.json.
//
// Knobs (environment): BENCH_ROUNDS, BENCH_LOG_EVENTS (default 500000), BENCH_SINGLES (single
// appends per latency round, default 500), BENCH_B1_CALLS (default 2000), BENCH_B100_CALLS
// (calls of 100 events, default 300).
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { JOURNAL_FILE, SNAPSHOT_FILE } from '../src/adapters/sqljs/schema.js';
import { SqlJsEventStore } from '../src/adapters/sqljs/sqljsEventStore.js';
import { SqlJsProjectionStore } from '../src/adapters/sqljs/sqljsProjectionStore.js';
import { PROJECTIONS_DIR, projectionsBytes } from '../src/adapters/sqljs/projectionShards.js';
import type { RunResult } from '../src/app/projectionRunner.js';
import { ProjectionRunner } from '../src/app/projectionRunner.js';
import { streamCategory } from '../src/core/eventStore.js';
import { standardProjections } from '../src/core/projections/catalog.js';
import { TempDirs, cpuMs, envInt, fmt, fmtInt, fmtMiB, gcNow, hasGc, markdownTable, max, median, peakRss, percentile, rss } from './benchUtil.js';
import type { Call, RawCall } from './storeWorkload.js';
import { RawBaseline, makeCalls, toRawCalls } from './storeWorkload.js';

const ROUNDS = envInt('BENCH_ROUNDS', 3);
const LOG_EVENTS = envInt('BENCH_LOG_EVENTS', 500_000);
const SMALL_LOG = Math.min(10_000, LOG_EVENTS);
const SINGLES = envInt('BENCH_SINGLES', 500);
const B1_CALLS = envInt('BENCH_B1_CALLS', 2000);
const B100_CALLS = envInt('BENCH_B100_CALLS', 300);
const BUILD_BATCH = 1000;
/** The store saves its index after this much journal, or the larger of 20,000 events and an eighth of the log. */
const DEFAULT_SNAPSHOT_BYTES = 256 * 1024 * 1024;

const repoRoot = join(__dirname, '..');
const temp = new TempDirs('rag-ledger-bench-');
const started = performance.now();

type Variant = 'store' | 'raw' | 'raw-bytes' | 'raw+journal';
const VARIANTS: readonly Variant[] = ['store', 'raw', 'raw-bytes', 'raw+journal'];

interface Row {
  readonly metric: string;
  readonly value: string;
  readonly target: string;
  readonly ok: string;
}
const rows: Row[] = [];
const notes: string[] = [];
const results: Record<string, unknown> = {};

function row(metric: string, value: string, target = '', ok: boolean | null = null): void {
  rows.push({ metric, value, target, ok: ok === null ? '' : ok ? 'yes' : 'NO' });
}

function log(line: string): void {
  console.log(line);
}

function elapsed(): string {
  return `${((performance.now() - started) / 1000).toFixed(0)}s`;
}

// ---------------------------------------------------------------------------------------
// 1. Append throughput

interface ThroughputRun {
  readonly events: number;
  readonly ms: number;
  readonly eventsPerSec: number;
}

async function runStore(calls: readonly Call[]): Promise<ThroughputRun> {
  const dir = temp.create('append');
  const store = await SqlJsEventStore.open(dir);
  try {
    const events = calls.reduce((n, c) => n + c.events.length, 0);
    gcNow();
    const t0 = performance.now();
    for (const call of calls) await store.append(call.streamId, call.events, { expectedVersion: 'no_stream' });
    const ms = performance.now() - t0;
    const head = await store.head();
    if (head.position !== events) throw new Error(`store holds ${head.position} events, expected ${events}`);
    return { events, ms, eventsPerSec: (events / ms) * 1000 };
  } finally {
    await store.close();
    temp.remove(dir);
  }
}

async function runRaw(calls: readonly RawCall[], variant: Exclude<Variant, 'store'>): Promise<ThroughputRun> {
  const durable = variant === 'raw+journal';
  const dir = durable ? temp.create('raw') : null;
  const baseline = await RawBaseline.create(dir ? join(dir, 'raw.journal') : undefined);
  try {
    const events = calls.reduce((n, c) => n + c.params.length, 0);
    gcNow();
    const t0 = performance.now();
    if (durable) for (const call of calls) await baseline.appendDurable(call);
    else if (variant === 'raw-bytes') for (const call of calls) baseline.insertByteRows(call.byteParams);
    else for (const call of calls) baseline.insertRows(call.params);
    const ms = performance.now() - t0;
    if (baseline.count() !== events) throw new Error(`raw baseline holds ${baseline.count()} events, expected ${events}`);
    return { events, ms, eventsPerSec: (events / ms) * 1000 };
  } finally {
    await baseline.close();
    if (dir) temp.remove(dir);
  }
}

async function runVariant(variant: Variant, batch: number, callCount: number, tag: string): Promise<ThroughputRun> {
  const calls = makeCalls(callCount, batch, tag);
  if (variant === 'store') return runStore(calls);
  return runRaw(toRawCalls(calls), variant);
}

async function appendThroughput(): Promise<void> {
  log(`\n## 1. Durable append throughput (${ROUNDS} rounds + 1 warm-up; fresh store / database per run; order of variants rotates per round)`);
  const out: Record<string, unknown> = {};
  for (const [batch, callCount] of [
    [1, B1_CALLS],
    [100, B100_CALLS],
  ] as const) {
    const sample = toRawCalls(makeCalls(Math.min(callCount, 30), batch, 'sample'));
    const avgData = sample.reduce((n, c) => n + c.dataBytes, 0) / sample.reduce((n, c) => n + c.params.length, 0);
    const avgRecord = sample.reduce((n, c) => n + c.record.length, 0) / sample.length;
    log(`batch ${batch}: ${callCount} calls x ${batch} event(s) per run; data JSON avg ${avgData.toFixed(0)} B/event; journal record avg ${avgRecord.toFixed(0)} B/call`);
    for (const v of VARIANTS) await runVariant(v, batch, Math.max(1, Math.floor(callCount / 4)), 'w');
    const runs: Record<Variant, ThroughputRun[]> = { store: [], raw: [], 'raw-bytes': [], 'raw+journal': [] };
    const ratios: number[] = [];
    const byteRatios: number[] = [];
    const durableRatios: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const order = VARIANTS.map((_, i) => VARIANTS[(i + r) % VARIANTS.length]!);
      const round: Partial<Record<Variant, ThroughputRun>> = {};
      for (const v of order) round[v] = await runVariant(v, batch, callCount, `r${r}`);
      for (const v of VARIANTS) runs[v].push(round[v]!);
      ratios.push(round.store!.eventsPerSec / round.raw!.eventsPerSec);
      byteRatios.push(round.store!.eventsPerSec / round['raw-bytes']!.eventsPerSec);
      durableRatios.push(round.store!.eventsPerSec / round['raw+journal']!.eventsPerSec);
      log(
        `  round ${r + 1}: ${VARIANTS.map((v) => `${v} ${fmtInt(round[v]!.eventsPerSec)} ev/s (${fmt(round[v]!.ms, 0)} ms)`).join(' | ')} | store/raw ${fmt(ratios[r]!, 3)} | store/raw-bytes ${fmt(byteRatios[r]!, 3)} | store/(raw+journal) ${fmt(durableRatios[r]!, 3)}`,
      );
    }
    const med = (v: Variant): number => median(runs[v].map((x) => x.eventsPerSec));
    // Ratio of medians and median of per-round ratios; the table uses the per-round ratios
    // (each measured side by side in the same round).
    const ratio = median(ratios);
    const durableRatio = median(durableRatios);
    const byteRatio = median(byteRatios);
    log(
      `  median: store ${fmtInt(med('store'))} | raw ${fmtInt(med('raw'))} | raw-bytes ${fmtInt(med('raw-bytes'))} | raw+journal ${fmtInt(med('raw+journal'))} ev/s; ` +
        `store/raw ${fmt(ratio, 3)} (ratio of medians ${fmt(med('store') / med('raw'), 3)}); store/raw-bytes ${fmt(byteRatio, 3)}; store/(raw+journal) ${fmt(durableRatio, 3)}; ` +
        `per-call store ${fmt((1000 * batch) / med('store'), 3)} ms, raw ${fmt((1000 * batch) / med('raw'), 3)} ms, raw+journal ${fmt((1000 * batch) / med('raw+journal'), 3)} ms`,
    );
    row(`append b=${batch}: store (events/s)`, fmtInt(med('store')));
    row(`append b=${batch}: raw sql.js (events/s)`, fmtInt(med('raw')));
    row(`append b=${batch}: raw sql.js, text bound as bytes (events/s)`, fmtInt(med('raw-bytes')));
    row(`append b=${batch}: raw + journal fdatasync (events/s)`, fmtInt(med('raw+journal')));
    if (batch === 100) row(`append b=${batch}: ratio store/raw`, fmt(ratio, 3), '>= 0.5', ratio >= 0.5);
    else row(`append b=${batch}: ratio store/raw`, fmt(ratio, 3), '(info)');
    row(`append b=${batch}: ratio store/raw, text bound as bytes`, fmt(byteRatio, 3), '(info)');
    row(`append b=${batch}: ratio store/(raw + journal)`, fmt(durableRatio, 3), '(info)');
    out[`batch${batch}`] = {
      calls: callCount,
      avgDataBytes: avgData,
      avgJournalRecordBytes: avgRecord,
      runs,
      ratioStoreRaw: ratios,
      ratioStoreRawBytes: byteRatios,
      ratioStoreRawJournal: durableRatios,
      medianEventsPerSec: { store: med('store'), raw: med('raw'), rawBytes: med('raw-bytes'), rawJournal: med('raw+journal') },
      medianRatioStoreRawBytes: byteRatio,
      medianRatioStoreRaw: ratio,
      medianRatioStoreRawJournal: durableRatio,
    };
  }
  results.appendThroughput = out;
}

// ---------------------------------------------------------------------------------------
// 2-5. The big log

interface BigLog {
  readonly dir: string;
  store: SqlJsEventStore;
  snapshots: number;
  lastUnsnapshotted: number;
  buildEvents: number;
  buildMs: number;
  buildMaxBatchMs: number;
  batches: number;
}

/** Counts the store's background snapshots: the un-snapshotted journal size drops when one ran. */
function noteSnapshot(big: BigLog): boolean {
  const now = big.store.unsnapshottedBytes;
  const happened = now < big.lastUnsnapshotted;
  if (happened) big.snapshots++;
  big.lastUnsnapshotted = now;
  return happened;
}

async function buildTo(big: BigLog, target: number): Promise<void> {
  let head = (await big.store.head()).position;
  while (head < target) {
    const n = Math.min(BUILD_BATCH, target - head);
    const [call] = makeCalls(1, n, `b${big.batches++}-`, big.batches);
    const t0 = performance.now();
    await big.store.append(call!.streamId, call!.events, { expectedVersion: 'no_stream' });
    const ms = performance.now() - t0;
    big.buildMs += ms;
    big.buildEvents += n;
    big.buildMaxBatchMs = Math.max(big.buildMaxBatchMs, ms);
    noteSnapshot(big);
    head += n;
  }
}

interface LatencyRound {
  readonly logSize: number;
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  readonly max: number;
  readonly snapshots: number;
}

/** One latency round: SINGLES durable single-event appends, each to a new stream. */
async function latencyRound(target: BigLog, label: string, r: number): Promise<LatencyRound> {
  const calls = makeCalls(SINGLES, 1, `${label}r${r}-`, 7 + r);
  const logSize = (await target.store.head()).position;
  gcNow();
  const lat: number[] = [];
  let snapshots = 0;
  for (const call of calls) {
    const t0 = performance.now();
    await target.store.append(call.streamId, call.events, { expectedVersion: 'no_stream' });
    lat.push(performance.now() - t0);
    if (noteSnapshot(target)) snapshots++;
  }
  const round = { logSize, p50: percentile(lat, 50), p95: percentile(lat, 95), p99: percentile(lat, 99), max: max(lat), snapshots };
  log(
    `  round ${r + 1} @${label.padEnd(4)} (log ${fmtInt(logSize)} events, ${SINGLES} single appends): p50 ${fmt(round.p50, 3)} ms, p95 ${fmt(round.p95, 3)} ms, p99 ${fmt(round.p99, 3)} ms, max ${fmt(round.max, 2)} ms` +
      (snapshots > 0 ? ` (${snapshots} background snapshot(s) during this round)` : ''),
  );
  return round;
}

function summarizeLatency(rounds: readonly LatencyRound[]): { p50: number; p95: number; p99: number; max: number; snapshots: number } {
  return {
    p50: median(rounds.map((r) => r.p50)),
    p95: median(rounds.map((r) => r.p95)),
    p99: median(rounds.map((r) => r.p99)),
    max: max(rounds.map((r) => r.max)),
    snapshots: rounds.reduce((n, r) => n + r.snapshots, 0),
  };
}

function newLog(dir: string, store: SqlJsEventStore): BigLog {
  return { dir, store, snapshots: 0, lastUnsnapshotted: 0, buildEvents: 0, buildMs: 0, buildMaxBatchMs: 0, batches: 0 };
}

/**
 * Latency at a small and a large log, measured side by side: both stores stay open and their
 * rounds alternate (order swapped every round), so machine noise hits both alike.
 */
async function latency(big: BigLog): Promise<void> {
  const bigLabel = `${Math.round(LOG_EVENTS / 1000)}k`;
  log(`\n## 2. Single-append latency (durable, 1 event per call; ${ROUNDS} rounds x ${SINGLES} appends per log size; 10k and ${bigLabel} rounds alternate)`);
  const smallDir = temp.create('small');
  const small = newLog(smallDir, await SqlJsEventStore.open(smallDir));
  try {
    await buildTo(small, SMALL_LOG);
    log(`  built the small log: ${fmtInt(SMALL_LOG)} events (batches of ${BUILD_BATCH}) [${elapsed()}]`);
    const t0 = performance.now();
    await buildTo(big, LOG_EVENTS);
    const buildWall = performance.now() - t0;
    log(
      `  built the large log: ${fmtInt(LOG_EVENTS)} events in ${fmt(buildWall / 1000, 1)} s wall; build append throughput ${fmtInt((big.buildEvents / big.buildMs) * 1000)} events/s ` +
        `(batches of ${BUILD_BATCH}); slowest batch ${fmt(big.buildMaxBatchMs, 0)} ms; ${big.snapshots} background snapshot(s) during the build; RSS now ${fmtMiB(rss())} [${elapsed()}]`,
    );
    const smallRounds: LatencyRound[] = [];
    const largeRounds: LatencyRound[] = [];
    const ratios: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      if (r % 2 === 0) {
        smallRounds.push(await latencyRound(small, '10k', r));
        largeRounds.push(await latencyRound(big, bigLabel, r));
      } else {
        largeRounds.push(await latencyRound(big, bigLabel, r));
        smallRounds.push(await latencyRound(small, '10k', r));
      }
      ratios.push(largeRounds[r]!.p50 / smallRounds[r]!.p50);
    }
    const s = summarizeLatency(smallRounds);
    const l = summarizeLatency(largeRounds);
    const ratio = median(ratios);
    log(`  median p50 ${fmt(s.p50, 3)} ms @10k vs ${fmt(l.p50, 3)} ms @${bigLabel}; per-round ratios ${ratios.map((x) => fmt(x, 2)).join(', ')} -> median ${fmt(ratio, 2)} (ratio of medians ${fmt(l.p50 / s.p50, 2)})`);
    row('single append p50 @10k (ms)', fmt(s.p50, 3));
    row('single append p95 @10k (ms)', fmt(s.p95, 3));
    row('single append max @10k (ms)', fmt(s.max, 2));
    row(`single append p50 @${bigLabel} (ms)`, fmt(l.p50, 3));
    row(`single append p95 @${bigLabel} (ms)`, fmt(l.p95, 3));
    row(`single append max @${bigLabel} (ms)`, fmt(l.max, 2));
    row(`single append ratio p50(${bigLabel})/p50(10k)`, fmt(ratio, 2), '<= 2', ratio <= 2);
    results.latency = {
      singlesPerRound: SINGLES,
      at10k: { rounds: smallRounds, ...s },
      atLarge: { logEvents: LOG_EVENTS, rounds: largeRounds, ...l },
      ratioP50PerRound: ratios,
      ratioP50: ratio,
      build: { events: big.buildEvents, appendMs: big.buildMs, wallMs: buildWall, eventsPerSec: (big.buildEvents / big.buildMs) * 1000, maxBatchMs: big.buildMaxBatchMs, batch: BUILD_BATCH },
      backgroundSnapshots: big.snapshots,
      snapshotsDuringRounds: s.snapshots + l.snapshots,
    };
  } finally {
    await small.store.close();
    temp.remove(smallDir);
  }
  await snapshotPause(big, bigLabel);
}

async function snapshotPause(big: BigLog, bigLabel: string): Promise<void> {
  // What an append waits for when it lands behind a background snapshot.
  gcNow();
  const rssBefore = rss();
  const stall = makeCalls(1, 1, 'stall')[0]!;
  const t1 = performance.now();
  const snapshot = big.store.snapshot();
  // An append issued right behind the snapshot waits only for the in-memory export, not the file write.
  await big.store.append(stall.streamId, stall.events);
  const stallMs = performance.now() - t1;
  await snapshot;
  const snapMs = performance.now() - t1;
  const rssAfter = rss();
  big.lastUnsnapshotted = big.store.unsnapshottedBytes;
  const image = statSync(join(big.dir, SNAPSHOT_FILE)).size;
  log(
    `  explicit snapshot() at ${fmtInt((await big.store.head()).position)} events: ${fmt(snapMs, 0)} ms for a ${fmtMiB(image)} image (once, not repeated); ` +
      `RSS ${fmtMiB(rssBefore)} before, ${fmtMiB(rssAfter)} after (db.export() copies the whole image)`,
  );
  row(`snapshot() export + write @${bigLabel} (ms, 1 run)`, fmt(snapMs, 0));
  row(`append stalled behind a snapshot @${bigLabel} (ms, 1 run)`, fmt(stallMs, 0));
  const duringRounds = (results.latency as { snapshotsDuringRounds?: number } | undefined)?.snapshotsDuringRounds ?? 0;
  notes.push(
    `Index saves: the store saves its index (no payloads) after ${fmtMiB(DEFAULT_SNAPSHOT_BYTES)} of journal or the larger of 20,000 events and an eighth of the log. ${big.snapshots} save(s) ran while building the large log, ` +
      `${duringRounds} during the latency rounds. A save exports the index holding the store's lock (an append behind it waits ${fmt(stallMs, 0)} ms at ${bigLabel} events; ` +
      `${fmt(snapMs, 0)} ms in all; slowest build batch ${fmt(big.buildMaxBatchMs, 0)} ms). Latency p50/p95 are medians over ${ROUNDS} rounds; max is the maximum over all rounds.`,
  );
  results.snapshot = { ms: snapMs, appendStallMs: stallMs, imageBytes: image, rssBefore, rssAfter, backgroundSnapshotsDuringBuild: big.snapshots };
}

async function reads(big: BigLog): Promise<void> {
  const head = (await big.store.head()).position;
  log(`\n## 3. Read-all throughput over ${fmtInt(head)} events (${ROUNDS} rounds, alternating)`);
  const decoded: number[] = [];
  const raw: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    gcNow();
    let n = 0;
    let c0 = cpuMs();
    let t0 = performance.now();
    for await (const e of big.store.readAll()) if (e.position > 0) n++;
    let ms = performance.now() - t0;
    const cpuAll = (cpuMs() - c0) / ms;
    if (n !== head) throw new Error(`readAll returned ${n} events, expected ${head}`);
    decoded.push((n / ms) * 1000);
    gcNow();
    n = 0;
    c0 = cpuMs();
    t0 = performance.now();
    for await (const e of big.store.readRaw()) if (e.position > 0) n++;
    ms = performance.now() - t0;
    const cpuRaw = (cpuMs() - c0) / ms;
    if (n !== head) throw new Error(`readRaw returned ${n} events, expected ${head}`);
    raw.push((n / ms) * 1000);
    log(
      `  round ${r + 1}: readAll ${fmtInt(decoded[r]!)} events/s (${fmt(head / decoded[r]!, 2)} s, cpu/wall ${fmt(cpuAll * 100, 0)}%) | ` +
        `readRaw ${fmtInt(raw[r]!)} events/s (${fmt(head / raw[r]!, 2)} s, cpu/wall ${fmt(cpuRaw * 100, 0)}%)`,
    );
  }
  const d = median(decoded);
  const w = median(raw);
  log(`  median: readAll ${fmtInt(d)} events/s; readRaw ${fmtInt(w)} events/s; decoding costs ${fmt(1e6 / d - 1e6 / w, 2)} us/event (cpu/wall well below 100% means the process was descheduled: noisy machine)`);
  row('readAll() decoded (events/s)', fmtInt(d), '>= 200,000', d >= 200_000);
  row('readRaw() (events/s)', fmtInt(w));
  results.reads = { events: head, readAllEventsPerSec: decoded, readRawEventsPerSec: raw, medianReadAll: d, medianReadRaw: w };
}

async function projection(big: BigLog): Promise<void> {
  const head = (await big.store.head()).position;
  log(`\n## 4. Projection rebuild over ${fmtInt(head)} events (${ROUNDS} rounds)`);
  // The product's path (src/adapters/ledger.ts): ProjectionRunner over the event store with
  // the standard projections, documents in projections/ beside the log.
  const projections = await SqlJsProjectionStore.open(big.dir, { writable: true });
  const runner = new ProjectionRunner(big.store, projections, standardProjections);
  const rebuildMs: number[] = [];
  const foldMs: number[] = [];
  let lastResults: RunResult[] = [];
  let flushMs = Number.NaN;
  try {
    for (let r = 0; r < ROUNDS; r++) {
      gcNow();
      const c0 = cpuMs();
      const t0 = performance.now();
      lastResults = await runner.rebuild();
      rebuildMs.push(performance.now() - t0);
      const cpu = (cpuMs() - c0) / rebuildMs[r]!;
      gcNow();
      // A plain fold over readAll() (per-type and per-category counts): the floor a projection
      // rebuild that reads every event cannot go below.
      const t1 = performance.now();
      const byType: Record<string, number> = {};
      const byCategory: Record<string, number> = {};
      for await (const e of big.store.readAll()) {
        byType[e.type] = (byType[e.type] ?? 0) + 1;
        const c = streamCategory(e.streamId);
        byCategory[c] = (byCategory[c] ?? 0) + 1;
      }
      foldMs.push(performance.now() - t1);
      const total = Object.values(byType).reduce((a, b) => a + b, 0);
      if (total !== head) throw new Error(`fold counted ${total} events, expected ${head}`);
      log(
        `  round ${r + 1}: ProjectionRunner.rebuild() ${fmt(rebuildMs[r]! / 1000, 2)} s (${lastResults.map((x) => `${x.projection} ${fmtInt(x.handled)} events ${fmt(x.millis / 1000, 2)} s`).join(', ')}; cpu/wall ${fmt(cpu * 100, 0)}%) | plain fold over readAll() ${fmt(foldMs[r]! / 1000, 2)} s`,
      );
    }
    const t2 = performance.now();
    await projections.flush();
    flushMs = performance.now() - t2;
  } finally {
    await projections.close();
  }
  const m = median(rebuildMs);
  const f = median(foldMs);
  const projBytes = projectionsBytes(big.dir);
  log(`  median: rebuild ${fmt(m / 1000, 2)} s; plain fold ${fmt(f / 1000, 2)} s (${fmtInt((head / f) * 1000)} events/s); flush of ${PROJECTIONS_DIR}/ after the last round ${fmt(flushMs, 0)} ms (${fmtMiB(projBytes)})`);
  row(`projection rebuild, ProjectionRunner x ${standardProjections.length} standard (s)`, fmt(m / 1000, 2));
  row('projection floor: plain fold over readAll() (s)', fmt(f / 1000, 2));
  results.projection = {
    kind: 'ProjectionRunner.rebuild(standardProjections) with SqlJsProjectionStore',
    events: head,
    rebuildMs,
    medianRebuildMs: m,
    lastRun: lastResults,
    flushMs,
    projectionsBytes: projBytes,
    foldMs,
    medianFoldMs: f,
  };
}

async function reopen(big: BigLog): Promise<void> {
  const head = await big.store.head();
  log(`\n## 5. Close, reopen (${ROUNDS} rounds), disk and memory`);
  const pending = big.store.unsnapshottedBytes;
  const t0 = performance.now();
  await big.store.close();
  const closeMs = performance.now() - t0;
  const sqliteBytes = statSync(join(big.dir, SNAPSHOT_FILE)).size;
  const journalBytes = statSync(join(big.dir, JOURNAL_FILE)).size;
  log(
    `  close: ${fmt(closeMs, 0)} ms (${pending > 0 ? `writes a final snapshot for ${fmtMiB(pending)} of journal` : 'the snapshot was already current'}); ` +
      `${SNAPSHOT_FILE} ${fmtMiB(sqliteBytes)}, ${JOURNAL_FILE} ${fmtMiB(journalBytes)} (${fmt(journalBytes / head.position, 0)} B/event), ${PROJECTIONS_DIR}/ ${fmtMiB(projectionsBytes(big.dir))}`,
  );
  const times: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    gcNow();
    const t1 = performance.now();
    const store = await SqlJsEventStore.open(big.dir);
    const ms = performance.now() - t1;
    const h = await store.head();
    await store.close();
    if (h.position !== head.position || h.hash !== head.hash) throw new Error(`reopened store is at ${h.position}, expected ${head.position}`);
    times.push(ms);
    log(`  round ${r + 1}: open -> ready ${fmt(ms, 0)} ms (RSS now ${fmtMiB(rss())})`);
  }
  const m = median(times);
  row(`reopen ${fmtInt(head.position)}-event store (ms)`, fmt(m, 0));
  row(`on disk: ${SNAPSHOT_FILE}`, `${fmtInt(sqliteBytes)} B (${fmtMiB(sqliteBytes)})`);
  row(`on disk: ${JOURNAL_FILE}`, `${fmtInt(journalBytes)} B (${fmtMiB(journalBytes)})`);
  notes.push(
    `Reopen loads the ${fmtMiB(sqliteBytes)} index and reads the journal's headers after the part it covers (an eighth of the log at most).`,
  );
  results.reopen = { events: head.position, closeMs, ms: times, medianMs: m, sqliteBytes, journalBytes };
}

// ---------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const env = {
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    cpus: `${cpus().length} x ${cpus()[0]?.model ?? '?'}`,
    loadavgStart: loadavg(),
    tmpdir: tmpdir(),
    exposeGc: hasGc(),
    rounds: ROUNDS,
    logEvents: LOG_EVENTS,
    singles: SINGLES,
    b1Calls: B1_CALLS,
    b100Calls: B100_CALLS,
  };
  log(`# RAG Ledger store benchmark (${new Date().toISOString()})`);
  log(`node ${env.node}, ${env.platform}, ${env.cpus}; load avg ${env.loadavgStart.map((x) => x.toFixed(2)).join(' ')}; tmp ${env.tmpdir}; gc ${env.exposeGc ? 'exposed' : 'NOT exposed (run via npm run bench:store)'}`);
  log(`figures are medians of ${ROUNDS} rounds; ratios are per-round (measured side by side) then the median`);

  await appendThroughput();
  log(`  [${elapsed()}, RSS ${fmtMiB(rss())}]`);

  const dir = temp.create('log');
  const big = newLog(dir, await SqlJsEventStore.open(dir));
  try {
    await latency(big);
    log(`  [${elapsed()}, RSS ${fmtMiB(rss())}]`);
    await reads(big);
    log(`  [${elapsed()}, RSS ${fmtMiB(rss())}]`);
    await projection(big);
    log(`  [${elapsed()}, RSS ${fmtMiB(rss())}]`);
    await reopen(big);
  } finally {
    if (big.store.writable) await big.store.close();
    temp.removeAll();
  }

  const peak = peakRss();
  row('peak RSS, whole run (MiB)', fmt(peak / (1024 * 1024), 0));
  const totalS = (performance.now() - started) / 1000;
  row('benchmark wall time (s)', fmt(totalS, 0));

  log('\n## Summary\n');
  log(markdownTable(['metric', 'value', 'target', 'ok'], rows.map((r) => [r.metric, r.value, r.target, r.ok])));
  log('\nNotes:');
  for (const n of notes) log(`- ${n}`);
  log(`- Machine load average at end: ${loadavg().map((x) => x.toFixed(2)).join(' ')} (shared machine; figures are noisy, compare ratios from the same run).`);

  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const outDir = join(repoRoot, 'bench', 'results');
  mkdirSync(outDir, { recursive: true });
  const outFile = join(outDir, `store-${stamp}.json`);
  writeFileSync(
    outFile,
    `${JSON.stringify({ benchmark: 'store', at: new Date().toISOString(), env: { ...env, loadavgEnd: loadavg() }, table: rows, notes, peakRssBytes: peak, wallSeconds: totalS, ...results }, null, 2)}\n`,
  );
  log(`\nresults written to ${relative(process.cwd(), outFile)}`);
}

main().catch((err: unknown) => {
  console.error(err);
  temp.removeAll();
  process.exitCode = 1;
});
