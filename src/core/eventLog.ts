import { ArchiveError, ConcurrencyError, ValidationError } from './errors.js';
import { eventCatalog } from './events/eventCatalog.js';
import { checkStoredData, decodeEvent, encodeEvent } from './events/eventCodec.js';
import { parseIsoTime } from './isoTime.js';
import { checkReplacements, forgottenBy, rowDigest } from './forget.js';
import type { SealState, SignatureCheck } from './signing.js';
import { headMessage } from './signing.js';
import type { AppendResult, EventMetadata, ExpectedVersion, NewEvent, RawEvent, StreamWrite, RecordedEvent, TamperKind, VerifyReport } from './eventStore.js';

/** SHA-256 (hex) over the concatenation of the parts. Injected: core does no I/O or crypto itself. */
export type Hasher = (parts: readonly (string | Uint8Array)[]) => string;

export const GENESIS_HASH = '0'.repeat(64);

const NO_METADATA: EventMetadata = Object.freeze({});

/** Control characters and unpaired UTF-16 surrogates (which SQLite would store altered). */
// eslint-disable-next-line no-control-regex -- control characters are exactly what this rejects
const BAD_ID_CHARS = /[\u0000-\u001f\u007f]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

const STREAM_ID = /^[A-Za-z0-9][A-Za-z0-9._:@/+=-]{0,254}$/;

export function assertStreamId(streamId: string): void {
  if (typeof streamId !== 'string' || !STREAM_ID.test(streamId) || streamId.split('/').some((part) => part === '.' || part === '..')) {
    throw new ValidationError(
      `invalid stream id ${JSON.stringify(streamId)}`,
      [],
      'Use 1-255 characters: letters, digits and . _ : @ / + = -, starting with a letter or digit, with no "." or ".." between slashes (e.g. document-42).',
    );
  }
}

/** Parses a CLI/user expected version. */
export function parseExpectedVersion(text: string): ExpectedVersion {
  if (text === 'any' || text === 'no_stream' || text === 'stream_exists') return text;
  if (/^\d+$/.test(text)) return Number(text);
  throw new ValidationError(`invalid expected version ${JSON.stringify(text)}`, [], 'Use a number, no_stream, stream_exists or any.');
}

export function describeExpected(expected: ExpectedVersion): string {
  return typeof expected === 'number' ? (expected === 0 ? '0 (no stream)' : String(expected)) : expected;
}

/** Throws ConcurrencyError when `actual` does not satisfy `expected`. */
export function checkExpectedVersion(streamId: string, expected: ExpectedVersion, actual: number): void {
  const ok =
    expected === 'any' ||
    (expected === 'no_stream' && actual === 0) ||
    (expected === 'stream_exists' && actual > 0) ||
    (typeof expected === 'number' && expected === actual);
  if (!ok) throw new ConcurrencyError(streamId, describeExpected(expected), actual);
}

/**
 * The hash of one event: its predecessor's hash plus every stored byte of it. The small
 * fields go in a JSON header that also records the lengths of the metadata and data that
 * follow it verbatim, so the input is unambiguous without escaping the data again.
 */
export function hashEvent(hasher: Hasher, e: Omit<RawEvent, 'hash'>): string {
  const header = JSON.stringify([
    e.prevHash,
    e.position,
    e.eventId,
    e.streamId,
    e.streamVersion,
    e.type,
    e.schemaVersion,
    e.recordedAt,
    e.metadataJson.length,
    e.dataJson.length,
    e.attachment ? e.attachment.byteLength : -1,
  ]);
  const text = `${header}\n${e.metadataJson}\n${e.dataJson}`;
  return e.attachment ? hasher([text, '\n', e.attachment]) : hasher([text]);
}

/** What the store knows when planning an append. */
export interface AppendContext {
  readonly streamVersion: number;
  readonly headPosition: number;
  readonly headHash: string;
  readonly now: string;
  readonly newId: () => string;
  readonly hasher: Hasher;
  /** Returns the stored position of an event id, if any. */
  /**
   * Returns the stored positions of the given caller-supplied event ids (those found).
   * Ids the store generates itself are fresh UUIDs and are never looked up.
   */
  readonly existingPositions: (eventIds: readonly string[]) => ReadonlyMap<string, number>;
}

export interface AppendPlan {
  readonly records: readonly RawEvent[];
  /** Positions for the caller, including those of duplicates. */
  readonly positions: readonly number[];
  readonly nextExpectedVersion: number;
}

/**
 * Pure planning of an append: validation, idempotency, concurrency check, positions and
 * hashes. The store then makes the records durable and visible in one step.
 */
