// A store written by RAG Ledger before format 2 (its events.sqlite holds every event with its payload)
// is upgraded once, on its first open for writing: the index is built from the journal, the old file is
// kept beside the store, the user is told; readers read it meanwhile without writing anything.
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { before, test } from 'node:test';
import initSqlJs from 'sql.js';
import { SqlJsEventStore } from '../../src/adapters/sqljs/sqljsEventStore.js';
import { buildDist, cli } from '../support/cli.js';
import { submitted } from '../support/events.js';
import { writeLegacySnapshot } from '../support/legacyStore.js';
import { tempDir } from '../support/tmp.js';

before(() => buildDist());

async function formatOf(path: string): Promise<string> {
  const SQL = await initSqlJs();
  const db = new SQL.Database(readFileSync(path));
  try {
    return String(db.exec("SELECT value FROM meta WHERE key = 'format'")[0]?.values[0]?.[0]);
  } finally {
    db.close();
  }
}

test('a format-1 store: readers read it as it is; the first writer upgrades it once, keeps the old file and says so', async (t) => {
  const dir = tempDir(t);
  const store = await SqlJsEventStore.open(dir, { headSigner: null });
  for (let i = 1; i <= 40; i++) await store.append(`document-${i}`, [submitted(`${i}`)]);
  await store.close();
  await writeLegacySnapshot(dir);
  const legacy = readFileSync(join(dir, 'events.sqlite'));
  assert.equal(await formatOf(join(dir, 'events.sqlite')), '1');

  const log = cli(['log', '--store', dir, '--json']);
  assert.equal(log.code, 0, log.stderr);
  assert.equal(log.stdout.trim().split('\n').length, 40);
  assert.ok(readFileSync(join(dir, 'events.sqlite')).equals(legacy), 'a reader changes nothing');

  const append = cli(['append', '--store', dir, '--stream', 'document-41', '--type', 'DocumentSubmitted', '--data', JSON.stringify({ document_id: '41', source: 'docs/41.md', raw_content: 'content of 41', submitted_at: '2026-01-02T03:04:05.000Z' })]);
  assert.equal(append.code, 0, append.stderr);
  const kept = readdirSync(dir).find((f) => f.startsWith('events.sqlite.format1-'));
  assert.ok(kept, 'the format-1 file is kept beside the store');
  assert.ok(readFileSync(join(dir, kept)).equals(legacy));
  assert.match(append.stderr, new RegExp(`upgraded; the old file is kept as .*${kept.replace(/[.]/g, '\\.')}`));
  assert.equal(await formatOf(join(dir, 'events.sqlite')), '2');
  assert.ok(statSync(join(dir, 'events.sqlite')).size < legacy.length, 'the index holds no payloads');

  const again = cli(['append', '--store', dir, '--stream', 'document-42', '--type', 'DocumentSubmitted', '--data', JSON.stringify({ document_id: '42', source: 'docs/42.md', raw_content: 'content of 42', submitted_at: '2026-01-02T03:04:05.000Z' })]);
  assert.equal(again.code, 0, again.stderr);
  assert.doesNotMatch(again.stderr, /upgraded/, 'once');
  const verify = cli(['verify', '--store', dir, '--json']);
  assert.equal(verify.code, 0, verify.stderr);
  assert.equal((JSON.parse(verify.stdout) as { checked: number }).checked, 42);
});
