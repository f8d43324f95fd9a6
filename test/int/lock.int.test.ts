// One writer per store, across processes: the write lock, its stale-lock recovery, and
// read-only access beside a live writer.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { test } from 'node:test';
import { SqlJsEventStore } from '../../src/adapters/sqljs/sqljsEventStore.js';
import { StoreLockedError, StoreReadOnlyError } from '../../src/core/errors.js';
import type { RecordedEvent } from '../../src/core/eventStore.js';
import { submitted } from '../support/events.js';
import { tempDir } from '../support/tmp.js';

const root = join(__dirname, '../..');
const holderScript = join(root, 'test/support/lockHolder.ts');
const LOCK = 'store.lock';

/** A child process holding the store's write lock (test/support/lockHolder.ts). */
class Holder {
  private readonly lines: AsyncIterator<string>;
  private stderr = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  private constructor(readonly child: ChildProcessWithoutNullStreams) {
    this.lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => (this.stderr += chunk));
    this.exited = new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
  }

  static async start(dir: string, initialEvents: number): Promise<Holder> {
    const child = spawn(process.execPath, ['--import', 'tsx', holderScript, dir, String(initialEvents)], {
      cwd: root,
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, NODE_OPTIONS: '' },
    });
    const holder = new Holder(child);
    const line = await holder.next();
    assert.equal(line, `ready ${child.pid}`);
    return holder;
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** The next line the child prints. */
  async next(): Promise<string> {
    const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`lock holder timed out; stderr: ${this.stderr}`)), 20_000).unref());
    const r = await Promise.race([this.lines.next(), timeout]);
    if (r.done) throw new Error(`lock holder exited early; stderr: ${this.stderr}`);
    return r.value;
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

function makeOld(path: string, ageMs: number): void {
  const then = new Date(Date.now() - ageMs);
  utimesSync(path, then, then);
}

test('a live writer in another process blocks writers but not readers', async (t) => {
  const dir = join(tempDir(t, 'rag-ledger-lock-'), 'store');
  const holder = await Holder.start(dir, 3);
  t.after(() => holder.dispose());

  await assert.rejects(SqlJsEventStore.open(dir, { mode: 'write', owner: 'the test' }), (err: unknown) => {
    assert.ok(err instanceof StoreLockedError, `expected StoreLockedError, got ${String(err)}`);
    assert.equal(err.code, 'store_locked');
    assert.equal(err.holder.pid, holder.pid);
    assert.equal(err.holder.owner, 'the lock holder test process');
    assert.equal(err.holder.hostname, hostname());
    assert.match(err.message, new RegExp(`\\bpid ${holder.pid}\\b`));
    assert.equal(err.storePath, dir);
    return true;
  });
  // The refused open must leave the holder's lock alone.
  assert.equal((JSON.parse(readFileSync(join(dir, LOCK), 'utf8')) as { pid: number }).pid, holder.pid);

  const reader = await SqlJsEventStore.open(dir, { mode: 'read' });
  try {
    assert.equal(reader.writable, false);
    const before = await collect(reader.readAll());
    assert.deepEqual(
      before.map((e) => [e.position, e.streamId, e.type === 'DocumentSubmitted' ? e.data.document_id : '']),
      [1, 2, 3].map((p) => [p, 'held-1', `held-${p}`]),
    );
    await assert.rejects(reader.append('document-1', [submitted('x')]), StoreReadOnlyError);

    assert.equal(await holder.append(4), 7);
    assert.equal((await reader.head()).position, 3, 'a reader sees new events only after refresh()');
    assert.equal(await reader.refresh(), 4);
    const after = await collect(reader.readAll());
    assert.deepEqual(
      after.map((e) => e.position),
      [1, 2, 3, 4, 5, 6, 7],
    );
    assert.equal(await reader.streamVersion('held-1'), 7);
    assert.equal(await reader.refresh(), 0);
    assert.ok((await reader.verify()).ok);

    assert.equal(await holder.append(1), 8);
    assert.equal(await reader.refresh(), 1);
    assert.equal((await reader.head()).position, 8);
  } finally {
    await reader.close();
  }

  // Once the holder closes, the lock is free and everything it wrote is there.
  await holder.close();
  assert.ok(!existsSync(join(dir, LOCK)));
  const writer = await SqlJsEventStore.open(dir, { mode: 'write' });
  try {
    assert.equal((await writer.head()).position, 8);
    assert.ok((await writer.verify()).ok);
  } finally {
    await writer.close();
  }
});

