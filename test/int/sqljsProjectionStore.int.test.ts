import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { openLedger } from '../../src/adapters/ledger.js';
import { LEGACY_PROJECTIONS_FILE, SqlJsProjectionStore } from '../../src/adapters/sqljs/sqljsProjectionStore.js';
import { PROJECTIONS_DIR } from '../../src/adapters/sqljs/projectionShards.js';
import { loadSqlJs } from '../../src/adapters/sqljs/sqlJsLoader.js';
import { queried, submitted } from '../support/events.js';
import { tempDir } from '../support/tmp.js';

test('documents and checkpoint are committed together and survive a reopen', async (t) => {
  const dir = tempDir(t);
  const store = await SqlJsProjectionStore.open(dir, { writable: true });
  store.commit('p', new Map([['a', { n: 1 }], ['b', { n: 2 }]]), { version: 1, position: 10 });
  assert.throws(() => store.commit('p', new Map([['c', { n: 3 }], ['d', undefined as never]]), { version: 1, position: 20 }));
  assert.equal(store.get('p', 'c'), undefined, 'a failed commit leaves no documents behind');
  assert.deepEqual(store.checkpoint('p'), { version: 1, position: 10 }, 'nor a moved checkpoint');
  store.commit('p', new Map([['a', null]]), { version: 1, position: 11 });
  await store.close();
  const reopened = await SqlJsProjectionStore.open(dir, { writable: true });
  t.after(() => reopened.close());
  assert.deepEqual([...reopened.list('p')], [['b', { n: 2 }]]);
  assert.deepEqual(reopened.checkpoint('p'), { version: 1, position: 11 });
});

test('the ledger keeps read models across sessions and resumes from the checkpoint', async (t) => {
  const dir = tempDir(t);
  const first = await openLedger(dir);
  await first.events.append('document-a', [submitted('a')]);
  await first.events.append('query-1', [queried('1')]);
  await first.runner.catchUp();
  await first.close();
  const second = await openLedger(dir);
  t.after(() => second.close());
  await second.events.append('document-b', [submitted('b')]);
  const results = await second.runner.catchUp();
  assert.deepEqual(results.map((r) => [r.projection, r.fromPosition, r.handled]), [['document-status', 3, 1], ['query-history', 3, 0], ['retrieval-stats', 3, 0], ['pipelines', 3, 0]]);
  assert.deepEqual(second.readModels.documents().map((d) => d.document_id), ['a', 'b']);
  assert.equal(second.readModels.queries().length, 1);
});

test('a damaged shard is moved aside and its projection is rebuilt from the log', async (t) => {
  const dir = tempDir(t);
  const ledger = await openLedger(dir);
  await ledger.events.append('document-a', [submitted('a')]);
  await ledger.runner.catchUp();
  await ledger.close();
  const shards = join(dir, PROJECTIONS_DIR);
  const docShard = readdirSync(shards).find((f) => f.startsWith('document-status~doc~'))!;
  const bytes = readFileSync(join(shards, docShard));
  bytes[bytes.length - 10]! ^= 0xff;
  writeFileSync(join(shards, docShard), bytes);
  const moved: [string, string][] = [];
  const again = await openLedger(dir, { onProjectionsDiscarded: (to, why) => moved.push([to, why]) });
  t.after(() => again.close());
  const results = await again.runner.catchUp();
  assert.equal(moved.length, 1);
  assert.match(moved[0]![1], /does not match its digest/);
  assert.ok(existsSync(moved[0]![0]) && moved[0]![0].includes('.damaged-'));
  assert.deepEqual(results.filter((r) => r.rebuilt || r.handled > 0).map((r) => r.projection), ['document-status']);
  assert.equal(again.readModels.document('a')?.state, 'submitted');
});

test('a read-models file of the single-file layout is split into shards once, then deleted', async (t) => {
  const dir = tempDir(t);
  const SQL = await loadSqlJs();
  const old = new SQL.Database();
  old.exec(`CREATE TABLE docs (projection TEXT NOT NULL, key TEXT NOT NULL, doc TEXT NOT NULL, PRIMARY KEY (projection, key)) WITHOUT ROWID;
    CREATE TABLE checkpoints (projection TEXT PRIMARY KEY, version INTEGER NOT NULL, position INTEGER NOT NULL);
    INSERT INTO docs VALUES ('p', 'doc:a', '{"n":1}'), ('p', 'doc:b', '{"n":2}'), ('p', 'totals', '{"n":3}'), ('q', 'x:1', '"one"');
    INSERT INTO checkpoints VALUES ('p', 4, 40), ('q', 1, 41);`);
  writeFileSync(join(dir, LEGACY_PROJECTIONS_FILE), old.export());
  old.close();
  const store = await SqlJsProjectionStore.open(dir, { writable: true });
  t.after(() => store.close());
  assert.equal(existsSync(join(dir, LEGACY_PROJECTIONS_FILE)), false);
  assert.deepEqual(store.checkpoint('p'), { version: 4, position: 40 });
  assert.deepEqual([...store.list('p')], [['doc:a', { n: 1 }], ['doc:b', { n: 2 }], ['totals', { n: 3 }]]);
  assert.equal(store.get('q', 'x:1'), 'one');
  const reopened = await SqlJsProjectionStore.open(dir, { writable: false });
  t.after(() => reopened.close());
  assert.deepEqual([...reopened.list('p', 'doc:')].map(([k]) => k), ['doc:a', 'doc:b']);
  assert.deepEqual(reopened.countBy('p', ''), new Map([['', 3]]));
});

