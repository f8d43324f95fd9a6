// Crash test: a writer process appending in a loop is killed with SIGKILL at random moments,
// again and again, against the same store directory. After every kill the store must open for
// writing (the dead writer's lock is stale), verify, hold every acknowledged append in full,
// hold no partial append, and keep positions gapless.
//
// SIGKILL of a process rarely tears a write() on its own (the kernel finishes it), so on some
// trials the test also appends a torn record to the journal after the kill, the way a crash in
// the middle of writing an unacknowledged record would leave it.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { appendFileSync, existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { SqlJsEventStore } from '../../src/adapters/sqljs/sqljsEventStore.js';
import { crashVector } from '../support/crashShared.js';
import { tempDir } from '../support/tmp.js';

const root = join(__dirname, '../..');
const writerScript = join(root, 'test/support/crashWriter.ts');
const TRIALS = 22;
const SNAPSHOT_EVERY_BYTES = 20000;
const JOURNAL = 'events.journal';
const SNAPSHOT = 'events.sqlite';
const LOCK = 'store.lock';

interface RunResult {
  readonly acks: ReadonlyMap<string, number>;
  readonly signal: NodeJS.Signals | null;
  readonly code: number | null;
  readonly stderr: string;
}

interface Writer {
  /** Resolves once the writer has loaded its code and waits for `go`. */
  readonly warm: Promise<void>;
  /** Lets the writer open the store and append; SIGKILLs it `delayMs` after it reports `ready`. */
  run(delayMs: number): Promise<RunResult>;
  dispose(): void;
}

/**
 * Spawns a writer that loads its code and then waits, so that the next writer can warm up
 * while the test checks the store after the previous kill.
 */
