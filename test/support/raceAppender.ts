// Child process for test/int/lockDeleted.int.test.ts. Not a test itself.
//
//   node --import tsx test/support/raceAppender.ts <storeDir> <name> <appends>
//
// Appends <appends> events, one per call, each to a stream of its own (`<name>-<i>`), and prints
// `ack <eventId>` for every append the store acknowledged and `refused <code>` for every one it
// refused (a refused writer is reopened, as a user would rerun the command). Ends with `done`.
import { randomUUID } from 'node:crypto';
import { SqlJsEventStore } from '../../src/adapters/sqljs/sqljsEventStore.js';
import { RagLedgerError } from '../../src/core/errors.js';

const [dir, name, appendsArg] = process.argv.slice(2);
if (!dir || !name) {
  process.stderr.write('usage: raceAppender.ts <storeDir> <name> <appends>\n');
  process.exit(2);
}

async function main(dir: string, name: string): Promise<void> {
  let store = await SqlJsEventStore.open(dir, { mode: 'write', owner: `race appender ${name}`, headSigner: null, lockWaitMs: 10_000 });
  for (let i = 0; i < Number(appendsArg ?? 100); i++) {
    const eventId = randomUUID();
    try {
      await store.append(`${name}-${i}`, [{ eventId, type: 'DocumentSubmitted', data: { document_id: `${name}-${i}`, source: `${name}/${i}.md`, raw_content: `${name} ${i} ${'x'.repeat(i % 7 === 0 ? 900 : 40)}`, submitted_at: '2026-01-02T03:04:05.000Z' } }]);
      process.stdout.write(`ack ${eventId}\n`);
    } catch (err) {
      process.stdout.write(`refused ${err instanceof RagLedgerError ? err.code : (err as Error).name}\n`);
      await store.close().catch(() => undefined);
      store = await SqlJsEventStore.open(dir, { mode: 'write', owner: `race appender ${name}`, headSigner: null, lockWaitMs: 10_000 });
    }
  }
  await store.close();
  process.stdout.write('done\n');
}

main(dir, name).catch((err: unknown) => {
  process.stdout.write(`failed ${(err as Error).message.split('\n')[0]}\n`);
  process.exit(1);
});
