import type { EventType, JsonValue } from '../events/eventCatalog.js';
import type { RecordedEvent } from '../eventStore.js';

/** One read model's documents, as seen by its handler while it folds events. */
export interface ProjectionView {
  get(key: string): JsonValue | undefined;
  put(key: string, doc: JsonValue): void;
  delete(key: string): void;
}

/**
 * A read model built by folding the log. Handlers are deterministic functions of the events
 * they are given and the projection's own documents: no clock, no I/O. Bump `version`
 * whenever `handle` changes meaning; the runner then rebuilds the projection from the log.
 */
export interface Projection {
  readonly name: string;
  readonly version: number;
  /** The event types this projection consumes (the runner reads only these). */
  readonly eventTypes: readonly EventType[];
  handle(event: RecordedEvent, view: ProjectionView): void;
}

/** Where a projection has got to. Committed in the same transaction as its documents. */
export interface Checkpoint {
  readonly version: number;
  readonly position: number;
}

/**
 * Storage for projection documents and checkpoints. `commit` writes a batch of document
 * changes and the checkpoint atomically: a reader never sees one without the other.
 */
export interface ProjectionStore {
  checkpoint(name: string): Checkpoint | undefined;
  get(name: string, key: string): JsonValue | undefined;
  /** All documents of a projection whose key starts with `prefix`, in key order. */
  list(name: string, prefix?: string): Iterable<readonly [string, JsonValue]>;
  /**
   * The first `limit` documents whose key starts with `prefix`, ordered by a numeric field of the
   * document (descending, ties by key), without loading the others.
   */
  topBy(name: string, prefix: string, field: string, limit: number): (readonly [string, JsonValue])[];
  /** How many documents whose key starts with `prefix` have each value of a field (or all of them, under ''). */
  countBy(name: string, prefix: string, field?: string): Map<string, number>;
  commit(name: string, changes: ReadonlyMap<string, JsonValue | null>, checkpoint: Checkpoint): void;
  /** Deletes all documents and the checkpoint of a projection, atomically. */
  truncate(name: string): void;
  /** Persists committed state (no-op for stores without files). */
  flush(): Promise<void>;
  /** Persists a projection and lets go of its documents in memory (read back when next used). */
  unload?(name: string): Promise<void>;
  /** Persists committed state with nothing of deleted documents left in the file's free space (after a forget). */
  compact?(): Promise<void>;
  close(): Promise<void>;
}
