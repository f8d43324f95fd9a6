// Child process for lanceRuntime.int.test.ts: builds a pipeline table's full-text index over many
// chunks with the real LanceDB adapter (run it under `taskset -c 0,1`), then prints what it built.
import { availableParallelism } from 'node:os';
import { LanceVectorIndex } from '../../src/adapters/lancedb/lanceVectorIndex.js';
import type { IndexedChunk } from '../../src/app/indexing/vectorIndex.js';

const [dir, countArg, wordsArg] = process.argv.slice(2);
const count = Number(countArg);
/** Words per chunk text beyond its marker (the posting lists must be large enough to fill lance's pipeline). */
const words = Number(wordsArg ?? '0');

/** A deterministic text of `n` words from a 20,000-word vocabulary. */
function textOf(i: number, n: number): string {
  const out = [`chunk${i}`];
  let x = i + 1;
  for (let j = 0; j < n; j++) {
    x = (x * 1103515245 + 12345) % 2147483648;
    out.push(`w${x % 20000}`);
  }
  return out.join(' ');
}
const PV = 'pv-fts';
const DOCS = 40;

async function main(): Promise<void> {
  const index = await LanceVectorIndex.open(dir!);
  const perDoc = Math.ceil(count / DOCS);
  for (let d = 0; d < DOCS; d++) {
    const rows: IndexedChunk[] = [];
    for (let i = d * perDoc; i < Math.min(count, (d + 1) * perDoc); i++) {
      // Small texts, no vectors: the full-text build is what is under test.
      rows.push({ chunkId: `c${i}`, documentId: `d${d}`, documentVersion: 1, path: `f${d}.md`, startLine: i, endLine: i, text: textOf(i, words), vector: null });
    }
    await index.replaceDocuments(PV, 2, [`d${d}`], rows);
  }
  await index.optimize(PV);
  const stats = await index.stats(PV);
  const hits = await index.lexicalSearch(PV, 'chunk12345', 3);
  await index.close();
  process.stdout.write(`${JSON.stringify({ parallelism: availableParallelism(), lanceThreads: process.env.LANCE_CPU_THREADS ?? null, stats, hit: hits[0]?.chunkId ?? null })}\n`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`${String((err as Error)?.stack ?? err)}\n`);
    // A build that timed out leaves native work running: exit anyway.
    process.exit(1);
  },
);
