// The store lock held for one append: waiting for a live holder (waitMs, acquireAsync), other lock
// files of a store, mutual exclusion across processes, and lock debris that must never wedge a store.
// Each debris test writes the debris itself, then takes the lock for real and checks that nothing
// else in the store was touched.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, readFileSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { SqlJsEventStore } from '../../src/adapters/sqljs/sqljsEventStore.js';
import { FOREIGN_LOCK_LEASE_MS, LOCK_DEBRIS_GRACE_MS, LOCK_FILE, StoreLock } from '../../src/adapters/sqljs/storeLock.js';
import { StoreLockedError } from '../../src/core/errors.js';
import { submitted } from '../support/events.js';
import { LineChild } from '../support/lineChild.js';
import { tempDir } from '../support/tmp.js';

const root = join(__dirname, '../..');
const contenderScript = join(root, 'test/support/lockContender.ts');

/** A store with three events, closed (no lock). */
async function storeWithEvents(): Promise<string> {
  const dir = join(tempDir(undefined, 'rag-ledger-storelock-'), 'store');
  const store = await SqlJsEventStore.open(dir, { mode: 'write', owner: 'the store setup' });
  try {
    await store.append('document-1', [submitted('one'), submitted('two'), submitted('three')]);
  } finally {
    await store.close();
  }
  return dir;
}

/** Name and digest of every file in the store except the lock files. */
function contents(dir: string, lockFile = LOCK_FILE): Map<string, string> {
  const out = new Map<string, string>();
  for (const name of readdirSync(dir).sort()) {
    if (name === lockFile) continue;
    out.set(name, createHash('sha256').update(readFileSync(join(dir, name))).digest('hex'));
  }
  return out;
}

/** Nothing but the lock changed: same files, same bytes, no lock left over, and the store reads whole. */
async function assertNothingLost(dir: string, before: Map<string, string>, lockFile = LOCK_FILE): Promise<void> {
  assert.ok(!existsSync(join(dir, lockFile)), 'the lock is gone after release');
  assert.deepEqual(contents(dir, lockFile), before, 'no other file was added, removed or changed');
  const reader = await SqlJsEventStore.open(dir, { mode: 'read' });
  try {
    assert.equal((await reader.head()).position, 3);
    assert.ok((await reader.verify()).ok);
  } finally {
    await reader.close();
  }
}

function lockRecord(fields: Record<string, unknown>): string {
  return JSON.stringify({ pid: process.pid, hostname: hostname(), owner: 'a lock written by the test', acquiredAt: new Date().toISOString(), startTime: null, nonce: 'written-by-test', ...fields });
}

function makeOld(path: string, ageMs: number): void {
  const then = new Date(Date.now() - ageMs);
  utimesSync(path, then, then);
}

function ownStartTime(): string {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]!;
}

function procState(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0]!;
  } catch {
    return null;
  }
}

/** Takes the lock for real, checks it is this process's, releases it. */
function acquireAndRelease(dir: string, owner: string, file?: string): void {
  const lock = StoreLock.acquire(dir, owner, file ? { file } : {});
  const onDisk = JSON.parse(readFileSync(join(dir, file ?? LOCK_FILE), 'utf8')) as { pid: number; owner: string };
  assert.equal(onDisk.pid, process.pid);
  assert.equal(onDisk.owner, owner);
  lock.release();
}

/** A child process holding a lock in `dir` until told to release it (test/support/lockContender.ts hold). */
class ChildHolder extends LineChild {
  static async start(dir: string, file?: string): Promise<ChildHolder> {
    const holder = new ChildHolder(LineChild.spawnScript('test/support/lockContender.ts', [dir, 'hold', ...(file ? [file] : [])]));
    assert.equal(await holder.next(), `held ${holder.pid}`);
    return holder;
  }

  async release(): Promise<void> {
    this.child.stdin.write('release\n');
    assert.equal(await this.next(), 'released');
  }

  dispose(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }
}

