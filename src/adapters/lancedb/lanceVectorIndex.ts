import { shareNewFiles } from '../node/sharedFolder.js';
import './lanceRuntime.js';
import { lanceSession } from './lanceSession.js';
import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import * as lancedb from '@lancedb/lancedb';
import { Field, FixedSizeList, Float32, Int32, Schema, Utf8 } from 'apache-arrow';
import { buildTimeoutMsFrom } from './buildDeadline.js';
import type { IndexBuildOp } from './indexBuildRequest.js';
import { OUT_OF_PROCESS_FROM_ROWS, runIndexBuild } from './indexBuildProcess.js';
import type { IndexHit, IndexStats, IndexedChunk, VectorIndex } from '../../app/indexing/vectorIndex.js';
import { SCRATCH_PREFIX } from '../../app/indexing/vectorIndex.js';
import { VectorIndexUnusableError } from '../../core/errors.js';

export interface LanceIndexOptions {
  /** Build an ANN (IVF-RQ) index once a table holds this many vectors. Default 5,000 (flat search costs ~25 ms at 10k). */
  readonly annThreshold?: number;
  /** Deadline for building or optimising an index (default $RAG_LEDGER_INDEX_BUILD_TIMEOUT seconds, else 600 s). */
  readonly buildTimeoutMs?: number;
  /**
   * Drop scratch tables (point-in-time retrieval) left by a process that died mid-replay. Only for
   * the holder of the store's write lock: another process's replay may be using its scratch table.
   */
  readonly sweepScratch?: boolean;
  /** Build indexes of tables with at least this many rows in a process of their own (default OUT_OF_PROCESS_FROM_ROWS). */
  readonly outOfProcessFromRows?: number;
}

/** Table names: `chunks_` and the pipeline version with characters LanceDB dislikes replaced. */
export const tableNameFor = (pipelineVersion: string): string => `chunks_${pipelineVersion.replace(/[^A-Za-z0-9_]/g, '_')}`;

/** IVF partitions searched per query. */
const ANN_NPROBES = 20;
/**
 * Re-rank refineFactor x k candidates with the full vectors: undoes the quantisation's errors and
 * breaks exact ties like flat search does (by row id). At least ANN_RERANKED candidates (20 per result
 * up to k = 10), fewer per result beyond: hybrid retrieval asks for 32, and re-ranking 640 rows (random
 * reads of whole vectors) made a search over 200k chunks twice as slow as over 4k, for nothing the
 * fused top 8 could use.
 */
const ANN_REFINE = 20;
const ANN_RERANKED = 200;
const refineFor = (k: number): number => Math.min(ANN_REFINE, Math.max(5, Math.ceil(ANN_RERANKED / Math.max(1, k))));
/** Only for an HNSW index left by an older version until optimize replaces it: its ef must cover k x refine. */
const LEGACY_HNSW_EF = 120;

const quote = (s: string): string => `'${s.replace(/'/g, "''")}'`;

interface Row {
  chunk_id: string;
  document_id: string;
  document_version: number;
  path: string;
  start_line: number;
  end_line: number;
  text: string;
  _distance?: number;
  _score?: number;
}

/**
 * LanceDB on disk, one table per pipeline version: chunk id, document id and version, path,
 * lines, text and a nullable vector (null for chunks without one: lexical retrieval still finds
 * them), plus a full-text index on the text.
 */
/** A point-in-time scratch table untouched this long belongs to a replay that died (replays take seconds). */
const SCRATCH_STALE_MS = 15 * 60 * 1000;

export class LanceVectorIndex implements VectorIndex {
  private readonly tables = new Map<string, lancedb.Table>();

  private constructor(
    private readonly db: lancedb.Connection,
    readonly location: string,
    private readonly options: { readonly annThreshold: number; readonly buildTimeoutMs: number; readonly outOfProcessFromRows: number },
  ) {}

