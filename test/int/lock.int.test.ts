// Many processes, one store: a writer holds the store's lock for one append only, catches up with
// what the others appended first, and readers see other processes' events on their next read.
// The lock file's own rules (debris, leases, waiting) are tested in storeLock.int.test.ts.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { SqlJsEventStore } from '../../src/adapters/sqljs/sqljsEventStore.js';
import { ConcurrencyError, StoreLockedError, StoreReadOnlyError } from '../../src/core/errors.js';
import type { RecordedEvent } from '../../src/core/eventStore.js';
import { submitted } from '../support/events.js';
import { LineChild } from '../support/lineChild.js';
import { tempDir } from '../support/tmp.js';

const LOCK = 'store.lock';

/** A child process holding the store's write lock (test/support/lockHolder.ts). */
class Holder extends LineChild {
  static async start(dir: string, initialEvents: number): Promise<Holder> {
    const holder = new Holder(LineChild.spawnScript('test/support/lockHolder.ts', [dir, String(initialEvents)]));
    assert.equal(await holder.next(), `ready ${holder.pid}`);
    return holder;
  }

  async append(n: number): Promise<number> {
    this.child.stdin.write(`append ${n}\n`);
    const line = await this.next();
    const m = /^appended (\d+)$/.exec(line);
    assert.ok(m, `unexpected reply ${line}`);
    return Number(m[1]);
  }

  async close(): Promise<void> {
    this.child.stdin.write('close\n');
    assert.equal(await this.next(), 'closed');
    assert.deepEqual(await this.exited, { code: 0, signal: null });
  }

  async kill(): Promise<void> {
    this.child.kill('SIGKILL');
    // Wait until the child is reaped: an unreaped (zombie) holder still counts as alive.
    assert.equal((await this.exited).signal, 'SIGKILL');
  }

  /** Makes sure the child is gone whatever the test did. */
  dispose(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }
}

async function collect(iterable: AsyncIterable<RecordedEvent>): Promise<RecordedEvent[]> {
  const out: RecordedEvent[] = [];
  for await (const e of iterable) out.push(e);
  return out;
}

/** The start time /proc records for this process (field 22 of /proc/self/stat). */
function ownStartTime(): string {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]!;
}

function writeLockRecord(dir: string, fields: Record<string, unknown>): void {
  const record = { pid: process.pid, hostname: hostname(), owner: 'a hand-written lock', acquiredAt: new Date().toISOString(), startTime: null, nonce: 'hand-written', ...fields };
  writeFileSync(join(dir, LOCK), JSON.stringify(record));
}


test('a process holding the store open never blocks another writer; each append continues the other\'s chain', async (t) => {
  const dir = join(tempDir(t, 'rag-ledger-lock-'), 'store');
  const holder = await Holder.start(dir, 3);
  t.after(() => holder.dispose());
  assert.ok(!existsSync(join(dir, LOCK)), 'no lock is held between appends');

  const writer = await SqlJsEventStore.open(dir, { mode: 'write', owner: 'the test' });
  const reader = await SqlJsEventStore.open(dir, { mode: 'read' });
  try {
    assert.equal((await writer.append('document-1', [submitted('x')])).nextExpectedVersion, 1);
    assert.equal(await holder.append(4), 8, 'the holder caught up with the test\'s append before its own');
    assert.equal((await reader.head()).position, 8, 'a reader sees other processes\' events on its next read');
    await assert.rejects(reader.append('document-1', [submitted('y')]), StoreReadOnlyError);
    await writer.append('document-1', [submitted('z')], { expectedVersion: 1 });
    // Optimistic concurrency holds across processes: an expectation another process moved past is refused.
    holder.child.stdin.write('append 1\n');
    assert.match(await holder.next(), /^appended \d+$/);
    await assert.rejects(writer.append('held-1', [submitted('late')], { expectedVersion: 7 }), ConcurrencyError);
    const all = await collect(reader.readAll());
    assert.deepEqual(
      all.map((e) => e.streamId),
      ['held-1', 'held-1', 'held-1', 'document-1', 'held-1', 'held-1', 'held-1', 'held-1', 'document-1', 'held-1'],
    );
    assert.equal(await reader.streamVersion('held-1'), 8);
    assert.ok((await reader.verify()).ok);
  } finally {
    await reader.close();
    await writer.close();
  }
  await holder.close();
  assert.ok(!existsSync(join(dir, LOCK)));
});

test('two processes appending at once, 60 appends each, interleave without losing or repeating one', async (t) => {
  const dir = join(tempDir(t, 'rag-ledger-lock-'), 'store');
  const a = await Holder.start(dir, 1);
  const b = await Holder.start(dir, 1);
  t.after(() => {
    a.dispose();
    b.dispose();
  });
  const run = async (h: Holder): Promise<number[]> => {
    const heads: number[] = [];
    for (let i = 0; i < 60; i++) heads.push(await h.append(1));
    return heads;
  };
  const [ha, hb] = await Promise.all([run(a), run(b)]);
  // Each reply is the head right after that append (which may already include the other's next one).
  assert.ok(ha.every((h, i) => i === 0 || h > ha[i - 1]!) && hb.every((h, i) => i === 0 || h > hb[i - 1]!), 'each process sees the head only move forward');
  await a.close();
  await b.close();
  const store = await SqlJsEventStore.open(dir, { mode: 'read' });
  try {
    const events = await collect(store.readAll());
    assert.equal(events.length, 122);
    assert.deepEqual(events.map((e) => e.position), Array.from({ length: 122 }, (_, i) => i + 1));
    assert.equal(new Set(events.map((e) => e.eventId)).size, 122);
    assert.ok((await store.verify()).ok);
  } finally {
    await store.close();
  }
});

test('a lock left by a writer killed in the middle of an append is taken over by the next writer', async (t) => {
  const dir = join(tempDir(t, 'rag-ledger-lock-'), 'store');
  const holder = await Holder.start(dir, 2);
  t.after(() => holder.dispose());
  await holder.kill();
  // What a writer killed between taking the lock and releasing it leaves behind.
  writeLockRecord(dir, { pid: holder.pid, nonce: 'killed-mid-append' });
  const store = await SqlJsEventStore.open(dir, { mode: 'write', owner: 'the recovering test' });
  try {
    assert.equal((await store.head()).position, 2, 'acknowledged appends of the killed writer survive');
    await store.append('document-1', [submitted('after-recovery')]);
    assert.ok((await store.verify()).ok);
  } finally {
    await store.close();
  }
  assert.ok(!existsSync(join(dir, LOCK)));
});

test('an append waits for a live holder of the lock, then fails naming it and saying what to do', async (t) => {
  const dir = join(tempDir(t, 'rag-ledger-lock-'), 'store');
  const store = await SqlJsEventStore.open(dir, { mode: 'write', lockWaitMs: 300 });
  t.after(() => store.close());
  writeLockRecord(dir, { startTime: ownStartTime(), nonce: 'live', owner: 'a long import' });
  const started = Date.now();
  await assert.rejects(store.append('document-1', [submitted('x')]), (err: unknown) => {
    assert.ok(err instanceof StoreLockedError, String(err));
    assert.equal(err.holder.owner, 'a long import');
    assert.match(err.hint, /try again/);
    return true;
  });
  assert.ok(Date.now() - started >= 250, 'it waited for the holder first');
  unlinkSync(join(dir, LOCK));
  await store.append('document-1', [submitted('x')]);
  assert.equal((await store.head()).position, 1);
});