test('a live holder: waitMs 0 fails at once, a timed-out wait names the holder and says what to do', async (t) => {
  const dir = await storeWithEvents();
  const holder = await ChildHolder.start(dir);
  t.after(() => holder.dispose());
  const lockPath = join(dir, LOCK_FILE);
  const held = readFileSync(lockPath, 'utf8');

  const check = (err: unknown, waited: boolean): boolean => {
    assert.ok(err instanceof StoreLockedError, `expected StoreLockedError, got ${String(err)}`);
    assert.equal(err.holder.pid, holder.pid);
    assert.equal(err.holder.owner, 'the holding test process');
    assert.equal(err.holder.hostname, hostname());
    assert.match(err.message, new RegExp(`locked by the holding test process \\(pid ${holder.pid} on ${hostname()}, since `));
    assert.equal(/waited \d+ ms/.test(err.message), waited, err.message);
    assert.equal(err.hint, `Another process is writing to this store: try again, or if the holding test process (pid ${holder.pid} on ${hostname()}) is gone, remove ${lockPath}.`);
    return true;
  };
  assert.throws(() => StoreLock.acquire(dir, 'the test'), (err) => check(err, false));
  assert.throws(() => StoreLock.acquire(dir, 'the test', { waitMs: 60 }), (err) => check(err, true));
  await assert.rejects(StoreLock.acquireAsync(dir, 'the test', { waitMs: 60 }), (err) => check(err, true));
  assert.equal(readFileSync(lockPath, 'utf8'), held, 'refused acquires leave the live lock alone');

  // A waiting acquire gets the lock once the holder releases it.
  let settled = false;
  const waiting = StoreLock.acquireAsync(dir, 'the waiting test', { waitMs: 20_000 }).finally(() => (settled = true));
  await new Promise((resolve) => setTimeout(resolve, 100));
  assert.equal(settled, false, 'still waiting while the holder holds the lock');
  await holder.release();
  const lock = await waiting;
  assert.equal((JSON.parse(readFileSync(lockPath, 'utf8')) as { owner: string }).owner, 'the waiting test');
  lock.release();
  assert.ok(!existsSync(lockPath));
});

test('acquireAsync waits for a holder in the same process to release', async () => {
  const dir = tempDir(undefined, 'rag-ledger-storelock-');
  const first = StoreLock.acquire(dir, 'the first appender');
  let settled = false;
  const second = StoreLock.acquireAsync(dir, 'the second appender', { waitMs: 20_000 }).finally(() => (settled = true));
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.equal(settled, false);
  const releasedAt = new Date().toISOString();
  first.release();
  const lock = await second;
  assert.equal(lock.holder.owner, 'the second appender');
  assert.ok(lock.holder.acquiredAt >= releasedAt, 'the lock records when it was taken, not when the wait began');
  assert.equal((JSON.parse(readFileSync(join(dir, LOCK_FILE), 'utf8')) as { owner: string }).owner, 'the second appender');
  lock.release();
  assert.deepEqual(readdirSync(dir), [], 'no lock, private or aside file is left behind');
});

test('other lock files of a store are independent and follow the same rules', async (t) => {
  const dir = await storeWithEvents();
  const holder = await ChildHolder.start(dir, 'pipeline.lock');
  t.after(() => holder.dispose());
  // store.lock is free while pipeline.lock is held.
  acquireAndRelease(dir, 'the appender');
  assert.throws(
    () => StoreLock.acquire(dir, 'a second pipeline', { file: 'pipeline.lock', waitMs: 20 }),
    (err: unknown) => err instanceof StoreLockedError && err.holder.pid === holder.pid && err.hint.includes(join(dir, 'pipeline.lock')),
  );
  await holder.release();

  // Debris in pipeline.lock is taken over like debris in store.lock.
  const before = contents(dir, 'pipeline.lock');
  writeFileSync(join(dir, 'pipeline.lock'), '');
  makeOld(join(dir, 'pipeline.lock'), 10_000);
  acquireAndRelease(dir, 'the pipeline', 'pipeline.lock');
  await assertNothingLost(dir, before, 'pipeline.lock');
});

