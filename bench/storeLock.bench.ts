// Cost of one uncontended acquire + release of a store lock (src/adapters/sqljs/storeLock.ts),
// now that a writer takes the lock for each append.
//
//   node --import tsx bench/storeLock.bench.ts [dir]
//
// Runs BENCH_LOCK_ROUNDS (default 2000) acquire/release pairs in a fresh directory under `dir`
// (default: the system temp directory) and prints the median, p95 and max in microseconds.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StoreLock } from '../src/adapters/sqljs/storeLock.js';
import { max, median, percentile } from './benchUtil.js';

const rounds = Number(process.env.BENCH_LOCK_ROUNDS ?? 2000);
const dir = mkdtempSync(join(process.argv[2] ?? tmpdir(), 'rag-ledger-lock-bench-'));
try {
  for (let i = 0; i < 50; i++) StoreLock.acquire(dir, 'warm-up').release();
  const us: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const t0 = process.hrtime.bigint();
    StoreLock.acquire(dir, 'the lock benchmark').release();
    us.push(Number(process.hrtime.bigint() - t0) / 1000);
  }
  const f = (n: number): string => n.toFixed(0);
  process.stdout.write(`acquire+release in ${dir}, ${rounds} rounds: median ${f(median(us))} µs, p95 ${f(percentile(us, 95))} µs, max ${f(max(us))} µs\n`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
