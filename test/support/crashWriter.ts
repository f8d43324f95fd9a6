// Child process for test/int/crash.int.test.ts. Not a test itself.
//
//   node --import tsx test/support/crashWriter.ts <storeDir> <runTag> <snapshotEveryBytes>
//
// Loads its code (and sql.js) first and prints `warm`, then waits for a line `go` on stdin, so
// that the parent can start the next writer while it checks the store after the last kill.
// It then opens the store for writing, prints `ready`, and appends batches forever: each batch is
// ONE append call of 1-5 events to a random stream. After each append resolves it prints
// `ack <batchId> <n>`. The parent kills it with SIGKILL at a random moment.
//
// Every event names its batch and the batch size, so the parent can check atomicity:
//   DocumentSubmitted: document_id `${batchId}-${i}`, raw_content `batch ${batchId} size ${n} item ${i}`
//   ChunkEmbedded:     chunk_id    `${batchId}-${i}`, embedding_model `crash-size-${n}`,
//                      vector = crashVector(batchId, i) (an attachment)
import { createInterface } from 'node:readline';
import { SqlJsEventStore } from '../../src/adapters/sqljs/sqljsEventStore.js';
import { loadSqlJs } from '../../src/adapters/sqljs/sqlJsLoader.js';
import type { NewEvent } from '../../src/core/eventStore.js';
import { crashVector } from './crashShared.js';

const [dir, runTag, snapshotArg] = process.argv.slice(2);
if (!dir || !runTag) {
  process.stderr.write('usage: crashWriter.ts <storeDir> <runTag> [snapshotEveryBytes]\n');
  process.exit(2);
}
const at = '2026-01-02T03:04:05.000Z';
const STREAMS = 7;

function event(batchId: string, i: number, n: number): NewEvent {
  if (Math.random() < 0.2) {
    const vector = crashVector(batchId, i);
    return {
      type: 'ChunkEmbedded',
      data: { chunk_id: `${batchId}-${i}`, embedding_model: `crash-size-${n}`, dimensions: vector.length, vector, embedded_at: at },
    };
  }
  return {
    type: 'DocumentSubmitted',
    data: { document_id: `${batchId}-${i}`, source: `crash/${batchId}.md`, raw_content: `batch ${batchId} size ${n} item ${i}`, submitted_at: at },
  };
}

/** Resolves on the first line `go`; exits if stdin ends first (the parent is gone). */
async function waitForGo(): Promise<void> {
  for await (const line of createInterface({ input: process.stdin })) if (line.trim() === 'go') return;
  process.exit(0);
}

async function main(dir: string, runTag: string): Promise<void> {
  await loadSqlJs();
  process.stdout.write('warm\n');
  await waitForGo();
  const store = await SqlJsEventStore.open(dir, { mode: 'write', owner: 'crash writer', snapshotEveryBytes: Number(snapshotArg ?? 20000) });
  process.stdout.write('ready\n');
  for (let seq = 0; ; seq++) {
    const batchId = `${runTag}.${seq}`;
    const n = 1 + Math.floor(Math.random() * 5);
    const events = Array.from({ length: n }, (_, i) => event(batchId, i, n));
    await store.append(`crash-s${Math.floor(Math.random() * STREAMS)}`, events);
    // stdout to a pipe is synchronous on Linux: once this returns the parent will see the line.
    process.stdout.write(`ack ${batchId} ${n}\n`);
  }
}

main(dir, runTag).catch((err: unknown) => {
  process.stderr.write(`crashWriter failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
