// A lock file deleted while writers append (a user's clean-up script, a sync tool): the journal
// itself refuses a second writer at the same place, so no acknowledged append is ever lost and the
// store still verifies. Real child processes on one store, with a process deleting the lock in a loop.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { CLAIM_DEBRIS_GRACE_MS, claimPath } from '../../src/adapters/sqljs/journalWriter.js';
import { SqlJsEventStore } from '../../src/adapters/sqljs/sqljsEventStore.js';
import { ownRecord } from '../../src/adapters/sqljs/storeLock.js';
import { JournalChangedError } from '../../src/core/errors.js';
import { repoRoot } from '../support/cli.js';
import { tempDir } from '../support/tmp.js';

function run(child: ChildProcess): Promise<string[]> {
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => process.stderr.write(d));
    child.on('error', reject);
    child.on('close', () => resolve(out.trim().split('\n')));
  });
}

test('writers appending while the lock file is deleted over and over: every acknowledged append is in the log, which verifies', async (t) => {
  const dir = tempDir(t);
  const store = await SqlJsEventStore.open(dir, { headSigner: null });
  await store.append('seed', [{ type: 'DocumentSubmitted', data: { document_id: 'seed', source: 'seed.md', raw_content: 'seed', submitted_at: '2026-01-02T03:04:05.000Z' } }]);
  await store.close();
  const deleter = spawn('bash', ['-c', `while true; do rm -f ${JSON.stringify(join(dir, 'store.lock'))}; done`], { stdio: 'ignore' });
  t.after(() => void deleter.kill('SIGKILL'));
  const appenders = ['a', 'b', 'c'].map((name) => run(spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'test/support/raceAppender.ts'), dir, name, '300'], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] })));
  const outputs = await Promise.all(appenders);
  deleter.kill('SIGKILL');
  const acked = outputs.flatMap((lines) => lines.filter((l) => l.startsWith('ack ')).map((l) => l.slice(4)));
  const refused = outputs.flatMap((lines) => lines.filter((l) => l.startsWith('refused ')));
  for (const lines of outputs) assert.equal(lines.at(-1), 'done', lines.slice(-3).join('\n'));
  console.log(`acknowledged ${acked.length}, refused ${refused.length} (${[...new Set(refused)].join(', ')})`);
  const reader = await SqlJsEventStore.open(dir, { mode: 'read' });
  try {
    const ids = new Set<string>();
    for await (const e of reader.readRaw(1)) ids.add(e.eventId);
    const lost = acked.filter((id) => !ids.has(id));
    assert.deepEqual(lost, [], `${lost.length} acknowledged appends are missing from the log`);
    const report = await reader.verify();
    assert.equal(report.ok, true, JSON.stringify(report.firstFailure));
  } finally {
    await reader.close();
  }
  assert.deepEqual(readdirSync(dir).filter((n) => n.includes('.append-')), [], 'no claim is left behind');
});

test('a claim on the next offset: a live writer\'s refuses the append and writes nothing; a dead writer\'s is removed', async (t) => {
  const dir = tempDir(t);
  const store = await SqlJsEventStore.open(dir, { headSigner: null });
  t.after(() => store.close());
  const event = (id: string) => [{ type: 'DocumentSubmitted' as const, data: { document_id: id, source: `${id}.md`, raw_content: id, submitted_at: '2026-01-02T03:04:05.000Z' } }];
  await store.append('one', event('one'));
  const journal = join(dir, 'events.journal');
  const size = statSync(journal).size;
  // Another live process (this one stands in) is writing at the journal's end.
  writeFileSync(claimPath(journal, size), ownRecord('another writer'));
  await assert.rejects(store.append('two', event('two')), (err: unknown) => err instanceof JournalChangedError && /another process is writing at byte \d+ at the same time/.test(err.message));
  assert.equal(statSync(journal).size, size, 'nothing was written');
  await store.close();
  // The claim of a process that is gone (a writer killed mid-append) is removed by the next writer.
  const gone = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  writeFileSync(claimPath(journal, size), JSON.stringify({ ...(JSON.parse(ownRecord('a killed writer')) as object), pid: Number(gone.stdout), startTime: null }));
  const again = await SqlJsEventStore.open(dir, { headSigner: null });
  t.after(() => again.close());
  await again.append('two', event('two'));
  assert.equal((await again.head()).position, 2);
  assert.deepEqual(readdirSync(dir).filter((n) => n.includes('.append-')), []);
});

test('an empty claim (a writer killed between creating and writing it) holds the offset only for a short grace', async (t) => {
  const dir = tempDir(t);
  const store = await SqlJsEventStore.open(dir, { headSigner: null });
  t.after(() => store.close());
  const event = (id: string) => [{ type: 'DocumentSubmitted' as const, data: { document_id: id, source: `${id}.md`, raw_content: id, submitted_at: '2026-01-02T03:04:05.000Z' } }];
  await store.append('one', event('one'));
  const journal = join(dir, 'events.journal');
  // Just created: the next append waits out the grace, then takes the offset.
  writeFileSync(claimPath(journal, statSync(journal).size), '');
  const started = Date.now();
  await store.append('two', event('two'));
  const waited = Date.now() - started;
  assert.ok(waited >= CLAIM_DEBRIS_GRACE_MS - 5, `waited ${waited} ms for a claim in its grace`);
  assert.equal((await store.head()).position, 2);
  assert.deepEqual(readdirSync(dir).filter((n) => n.includes('.append-')), []);
  // Older than the grace when a writer opens the store: removed at once.
  await store.close();
  const old = claimPath(journal, statSync(journal).size);
  writeFileSync(old, '');
  const past = new Date(Date.now() - 10 * CLAIM_DEBRIS_GRACE_MS);
  utimesSync(old, past, past);
  const again = await SqlJsEventStore.open(dir, { headSigner: null });
  t.after(() => again.close());
  assert.equal(existsSync(old), false, 'the old empty claim is removed on open');
  await again.append('three', event('three'));
  assert.equal((await again.head()).position, 3);
});
