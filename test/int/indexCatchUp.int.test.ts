// A vector table holding fewer rows than the log says were indexed (another member of a team ledger
// indexed the documents, a rebuild was cut off): sync writes exactly the documents whose rows are
// missing, with their vectors from the log, and the table ends as a full rebuild would leave it.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { test } from 'node:test';
import * as lancedb from '@lancedb/lancedb';
import { VECTORS_DIR } from '../../src/adapters/ledger.js';
import { tableNameFor } from '../../src/adapters/lancedb/lanceVectorIndex.js';
import { workspaceFiles } from '../support/ingestChecks.js';
import { openPipelineHarness } from '../support/pipelineHarness.js';

async function tableDigest(dir: string, pv: string): Promise<{ rows: number; digest: string }> {
  const db = await lancedb.connect(dir);
  try {
    const table = await db.openTable(tableNameFor(pv));
    const rows = (await table.query().select(['chunk_id', 'document_id', 'text', 'vector']).toArray()) as { chunk_id: string; document_id: string; text: string; vector: { toArray(): Float32Array } | null }[];
    table.close();
    const lines = rows.map((r) => `${r.chunk_id} ${r.document_id} ${createHash('sha256').update(r.text).digest('hex')} ${r.vector ? Buffer.from(Float32Array.from(r.vector.toArray()).buffer).toString('hex') : '-'}`).sort();
    return { rows: rows.length, digest: createHash('sha256').update(lines.join('\n')).digest('hex') };
  } finally {
    db.close();
  }
}

test('sync writes only the documents whose rows the table lacks, vectors from the log, and reaches the full table', async (t) => {
  const { h, index, pv, indexer, run } = await openPipelineHarness(t, workspaceFiles(24, 3));
  const first = await run();
  assert.equal(first.documents, 24);
  const dir = join(h.storeDir, VECTORS_DIR);
  const full = await tableDigest(dir, pv);
  const counts = await index.documentRowCounts(pv);
  assert.equal(counts.size, 24);
  assert.equal([...counts.values()].reduce((a, b) => a + b, 0), full.rows);

  // Seven documents' rows go missing, as in the index of a member that never indexed them.
  const gone = [...counts.keys()].sort().slice(0, 7);
  const goneRows = gone.reduce((n, id) => n + counts.get(id)!, 0);
  const db = await lancedb.connect(dir);
  const table = await db.openTable(tableNameFor(pv));
  await table.delete(`document_id IN (${gone.map((id) => `'${id}'`).join(', ')})`);
  table.close();
  db.close();
  // The index's own handle sees the other writer's version within its consistency interval.
  const deadline = Date.now() + 5000;
  while ((await index.rowCount(pv)) !== full.rows - goneRows && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  assert.equal(await index.rowCount(pv), full.rows - goneRows);

  const eventsBefore = (await h.events()).length;
  const report = await indexer.sync(pv);
  assert.deepEqual([report.documents, report.upserted], [7, goneRows], 'exactly the seven documents are written again');
  assert.deepEqual(await tableDigest(dir, pv), full, 'the table is as it was, vectors included');
  // Their ChunkIndexed events were in the log already: nothing is recorded twice.
  assert.equal((await h.events()).length, eventsBefore);
  assert.deepEqual(await indexer.sync(pv), { documents: 0, upserted: 0, removedDocuments: 0 });
});