test('a lock left by a process killed with SIGKILL is recovered', async (t) => {
  const dir = join(tempDir(t, 'rag-ledger-lock-'), 'store');
  const holder = await Holder.start(dir, 2);
  t.after(() => holder.dispose());
  assert.equal(await holder.append(3), 5);
  await holder.kill();
  assert.ok(existsSync(join(dir, LOCK)), 'the killed holder leaves its lock file behind');
  assert.equal((JSON.parse(readFileSync(join(dir, LOCK), 'utf8')) as { pid: number }).pid, holder.pid);

  const store = await SqlJsEventStore.open(dir, { mode: 'write', owner: 'the recovering test' });
  try {
    assert.equal(store.writable, true);
    const lock = JSON.parse(readFileSync(join(dir, LOCK), 'utf8')) as { pid: number; owner: string };
    assert.equal(lock.pid, process.pid);
    assert.equal(lock.owner, 'the recovering test');
    assert.equal((await store.head()).position, 5, 'acknowledged appends of the killed holder survive');
    await store.append('document-1', [submitted('after-recovery')]);
    assert.ok((await store.verify()).ok);
  } finally {
    await store.close();
  }
  assert.ok(!existsSync(join(dir, LOCK)));
});

test('a lock naming a live pid with another start time (a reused pid) is stale', async (t) => {
  const dir = join(tempDir(t, 'rag-ledger-lock-'), 'store');
  mkdirSync(dir, { recursive: true });
  const startTime = ownStartTime();

  // Control: the same pid with the right start time is a live holder.
  writeLockRecord(dir, { startTime, nonce: 'live' });
  await assert.rejects(SqlJsEventStore.open(dir), (err: unknown) => err instanceof StoreLockedError && err.holder.pid === process.pid);
  assert.equal((JSON.parse(readFileSync(join(dir, LOCK), 'utf8')) as { nonce: string }).nonce, 'live', 'a live lock is left alone');

  // The pid is alive (it is this process) but it is not the process that took the lock.
  writeLockRecord(dir, { startTime: String(Number(startTime) + 12345), nonce: 'reused' });
  const store = await SqlJsEventStore.open(dir, { mode: 'write', owner: 'the pid-reuse test' });
  try {
    const lock = JSON.parse(readFileSync(join(dir, LOCK), 'utf8')) as { nonce: string; owner: string; startTime: string };
    assert.notEqual(lock.nonce, 'reused');
    assert.equal(lock.owner, 'the pid-reuse test');
    assert.equal(lock.startTime, startTime);
  } finally {
    await store.close();
  }
  assert.ok(!existsSync(join(dir, LOCK)));
});

test('within one process a second writer is refused until the first closes', async (t) => {
  const dir = join(tempDir(t, 'rag-ledger-lock-'), 'store');
  const first = await SqlJsEventStore.open(dir, { mode: 'write', owner: 'the first writer' });
  let firstOpen = true;
  t.after(async () => {
    if (firstOpen) await first.close();
  });
  await first.append('document-1', [submitted('one')]);

  await assert.rejects(SqlJsEventStore.open(dir, { mode: 'write', owner: 'the second writer' }), (err: unknown) => {
    assert.ok(err instanceof StoreLockedError);
    assert.equal(err.holder.pid, process.pid);
    assert.equal(err.holder.owner, 'the first writer');
    return true;
  });
  // The refusal did not disturb the first writer.
  await first.append('document-1', [submitted('two')]);
  assert.equal(first.writable, true);

  await first.close();
  firstOpen = false;
  const second = await SqlJsEventStore.open(dir, { mode: 'write', owner: 'the second writer' });
  try {
    assert.equal((await second.head()).position, 2);
    await second.append('document-1', [submitted('three')]);
  } finally {
    await second.close();
  }
});

test('an unparseable lock file older than 2 s is debris and is taken over', async (t) => {
  const dir = join(tempDir(t, 'rag-ledger-lock-'), 'store');
  mkdirSync(dir, { recursive: true });
  const lockPath = join(dir, LOCK);

  for (const debris of ['{"pid": 12', '', 'not json at all']) {
    writeFileSync(lockPath, debris);
    makeOld(lockPath, 10_000);
    const store = await SqlJsEventStore.open(dir, { mode: 'write', owner: 'the debris test' });
    try {
      const lock = JSON.parse(readFileSync(lockPath, 'utf8')) as { pid: number; owner: string };
      assert.equal(lock.pid, process.pid, `debris ${JSON.stringify(debris)} taken over`);
      assert.equal(lock.owner, 'the debris test');
    } finally {
      await store.close();
    }
    assert.ok(!existsSync(lockPath));
  }
  // A fresh one is taken over only after a grace period: test/int/storeLock.int.test.ts.
});

test(
  'verify() on a reader ignores what a live writer appended after the reader last refreshed',

  async (t) => {
    const dir = join(tempDir(t, 'rag-ledger-lock-'), 'store');
    const writer = await SqlJsEventStore.open(dir, { mode: 'write' });
    t.after(() => writer.close());
    await writer.append('document-1', [submitted('a')]);
    const reader = await SqlJsEventStore.open(dir, { mode: 'read' });
    t.after(() => reader.close());
    await writer.append('document-1', [submitted('b')]);
    const report = await reader.verify();
    assert.ok(report.ok, `a reader one event behind the writer is not tampered with: ${JSON.stringify(report.firstFailure)}`);
    assert.equal(report.headPosition, 1);
  },
);