test('writers in several processes waiting for each other never overlap and lose no increment', async () => {
  const dir = tempDir(undefined, 'rag-ledger-storelock-');
  const rounds = 60;
  const modes = ['sync', 'async', 'async'];
  const results = await Promise.all(
    modes.map(
      (mode) =>
        new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
          const child = spawn(process.execPath, ['--import', 'tsx', contenderScript, dir, String(rounds), mode], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODE_OPTIONS: '' } });
          let out = '';
          let err = '';
          child.stdout.on('data', (d: Buffer) => (out += d.toString()));
          child.stderr.on('data', (d: Buffer) => (err += d.toString()));
          child.on('close', (code) => resolve({ code, out, err }));
        }),
    ),
  );
  for (const r of results) assert.deepEqual({ code: r.code, out: r.out }, { code: 0, out: 'done\n' }, r.err);
  assert.equal(Number(readFileSync(join(dir, 'counter'), 'utf8')), rounds * modes.length);
  assert.deepEqual(readdirSync(dir).sort(), ['counter'], 'no lock, private or aside file is left behind');
});

test('debris: an empty lock file (writer killed before filling it) is taken over, old at once, fresh after the grace', async () => {
  const dir = await storeWithEvents();
  const before = contents(dir);
  const lockPath = join(dir, LOCK_FILE);

  writeFileSync(lockPath, '');
  makeOld(lockPath, LOCK_DEBRIS_GRACE_MS + 5_000);
  acquireAndRelease(dir, 'the test, old empty lock');
  await assertNothingLost(dir, before);

  // Fresh: it may be a file being written right now, so it is taken over only once it stayed the
  // same file for the grace period, even by an acquire that does not wait for live holders.
  writeFileSync(lockPath, '');
  acquireAndRelease(dir, 'the test, fresh empty lock');
  await assertNothingLost(dir, before);
  writeFileSync(lockPath, '');
  const lock = await StoreLock.acquireAsync(dir, 'the test, fresh empty lock, async');
  lock.release();
  await assertNothingLost(dir, before);
});

test('debris: garbage and JSON without a pid are taken over like an empty lock', async () => {
  const dir = await storeWithEvents();
  const before = contents(dir);
  const lockPath = join(dir, LOCK_FILE);
  for (const debris of ['not json at all', '{"pid": 12', '{"owner": "x", "hostname": "h"}', '{"pid": "12", "nonce": "n"}', 'null', '[]', '42', '\0\0\0\0']) {
    writeFileSync(lockPath, debris);
    makeOld(lockPath, LOCK_DEBRIS_GRACE_MS + 5_000);
    acquireAndRelease(dir, `the test, debris ${JSON.stringify(debris)}`);
    await assertNothingLost(dir, before);
  }
  writeFileSync(lockPath, '{"pid": 12');
  acquireAndRelease(dir, 'the test, fresh garbage');
  await assertNothingLost(dir, before);
});

test('debris: fresh garbage that becomes a live lock while a writer waits is judged as that lock', async () => {
  const dir = await storeWithEvents();
  const lockPath = join(dir, LOCK_FILE);
  writeFileSync(lockPath, '{"pid": 12');
  const pending = StoreLock.acquireAsync(dir, 'the test');
  // The first attempt has run and found fresh debris; now its writer finishes a real lock.
  const live = lockRecord({ startTime: ownStartTime(), nonce: 'live', owner: 'a slow writer' });
  writeFileSync(lockPath, live);
  await assert.rejects(pending, (err: unknown) => err instanceof StoreLockedError && err.holder.owner === 'a slow writer' && err.holder.pid === process.pid);
  assert.equal(readFileSync(lockPath, 'utf8'), live, 'the live lock is left alone');
});

