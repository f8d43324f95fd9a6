// Child process for test/int/lock.int.test.ts. Not a test itself.
//
//   node --import tsx test/support/lockHolder.ts <storeDir> <initialEvents>
//
// Opens the store for writing (taking its lock), appends <initialEvents> events to stream
// `held-1`, prints `ready <pid>`, then obeys commands on stdin, one per line:
//   append <n>   appends n events to `held-1`, then prints `appended <headPosition>`
//                (or `refused <ErrorClass>: <message>` if the store refuses the append)
//   close        closes the store (releasing the lock), prints `closed` and exits
// It holds the lock until told to close, until it is killed, or until its stdin ends.
import { createInterface } from 'node:readline';
import { SqlJsEventStore } from '../../src/adapters/sqljs/sqljsEventStore.js';
import type { NewEvent } from '../../src/core/eventStore.js';

const [dir, initialArg] = process.argv.slice(2);
if (!dir) {
  process.stderr.write('usage: lockHolder.ts <storeDir> [initialEvents]\n');
  process.exit(2);
}
let seq = 0;

function events(n: number): NewEvent[] {
  return Array.from({ length: n }, () => {
    const id = `held-${++seq}`;
    return { type: 'DocumentSubmitted', data: { document_id: id, source: `held/${id}.md`, raw_content: `held ${seq}`, submitted_at: '2026-01-02T03:04:05.000Z' } };
  });
}

async function main(dir: string): Promise<void> {
  const store = await SqlJsEventStore.open(dir, { mode: 'write', owner: 'the lock holder test process' });
  const initial = Number(initialArg ?? 0);
  if (initial > 0) await store.append('held-1', events(initial));
  process.stdout.write(`ready ${process.pid}\n`);
  const lines = createInterface({ input: process.stdin });
  for await (const line of lines) {
    const [cmd, arg] = line.trim().split(/\s+/);
    if (cmd === 'append') {
      try {
        await store.append('held-1', events(Number(arg)));
      } catch (err) {
        // A refused append is an answer, not a crash: report its error class and message.
        process.stdout.write(`refused ${(err as Error).name}: ${(err as Error).message}\n`);
        continue;
      }
      process.stdout.write(`appended ${(await store.head()).position}\n`);
    } else if (cmd === 'close') {
      await store.close();
      process.stdout.write('closed\n');
      process.exit(0);
    }
  }
  // stdin ended without `close` (the parent test is gone): do not linger as an orphan.
  process.exit(0);
}

main(dir).catch((err: unknown) => {
  process.stderr.write(`lockHolder failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
