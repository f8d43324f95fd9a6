// Store integrity against damaged and tampered files and a second writer: an edited snapshot,
// a damaged last journal record, a flipped byte in the SQLite image, and a writer whose lock
// file was deleted. Real files on disk, the bundled CLI and real child processes.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, test } from 'node:test';
import initSqlJs from 'sql.js';
import { recoverStore } from '../../src/adapters/sqljs/recoverStore.js';
import { SqlJsEventStore } from '../../src/adapters/sqljs/sqljsEventStore.js';
import { CorruptStoreError } from '../../src/core/errors.js';
import { buildDist, cli, repoRoot } from '../support/cli.js';
import { submitted } from '../support/events.js';
import { tempDir } from '../support/tmp.js';
import { journalRecords } from '../support/legacyStore.js';

const JOURNAL = 'events.journal';
const SNAPSHOT = 'events.sqlite';

before(() => buildDist());

/** A store of `total` one-event appends whose saved index covers everything. */
async function closedStore(dir: string, total: number): Promise<void> {
  const store = await SqlJsEventStore.open(dir);
  for (let i = 1; i <= total; i++) await store.append(`document-${i}`, [submitted(`${i}`)]);
  await store.snapshot();
  await store.close();
}

const records = journalRecords;

/** One line on stderr, naming `file` and `rag-ledger recover`, and no stack trace. */
function assertOneLine(stderr: string, file: string): void {
  const lines = stderr.trim().split('\n');
  assert.equal(lines.length, 1, `expected one line on stderr, got: ${stderr}`);
  assert.match(lines[0]!, new RegExp(file.replace(/[.]/g, '\\.')));
  assert.match(lines[0]!, /rag-ledger recover/);
  assert.doesNotMatch(stderr, /\n\s+at |unexpected error/);
}

test('the index holds no event data: each text is stored once, in the journal, and an edited index is rebuilt from it', async () => {
  const dir = tempDir();
  await closedStore(dir, 5);
  assert.equal(readFileSync(join(dir, SNAPSHOT)).includes('content of 3'), false, 'no document text in events.sqlite');
  assert.equal(readFileSync(join(dir, JOURNAL)).includes('content of 3'), true);
  const SQL = await initSqlJs();
  const db = new SQL.Database(readFileSync(join(dir, SNAPSHOT)));
  db.run('UPDATE events SET position = position + 100 WHERE position = 3');
  writeFileSync(join(dir, SNAPSHOT), db.export());
  db.close();
  const journalBefore = readFileSync(join(dir, JOURNAL));
  const log = cli(['log', '--store', dir, '--json']);
  assert.equal(log.code, 0, log.stderr);
  assertOneLine(log.stderr, 'events.sqlite');
  assert.match(log.stdout, /content of 3/);
  const append = cli(['append', '--store', dir, '--stream', 'document-9', '--type', 'DocumentSubmitted', '--data', JSON.stringify({ document_id: '9', source: 'docs/9.md', raw_content: 'x', submitted_at: '2026-01-02T03:04:05.000Z' })]);
  assert.equal(append.code, 0, append.stderr);
  assert.ok(readFileSync(join(dir, JOURNAL)).subarray(0, journalBefore.length).equals(journalBefore), 'the journal was only appended to');
  assert.ok(readdirSync(dir).some((f) => f.startsWith('events.sqlite.damaged-')), 'the edited index is kept aside');
  const verify = cli(['verify', '--store', dir]);
  assert.equal(verify.code, 0, verify.stderr);
});

test('a flipped byte in the last complete journal record is corruption: writers refuse, recover keeps the bytes aside', async () => {
  const dir = tempDir();
  // Left as a crashed writer leaves it: no close, so the snapshot covers only the first appends.
  const store = await SqlJsEventStore.open(dir);
  for (let i = 1; i <= 3; i++) await store.append(`document-${i}`, [submitted(`${i}`)]);
  await store.snapshot();
  await store.append('document-4', [submitted('4')]); // acknowledged
  void store; // locks are held per append: a killed process leaves none behind (its fds die with it)

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
  void store; // locks are held per append: a killed process leaves none behind (its fds die with it)
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

test('a flipped byte in the SQLite index: readers rebuild it in memory with one warning line, a writer rebuilds it on disk', async () => {
  const dir = tempDir();
  await closedStore(dir, 60);
  const path = join(dir, SNAPSHOT);
  const bytes = readFileSync(path);
  const at = Math.floor(bytes.length * 0.6);
  bytes[at] = bytes[at]! ^ 0xff;
  writeFileSync(path, bytes);
  for (const args of [['log'], ['log', '--json']]) {
    const r = cli([...args, '--store', dir]);
    assert.equal(r.code, 0, `${args[0]}: ${r.stderr}`);
    assertOneLine(r.stderr, 'events.sqlite');
  }
  const verify = cli(['verify', '--store', dir]);
  assert.equal(verify.code, 0, verify.stderr);
  const store = await SqlJsEventStore.open(dir);
  assert.equal((await store.head()).position, 60);
  await store.close();
  assert.ok(readdirSync(dir).some((f) => f.startsWith('events.sqlite.damaged-')));
  const again = cli(['log', '--store', dir]);
  assert.equal(again.stderr, '', 'the rebuilt index is trusted again');
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

test('a process holding the store open and another process append in turns: each catches up, nothing is lost', async () => {
  const dir = tempDir();
  const holder = startHolder(dir, 2);
  try {
    assert.match(await holder.next(), /^ready \d+$/);
    const second = await SqlJsEventStore.open(dir);
    await second.append('second-1', [submitted('second')]);
    holder.send('append 1');
    assert.equal(await holder.next(), 'appended 4', 'the holder caught up with the second process before appending');
    await second.append('second-1', [submitted('second again')]);
    assert.equal((await second.head()).position, 5);
    await second.close();
    holder.send('close');
    assert.equal(await holder.next(), 'closed');
    const store = await SqlJsEventStore.open(dir, { mode: 'read' });
    try {
      const ids = [];
      for await (const e of store.readAll()) if (e.type === 'DocumentSubmitted') ids.push(e.streamId);
      assert.deepEqual(ids, ['held-1', 'held-1', 'second-1', 'held-1', 'second-1']);
      assert.equal((await store.verify()).ok, true);
    } finally {
      await store.close();
    }
  } finally {
    holder.dispose();
  }
});