test('debris: a lock whose pid is alive with another start time (a reused pid) is stale at once', async () => {
  const dir = await storeWithEvents();
  const before = contents(dir);
  const lockPath = join(dir, LOCK_FILE);
  const startTime = ownStartTime();

  // Control: this pid with its own start time is a live holder.
  writeFileSync(lockPath, lockRecord({ startTime, nonce: 'live' }));
  assert.throws(() => StoreLock.acquire(dir, 'the test'), (err: unknown) => err instanceof StoreLockedError && err.holder.pid === process.pid);
  assert.equal((JSON.parse(readFileSync(lockPath, 'utf8')) as { nonce: string }).nonce, 'live');

  writeFileSync(lockPath, lockRecord({ startTime: String(Number(startTime) + 12345), nonce: 'reused' }));
  acquireAndRelease(dir, 'the test, reused pid');
  await assertNothingLost(dir, before);
});

test('debris: a lock taken before the machine rebooted (another boot id) is stale at once', async () => {
  const dir = await storeWithEvents();
  const before = contents(dir);
  const lockPath = join(dir, LOCK_FILE);
  const bootId = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  // Same pid and start time as this process (as after a reboot that reused both), same boot: live.
  writeFileSync(lockPath, lockRecord({ startTime: ownStartTime(), bootId, nonce: 'this boot' }));
  assert.throws(() => StoreLock.acquire(dir, 'the test'), StoreLockedError);

  writeFileSync(lockPath, lockRecord({ startTime: ownStartTime(), bootId: '00000000-0000-4000-8000-000000000000', nonce: 'last boot' }));
  acquireAndRelease(dir, 'the test, previous boot');
  await assertNothingLost(dir, before);
});

