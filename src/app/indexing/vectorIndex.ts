/**
 * Table keys starting with this are scratch tables (point-in-time retrieval): searched, then
 * dropped. One left behind by a process that died mid-replay is swept when the index is opened for
 * writing.
 */
export const SCRATCH_PREFIX = 'asof-';

/** One chunk as the index holds it: where it comes from, its text, its vector (null: lexical only). */
export interface IndexedChunk {
  readonly chunkId: string;
  readonly documentId: string;
  readonly documentVersion: number;
  readonly path: string;
  readonly startLine: number;
  readonly endLine: number;
  readonly text: string;
  readonly vector: Float32Array | null;
}

/** A search result from one ranking, best first; `score` is higher-is-better within that ranking. */
export interface IndexHit {
  readonly chunkId: string;
  readonly documentId: string;
  readonly path: string;
  readonly startLine: number;
  readonly endLine: number;
  readonly text: string;
  readonly score: number;
}

export interface IndexStats {
  readonly rows: number;
  readonly withVectors: number;
  readonly annIndex: boolean;
  /** Whether the full-text index exists (a build cut off by its deadline leaves none). */
  readonly textIndex: boolean;
}

/**
 * The vector index port: one table per pipeline version. It is a projection of the log: the
 * index service is the only writer, and dropping a table loses nothing (rebuild replays the log).
 */
export interface VectorIndex {
  /** Where the index lives (for messages). */
  readonly location: string;
  /**
   * Makes the rows of the given documents exactly `rows`, in one atomic commit: rows are added or
   * replaced by chunk id, and the documents' other rows (superseded versions, deleted documents)
   * are removed. A document listed with no rows leaves the table.
   */
  replaceDocuments(pipelineVersion: string, dimensions: number, documentIds: readonly string[], rows: readonly IndexedChunk[]): Promise<void>;
  /**
   * Appends rows of documents the table does not hold yet, without matching them against what it
   * holds: for a table being rebuilt from the log after `drop`, where every document is new. The
   * table's memory and time then stay flat as it grows (a merge reads its keys on every commit).
   */
  addDocuments(pipelineVersion: string, dimensions: number, rows: readonly IndexedChunk[]): Promise<void>;
  /**
   * Refreshes the full-text index and builds the ANN index once the table is large enough. A
   * `scratch` table (searched a few times, then dropped) gets the full-text index only: an exact
   * search of it is faster than building an ANN index for it.
   */
  optimize(pipelineVersion: string, options?: { readonly scratch?: boolean }): Promise<void>;
  vectorSearch(pipelineVersion: string, vector: Float32Array, k: number): Promise<IndexHit[]>;
  lexicalSearch(pipelineVersion: string, text: string, k: number): Promise<IndexHit[]>;
  /** Chunk ids currently in the table. */
  chunkIds(pipelineVersion: string): Promise<Set<string>>;
  /** How many rows the table holds per document (reads the document id column, batch by batch). */
  documentRowCounts(pipelineVersion: string): Promise<Map<string, number>>;
  stats(pipelineVersion: string): Promise<IndexStats>;
  /** How many rows the table holds (cheap: unlike `stats`, reads no column). */
  rowCount(pipelineVersion: string): Promise<number>;
  drop(pipelineVersion: string): Promise<void>;
  close(): Promise<void>;
}