  static async open(dir: string, options: LanceIndexOptions = {}): Promise<LanceVectorIndex> {
    if (existsSync(dir) && !statSync(dir).isDirectory()) throw new VectorIndexUnusableError(dir, 'it is a file, not a folder');
    // Tables written by another process (a second window, the CLI) are seen within a second.
    const db = await lancedb.connect(dir, { readConsistencyInterval: 1, session: lanceSession() });
    if (options.sweepScratch === true) {
      // Only stale ones: another process sharing the store may be replaying into its own right now.
      const scratch = tableNameFor(SCRATCH_PREFIX);
      const stale = (name: string): boolean => {
        try {
          return Date.now() - statSync(join(dir, `${name}.lance`)).mtimeMs > SCRATCH_STALE_MS;
        } catch {
          return true;
        }
      };
      for (const name of await db.tableNames()) if (name.startsWith(scratch) && stale(name)) await db.dropTable(name);
      // A scratch table whose creation was cut off has a folder but is not listed.
      if (existsSync(dir)) for (const f of readdirSync(dir)) if (f.startsWith(scratch) && f.endsWith('.lance') && stale(f.slice(0, -'.lance'.length))) rmSync(join(dir, f), { recursive: true, force: true });
    }
    return new LanceVectorIndex(db, dir, {
      annThreshold: options.annThreshold ?? 5_000,
      buildTimeoutMs: buildTimeoutMsFrom(options.buildTimeoutMs),
      outOfProcessFromRows: options.outOfProcessFromRows ?? OUT_OF_PROCESS_FROM_ROWS,
    });
  }

  private async table(pipelineVersion: string, dimensions?: number): Promise<lancedb.Table | null> {
    const name = tableNameFor(pipelineVersion);
    const cached = this.tables.get(name);
    if (cached) return cached;
    let table: lancedb.Table | null = null;
    if ((await this.db.tableNames()).includes(name)) {
      try {
        table = await this.db.openTable(name);
      } catch (err) {
        // A table whose creation was cut off (a process killed mid-write) has a folder but no
        // version. The table is a projection of the log: drop what is there; sync rebuilds it.
        if (!/not found|_versions/i.test((err as Error).message)) throw err;
        rmSync(join(this.location, `${name}.lance`), { recursive: true, force: true });
      }
    }
    if (!table && dimensions !== undefined) table = await this.db.createEmptyTable(name, schemaFor(dimensions));
    if (table) this.tables.set(name, table);
    return table;
  }

  async replaceDocuments(pipelineVersion: string, dimensions: number, documentIds: readonly string[], rows: readonly IndexedChunk[]): Promise<void> {
    return this.shared(() => this.writeDocuments(pipelineVersion, dimensions, documentIds, rows));
  }

  private async writeDocuments(pipelineVersion: string, dimensions: number, documentIds: readonly string[], rows: readonly IndexedChunk[]): Promise<void> {
    if (documentIds.length === 0) return;
    const table = rows.length > 0 ? (await this.table(pipelineVersion, dimensions))! : await this.table(pipelineVersion);
    if (!table) return;
    const scope = `document_id IN (${documentIds.map(quote).join(', ')})`;
    if (rows.length === 0) {
      await table.delete(scope);
      return;
    }
    await table.mergeInsert('chunk_id').whenMatchedUpdateAll().whenNotMatchedInsertAll().whenNotMatchedBySourceDelete({ where: scope }).execute(rows.map(toRecord));
  }

  async addDocuments(pipelineVersion: string, dimensions: number, rows: readonly IndexedChunk[]): Promise<void> {
    if (rows.length === 0) return;
    return this.shared(async () => {
      await (await this.table(pipelineVersion, dimensions))!.add(rows.map(toRecord));
    });
  }

  async optimize(pipelineVersion: string, options: { readonly scratch?: boolean } = {}): Promise<void> {
    return this.shared(() => this.buildIndexes(pipelineVersion, options));
  }

  private async buildIndexes(pipelineVersion: string, options: { readonly scratch?: boolean }): Promise<void> {
    const table = await this.table(pipelineVersion);
    if (!table) return;
    const name = tableNameFor(pipelineVersion);
    const ms = this.options.buildTimeoutMs;
    const where = `${this.location} (table ${name})`;
    const outOfProcess = (await table.countRows()) >= this.options.outOfProcessFromRows;
    const build = async (what: string, op: IndexBuildOp): Promise<void> => {
      try {
        await runIndexBuild(what, where, ms, { dir: this.location, table: name, op }, { table, outOfProcess });
      } finally {
        // Another process built it (or committed before it failed): this handle moves to the latest version.
        if (outOfProcess) await table.checkoutLatest();
      }
    };
    await build('full-text index', { kind: 'fts', column: 'text', options: {} });
    if (options.scratch) return;
    await build('vector index', { kind: 'ann', threshold: this.options.annThreshold });
    await build('optimised index', { kind: 'optimize' });
  }

