/**
 * Typed errors. Callers branch on the class (or `code`), never on message text.
 * Every error carries a `hint`: what the user can do about it.
 */
export abstract class RagLedgerError extends Error {
  abstract readonly code: string;
  /** What to do next, in one sentence. */
  readonly hint: string;

  protected constructor(message: string, hint: string) {
    super(message);
    this.name = new.target.name;
    this.hint = hint;
  }
}

/** An event or its envelope does not match its schema. */
export class ValidationError extends RagLedgerError {
  readonly code = 'validation';
  constructor(
    message: string,
    readonly issues: readonly string[] = [],
    hint = 'Fix the event data so that it matches the schema of its type and version.',
  ) {
    super(issues.length > 0 ? `${message}: ${issues.join('; ')}` : message, hint);
  }
}

/** The stream's version is not the one the caller expected (optimistic concurrency). */
export class ConcurrencyError extends RagLedgerError {
  readonly code = 'concurrency';
  constructor(
    readonly streamId: string,
    readonly expected: string,
    readonly actual: number,
  ) {
    super(
      `stream "${streamId}" is at version ${actual === 0 ? '0 (no stream)' : actual}, expected ${expected}`,
      'Re-read the stream and retry the command against its current version.',
    );
  }
}

/** Describes the process that holds a store's write lock. */
export interface LockHolder {
  readonly pid: number;
  readonly hostname: string;
  readonly owner: string;
  readonly acquiredAt: string;
}

/** Details of a refused lock: which file, how long the caller waited, the lease of a lock from another host. */
export interface StoreLockedDetails {
  /** The lock file, named in the hint as what to remove if the holder is gone. */
  readonly lockPath?: string;
  /** How long the caller waited for the holder to release (0 or absent: it did not wait). */
  readonly waitedMs?: number;
  /** Set when the holder is on another host: its lock lapses this long after it was taken. */
  readonly foreignLeaseMs?: number;
}

/** Another live process holds the store's write lock. */
export class StoreLockedError extends RagLedgerError {
  readonly code = 'store_locked';
  constructor(
    readonly storePath: string,
    readonly holder: LockHolder,
    readonly details: StoreLockedDetails = {},
  ) {
    const who = holder.pid > 0 ? `${holder.owner} (pid ${holder.pid} on ${holder.hostname}, since ${holder.acquiredAt})` : `${holder.owner} (since ${holder.acquiredAt})`;
    const waited = details.waitedMs ? `; waited ${details.waitedMs} ms for it` : '';
    const whoShort = holder.pid > 0 ? `${holder.owner} (pid ${holder.pid} on ${holder.hostname})` : holder.owner;
    const lapse = details.foreignLeaseMs ? ` A lock taken on another host lapses ${Math.round(details.foreignLeaseMs / 1000)} s after it was taken.` : '';
    super(
      `the event store at ${storePath} is locked by ${who}${waited}`,
      details.lockPath
        ? `Another process is writing to this store: try again, or if ${whoShort} is gone, remove ${details.lockPath}.${lapse}`
        : 'Close the other window or process that uses this store, or open this store read-only.',
    );
  }
}

/** A store file is damaged. The damaged file is never modified. */
export class CorruptStoreError extends RagLedgerError {
  readonly code = 'store_corrupt';
  constructor(
    readonly filePath: string,
    readonly detail: string,
  ) {
    super(
      `the event store file ${filePath} is damaged: ${detail}; it has not been modified`,
      'Run `rag-ledger recover --store <dir>`: it keeps the damaged file beside the store and rebuilds from what is intact.',
    );
  }
}

/**
 * The journal changed under a writer (another process wrote to the store, e.g. after its lock
 * file was removed): the writer stops before writing anything, so no acknowledged append is lost.
 */
export class JournalChangedError extends RagLedgerError {
  readonly code = 'journal_changed';
  constructor(
    readonly filePath: string,
    detail: string,
  ) {
    super(
      `the journal ${filePath} was changed by another process while this one was writing (${detail}); nothing more was written`,
      'Only one process may write a store at a time: stop the other writer, then run `rag-ledger verify` (or `rag-ledger recover`) before writing again.',
    );
  }
}

/** A forget was installing the store's rewritten files when the process stopped; a writer completes it on open. */
export class ForgetInProgressError extends RagLedgerError {
  readonly code = 'forget_in_progress';
  constructor(readonly storePath: string) {
    super(
      `a forget of the event store at ${storePath} has not finished installing its rewritten files`,
      'Open the store for writing to complete it (run `rag-ledger forget` again for the same document, or reopen the workspace); then read it again.',
    );
  }
}

