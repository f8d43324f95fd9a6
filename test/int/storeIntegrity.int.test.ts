// Store integrity against damaged and tampered files and a second writer: an edited snapshot,
// a damaged last journal record, a flipped byte in the SQLite image, and a writer whose lock
// file was deleted. Real files on disk, the bundled CLI and real child processes.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { readFileSync, readdirSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, test } from 'node:test';
import initSqlJs from 'sql.js';
import { JOURNAL_HEADER, scanJournal } from '../../src/adapters/sqljs/journal.js';
import { recoverStore } from '../../src/adapters/sqljs/recoverStore.js';
import { SqlJsEventStore } from '../../src/adapters/sqljs/sqljsEventStore.js';
import { CorruptStoreError } from '../../src/core/errors.js';
import { buildDist, cli, repoRoot } from '../support/cli.js';
import { submitted } from '../support/events.js';
import { tempDir } from '../support/tmp.js';

const JOURNAL = 'events.journal';
const SNAPSHOT = 'events.sqlite';

before(() => buildDist());

/** A store of `total` one-event appends, closed normally (so its snapshot covers everything). */
async function closedStore(dir: string, total: number): Promise<void> {
  const store = await SqlJsEventStore.open(dir);
  for (let i = 1; i <= total; i++) await store.append(`document-${i}`, [submitted(`${i}`)]);
  await store.close();
}

/** Start and end offsets of each journal record. */
function records(dir: string): { start: number; end: number }[] {
  const out: { start: number; end: number }[] = [];
  let start = JOURNAL_HEADER.length;
  scanJournal(join(dir, JOURNAL), start, (_events, end) => {
    out.push({ start, end });
    start = end;
  });
  return out;
}

/** One line on stderr, naming `file` and `rag-ledger recover`, and no stack trace. */
function assertOneLine(stderr: string, file: string): void {
  const lines = stderr.trim().split('\n');
  assert.equal(lines.length, 1, `expected one line on stderr, got: ${stderr}`);
  assert.match(lines[0]!, new RegExp(file.replace(/[.]/g, '\\.')));
  assert.match(lines[0]!, /rag-ledger recover/);
  assert.doesNotMatch(stderr, /\n\s+at |unexpected error/);
}

test('a snapshot whose event data was edited: writers refuse the store, readers warn in one line', async () => {
  const dir = tempDir();
  await closedStore(dir, 5);
  const SQL = await initSqlJs();
  const db = new SQL.Database(readFileSync(join(dir, SNAPSHOT)));
  db.run("UPDATE events SET data = replace(data, 'content of 3', 'EDITED TEXT') WHERE position = 3");
  writeFileSync(join(dir, SNAPSHOT), db.export());
  db.close();
  const journalBefore = readFileSync(join(dir, JOURNAL));

  await assert.rejects(SqlJsEventStore.open(dir), (err: unknown) => err instanceof CorruptStoreError && err.filePath === join(dir, SNAPSHOT) && /position 3/.test(err.message));

  const append = cli(['append', '--store', dir, '--stream', 'document-9', '--type', 'DocumentSubmitted', '--data', JSON.stringify({ document_id: '9', source: 'docs/9.md', raw_content: 'x', submitted_at: '2026-01-02T03:04:05.000Z' })]);
  assert.notEqual(append.code, 0);
  assertOneLine(append.stderr, join(dir, SNAPSHOT));
  assert.deepEqual(readFileSync(join(dir, JOURNAL)), journalBefore, 'nothing was written onto the store');

  const log = cli(['log', '--store', dir]);
  assert.equal(log.code, 0, log.stderr);
  assert.match(log.stdout, /EDITED TEXT|document-3/);
  const warning = log.stderr.trim().split('\n');
  assert.equal(warning.length, 1, log.stderr);
  assert.match(warning[0]!, /warning: .*events\.sqlite.*rag-ledger verify.*rag-ledger recover/);

  const search = cli(['search', '--store', dir, '--mode', 'lexical', 'content']);
  assert.equal(search.stderr.split('\n').filter((l) => /^warning: .*events\.sqlite.*rag-ledger recover/.test(l)).length, 1, search.stderr);
  const show = cli(['show', '--store', dir, 'no-such-question']);
  assert.match(show.stderr, /^warning: .*events\.sqlite.*rag-ledger recover/);

  // An untouched store has no warning, and recover puts this one right.
  const report = await recoverStore(dir);
  assert.equal(report.events, 5);
  const after = cli(['log', '--store', dir]);
  assert.equal(after.stderr, '');
  assert.doesNotMatch(after.stdout, /EDITED TEXT/);
});

