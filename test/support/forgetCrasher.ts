// Child process for test/int/forgetCrash.int.test.ts. Not a test itself.
//
//   node --import tsx test/support/forgetCrasher.ts <storeDir> <step>
//
// Opens the store for writing and forgets document "a" (every event of stream document-a); the
// store reports each step of its file replacement, and at <step> this process kills itself with
// SIGKILL, as a crash or a power cut would stop it. Prints `done` when it was not killed.
import { SqlJsEventStore } from '../../src/adapters/sqljs/sqljsEventStore.js';
import { sha256 } from '../../src/adapters/node/sha256.js';
import type { RawEvent } from '../../src/core/eventStore.js';
import { planForget } from '../../src/core/forget.js';

const [dir, step] = process.argv.slice(2);
if (!dir || !step) {
  process.stderr.write('usage: forgetCrasher.ts <storeDir> <step>\n');
  process.exit(2);
}

async function main(dir: string, step: string): Promise<void> {
  const store = await SqlJsEventStore.open(dir, { mode: 'write', owner: 'forget crasher', onForgetStep: (s) => (s === step ? process.kill(process.pid, 'SIGKILL') : undefined) });
  const rows: RawEvent[] = [];
  for await (const raw of store.readRaw()) if (raw.streamId === 'document-a') rows.push(raw);
  const { emptied, entries } = planForget(sha256, rows, 'forget-crash');
  await store.forget(
    { streamId: 'document-a', events: [{ type: 'DocumentForgotten', eventId: 'forget-crash', data: { document_id: 'a', source: 'docs/a.md', reason: 'crash test', actor: 'tester', emptied: entries, questions: [], forgotten_at: '2026-01-02T03:04:05.000Z' } }] },
    emptied,
  );
  await store.close();
  process.stdout.write('done\n');
}

main(dir, step).catch((err: unknown) => {
  process.stderr.write(`${String((err as Error)?.stack ?? err)}\n`);
  process.exit(1);
});