test('debris: a lock from another host is live for the lease, then stale', async () => {
  const dir = await storeWithEvents();
  const before = contents(dir);
  const lockPath = join(dir, LOCK_FILE);
  const other = 'another-host.invalid';
  const foreign = lockRecord({ hostname: other, pid: 4242, owner: 'a writer elsewhere', nonce: 'foreign' });

  writeFileSync(lockPath, foreign);
  for (const waitMs of [0, 40]) {
    assert.throws(
      () => StoreLock.acquire(dir, 'the test', { waitMs }),
      (err: unknown) => {
        assert.ok(err instanceof StoreLockedError);
        assert.equal(err.holder.hostname, other);
        assert.match(err.message, /a writer elsewhere \(pid 4242 on another-host\.invalid, since /);
        assert.equal(err.hint, `Another process is writing to this store: try again, or if a writer elsewhere (pid 4242 on ${other}) is gone, remove ${lockPath}. A lock taken on another host lapses ${FOREIGN_LOCK_LEASE_MS / 1000} s after it was taken.`);
        return true;
      },
    );
  }
  assert.equal(readFileSync(lockPath, 'utf8'), foreign, 'a young foreign lock is left alone');

  makeOld(lockPath, FOREIGN_LOCK_LEASE_MS + 5_000);
  acquireAndRelease(dir, 'the test, lapsed foreign lock');
  await assertNothingLost(dir, before);
});

test('debris: a lock of a dead local process is taken over', async () => {
  const dir = await storeWithEvents();
  const before = contents(dir);
  const child = spawn('true');
  const pid = child.pid!;
  await new Promise((resolve) => child.on('close', resolve));
  assert.equal(procState(pid), null, 'the process is gone');
  writeFileSync(join(dir, LOCK_FILE), lockRecord({ pid, nonce: 'dead' }));
  acquireAndRelease(dir, 'the test, dead holder');
  await assertNothingLost(dir, before);
});

test('debris: a lock of a zombie (exited, not yet reaped) is taken over', async (t) => {
  const dir = await storeWithEvents();
  const before = contents(dir);
  // The shell becomes `sleep 60` (exec) before its background child exits, and `sleep` never reaps it.
  const parent = spawn('sh', ['-c', 'sleep 1 & echo $!; exec sleep 60'], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.after(() => parent.kill('SIGKILL'));
  const pid = Number(await new Promise<string>((resolve) => parent.stdout.once('data', (d: Buffer) => resolve(d.toString().trim()))));
  for (let i = 0; i < 1000 && procState(pid) !== 'Z'; i++) await new Promise((resolve) => setTimeout(resolve, 10));
  assert.equal(procState(pid), 'Z', 'the holder is a zombie');
  writeFileSync(join(dir, LOCK_FILE), lockRecord({ pid, nonce: 'zombie' }));
  acquireAndRelease(dir, 'the test, zombie holder');
  await assertNothingLost(dir, before);
});

test('while held, the lock is the only file it adds; after release, none', () => {
  const dir = tempDir(undefined, 'rag-ledger-storelock-');
  const lock = StoreLock.acquire(dir, 'the test');
  assert.deepEqual(readdirSync(dir), [LOCK_FILE], 'only the lock itself: its private file is gone');
  lock.release();
  assert.deepEqual(readdirSync(dir), []);
});

test('debris: private files of publishes that never finished are removed once old; nothing else is', async () => {
  // A copy of a store: a directory whose lock this process has not held yet (it sweeps once per lock).
  const dir = join(tempDir(undefined, 'rag-ledger-storelock-'), 'copy');
  cpSync(await storeWithEvents(), dir, { recursive: true });
  const before = contents(dir);
  const old = ['store.lock.0f6bf3a6-2a5c-4a43-9d0c-4c1c5bfa0a11.tmp', 'store.lock.9b2e3c1d-7f4a-4b8e-a1c2-3d4e5f6a7b8c.tmp'];
  const kept = [
    'store.lock.5a4b3c2d-1e0f-4a9b-8c7d-6e5f4a3b2c1d.tmp', // fresh: a publish may be in progress
    'pipeline.lock.1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d.tmp', // another lock's, swept when that one is taken
    'store.lock.stale-123-3f2e1d0c-4b5a-4c6d-9e8f-7a6b5c4d3e2f', // a lock kept aside on purpose
  ];
  for (const name of [...old, ...kept]) writeFileSync(join(dir, name), lockRecord({ nonce: name }));
  for (const name of [...old, ...kept.slice(1)]) makeOld(join(dir, name), FOREIGN_LOCK_LEASE_MS + 5_000);
  const withDebris = contents(dir);
  acquireAndRelease(dir, 'the test, private files');
  for (const name of old) assert.ok(!existsSync(join(dir, name)), `${name} removed`);
  for (const name of old) withDebris.delete(name);
  assert.deepEqual(contents(dir), withDebris, 'everything else is untouched');
  for (const name of kept) rmSync(join(dir, name));
  await assertNothingLost(dir, before);
});

test('debris: an unreadable lock that keeps changing is waited on for a bounded time, then refused without a pid', async () => {
  const dir = await storeWithEvents();
  const lockPath = join(dir, LOCK_FILE);
  let n = 0;
  const rewrite = (): void => writeFileSync(lockPath, 'x'.repeat(1 + (n++ % 7)));
  rewrite();
  const timer = setInterval(rewrite, 200);
  try {
    await assert.rejects(StoreLock.acquireAsync(dir, 'the test'), (err: unknown) => {
      assert.ok(err instanceof StoreLockedError);
      assert.equal(err.holder.owner, 'an unknown writer (the lock file is unreadable and keeps changing)');
      assert.doesNotMatch(err.message, /pid/);
      assert.match(err.message, /waited \d+ ms/);
      assert.match(err.hint, new RegExp(`remove ${lockPath.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\.$`));
      return true;
    });
  } finally {
    clearInterval(timer);
  }
  // Once it stops changing, it is debris like any other.
  const before = contents(dir);
  makeOld(lockPath, LOCK_DEBRIS_GRACE_MS + 5_000);
  acquireAndRelease(dir, 'the test, settled debris');
  await assertNothingLost(dir, before);
});