test('a flipped byte in the last complete journal record is corruption: writers refuse, recover keeps the bytes aside', async () => {
  const dir = tempDir();
  // Left as a crashed writer leaves it: no close, so the snapshot covers only the first appends.
  const store = await SqlJsEventStore.open(dir);
  for (let i = 1; i <= 3; i++) await store.append(`document-${i}`, [submitted(`${i}`)]);
  await store.snapshot();
  await store.append('document-4', [submitted('4')]); // acknowledged
  (store as unknown as { lock: { release(): void } }).lock.release();

  const last = records(dir).at(-1)!;
  const path = join(dir, JOURNAL);
  const bytes = readFileSync(path);
  const at = last.start + 16 + Math.floor((last.end - last.start - 16) / 2);
  bytes[at] = bytes[at]! ^ 0x04;
  writeFileSync(path, bytes);
  const damaged = bytes.subarray(last.start, last.end);

  await assert.rejects(SqlJsEventStore.open(dir), (err: unknown) => err instanceof CorruptStoreError && err.filePath === path && /complete/.test(err.message));
  assert.equal(statSync(path).size, bytes.length, 'the damaged record was not cut off as a torn tail');
  assert.deepEqual(
    readdirSync(dir).filter((f) => f.includes('.torn-at-')),
    [],
  );
  const append = cli(['append', '--store', dir, '--stream', 'document-9', '--type', 'DocumentSubmitted', '--data', JSON.stringify({ document_id: '9', source: 'docs/9.md', raw_content: 'x', submitted_at: '2026-01-02T03:04:05.000Z' })]);
  assert.notEqual(append.code, 0);
  assertOneLine(append.stderr, path);

  const report = await recoverStore(dir);
  const side = report.keptFiles.find((f) => f.includes(`${JOURNAL}.damaged-at-${last.start}-`));
  assert.ok(side, `the damaged record is kept for inspection: ${report.keptFiles.join(', ')}`);
  assert.deepEqual(readFileSync(side), damaged);
  assert.ok(report.notes.some((n) => n.includes('damaged') && n.includes(side.slice(dir.length + 1))), report.notes.join(' | '));
  const reopened = await SqlJsEventStore.open(dir);
  assert.equal((await reopened.verify()).ok, true);
  await reopened.close();
});

test('a complete-length last record whose end never reached the disk (zeros) is still a torn tail, set aside', async () => {
  const dir = tempDir();
  const store = await SqlJsEventStore.open(dir);
  for (let i = 1; i <= 3; i++) await store.append(`document-${i}`, [submitted(`${i}`)]);
  (store as unknown as { lock: { release(): void } }).lock.release();
  const last = records(dir).at(-1)!;
  const path = join(dir, JOURNAL);
  const bytes = readFileSync(path);
  bytes.fill(0, last.end - 600 > last.start + 16 ? last.end - 600 : last.start + 16, last.end); // the file grew, the data did not arrive
  writeFileSync(path, bytes);

  const reopened = await SqlJsEventStore.open(dir);
  assert.equal((await reopened.head()).position, 2);
  assert.equal(statSync(path).size, last.start, 'the torn tail was cut');
  assert.equal(readdirSync(dir).filter((f) => f.includes('.torn-at-')).length, 1, 'and kept aside');
  await reopened.close();
});