export function planAppend(streamId: string, events: readonly NewEvent[], expected: ExpectedVersion, ctx: AppendContext): AppendPlan {
  assertStreamId(streamId);
  if (events.length === 0) throw new ValidationError('append needs at least one event');
  const encoded = events.map((e) => ({ e, enc: encodeEvent(e), id: e.eventId ?? ctx.newId() }));
  const supplied = events.flatMap((e) => (e.eventId === undefined ? [] : [e.eventId]));
  for (const id of supplied) assertEventId(id);
  const stored = supplied.length > 0 ? ctx.existingPositions(supplied) : new Map<string, number>();
  const positions: (number | undefined)[] = [];
  const fresh: typeof encoded = [];
  const seen = new Set<string>();
  for (const item of encoded) {
    const existing = stored.get(item.id);
    if (existing !== undefined) positions.push(existing);
    else if (seen.has(item.id)) throw new ValidationError(`event id ${item.id} appears twice in one append`);
    else {
      seen.add(item.id);
      positions.push(undefined);
      fresh.push(item);
    }
  }
  if (fresh.length === 0) return { records: [], positions: positions as number[], nextExpectedVersion: ctx.streamVersion };
  checkExpectedVersion(streamId, expected, ctx.streamVersion);
  const records: RawEvent[] = [];
  let prevHash = ctx.headHash;
  let position = ctx.headPosition;
  let version = ctx.streamVersion;
  for (const { enc, id, e } of fresh) {
    const record: { -readonly [K in keyof RawEvent]: RawEvent[K] } = {
      position: ++position,
      eventId: id,
      streamId,
      streamVersion: ++version,
      type: enc.type,
      schemaVersion: enc.schemaVersion,
      dataJson: enc.dataJson,
      metadataJson: encodeMetadata(e.metadata),
      attachment: enc.attachment,
      recordedAt: ctx.now,
      prevHash,
      hash: '',
    };
    record.hash = hashEvent(ctx.hasher, record);
    records.push(record);
    prevHash = record.hash;
  }
  let next = 0;
  const resolved = positions.map((p) => p ?? records[next++]!.position);
  return { records, positions: resolved, nextExpectedVersion: version };
}

/**
 * Plans an append to several streams that is made durable as one record: all of it or none.
 * Each write is planned as `planAppend` would, in order, the next starting where the previous
 * ended; a concurrency or validation failure in any write fails the whole call.
 */
export function planAppendMany(writes: readonly StreamWrite[], ctx: Omit<AppendContext, 'streamVersion'> & { readonly streamVersion: (streamId: string) => number }): { readonly records: readonly RawEvent[]; readonly results: readonly AppendResult[] } {
  if (writes.length === 0) throw new ValidationError('appendMany needs at least one stream write');
  const streams = new Set<string>();
  const ids = new Set<string>();
  for (const w of writes) {
    if (streams.has(w.streamId)) throw new ValidationError(`stream ${w.streamId} appears twice in one appendMany`, [], 'Put all of a stream\'s events in one write.');
    streams.add(w.streamId);
    for (const e of w.events) {
      if (e.eventId === undefined) continue;
      if (ids.has(e.eventId)) throw new ValidationError(`event id ${e.eventId} appears twice in one append`);
      ids.add(e.eventId);
    }
  }
  const records: RawEvent[] = [];
  const results: AppendResult[] = [];
  let headPosition = ctx.headPosition;
  let headHash = ctx.headHash;
  for (const w of writes) {
    const plan = planAppend(w.streamId, w.events, w.expectedVersion ?? 'any', { ...ctx, streamVersion: ctx.streamVersion(w.streamId), headPosition, headHash });
    const last = plan.records.at(-1);
    if (last) {
      headPosition = last.position;
      headHash = last.hash;
    }
    records.push(...plan.records);
    results.push({ positions: plan.positions, nextExpectedVersion: plan.nextExpectedVersion, appended: plan.records.length });
  }
  return { records, results };
}

/**
 * Plans a forget (see forget.ts): the DocumentForgotten append, planned as `appendMany` would,
 * and the check that every replacement only empties a stored row that it attests. Returns no
 * records when the DocumentForgotten is already stored (a retry: the rows were emptied with it).
 * `current` holds the stored rows at the replacements' positions.
 * @throws ValidationError when the write is not one DocumentForgotten with an event id, or a replacement does not match it.
 */
