import './lanceRuntime.js';
import * as lancedb from '@lancedb/lancedb';
import type { IndexBuildOp } from './indexBuildRequest.js';

/** Runs one build on an open table (in the build process, or in this one for a small table). */
export async function applyIndexBuild(table: lancedb.Table, op: IndexBuildOp): Promise<void> {
  switch (op.kind) {
    case 'fts':
      await table.createIndex(op.column, { config: lancedb.Index.fts(op.options), replace: true, ...(op.name === undefined ? {} : { name: op.name }) });
      return;
    case 'ann':
      await ensureAnnIndex(table, op.threshold);
      return;
    case 'optimize':
      await table.optimize();
      return;
  }
}

/** The ANN index's name records the partitions it was trained with: `vector_ivfrq_p<partitions>`. */
const ANN_INDEX_PREFIX = 'vector_ivfrq_p';

/** √n partitions, as LanceDB recommends for IVF. */
const partitionsFor = (vectors: number): number => Math.max(1, Math.round(Math.sqrt(vectors)));

/**
 * IVF with RaBitQ codes (IVF_RQ): √n partitions, built once the table holds `threshold` vectors and
 * retrained once it has grown about 4x since training (√n doubled), replacing any other vector index
 * (an HNSW graph from an older version: HNSW loses its way among the near-duplicate vectors real
 * workspaces have, e.g. the same Cargo.toml in every example). Counting the vectors reads the vector
 * column, which is why this runs in the build process for a large table. recall@10 against exact
 * search is measured by `npm run bench:pipeline`.
 */
async function ensureAnnIndex(table: lancedb.Table, threshold: number): Promise<void> {
  const withVectors = await table.countRows('vector IS NOT NULL');
  const current = (await table.listIndices()).find((i) => i.columns.includes('vector'));
  const trained = current?.name.startsWith(ANN_INDEX_PREFIX) ? Number(current.name.slice(ANN_INDEX_PREFIX.length)) : null;
  const stale = current !== undefined && (trained === null || partitionsFor(withVectors) >= 2 * trained);
  if (withVectors < threshold || (current !== undefined && !stale)) return;
  if (current) await table.dropIndex(current.name);
  const partitions = partitionsFor(withVectors);
  await table.createIndex('vector', { config: lancedb.Index.ivfRq({ distanceType: 'cosine', numPartitions: partitions }), name: `${ANN_INDEX_PREFIX}${partitions}`, replace: true });
}
