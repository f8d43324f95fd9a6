import assert from 'node:assert/strict';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { openLedger } from '../../src/adapters/ledger.js';
import { SqlJsProjectionStore } from '../../src/adapters/sqljs/sqljsProjectionStore.js';
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

test('a damaged projections file is moved aside and the read models are rebuilt from the log', async (t) => {
  const dir = tempDir(t);
  const ledger = await openLedger(dir);
  await ledger.events.append('document-a', [submitted('a')]);
  await ledger.runner.catchUp();
  await ledger.close();
  writeFileSync(join(dir, 'projections.sqlite'), 'garbage, not a database');
  const moved: string[] = [];
  const again = await openLedger(dir, { onProjectionsDiscarded: (to) => moved.push(to) });
  t.after(() => again.close());
  assert.equal(moved.length, 1);
  assert.ok(existsSync(moved[0]!));
  assert.ok(readdirSync(dir).some((f) => f.startsWith('projections.sqlite.damaged-')));
  await again.runner.catchUp();
  assert.equal(again.readModels.document('a')?.state, 'submitted');
});