export function planForgetAppend(
  write: StreamWrite,
  replacements: readonly RawEvent[],
  current: ReadonlyMap<number, RawEvent>,
  ctx: Parameters<typeof planAppendMany>[1],
): { readonly records: readonly RawEvent[]; readonly result: AppendResult } {
  const [event, ...rest] = write.events;
  if (!event || rest.length > 0 || event.type !== 'DocumentForgotten' || event.eventId === undefined) {
    throw new ValidationError('a forget appends exactly one DocumentForgotten event with an event id');
  }
  const { records, results } = planAppendMany([write], ctx);
  if (records.length > 0) checkReplacements(ctx.hasher, current, replacements, { eventId: event.eventId, emptied: event.data.emptied });
  return { records, result: results[0]! };
}

function encodeMetadata(metadata: EventMetadata | undefined): string {
  if (metadata === undefined) return '{}';
  assertMetadata(metadata);
  return JSON.stringify(metadata);
}

/** An event id: what append accepts from a caller, and what an import accepts from an archive. */
export function assertEventId(id: unknown): void {
  if (typeof id !== 'string' || id.length === 0 || id.length > 200 || BAD_ID_CHARS.test(id)) {
    throw new ValidationError(`invalid event id ${JSON.stringify(id)}`, [], 'Use a non-empty id of at most 200 characters, without control characters or unpaired surrogates.');
  }
}

/** The metadata fields RAG Ledger itself reads; the rest of the map is open. */
export const KNOWN_METADATA_FIELDS = ['correlation_id', 'causation_id', 'pipeline_version', 'actor', 'app_version'] as const;

/**
 * Metadata is an open JSON object, but its known fields (correlation and causation ids, pipeline
 * version, actor, app version) must be what their readers expect: strings of 1-200 characters
 * without control characters.
 */
export function assertMetadata(metadata: unknown): void {
  if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata) || ArrayBuffer.isView(metadata)) {
    throw new ValidationError('metadata must be a JSON object', [], 'Give metadata such as {"actor":"me","correlation_id":"..."}.');
  }
  const m = metadata as Record<string, unknown>;
  for (const field of KNOWN_METADATA_FIELDS) {
    const v = m[field];
    if (v === undefined) continue;
    if (typeof v !== 'string' || v.length === 0 || v.length > 200 || BAD_ID_CHARS.test(v)) {
      throw new ValidationError(`metadata.${field} must be a string of 1-200 characters without control characters, got ${JSON.stringify(v)?.slice(0, 80)}`, [], `Fix metadata.${field}, or leave it out.`);
    }
  }
}

/**
 * A recorded time as the store writes it: the canonical `toISOString()` form of a real instant
 * (2026-01-02T03:04:05.678Z), never "2026-02-30..." or a path-like string.
 */
export function assertRecordedAt(recordedAt: unknown): void {
  const parsed = typeof recordedAt === 'string' ? parseIsoTime(recordedAt) : undefined;
  if (!parsed?.ok || parsed.iso !== recordedAt) {
    throw new ValidationError(`recordedAt ${JSON.stringify(recordedAt)?.slice(0, 80)} is not a time the store records`, [], 'A recorded time is an ISO-8601 UTC time such as 2026-01-02T03:04:05.678Z.');
  }
}

/**
 * Every rule `append` applies to an event, applied to one already-recorded event (an archive line,
 * a row from elsewhere): stream id, event id, known type and a schema version this build reads,
 * data valid for it (strictly, when written at the current version), its recorded time and its
 * metadata. The hash chain, positions and stream versions are checked by `checkImport`.
 * @throws ValidationError naming the rule broken.
 */
export function validateRecorded(raw: RawEvent): void {
  assertStreamId(raw.streamId);
  assertEventId(raw.eventId);
  if (!Number.isSafeInteger(raw.position) || raw.position < 1) throw new ValidationError(`position ${JSON.stringify(raw.position)} is not a positive integer`);
  if (!Number.isSafeInteger(raw.streamVersion) || raw.streamVersion < 1) throw new ValidationError(`stream version ${JSON.stringify(raw.streamVersion)} is not a positive integer`);
  assertRecordedAt(raw.recordedAt);
  let metadata: unknown;
  try {
    metadata = JSON.parse(raw.metadataJson);
  } catch (err) {
    throw new ValidationError(`metadata is not valid JSON (${(err as Error).message})`);
  }
  assertMetadata(metadata);
  checkStoredData(raw.type, raw.schemaVersion, raw.dataJson, raw.attachment);
}

/** Decodes a stored event into its current shape (upcasting old schema versions). */
let lastMetadataJson = '{}';
let lastMetadata: EventMetadata = NO_METADATA;

/**
 * Events of one append usually share their metadata (one correlation id, one actor), so the
 * last parsed metadata is reused when the next event's text is identical. Shared objects
 * are deep-frozen, which the readonly type promises anyway.
 */