test('a garbage read-models file of the single-file layout is moved aside and rebuilt', async (t) => {
  const dir = tempDir(t);
  const ledger = await openLedger(dir);
  await ledger.events.append('document-a', [submitted('a')]);
  await ledger.close();
  rmSync(join(dir, PROJECTIONS_DIR), { recursive: true, force: true });
  writeFileSync(join(dir, LEGACY_PROJECTIONS_FILE), 'garbage, not a database');
  const moved: string[] = [];
  const again = await openLedger(dir, { onProjectionsDiscarded: (to) => moved.push(to) });
  t.after(() => again.close());
  assert.equal(moved.length, 1);
  assert.ok(readdirSync(dir).some((f) => f.startsWith(`${LEGACY_PROJECTIONS_FILE}.damaged-`)));
  await again.runner.catchUp();
  assert.equal(again.readModels.document('a')?.state, 'submitted');
});

test('two processes commit read models: neither overwrites a projection the other committed since it read it', async (t) => {
  const dir = tempDir(t);
  const a = await SqlJsProjectionStore.open(dir, { writable: true });
  a.commit('p', new Map([['k:1', 'a1']]), { version: 1, position: 1 });
  await a.flush();
  const b = await SqlJsProjectionStore.open(dir, { writable: true });
  t.after(() => b.close());
  assert.equal(b.get('p', 'k:1'), 'a1');
  a.commit('p', new Map([['k:2', 'a2']]), { version: 1, position: 2 });
  await a.close();
  // b read p before a's second commit: its own change to p is not written over a's; its new projection q is.
  b.commit('p', new Map([['k:3', 'b3']]), { version: 1, position: 3 });
  b.commit('q', new Map([['k:1', 'b']]), { version: 1, position: 3 });
  await b.flush();
  const c = await SqlJsProjectionStore.open(dir, { writable: false });
  t.after(() => c.close());
  assert.deepEqual([...c.list('p')].map(([k]) => k), ['k:1', 'k:2']);
  assert.deepEqual(c.checkpoint('p'), { version: 1, position: 2 });
  assert.equal(c.get('q', 'k:1'), 'b');
});

test('a reader keeps reading the commit it opened after a writer replaced it and deleted its files', async (t) => {
  const dir = tempDir(t);
  const w = await SqlJsProjectionStore.open(dir, { writable: true });
  t.after(() => w.close());
  w.commit('p', new Map([['a:1', 'one'], ['b:1', 'uno']]), { version: 1, position: 1 });
  await w.flush();
  const r = await SqlJsProjectionStore.open(dir, { writable: false });
  t.after(() => r.close());
  assert.equal(r.get('p', 'a:1'), 'one', 'the reader loads one shard; the other stays on disk, unread');
  w.commit('p', new Map([['a:1', null], ['b:1', 'dos']]), { version: 1, position: 2 });
  await w.compact();
  const files = readdirSync(join(dir, PROJECTIONS_DIR)).filter((f) => f.endsWith('.sqlite'));
  assert.equal(files.length, 2, `only the current shards remain: ${files.join(', ')}`);
  assert.equal(r.get('p', 'b:1'), 'uno', 'the reader still sees the commit it started from');
  assert.deepEqual(r.checkpoint('p'), { version: 1, position: 1 });
});

test('shards that grow past the memory bound move to scratch files and stay correct; nothing of them is left behind', async (t) => {
  const dir = tempDir(t);
  const scratch = (): string[] => readdirSync(tmpdir()).filter((f) => f.startsWith(`rag-ledger-shard-${process.pid}-`));
  const before = scratch();
  const store = await SqlJsProjectionStore.open(dir, { writable: true, spillBytes: 64 * 1024 });
  const text = 'x'.repeat(300);
  for (let batch = 0; batch < 10; batch++) {
    const changes = new Map<string, { n: number; text: string } | null>();
    for (let i = 0; i < 500; i++) changes.set(`doc:${String(batch * 500 + i).padStart(5, '0')}`, { n: batch * 500 + i, text });
    changes.set(`top:${batch}`, { n: batch, text: '' });
    if (batch > 0) changes.set(`doc:${String((batch - 1) * 500).padStart(5, '0')}`, null);
    store.commit('p', changes, { version: 1, position: batch + 1 });
    if (batch === 4) await store.flush();
  }
  assert.ok(scratch().length > before.length, 'the large shard was moved to a scratch file');
  assert.deepEqual(store.get('p', 'doc:04999'), { n: 4999, text });
  assert.equal(store.get('p', 'doc:00500'), undefined);
  assert.equal(store.countBy('p', 'doc:').get(''), 5000 - 9);
  assert.deepEqual(store.topBy('p', 'doc:', 'n', 2).map(([k]) => k), ['doc:04999', 'doc:04998']);
  await store.close();
  assert.deepEqual(scratch(), before, 'scratch files are deleted when the store closes');
  const reopened = await SqlJsProjectionStore.open(dir, { writable: false });
  t.after(() => reopened.close());
  assert.deepEqual(reopened.checkpoint('p'), { version: 1, position: 10 });
  assert.equal([...reopened.list('p', 'doc:')].length, 5000 - 9);
  assert.deepEqual([...reopened.list('p', 'top:')].map(([k]) => k), Array.from({ length: 10 }, (_, i) => `top:${i}`));
});