  async vectorSearch(pipelineVersion: string, vector: Float32Array, k: number): Promise<IndexHit[]> {
    const table = await this.table(pipelineVersion);
    if (!table) return [];
    const rows = (await table
      .vectorSearch(Array.from(vector))
      .distanceType('cosine')
      .nprobes(ANN_NPROBES)
      .ef(Math.max(LEGACY_HNSW_EF, k * refineFor(k)))
      .refineFactor(refineFor(k))
      .limit(k)
      .select(['chunk_id', 'document_id', 'document_version', 'path', 'start_line', 'end_line', 'text', '_distance'])
      .toArray()) as Row[];
    return rows.map((r) => hit(r, 1 - (r._distance ?? 1)));
  }

  async lexicalSearch(pipelineVersion: string, text: string, k: number): Promise<IndexHit[]> {
    const table = await this.table(pipelineVersion);
    if (!table || text.trim().length === 0) return [];
    const rows = (await table
      .query()
      .fullTextSearch(text, { columns: ['text'] })
      .limit(k)
      .select(['chunk_id', 'document_id', 'document_version', 'path', 'start_line', 'end_line', 'text', '_score'])
      .toArray()) as Row[];
    return rows.map((r) => hit(r, r._score ?? 0));
  }

  async chunkIds(pipelineVersion: string): Promise<Set<string>> {
    const table = await this.table(pipelineVersion);
    if (!table) return new Set();
    const rows = (await table.query().select(['chunk_id']).toArray()) as { chunk_id: string }[];
    return new Set(rows.map((r) => r.chunk_id));
  }

  async documentRowCounts(pipelineVersion: string): Promise<Map<string, number>> {
    const counts = new Map<string, number>();
    const table = await this.table(pipelineVersion);
    if (!table) return counts;
    // Batch by batch: one column of a large table is never held whole.
    for await (const batch of table.query().select(['document_id'])) {
      const column = batch.getChild('document_id');
      if (!column) continue;
      for (let i = 0; i < batch.numRows; i++) {
        const id = column.get(i) as string;
        counts.set(id, (counts.get(id) ?? 0) + 1);
      }
    }
    return counts;
  }

  async stats(pipelineVersion: string): Promise<IndexStats> {
    const table = await this.table(pipelineVersion);
    if (!table) return { rows: 0, withVectors: 0, annIndex: false, textIndex: false };
    const indices = await table.listIndices();
    return { rows: await table.countRows(), withVectors: await table.countRows('vector IS NOT NULL'), annIndex: indices.some((i) => i.columns.includes('vector')), textIndex: indices.some((i) => i.columns.includes('text')) };
  }

  async rowCount(pipelineVersion: string): Promise<number> {
    const table = await this.table(pipelineVersion);
    return table ? table.countRows() : 0;
  }

  async drop(pipelineVersion: string): Promise<void> {
    const name = tableNameFor(pipelineVersion);
    this.tables.get(name)?.close();
    this.tables.delete(name);
    if ((await this.db.tableNames()).includes(name)) await this.db.dropTable(name);
  }

  /** Runs a write; in a store shared with a group, its new files are then made readable by the group. */
  private async shared(write: () => Promise<void>): Promise<void> {
    try {
      await write();
    } finally {
      shareNewFiles(this.location);
    }
  }

  async close(): Promise<void> {
    for (const t of this.tables.values()) t.close();
    this.tables.clear();
    this.db.close();
  }
}

function schemaFor(dimensions: number): Schema {
  return new Schema([
    new Field('chunk_id', new Utf8(), false),
    new Field('document_id', new Utf8(), false),
    new Field('document_version', new Int32(), false),
    new Field('path', new Utf8(), false),
    new Field('start_line', new Int32(), false),
    new Field('end_line', new Int32(), false),
    new Field('text', new Utf8(), false),
    new Field('vector', new FixedSizeList(dimensions, new Field('item', new Float32(), true)), true),
  ]);
}

function toRecord(r: IndexedChunk): Record<string, unknown> {
  return {
    chunk_id: r.chunkId,
    document_id: r.documentId,
    document_version: r.documentVersion,
    path: r.path,
    start_line: r.startLine,
    end_line: r.endLine,
    text: r.text,
    vector: r.vector ? Array.from(r.vector) : null,
  };
}

function hit(r: Row, score: number): IndexHit {
  return { chunkId: r.chunk_id, documentId: r.document_id, path: r.path, startLine: r.start_line, endLine: r.end_line, text: r.text, score };
}