/** The store was written by a newer, incompatible version of RAG Ledger. */
export class UnsupportedFormatError extends RagLedgerError {
  readonly code = 'unsupported_format';
  constructor(message: string) {
    super(message, 'Upgrade RAG Ledger to a version that understands this store.');
  }
}

/** No store exists where one was expected. */
export class StoreNotFoundError extends RagLedgerError {
  readonly code = 'store_not_found';
  constructor(readonly storePath: string) {
    super(`no event store at ${storePath}`, 'Check --store or RAG_LEDGER_STORE, or append an event to create the store.');
  }
}

/** An operation that needs an empty store was given a non-empty one. */
export class StoreNotEmptyError extends RagLedgerError {
  readonly code = 'store_not_empty';
  constructor(
    readonly storePath: string,
    readonly eventCount: number,
  ) {
    super(
      `the event store at ${storePath} already holds ${eventCount} events; import only runs into an empty store`,
      'Import into a new store directory (--store NEW_DIR).',
    );
  }
}

/** The store was opened read-only, or is closed. */
export class StoreReadOnlyError extends RagLedgerError {
  readonly code = 'store_read_only';
  constructor(storePath: string, why: string) {
    super(`the event store at ${storePath} cannot be written: ${why}`, 'Open the store for writing (only one process may write at a time).');
  }
}

/** An archive to import is malformed or inconsistent. */
export class ArchiveError extends RagLedgerError {
  readonly code = 'archive_invalid';
  constructor(
    readonly where: string,
    detail: string,
  ) {
    super(`the archive is invalid at ${where}: ${detail}`, 'Re-export the archive from its source store; do not edit archive files by hand.');
  }
}

/** The operation was cancelled by the caller. */
export class CancelledError extends RagLedgerError {
  readonly code = 'cancelled';
  constructor(what: string) {
    super(`${what} was cancelled`, 'Run it again when you are ready; completed work is kept.');
  }
}

/** The embedding model cannot be loaded (offline, missing files, a broken model). */
export class EmbeddingModelUnavailableError extends RagLedgerError {
  readonly code = 'embedding-model-unavailable';
  constructor(
    readonly model: string,
    detail: string,
  ) {
    super(
      `the embedding model "${model}" could not be loaded: ${detail}`,
      `Put a copy of the model in a local folder (it must hold ${model}/tokenizer.json, config.json and onnx/model*.onnx) and point at it with --model-dir DIR, RAG_LEDGER_MODEL_DIR or the ragLedger.embedding.modelDirectory setting; until then retrieval is lexical only.`,
    );
  }
}

/** The folder to ingest does not exist or is not a folder. */
export class FolderNotFoundError extends RagLedgerError {
  readonly code = 'folder-not-found';
  constructor(readonly path: string, detail: string) {
    super(`cannot ingest ${path}: ${detail}`, 'Check the path; nothing was changed in the store (documents are only deleted after a complete walk of an existing folder).');
  }
}

/**
 * An ingest that would delete every document the store holds: the folder shares no file with them
 * (another workspace, or an emptied folder). Refused unless asked for explicitly.
 */
export class WorkspaceMismatchError extends RagLedgerError {
  readonly code = 'workspace-mismatch';
  constructor(readonly path: string, readonly liveDocuments: number, readonly scanned: number) {
    super(
      scanned === 0
        ? `${path} has no file to ingest, so all ${liveDocuments} documents in the store would be deleted`
        : `${path} shares no file with the ${liveDocuments} documents in the store: it looks like another workspace, and ingesting it would delete them all`,
      'Nothing was changed. Ingest another workspace into its own store (--store DIR), or confirm that it replaces every document (--replace-all).',
    );
  }
}

/**
 * A batch of texts got no vectors from the embedding model within the deadline (a stuck model or
 * runtime). The worker running the model is stopped and started again for the next batch.
 */
export class EmbeddingTimeoutError extends RagLedgerError {
  readonly code = 'embedding-timeout';
  constructor(
    readonly model: string,
    readonly seconds: number,
    readonly texts: number,
  ) {
    super(
      `the embedding model "${model}" returned no vectors for a batch of ${texts} chunks within ${seconds} s; the model was restarted`,
      'Ingest again to retry the failed chunks; if it keeps happening, raise the ragLedger.embedding.batchTimeoutSeconds setting (CLI: --embed-timeout SECONDS or RAG_LEDGER_EMBED_TIMEOUT) or try another model or dtype.',
    );
  }
}

/**
 * The embedding dimensions configured for a pipeline are not the size of the vectors its model
 * produces: found in the model's config.json before anything is written, or in the first batch of
 * vectors. Nothing is recorded for the batch.
 */
