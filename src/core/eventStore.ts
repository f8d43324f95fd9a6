import type { SealState } from './signing.js';
import { ValidationError } from './errors.js';
import type { DomainEvent, EventData, EventType, JsonValue } from './events/eventCatalog.js';

/**
 * The event store port. Implementations: the sql.js store on disk (the product) and an
 * in-memory store (tests, previews). Both pass the same contract test suite.
 */
export interface EventStore {
  /** Where the store lives (a directory, or "memory"). Used in messages. */
  readonly location: string;
  /** False when opened read-only or when another process holds the write lock. */
  readonly writable: boolean;

  /**
   * Appends events to one stream, atomically: all of them or none. Events whose `eventId`
   * is already stored are skipped (idempotent retries); if every event is already stored
   * the call is a no-op that succeeds whatever `expectedVersion` says.
   * @throws ConcurrencyError when the stream is not at `expectedVersion`.
   * @throws ValidationError when an event does not match its schema.
   */
  append(streamId: string, events: readonly NewEvent[], options?: AppendOptions): Promise<AppendResult>;

  /**
   * Appends to several streams atomically, as one durable write: every write or none. Each
   * write behaves as `append` would (idempotent event ids, its own expected version), in the
   * order given. One durable write for many streams is what makes bulk work (ingesting a
   * folder, embedding a batch) cost one flush instead of one per document.
   * @throws ConcurrencyError when any stream is not at its expected version (nothing is written).
   * @throws ValidationError when an event does not match its schema, or a stream appears twice.
   */
  appendMany(writes: readonly StreamWrite[]): Promise<readonly AppendResult[]>;

  /** Reads one stream in order. */
  readStream(streamId: string, options?: ReadStreamOptions): AsyncIterable<RecordedEvent>;

  /** Reads the whole log in global order, optionally filtered. */
  readAll(options?: ReadAllOptions): AsyncIterable<RecordedEvent>;

  /** The stored form of the log from a position, without decoding (export, verify). */
  readRaw(fromPosition?: number): AsyncIterable<RawEvent>;

  /**
   * The stored events at these positions, in ascending order; positions the log does not hold are
   * left out. For pages of the explorer's timeline: at most READ_POSITIONS_MAX positions per call.
   * @throws ValidationError for more positions than that, or a position that is not a positive integer.
   */
  readPositions(positions: readonly number[]): Promise<RawEvent[]>;

  /** The position of the event with this id, or null when the log holds none. */
  positionOf(eventId: string): Promise<number | null>;

  /**
   * Writes already-recorded events verbatim (same positions, ids, times and hashes) into an
   * empty store. Used by archive import; the hash chain is checked as they are written.
   * @throws StoreNotEmptyError when the store holds events already.
   */
  importRaw(events: AsyncIterable<RawEvent> | Iterable<RawEvent>): Promise<number>;

  /**
   * Forgets a document's content: replaces the stored rows in `replacements` by their emptied form
   * (same position, ids, times and hash; see core/forget.ts) and appends the one DocumentForgotten
   * of `attestation`, which lists their digests, atomically: both or neither. A store with files
   * rewrites them whole, so that no readable copy of the old payloads remains in them. Retrying a
   * forget whose DocumentForgotten is stored is a no-op.
   * @throws ValidationError when a replacement changes more than a payload or is not attested.
   */
  forget(attestation: StreamWrite, replacements: readonly RawEvent[]): Promise<AppendResult>;

  /** The current version of a stream: its number of events (0 when it does not exist). */
  streamVersion(streamId: string): Promise<number>;

  /** The last position and hash (0 and the genesis hash on an empty log). */
  head(): Promise<LogHead>;

  /** Counts for the CLI's `stats`. */
  stats(): Promise<StoreStats>;

  /** Recomputes the hash chain and reports the first position where the log was altered. */
  verify(): Promise<VerifyReport>;

  /** Flushes and releases the store (and its lock). */
  close(): Promise<void>;
}

/**
 * The expected stream version for optimistic concurrency: a number (the stream's event
 * count; 0 means no stream), `no_stream`, `stream_exists` or `any`.
 */
export type ExpectedVersion = number | 'no_stream' | 'stream_exists' | 'any';

/** One stream's part of a multi-stream append. */
export interface StreamWrite {
  readonly streamId: string;
  readonly events: readonly NewEvent[];
  readonly expectedVersion?: ExpectedVersion;
}

export interface AppendOptions {
  readonly expectedVersion?: ExpectedVersion;
}

/** Correlation and provenance carried beside each event. */
export interface EventMetadata {
  /** Groups all events caused by one user action. */
  readonly correlation_id?: string;
  /** The event id that caused this event. */
  readonly causation_id?: string;
  /** The pipeline version that produced a derived event. */
  readonly pipeline_version?: string;
  /** Who or what appended it (user, CLI, extension, a processor). */
  readonly actor?: string;
  /** The RAG Ledger version that wrote it. */
  readonly app_version?: string;
  readonly [key: string]: JsonValue | undefined;
}

