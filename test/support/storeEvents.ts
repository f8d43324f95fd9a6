import { openLedger } from '../../src/adapters/ledger.js';
import type { RecordedEvent } from '../../src/core/eventStore.js';

/** Every event of the store at `dir`, read without taking its write lock (another process may hold it). */
export async function storeEvents(dir: string): Promise<RecordedEvent[]> {
  const ledger = await openLedger(dir, { mode: 'read' });
  try {
    const out: RecordedEvent[] = [];
    for await (const e of ledger.events.readAll()) out.push(e);
    return out;
  } finally {
    await ledger.close();
  }
}