function decodeMetadata(json: string): EventMetadata {
  if (json !== lastMetadataJson) {
    lastMetadata = deepFreeze(JSON.parse(json) as EventMetadata);
    lastMetadataJson = json;
  }
  return lastMetadata;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

/**
 * A stored event as read. `chunkSource`: for a DocumentChunked stored without chunk texts, the
 * raw_content its texts are sliced from (see core/chunkTexts.ts); without it they read empty.
 */
export function decodeRaw(raw: RawEvent, chunkSource: string | null = null): RecordedEvent {
  const event = decodeEvent(raw.type, raw.schemaVersion, raw.dataJson, raw.attachment, { chunkSource });
  return {
    position: raw.position,
    eventId: raw.eventId,
    streamId: raw.streamId,
    streamVersion: raw.streamVersion,
    type: event.type,
    schemaVersion: eventCatalog[event.type].version,
    storedSchemaVersion: raw.schemaVersion,
    data: event.data,
    metadata: decodeMetadata(raw.metadataJson),
    recordedAt: raw.recordedAt,
    prevHash: raw.prevHash,
    hash: raw.hash,
  } as RecordedEvent;
}


/**
 * Incremental hash-chain verification: feed events in stored order. Reports the first
 * position where an event was modified, removed, inserted or reordered, or fails to decode.
 */
export class ChainVerifier {
  private expectedPosition = 1;
  private prevHash = GENESIS_HASH;
  private failure: VerifyReport['firstFailure'];
  private count = 0;
  /**
   * Emptied events (see forget.ts) seen so far whose attestation has not: by event id, their
   * position, the digest of their row and the DocumentForgotten that should list it.
   */
  private readonly unattested = new Map<string, { readonly position: number; readonly digest: string; readonly by: string }>();

  /** The log's signing key: the one its first HeadSigned carries. Every later seal must use it. */
  private logKey: { readonly publicKey: string; readonly keyId: string } | undefined;
  private lastSeal: SealState | null = null;
  private seals = 0;

  /** Without `signatureCheck`, seals are checked for place and key but their signatures are not. */
  constructor(
    private readonly hasher: Hasher,
    private readonly signatureCheck?: SignatureCheck,
  ) {}

  /** Returns false once a failure has been found. */
  check(raw: RawEvent): boolean {
    if (this.failure) return false;
    this.count++;
    const recomputed = hashEvent(this.hasher, raw);
    if (raw.position !== this.expectedPosition) {
      const kind: TamperKind = raw.position > this.expectedPosition ? 'removed' : 'reordered';
      return this.fail(this.expectedPosition, kind, `expected position ${this.expectedPosition}, found ${raw.position}`);
    }
    if (recomputed !== raw.hash) {
      // An emptied event: its content is gone, so its hash cannot be recomputed; a later
      // DocumentForgotten must attest this exact row (checked when it arrives, or in report()).
      const by = forgottenBy(raw);
      if (by === null) return this.fail(raw.position, 'modified', `stored hash does not match the event's content`);
      this.unattested.set(raw.eventId, { position: raw.position, digest: rowDigest(this.hasher, raw), by });
    }
    if (raw.prevHash !== this.prevHash) {
      return this.fail(raw.position, 'reordered', `event does not follow its predecessor in the hash chain (an event before it was removed, inserted or moved)`);
    }
    let decoded: RecordedEvent;
    try {
      decoded = decodeRaw(raw);
    } catch (err) {
      return this.fail(raw.position, 'invalid', (err as Error).message);
    }
    if (decoded.type === 'DocumentForgotten' && recomputed === raw.hash) {
      for (const entry of decoded.data.emptied) {
        const seen = this.unattested.get(entry.event_id);
        if (seen && seen.position === entry.position && seen.digest === entry.emptied_digest && seen.by === raw.eventId) this.unattested.delete(entry.event_id);
      }
    }
    if (decoded.type === 'HeadSigned' && !this.checkSeal(raw, decoded.data)) return false;
    this.prevHash = raw.hash;
    this.expectedPosition++;
    return true;
  }

  private checkSeal(raw: RawEvent, d: Extract<RecordedEvent, { type: 'HeadSigned' }>['data']): boolean {
    if (d.position !== raw.position - 1 || d.hash !== raw.prevHash) {
      return this.fail(raw.position, 'invalid', `the seal signs head ${d.position}, not the head just before it (${raw.position - 1})`);
    }
    if (d.key_id !== keyIdOf(this.hasher, d.public_key)) return this.fail(raw.position, 'invalid', `the seal's key id ${d.key_id} is not the fingerprint of its public key`);
    this.logKey ??= { publicKey: d.public_key, keyId: d.key_id };
    if (d.public_key !== this.logKey.publicKey) {
      return this.fail(raw.position, 'invalid', `the head is signed by key ${d.key_id}, not by the log's signing key ${this.logKey.keyId}`);
    }
    if (this.signatureCheck && !this.signatureCheck(d.public_key, headMessage(d.position, d.hash), d.signature)) {
      return this.fail(raw.position, 'modified', `the signature of head ${d.position} does not verify with key ${d.key_id} (the events up to it were altered, or the seal was forged)`);
    }
    this.seals++;
    this.lastSeal = { position: d.position, hash: d.hash, keyId: d.key_id };
    return true;
  }

  fail(position: number, kind: TamperKind, detail: string): false {
    this.failure ??= { position, kind, detail };
    return false;
  }

  report(): VerifyReport {
    // After a hard failure, the attestation of an emptied row before it may lie beyond it: the
    // hard failure is what verify reports. Otherwise the first unattested emptied row is.
    let failure = this.failure;
    if (failure === undefined) for (const [eventId, u] of this.unattested) {
      if (failure === undefined || u.position < failure.position) {
        failure = { position: u.position, kind: 'modified', detail: `stored hash does not match the event's content, and no DocumentForgotten (${u.by}) attests event ${eventId} as emptied` };
      }
    }
    return {
      ok: failure === undefined,
      checked: this.count,
      headPosition: this.expectedPosition - 1,
      headHash: this.prevHash,
      signed: { count: this.seals, last: this.lastSeal, keyId: this.logKey?.keyId ?? null },
      ...(failure ? { firstFailure: failure } : {}),
    };
  }
}

/**
 * Checks already-recorded events before an import writes any of them: an intact hash chain
 * from position 1, unique event ids, and gapless stream versions. Returns them in order.
 * @throws ArchiveError naming the first offending position.
 */
export async function checkImport(events: AsyncIterable<RawEvent> | Iterable<RawEvent>, hasher: Hasher, signatureCheck?: SignatureCheck): Promise<RawEvent[]> {
  const all: RawEvent[] = [];
  const checker = new ImportChecker(hasher, signatureCheck);
  for await (const raw of events) all.push(checker.accept(raw));
  checker.finish();
  return all;
}

/**
 * checkImport one event at a time, for stores that write an import as it arrives inside a
 * transaction they roll back on failure: memory stays bounded by the stream versions and ids.
 */
export class ImportChecker {
  private readonly verifier: ChainVerifier;
  private readonly ids = new Set<string>();
  private readonly versions = new Map<string, number>();

  constructor(hasher: Hasher, signatureCheck?: SignatureCheck) {
    this.verifier = new ChainVerifier(hasher, signatureCheck);
  }

  /** Checks the next event; returns it. @throws ArchiveError naming its position. */
  accept(raw: RawEvent): RawEvent {
    try {
      validateRecorded(raw);
    } catch (err) {
      if (err instanceof ValidationError) throw new ArchiveError(`position ${raw.position}`, err.message);
      throw err;
    }
    if (!this.verifier.check(raw)) throw importFailure(this.verifier.report());
    if (this.ids.has(raw.eventId)) throw new ArchiveError(`position ${raw.position}`, `event id ${raw.eventId} appears twice`);
    this.ids.add(raw.eventId);
    const expected = (this.versions.get(raw.streamId) ?? 0) + 1;
    if (raw.streamVersion !== expected) throw new ArchiveError(`position ${raw.position}`, `stream ${raw.streamId} jumps to version ${raw.streamVersion}, expected ${expected}`);
    this.versions.set(raw.streamId, expected);
    return raw;
  }

  /** After the last event: the checks that need the whole log (attestations). Returns the stream versions. */
  finish(): ReadonlyMap<string, number> {
    const report = this.verifier.report();
    if (!report.ok) throw importFailure(report);
    return this.versions;
  }
}

/** The fingerprint of a public key (SPKI DER, base64): the first 16 hex digits of the SHA-256 of that text. */
export function keyIdOf(hasher: Hasher, publicKey: string): string {
  return hasher([publicKey]).slice(0, 16);
}

/** The error an import raises when the incoming hash chain is broken. */
export function importFailure(report: VerifyReport): ArchiveError {
  const f = report.firstFailure;
  return new ArchiveError(`position ${f?.position ?? '?'}`, `${f?.kind ?? 'invalid'}: ${f?.detail ?? 'hash chain broken'}`);
}
