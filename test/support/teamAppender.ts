// Child process for test/int/teamLedger.int.test.ts. Not a test itself.
//
//   node --import tsx test/support/teamAppender.ts <ledgerUrl> <member>
//
// A member appending to the team ledger as fast as it can, in batches of 1 to 20 events over
// several streams (appendMany), each event with an id of its own. After each append returns it
// prints `acked <id> <id> …`: an id printed here was acknowledged, so it must be in the log
// whatever happens to this process next (the test kills it with SIGKILL at a random moment).
import { PgEventStore } from '../../src/adapters/postgres/pgEventStore.js';
import type { StreamWrite } from '../../src/core/eventStore.js';

const [url, member] = process.argv.slice(2);
if (!url || !member) {
  process.stderr.write('usage: teamAppender.ts <ledgerUrl> <member>\n');
  process.exit(2);
}

async function main(url: string, member: string): Promise<void> {
  const store = await PgEventStore.open(url);
  process.stdout.write('ready\n');
  for (let n = 0; ; n++) {
    const size = 1 + (n % 20);
    const writes: StreamWrite[] = [];
    const ids: string[] = [];
    for (let i = 0; i < size; i++) {
      const id = `${member}-${process.pid}-${n}-${i}`;
      ids.push(id);
      writes.push({ streamId: `query-${id}`, events: [{ type: 'QueryReceived', eventId: id, data: { query_id: id, query_text: `question ${n}.${i} from ${member}`, user_id: member, received_at: '2026-01-02T03:04:05.000Z' } }] });
    }
    await store.appendMany(writes);
    process.stdout.write(`acked ${ids.join(' ')}\n`);
  }
}

main(url, member).catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
