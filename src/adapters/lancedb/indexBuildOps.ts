import './lanceRuntime.js';
import * as lancedb from '@lancedb/lancedb';
import type { IndexBuildOp } from './indexBuildRequest.js';

/** Runs one build on an open table (in the build process, or in this one for a small table). */
export async function applyIndexBuild(table: lancedb.Table, op: IndexBuildOp): Promise<void> {
  switch (op.kind) {
    case 'fts':
      await table.createIndex(op.column, { config: lancedb.Index.fts(op.options), replace: true, ...(op.name === undefined ? {} : { name: op.name }) });
      return;
    case 'ivf-rq':
      await table.createIndex(op.column, { config: lancedb.Index.ivfRq({ distanceType: 'cosine', numPartitions: op.partitions }), name: op.name, replace: true });
      return;
    case 'optimize':
      await table.optimize();
      return;
  }
}