test('a flipped byte in the SQLite snapshot ends in one line naming the file, and recover rebuilds it from the journal', async () => {
  const dir = tempDir();
  await closedStore(dir, 60);
  const path = join(dir, SNAPSHOT);
  const bytes = readFileSync(path);
  const pageSize = bytes.readUInt16BE(16) === 1 ? 65536 : bytes.readUInt16BE(16);
  // The b-tree page type byte of the leaf page of the events table that holds event 30.
  const page = Math.floor(bytes.indexOf('content of 30') / pageSize);
  assert.ok(page > 0, 'event 30 is on a page of its own');
  bytes[page * pageSize] = bytes[page * pageSize]! ^ 0xff;
  writeFileSync(path, bytes);

  for (const args of [['verify'], ['log'], ['stats']]) {
    const r = cli([...args, '--store', dir]);
    assert.notEqual(r.code, 0, `${args[0]}: ${r.stdout}`);
    assertOneLine(r.stderr, path);
  }

  const report = await recoverStore(dir);
  assert.equal(report.events, 60);
  const verify = cli(['verify', '--store', dir]);
  assert.equal(verify.code, 0, verify.stderr);
});

interface Holder {
  next(): Promise<string>;
  send(line: string): void;
  dispose(): void;
}

function startHolder(dir: string, initial: number): Holder {
  const child = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'test/support/lockHolder.ts'), dir, String(initial)], {
    cwd: repoRoot,
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, NODE_OPTIONS: '' },
  });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (c: string) => (stderr += c));
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  return {
    async next() {
      const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`holder timed out; stderr: ${stderr}`)), 30_000).unref());
      const r = await Promise.race([lines.next(), timeout]);
      if (r.done) throw new Error(`holder exited; stderr: ${stderr}`);
      return r.value;
    },
    send: (line) => child.stdin.write(`${line}\n`),
    dispose: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}

test('a writer whose lock file was deleted refuses to append once another process wrote the journal', async () => {
  const dir = tempDir();
  const holder = startHolder(dir, 2);
  try {
    assert.match(await holder.next(), /^ready \d+$/);
    unlinkSync(join(dir, 'store.lock'));
    // A second process takes the store (the lock is gone) and has an append acknowledged.
    const second = await SqlJsEventStore.open(dir);
    await second.append('second-1', [submitted('second')]);
    await second.close();

    holder.send('append 1');
    const reply = await holder.next();
    assert.match(reply, /^refused JournalChangedError: the journal .*events\.journal was changed by another process/);
    holder.send('append 1');
    assert.match(await holder.next(), /^refused JournalChangedError/, 'it keeps refusing');

    const store = await SqlJsEventStore.open(dir, { mode: 'read' });
    try {
      const ids = [];
      for await (const e of store.readAll()) ids.push(e.streamId);
      assert.deepEqual(ids, ['held-1', 'held-1', 'second-1'], 'the acknowledged append of the second process is kept');
      assert.equal((await store.verify()).ok, true);
    } finally {
      await store.close();
    }
  } finally {
    holder.dispose();
  }
});

test('a writer whose journal another process wrote does not replace that process\'s snapshot when it closes', async () => {
  const dir = tempDir();
  const holder = startHolder(dir, 2);
  try {
    assert.match(await holder.next(), /^ready \d+$/);
    unlinkSync(join(dir, 'store.lock'));
    const second = await SqlJsEventStore.open(dir);
    await second.append('second-1', [submitted('second')]);
    await second.close();
    const snapshot = readFileSync(join(dir, SNAPSHOT));

    holder.send('close');
    assert.equal(await holder.next(), 'closed');
    assert.deepEqual(readFileSync(join(dir, SNAPSHOT)), snapshot, 'the snapshot is the second process\'s');
    const store = await SqlJsEventStore.open(dir);
    assert.equal((await store.head()).position, 3);
    assert.equal((await store.verify()).ok, true);
    await store.close();
  } finally {
    holder.dispose();
  }
});
