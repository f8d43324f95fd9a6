import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InMemoryEventStore } from '../../src/adapters/memory/inMemoryEventStore.js';
import { eventStoreContract } from '../support/eventStoreContract.js';
import { submitted } from '../support/events.js';

eventStoreContract('in-memory', (_t, { clock }) => Promise.resolve(new InMemoryEventStore(clock ? { clock } : {})));

async function threeEvents(): Promise<InMemoryEventStore> {
  const store = new InMemoryEventStore();
  for (const id of ['a', 'b', 'c']) await store.append(`document-${id}`, [submitted(id)]);
  return store;
}

test('verify reports the first modified event', async () => {
  const store = await threeEvents();
  const e = store.rawEvents[1]!;
  store.rawEvents[1] = { ...e, dataJson: e.dataJson.replace('content of b', 'forged') };
  const report = await store.verify();
  assert.equal(report.ok, false);
  assert.deepEqual([report.firstFailure?.position, report.firstFailure?.kind], [2, 'modified']);
});

test('verify reports a removed event', async () => {
  const store = await threeEvents();
  store.rawEvents.splice(1, 1);
  const report = await store.verify();
  assert.deepEqual([report.firstFailure?.position, report.firstFailure?.kind], [2, 'removed']);
});

test('verify reports reordered events', async () => {
  const store = await threeEvents();
  const [b, c] = [store.rawEvents[1]!, store.rawEvents[2]!];
  // Swap the events but keep positions in order, as an editor renumbering rows would.
  store.rawEvents[1] = { ...c, position: 2 };
  store.rawEvents[2] = { ...b, position: 3 };
  const report = await store.verify();
  assert.equal(report.ok, false);
  assert.equal(report.firstFailure?.position, 2);
});