export class EmbeddingDimensionsMismatchError extends RagLedgerError {
  readonly code = 'embedding-dimensions-mismatch';
  constructor(
    readonly model: string,
    readonly configured: number,
    readonly actual: number,
    /** What says the model produces `actual` (a config.json and its key, or the vectors of a batch). */
    readonly source: string,
  ) {
    super(
      `the embedding model "${model}" produces ${actual}-dimensional vectors (${source}) but ${configured} dimensions are configured`,
      `Leave out --embedding-dims (or clear the ragLedger.embedding.dimensions setting) to use the model's own size, or set it to ${actual}.`,
    );
  }
}

/**
 * No embedding dimensions were given and the model's config.json could not be found or read, so
 * the vector size (part of the pipeline version) is unknown. Nothing is written.
 */
export class EmbeddingDimensionsUnknownError extends RagLedgerError {
  readonly code = 'embedding-dimensions-unknown';
  constructor(
    readonly model: string,
    detail: string,
  ) {
    super(
      `the vector size of the embedding model "${model}" is unknown: ${detail}`,
      'Give it with --embedding-dims N (or the ragLedger.embedding.dimensions setting), or point --model-dir (RAG_LEDGER_MODEL_DIR, ragLedger.embedding.modelDirectory) at a folder holding <model id>/config.json.',
    );
  }
}

/**
 * Building or optimising a LanceDB index did not finish within the deadline. The native build cannot
 * be cancelled; the index is a projection of the log and can be rebuilt later.
 */
export class IndexBuildTimeoutError extends RagLedgerError {
  readonly code = 'index-build-timeout';
  constructor(
    readonly what: string,
    readonly location: string,
    readonly seconds: number,
  ) {
    super(
      `building the ${what} in ${location} did not finish within ${seconds} s`,
      'The log is intact; ingest again or run `rag-ledger rebuild --projection vectors` later. On machines with few cores set LANCE_CPU_THREADS=4 (or more) before starting, or raise the ragLedger.index.buildTimeoutSeconds setting (CLI: RAG_LEDGER_INDEX_BUILD_TIMEOUT).',
    );
  }
}

/** Building or optimising a LanceDB index failed, or the process building it died. The log is intact. */
export class IndexBuildFailedError extends RagLedgerError {
  readonly code = 'index-build-failed';
  constructor(
    readonly what: string,
    readonly location: string,
    detail: string,
  ) {
    super(
      `building the ${what} of ${location} failed: ${detail}`,
      'The log is intact and the index is a projection of it: the next ingest builds it again, or run `rag-ledger rebuild --projection vectors` (Rebuild Vector Index in VS Code).',
    );
  }
}

/** The vector index's folder cannot be used at all (it is a file, or not readable). */
export class VectorIndexUnusableError extends RagLedgerError {
  readonly code = 'index-unusable';
  constructor(
    readonly location: string,
    readonly detail: string,
  ) {
    super(
      `the vector index folder ${location} cannot be used: ${detail}`,
      `It holds nothing the log does not: move it aside, then run \`rag-ledger rebuild --projection vectors\` (or Rebuild Vector Index in VS Code) to rebuild it from the log.`,
    );
  }
}

/** The log has indexed chunks for a pipeline version, but its index table is gone or empty (a deleted or damaged vectors/ folder). */
export class IndexMissingError extends RagLedgerError {
  readonly code = 'index-missing';
  constructor(
    readonly pipelineVersion: string,
    readonly location: string,
    readonly indexed: number,
  ) {
    super(
      `the vector index of pipeline ${pipelineVersion} in ${location} is missing or empty, though the log has ${indexed} indexed chunks`,
      `The log is intact: run \`rag-ledger rebuild --projection vectors --pipeline ${pipelineVersion}\` to rebuild it from the log, then run the command again.`,
    );
  }
}

/** The team ledger's server cannot be reached (down, unreachable, timed out). Nothing was written. */
export class TeamLedgerUnavailableError extends RagLedgerError {
  readonly code = 'team_ledger_unavailable';
  constructor(
    readonly server: string,
    readonly detail: string,
  ) {
    super(
      `the team ledger at ${server} cannot be reached: ${detail}`,
      'Nothing was written. Check that the server is running and reachable (host, port, firewall, TLS), then run the command again; questions are still answered from this member\'s local index.',
    );
  }
}

/** The team ledger's server refused this member: wrong password, unknown role, or missing privileges. */
export class TeamLedgerAccessError extends RagLedgerError {
  readonly code = 'team_ledger_access';
  constructor(
    readonly server: string,
    detail: string,
    hint: string,
  ) {
    super(`the team ledger at ${server} refused access: ${detail}`, hint);
  }
}
