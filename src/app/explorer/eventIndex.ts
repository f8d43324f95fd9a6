import type { IndexEntry } from '../../core/explorer/indexEntry.js';
import type { TimelineFilter } from '../../shared/explorerModel.js';

/** The filter fields the event index answers itself (text goes to the TextIndex). */
export type IndexFilter = Omit<TimelineFilter, 'text'>;

/**
 * The rows of the timeline that match one filter: counted once, then read a page at a time by row
 * index. A selection follows the index as it grows (new rows can only come after the old ones).
 */
export interface IndexSelection {
  /** Rows matching, as of the index's checkpoint. */
  total(): Promise<number>;
  /** Log positions of rows [start, start + limit), ascending. */
  positions(start: number, limit: number): Promise<number[]>;
  /** The index of the first row at or after `position` (total when there is none). */
  locate(position: number): Promise<number>;
}

/** Counts over time buckets, per event type. */
export interface TypeDensity {
  readonly from: number;
  readonly bucketMs: number;
  readonly buckets: number;
  readonly byType: ReadonlyMap<string, readonly number[]>;
}

/** A retrieval that cited a chunk. */
export interface Citation {
  readonly chunkId: string;
  readonly position: number;
  readonly rank: number;
}

/**
 * The explorer's index of the log: one small row per event (type, stream, correlation, pipeline
 * version, time, failure) with the indexes that filters and paging need, stream labels, and which
 * retrievals cited which chunk. A projection: rebuilt from the log when missing or out of date.
 */
export interface EventIndex {
  /** The last log position indexed (0: empty). */
  readonly checkpoint: number;
  /** The hash of the event at the checkpoint (detects a log replaced under the index). */
  readonly checkpointHash: string | null;
  /** False for a read-only process: the index is kept in memory and never written. */
  readonly writable: boolean;
  /** Adds the entries of positions checkpoint + 1 … in order, atomically, and moves the checkpoint. */
  apply(entries: readonly IndexEntry[], lastHash: string): void;
  /** The rows matching a filter, restricted to `candidates` (ascending positions) when given. */
  select(filter: IndexFilter, candidates?: readonly number[]): Promise<IndexSelection>;
  /** Events per type in `buckets` equal spans of time over the whole log, or over the filter's time range. */
  density(filter: IndexFilter, buckets: number, candidates?: readonly number[]): Promise<TypeDensity>;
  /** What each stream stands for (a path, a question, a pipeline label), for the streams that have a label. */
  labels(streamIds: readonly string[]): Map<string, string>;
  /** Retrievals and replays that cited any of these chunks, most recent first. */
  citations(chunkIds: readonly string[], limit: number): Citation[];
  /** Writes the index to disk if it changed (no-op when read-only). */
  flush(): Promise<void>;
  /** Drops everything (the next catch-up rebuilds from the log). */
  reset(): void;
  close(): Promise<void>;
}

/** Full-text search over the words of events, by log position. */
export interface TextIndex {
  /** Adds the searchable words of events (ascending positions). */
  add(rows: readonly { readonly position: number; readonly words: string }[]): Promise<void>;
  /**
   * Positions (ascending, at most `maxPosition`) of events whose words include every one of
   * `words`; at most `limit`, `truncated` when more matched.
   */
  search(words: readonly string[], maxPosition: number, limit: number): Promise<{ readonly positions: number[]; readonly truncated: boolean }>;
  /** Removes rows after a position (rows added past the checkpoint a crash lost). */
  deleteAfter(position: number): Promise<void>;
  /**
   * Folds recently added rows into the index and compacts, when enough have accumulated (at least
   * `minPending`, default the index's own threshold).
   */
  maintain(minPending?: number): Promise<void>;
  /** Drops everything. */
  reset(): Promise<void>;
  close(): Promise<void>;
}