/** An event to append. `eventId` defaults to a fresh UUID; pass a deterministic one to make retries idempotent. */
export type NewEvent = DomainEvent & { readonly eventId?: string; readonly metadata?: EventMetadata };

export interface AppendResult {
  /** Global positions of the events written (or found, for duplicates), in order. */
  readonly positions: readonly number[];
  /** The stream's version after the append: pass it as the next expectedVersion. */
  readonly nextExpectedVersion: number;
  /** How many events were written; the rest were already stored. */
  readonly appended: number;
}

interface EnvelopeFields {
  /** Gapless global position, starting at 1. */
  readonly position: number;
  readonly eventId: string;
  readonly streamId: string;
  /** Position within the stream, starting at 1. */
  readonly streamVersion: number;
  /** The schema version of `data` as returned (always the current one, after upcasting). */
  readonly schemaVersion: number;
  /** The schema version the event was stored with. */
  readonly storedSchemaVersion: number;
  readonly metadata: EventMetadata;
  /** When the store recorded it (ISO-8601, UTC). */
  readonly recordedAt: string;
  readonly prevHash: string;
  /** SHA-256 over the previous hash and this event's stored bytes. */
  readonly hash: string;
}

/** A decoded event from the log, narrowed by `type`. */
export type RecordedEvent = { [T in EventType]: EnvelopeFields & { readonly type: T; readonly data: EventData<T> } }[EventType];

/** The recorded event of type T. */
export type RecordedEventOf<T extends EventType> = Extract<RecordedEvent, { type: T }>;

/** An event exactly as stored: the unit of hashing, journaling and archiving. */
export interface RawEvent {
  readonly position: number;
  readonly eventId: string;
  readonly streamId: string;
  readonly streamVersion: number;
  readonly type: string;
  readonly schemaVersion: number;
  readonly dataJson: string;
  readonly metadataJson: string;
  readonly attachment: Uint8Array | null;
  readonly recordedAt: string;
  readonly prevHash: string;
  readonly hash: string;
}

export interface ReadStreamOptions {
  /** First stream version to return (default 1). */
  readonly fromVersion?: number;
  readonly limit?: number;
}

export interface ReadAllOptions {
  /** First global position to return (default 1). */
  readonly fromPosition?: number;
  /** Only these event types. */
  readonly types?: readonly EventType[];
  /** Only streams of this category (the stream id's prefix before the first "-"). */
  readonly category?: string;
  /** Only one stream. */
  readonly streamId?: string;
  /** Recorded at or after this ISO time. */
  readonly since?: string;
  /** Recorded strictly before this ISO time. */
  readonly until?: string;
  readonly limit?: number;
}

export interface LogHead {
  readonly position: number;
  readonly hash: string;
}

export interface StoreStats {
  readonly location: string;
  readonly events: number;
  readonly streams: number;
  readonly headPosition: number;
  readonly headHash: string;
  readonly firstRecordedAt: string | null;
  readonly lastRecordedAt: string | null;
  readonly byType: Readonly<Record<string, number>>;
  readonly byCategory: Readonly<Record<string, number>>;
  /** Bytes on disk per file, when the store has files. */
  readonly files: Readonly<Record<string, number>>;
}

export type TamperKind = 'modified' | 'removed' | 'reordered' | 'inserted' | 'invalid' | 'journal_mismatch';

export interface VerifyReport {
  readonly ok: boolean;
  readonly checked: number;
  readonly headPosition: number;
  readonly headHash: string;
  /** The seals (HeadSigned events) checked: how many, the last one, and the log's signing key. */
  readonly signed?: { readonly count: number; readonly last: SealState | null; readonly keyId: string | null };
  /** The first problem found, by position. */
  readonly firstFailure?: { readonly position: number; readonly kind: TamperKind; readonly detail: string };
}

/** The most positions one readPositions call accepts. */
export const READ_POSITIONS_MAX = 1000;

/** Checks readPositions' argument; returns the positions sorted and unique. */
export function checkedPositions(positions: readonly number[]): number[] {
  if (positions.length > READ_POSITIONS_MAX) throw new ValidationError(`readPositions takes at most ${READ_POSITIONS_MAX} positions, got ${positions.length}`, [], 'Read the log in pages.');
  for (const p of positions) if (!Number.isSafeInteger(p) || p < 1) throw new ValidationError(`readPositions: ${String(p)} is not a log position`, [], 'Positions are integers from 1.');
  return [...new Set(positions)].sort((a, b) => a - b);
}

/** The stream category: the stream id's prefix before the first "-" (`document-42` -> `document`). */
export function streamCategory(streamId: string): string {
  const dash = streamId.indexOf('-');
  return dash < 0 ? streamId : streamId.slice(0, dash);
}