function spawnWriter(storeDir: string, tag: string): Writer {
  const child = spawn(process.execPath, ['--import', 'tsx', writerScript, storeDir, tag, String(SNAPSHOT_EVERY_BYTES)], {
    cwd: root,
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, NODE_OPTIONS: '' },
  });
  let out = '';
  let err = '';
  let onWarm: () => void = () => undefined;
  let onReady: () => void = () => undefined;
  const warm = new Promise<void>((resolve) => (onWarm = resolve));
  const closed = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal }));
  });
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    out += chunk;
    if (out.startsWith('warm\n')) onWarm();
    if (out.startsWith('warm\nready\n')) onReady();
  });
  child.stderr.on('data', (chunk: string) => (err += chunk));
  child.stdin.on('error', () => undefined); // the child may be gone before we write

  const failed = (what: string) => closed.then(({ code, signal }) => Promise.reject(new Error(`writer ${what} (code ${code}, signal ${signal}): ${err}`)));

  return {
    warm: Promise.race([warm, failed('died before it was warm')]),
    async run(delayMs: number): Promise<RunResult> {
      const guard = setTimeout(() => child.kill('SIGKILL'), 20_000); // never hang the suite
      try {
        child.stdin.write('go\n');
        await Promise.race([new Promise<void>((resolve) => (onReady = resolve)), failed('never became ready')]);
        await new Promise((resolve) => setTimeout(resolve, delayMs));
        child.kill('SIGKILL');
        // Waiting for 'close' also means the child was reaped: a zombie holder would still count as alive.
        const { code, signal } = await closed;
        // Only complete lines count: a line cut by the kill was never fully acknowledged.
        const lines = out.split('\n').slice(2, -1);
        const acks = new Map<string, number>();
        for (const line of lines) {
          const m = /^ack (\S+) ([1-5])$/.exec(line);
          if (!m) throw new Error(`unexpected writer output line ${JSON.stringify(line)}; stderr: ${err}`);
          acks.set(m[1]!, Number(m[2]));
        }
        return { acks, signal, code, stderr: err };
      } finally {
        clearTimeout(guard);
      }
    },
    dispose(): void {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}

/** Appends bytes to the journal the way a crash mid-write of an unacknowledged record could leave them. */
function tearJournal(storeDir: string, kind: number): string {
  const path = join(storeDir, JOURNAL);
  if (kind === 0) {
    appendFileSync(path, Buffer.alloc(1 + Math.floor(Math.random() * 4096))); // zero-filled space
    return 'zeros';
  }
  if (kind === 1) {
    const partial = Buffer.alloc(8 + 37, 0x5a); // a record header promising more payload than follows
    partial.writeUInt32LE(10_000, 0);
    partial.writeUInt32LE(0xdeadbeef, 4);
    appendFileSync(path, partial);
    return 'short record';
  }
  const whole = Buffer.alloc(8 + 64, 0x41); // a full-length record whose checksum does not match
  whole.writeUInt32LE(64, 0);
  whole.writeUInt32LE(0x12345678, 4);
  appendFileSync(path, whole);
  return 'bad checksum';
}

/** Changes whenever the file is replaced (snapshots are written to a temp file and renamed). */
function fileId(path: string): string {
  const st = statSync(path);
  return `${st.ino}:${st.mtimeMs}:${st.size}`;
}

interface SeenBatch {
  readonly n: number;
  readonly streamId: string;
  readonly items: { readonly i: number; readonly position: number; readonly streamVersion: number }[];
}

/**
 * Checks the whole log: gapless positions, gapless stream versions, every batch complete and
 * contiguous (one append = consecutive positions in one stream), every acknowledged batch
 * present, attachments intact, and the log from the previous round kept as a prefix.
 */
async function checkLog(
  store: SqlJsEventStore,
  acked: ReadonlyMap<string, number>,
  prevHead: { position: number; hash: string } | null,
  context: string,
): Promise<{ position: number; hash: string; batches: number }> {
  const batches = new Map<string, SeenBatch>();
  const streamVersions = new Map<string, number>();
  let expected = 1;
  let last = { position: 0, hash: '' };
  for await (const e of store.readAll()) {
    assert.equal(e.position, expected, `${context}: positions must be gapless (expected ${expected}, got ${e.position})`);
    expected++;
    last = { position: e.position, hash: e.hash };
    const sv = (streamVersions.get(e.streamId) ?? 0) + 1;
    assert.equal(e.streamVersion, sv, `${context}: stream ${e.streamId} versions must be gapless at position ${e.position}`);
    streamVersions.set(e.streamId, sv);

    let id: string;
    let n: number;
    if (e.type === 'DocumentSubmitted') {
      id = e.data.document_id;
      const m = /^batch (\S+) size ([1-5]) item (\d+)$/.exec(e.data.raw_content);
      assert.ok(m, `${context}: unexpected content at ${e.position}: ${e.data.raw_content}`);
      assert.equal(`${m[1]}-${m[3]}`, id, `${context}: content and document id disagree at ${e.position}`);
      n = Number(m[2]);
    } else if (e.type === 'ChunkEmbedded') {
      id = e.data.chunk_id;
      const m = /^crash-size-([1-5])$/.exec(e.data.embedding_model);
      assert.ok(m, `${context}: unexpected embedding model at ${e.position}`);
      n = Number(m[1]);
    } else {
      assert.fail(`${context}: unexpected event type ${e.type} at ${e.position}`);
    }
    const dash = id.lastIndexOf('-');
    const batchId = id.slice(0, dash);
    const i = Number(id.slice(dash + 1));
    if (e.type === 'ChunkEmbedded') {
      const want = crashVector(batchId, i);
      assert.equal(e.data.dimensions, want.length, `${context}: dimensions at ${e.position}`);
      assert.deepEqual(Array.from(e.data.vector), Array.from(want), `${context}: vector (attachment) damaged at ${e.position}`);
    }
    let batch = batches.get(batchId);
    if (!batch) {
      batch = { n, streamId: e.streamId, items: [] };
      batches.set(batchId, batch);
    }
    assert.equal(batch.n, n, `${context}: batch ${batchId} disagrees about its size`);
    assert.equal(batch.streamId, e.streamId, `${context}: batch ${batchId} spans streams`);
    batch.items.push({ i, position: e.position, streamVersion: e.streamVersion });
  }

  for (const [batchId, b] of batches) {
    assert.equal(b.items.length, b.n, `${context}: batch ${batchId} is partial: ${b.items.length} of ${b.n} events stored`);
    b.items.forEach((item, k) => {
      assert.equal(item.i, k, `${context}: batch ${batchId} events out of order`);
      assert.equal(item.position, b.items[0]!.position + k, `${context}: batch ${batchId} positions not contiguous`);
      assert.equal(item.streamVersion, b.items[0]!.streamVersion + k, `${context}: batch ${batchId} stream versions not contiguous`);
    });
  }
  for (const [batchId, n] of acked) {
    const b = batches.get(batchId);
    assert.ok(b, `${context}: acknowledged batch ${batchId} (${n} events) is missing`);
    assert.equal(b.n, n, `${context}: acknowledged batch ${batchId} has the wrong size`);
  }

  const head = await store.head();
  assert.deepEqual({ position: head.position, hash: head.hash }, { position: last.position, hash: last.hash || head.hash }, `${context}: head`);
  assert.equal((await store.stats()).events, last.position, `${context}: stats().events`);
  if (prevHead) {
    assert.ok(last.position >= prevHead.position, `${context}: the log shrank from ${prevHead.position} to ${last.position}`);
    let atPrev: string | undefined;
    for await (const e of store.readAll({ fromPosition: prevHead.position, limit: 1 })) atPrev = e.hash;
    assert.equal(atPrev, prevHead.hash, `${context}: the log before this round changed`);
  }
  const report = await store.verify();
  assert.ok(report.ok, `${context}: verify failed: ${JSON.stringify(report.firstFailure)}`);
  assert.equal(report.headPosition, last.position, `${context}: verify head`);
  return { position: last.position, hash: head.hash, batches: batches.size };
}

/** Whether the lock file exists and names a process that is gone (a live writer warming up for the next trial may hold it). */
function lockOfDeadProcess(path: string): boolean {
  if (!existsSync(path)) return false;
  try {
    process.kill((JSON.parse(readFileSync(path, 'utf8')) as { pid: number }).pid, 0);
    return false;
  } catch {
    return true;
  }
}

test('SIGKILL at random moments never loses an acknowledged append nor leaves a partial one', { timeout: 90_000 }, async (t) => {
  const storeDir = join(tempDir(t, 'rag-ledger-crash-'), 'store');
  const acked = new Map<string, number>();
  let prevHead: { position: number; hash: string } | null = null;
  let tornTails = 0;
  let writerSnapshots = 0; // trials in which the killed writer replaced the snapshot itself
  let locksLeft = 0; // trials in which the writer was killed holding the lock (mid-append)
  let snapshotId = '';
  let stats = { batches: 0, position: 0 };

  let next = spawnWriter(storeDir, 'r0');
  t.after(() => next.dispose());
  for (let trial = 0; trial < TRIALS; trial++) {
    const writer = next;
    await writer.warm;
    const delay = 150 + Math.floor(Math.random() * 750);
    const run = await writer.run(delay);
    if (trial + 1 < TRIALS) next = spawnWriter(storeDir, `r${trial + 1}`); // warms up while this round is checked
    const context = `trial ${trial} (killed ${delay} ms after ready)`;
    assert.equal(run.signal, 'SIGKILL', `${context}: the writer ended by itself (code ${run.code}): ${run.stderr}`);
    for (const [id, n] of run.acks) acked.set(id, n);
    if (existsSync(join(storeDir, SNAPSHOT)) && fileId(join(storeDir, SNAPSHOT)) !== snapshotId) writerSnapshots++;

    // The lock is held for one append: a writer killed in the middle of one leaves it behind, and it is taken over.
    if (existsSync(join(storeDir, LOCK))) locksLeft++;
    if (trial % 3 === 1) {
      tearJournal(storeDir, Math.floor(trial / 3) % 3);
      tornTails++;
    }

    if (trial % 2 === 0) {
      // A reader neither needs the lock nor touches the torn tail, and sees every acknowledged append.
      const reader = await SqlJsEventStore.open(storeDir, { mode: 'read' });
      try {
        assert.equal(reader.writable, false);
        await checkLog(reader, acked, prevHead, `${context}, read-only`);
      } finally {
        await reader.close();
      }
    }

    const journalBefore = statSync(join(storeDir, JOURNAL)).size;
    const store = await SqlJsEventStore.open(storeDir, { mode: 'write', owner: 'crash test' }); // stale lock recovered
    try {
      assert.equal(store.writable, true);
      const result = await checkLog(store, acked, prevHead, context);
      prevHead = { position: result.position, hash: result.hash };
      stats = { batches: result.batches, position: result.position };
    } finally {
      await store.close();
    }
    if (trial % 3 === 1) {
      assert.ok(statSync(join(storeDir, JOURNAL)).size < journalBefore, `${context}: the torn tail should have been cut`);
    }
    assert.ok(!lockOfDeadProcess(join(storeDir, LOCK)), `${context}: a killed writer's lock is taken over by the next append`);
    snapshotId = fileId(join(storeDir, SNAPSHOT));
  }

  // The run must actually have exercised something.
  assert.ok(acked.size >= TRIALS, `only ${acked.size} acknowledged batches in ${TRIALS} trials`);
  assert.ok(stats.batches >= acked.size);
  assert.ok(tornTails > 0);
  assert.ok(writerSnapshots > 0, 'the writer should have taken snapshots while appending');
  const aside = readdirSync(storeDir).filter((f) => f.startsWith(`${JOURNAL}.torn-at-`));
  assert.ok(aside.length >= tornTails, `torn tails should be kept aside (found ${aside.length}, made ${tornTails})`);
  t.diagnostic(`${TRIALS} kills, ${acked.size} acknowledged batches, ${stats.batches} batches / ${stats.position} events stored, ${tornTails} torn tails, writer snapshotted in ${writerSnapshots} trials, killed holding the lock in ${locksLeft}`);
});

test('two writers appending at once, each killed with SIGKILL at a random moment: nothing acknowledged is lost, nothing partial, one chain', { timeout: 240_000 }, async (t) => {
  const storeDir = join(tempDir(t, 'rag-ledger-crash2-'), 'store');
  const acked = new Map<string, number>();
  let prevHead: { position: number; hash: string } | null = null;
  let stats = { batches: 0, position: 0 };
  let locksLeft = 0;
  let bothAcked = 0;
  for (let trial = 0; trial < TRIALS; trial++) {
    const writers = [spawnWriter(storeDir, `a${trial}`), spawnWriter(storeDir, `b${trial}`)];
    t.after(() => writers.forEach((w) => w.dispose()));
    await Promise.all(writers.map((w) => w.warm));
    const delays = writers.map(() => 150 + Math.floor(Math.random() * 750));
    const runs = await Promise.all(writers.map((w, i) => w.run(delays[i]!)));
    const context = `trial ${trial} (killed ${delays.join(' and ')} ms after ready)`;
    runs.forEach((run) => assert.equal(run.signal, 'SIGKILL', `${context}: a writer ended by itself (code ${run.code}): ${run.stderr}`));
    for (const run of runs) for (const [id, n] of run.acks) acked.set(id, n);
    if (runs.every((run) => run.acks.size > 0)) bothAcked++;
    if (existsSync(join(storeDir, LOCK))) locksLeft++;

    const store = await SqlJsEventStore.open(storeDir, { mode: 'write', owner: 'crash test' }); // a dead writer's lock is taken over
    try {
      const result = await checkLog(store, acked, prevHead, context);
      prevHead = { position: result.position, hash: result.hash };
      stats = { batches: result.batches, position: result.position };
    } finally {
      await store.close();
    }
    assert.ok(!lockOfDeadProcess(join(storeDir, LOCK)), `${context}: a killed writer's lock is taken over`);
  }
  assert.ok(acked.size >= TRIALS, `only ${acked.size} acknowledged batches in ${TRIALS} trials`);
  assert.ok(bothAcked >= TRIALS / 2, `both writers made progress in only ${bothAcked} of ${TRIALS} trials`);
  t.diagnostic(`${TRIALS} trials of two writers, ${acked.size} acknowledged batches, ${stats.batches} batches / ${stats.position} events stored, both writers acknowledged appends in ${bothAcked} trials, a writer was killed holding the lock in ${locksLeft}`);
});
