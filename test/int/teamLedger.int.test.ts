// The team ledger with real processes: members killed mid-append, a server restarted under a
// member, the listener that pushes new events, and the CLI over a postgres:// store.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { PgEventStore } from '../../src/adapters/postgres/pgEventStore.js';
import { LedgerListener } from '../../src/adapters/postgres/pgListener.js';
import { repoRoot } from '../support/cli.js';
import { TeamLedgerUnavailableError } from '../../src/core/errors.js';
import { submitted } from '../support/events.js';
import { testPostgres } from '../support/postgres.js';

after(async () => (await testPostgres()).stop());

const TRIALS = 12;

interface Killed {
  readonly acked: string[];
  readonly signal: NodeJS.Signals | null;
}

/** Starts an appending member and kills it with SIGKILL `afterMs` after it is ready. */
function appendThenKill(url: string, member: string, afterMs: number): Promise<Killed> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'test', 'support', 'teamAppender.ts'), url, member], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    const acked: string[] = [];
    let buffer = '';
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout.on('data', (d: Buffer) => {
      buffer += d.toString();
      let nl;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        if (line === 'ready') setTimeout(() => child.kill('SIGKILL'), afterMs);
        else if (line.startsWith('acked ')) acked.push(...line.slice(6).split(' '));
      }
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (signal !== 'SIGKILL') reject(new Error(`member ${member} ended with ${code}: ${stderr}`));
      else resolve({ acked, signal });
    });
  });
}

test(`members killed with SIGKILL mid-append (${TRIALS} trials, three at a time): no gap, nothing acknowledged lost, verify passes`, { timeout: 300_000 }, async (t) => {
  const pg = await testPostgres();
  const url = pg.freshLedger();
  const setup = await PgEventStore.open(url);
  t.after(() => setup.close());
  let seed = 7;
  const random = (): number => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
  const acked: string[] = [];
  for (let trial = 0; trial < TRIALS; trial++) {
    const runs = await Promise.all(['a', 'b', 'c'].map((m) => appendThenKill(url, `${m}${trial}`, 150 + Math.floor(random() * 600))));
    for (const r of runs) acked.push(...r.acked);
  }
  assert.ok(acked.length > TRIALS * 3, `only ${acked.length} appends were acknowledged`);
  const positions: number[] = [];
  const ids = new Set<string>();
  for await (const raw of setup.readRaw()) {
    positions.push(raw.position);
    ids.add(raw.eventId);
  }
  assert.deepEqual(positions, Array.from({ length: positions.length }, (_, i) => i + 1), 'the positions have a gap');
  const lost = acked.filter((id) => !ids.has(id));
  assert.deepEqual(lost, [], `${lost.length} acknowledged events are missing`);
  const report = await setup.verify();
  assert.equal(report.ok, true, JSON.stringify(report.firstFailure));
  assert.equal(report.checked, positions.length);
});

test('the listener is told of every append by another member, and after a server restart it reconnects and says "catch up"', { timeout: 120_000 }, async (t) => {
  const pg = await testPostgres();
  const url = pg.freshLedger();
  const writer = await PgEventStore.open(url, { retryWindowMs: 30_000 });
  const heads: (number | null)[] = [];
  const statuses: boolean[] = [];
  const listener = new LedgerListener(url, { onHead: (p) => heads.push(p), onStatus: (up) => statuses.push(up), retryMs: 100, maxRetryMs: 500 });
  t.after(async () => {
    await listener.stop();
    await writer.close();
  });
  await listener.start();
  assert.deepEqual(heads, [null], 'a (re)connection asks the owner to catch up from its checkpoint');
  await writer.append('document-a', [submitted('a'), submitted('a', 'two')]);
  await writer.append('document-b', [submitted('b')]);
  await waitFor(() => heads.length >= 3, 5000);
  assert.deepEqual(heads.slice(1), [2, 3]);
  await pg.restart();
  // The writer retries through the restart; the listener reconnects and asks for a catch-up.
  await writer.append('document-c', [submitted('c')]);
  await waitFor(() => heads.includes(null) && heads.lastIndexOf(null) > 0, 15_000);
  assert.deepEqual(statuses.slice(0, 2), [true, false]);
  assert.equal(statuses.at(-1), true);
  await writer.append('document-d', [submitted('d')]);
  await waitFor(() => (heads as (number | null)[]).at(-1) === 5, 5000);
});

test('appends made while the server is down wait for it (within the retry window) and are written exactly once', { timeout: 120_000 }, async (t) => {
  const pg = await testPostgres();
  const url = pg.freshLedger();
  const store = await PgEventStore.open(url, { retryWindowMs: 30_000 });
  t.after(() => store.close());
  await store.append('document-0', [submitted('0')]);
  await pg.pause();
  let settled = 0;
  const appends = Array.from({ length: 20 }, (_, i) => store.append(`document-${i + 1}`, [submitted(`${i + 1}`)]).finally(() => settled++));
  await new Promise((r) => setTimeout(r, 1500));
  assert.equal(settled, 0, 'an append settled while the server was down');
  await pg.resume();
  const results = await Promise.all(appends);
  assert.deepEqual(results.map((r) => r.appended), Array(20).fill(1));
  const all: number[] = [];
  for await (const raw of store.readRaw()) all.push(raw.position);
  assert.deepEqual(all, Array.from({ length: 21 }, (_, i) => i + 1));
  assert.equal((await store.verify()).ok, true);
});

test('past the retry window a write fails with a clear error and writes nothing', { timeout: 60_000 }, async (t) => {
  const pg = await testPostgres();
  const url = pg.freshLedger();
  const store = await PgEventStore.open(url, { retryWindowMs: 1000 });
  t.after(() => store.close());
  await store.append('document-0', [submitted('0')]);
  await pg.pause();
  try {
    await assert.rejects(store.append('document-1', [submitted('1')]), (err: Error) => {
      assert.ok(err instanceof TeamLedgerUnavailableError, String(err));
      assert.match(err.message, /cannot be reached/);
      return true;
    });
  } finally {
    await pg.resume();
  }
  assert.equal((await store.head()).position, 1);
});

async function waitFor(ok: () => boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 20));
  }
}
