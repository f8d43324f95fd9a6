import { SqlJsEventStore } from '../src/adapters/sqljs/sqljsEventStore.js';
import { makeCalls } from './storeWorkload.js';
import { mkdtempSync } from 'node:fs';
(async () => {
  const calls = makeCalls(600, 100, 'p');
  const store = await SqlJsEventStore.open(mkdtempSync('/tmp/prof-'));
  for (const c of calls) await store.append(c.streamId, c.events, { expectedVersion: 'no_stream' });
  await store.close();
})();
