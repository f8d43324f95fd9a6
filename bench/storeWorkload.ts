// The store benchmark's workload: realistic events for SqlJsEventStore, and the same rows
// for a raw sql.js baseline that has none of the store's logic (no validation, hashing,
// journal or fsync), optionally plus a plain "write the journal bytes + fdatasync".
// The raw baseline binds text columns as JS strings, the plain way to use sql.js; a second
// raw variant binds them as UTF-8 bytes cast to TEXT, as the store does (INSERT_EVENT_SQL).
import { randomBytes, randomUUID } from 'node:crypto';
import { closeSync, fdatasync, openSync, writeSync } from 'node:fs';
import type { Database, SqlValue, Statement } from 'sql.js';
import { encodeRecord } from '../src/adapters/sqljs/journal.js';
import { tuneConnection } from '../src/adapters/sqljs/schema.js';
import { EVENT_COLUMNS, INSERT_EVENT_SQL, createLegacySchema as createSchema, rawToParams } from '../src/adapters/sqljs/legacySchema.js';
import { loadSqlJs } from '../src/adapters/sqljs/sqlJsLoader.js';
import type { EventMetadata, NewEvent, RawEvent } from '../src/core/eventStore.js';
import { eventCatalog } from '../src/core/events/eventCatalog.js';
import { mulberry32 } from '../test/support/prng.js';

/** One append call: a stream and its events. */
export interface Call {
  readonly streamId: string;
  readonly events: readonly NewEvent[];
}

/** One append call for the raw baseline: parameter rows and the journal record bytes. */
export interface RawCall {
  /** Rows with text as JS strings, for the plain INSERT. */
  readonly params: readonly SqlValue[][];
  /** The same rows with text as UTF-8 bytes, for INSERT_EVENT_SQL. */
  readonly byteParams: readonly SqlValue[][];
  readonly record: Buffer;
  readonly dataBytes: number;
}

const WORDS = (
  'the a of to and in is for on with as by this that event store chunk embedding vector query ' +
  'document index ledger replay journal snapshot hash chain local model answer context retrieval ' +
  'pipeline version schema upcaster projection stream position append durable immutable verify'
).split(' ');

/** mulberry32: a small deterministic PRNG, so runs see the same text. */
export const rng = mulberry32;

function prose(next: () => number, length: number): string {
  let s = '';
  while (s.length < length) s += `${WORDS[Math.floor(next() * WORDS.length)]!} `;
  return s.slice(0, length);
}

const category = { DocumentSubmitted: 'document', QueryReceived: 'query', ChunkIndexed: 'chunk' } as const;
type BenchType = keyof typeof category;
const MIX: readonly BenchType[] = ['DocumentSubmitted', 'QueryReceived', 'ChunkIndexed'];

/**
 * `calls` append calls of `batch` events each. Event types rotate DocumentSubmitted
 * (raw_content 200 chars), QueryReceived (query_text 200 chars), ChunkIndexed. Every call
 * targets a new stream named after its first event's category (`document-<tag><n>`), so
 * `no_stream` is always the right expected version. Metadata carries a correlation id and actor.
 */
export function makeCalls(calls: number, batch: number, tag: string, seed = 1): Call[] {
  const next = rng(seed);
  const at = new Date().toISOString();
  const out: Call[] = [];
  let seq = 0;
  for (let c = 0; c < calls; c++) {
    const events: NewEvent[] = [];
    const correlation = randomUUID();
    for (let i = 0; i < batch; i++) {
      const type = MIX[seq % MIX.length]!;
      const n = seq++;
      const metadata: EventMetadata = { correlation_id: correlation, actor: 'bench' };
      switch (type) {
        case 'DocumentSubmitted':
          events.push({
            type,
            data: { document_id: `doc-${tag}${n}`, source: `docs/guides/doc-${tag}${n}.md`, raw_content: prose(next, 200), submitted_at: at },
            metadata,
          });
          break;
        case 'QueryReceived':
          events.push({ type, data: { query_id: `q-${tag}${n}`, query_text: prose(next, 200), user_id: 'user-7', received_at: at }, metadata });
          break;
        case 'ChunkIndexed':
          events.push({ type, data: { chunk_id: `doc-${tag}${n - 2}#${n % 17}`, index_name: 'default', indexed_at: at }, metadata });
          break;
      }
    }
    out.push({ streamId: `${category[events[0]!.type as BenchType]}-${tag}${c}`, events });
  }
  return out;
}

/** A row in EVENT_COLUMNS order with text as JS strings. */
function stringParams(e: RawEvent): SqlValue[] {
  return [e.position, e.eventId, e.streamId, e.streamVersion, e.type, e.schemaVersion, e.dataJson, e.metadataJson, e.attachment, e.recordedAt, e.prevHash, e.hash];
}

const hex64 = (): string => randomBytes(32).toString('hex');

/**
 * The same calls as stored rows (same columns, same JSON data and metadata text, fresh
 * UUIDs, random 64-hex hashes), pre-built so the baseline times only the database work.
 */
export function toRawCalls(calls: readonly Call[], firstPosition = 1): RawCall[] {
  let position = firstPosition;
  let prevHash = hex64();
  const recordedAt = new Date().toISOString();
  return calls.map(({ streamId, events }) => {
    const records: RawEvent[] = events.map((e, i) => {
      const hash = hex64();
      const r: RawEvent = {
        position: position++,
        eventId: randomUUID(),
        streamId,
        streamVersion: i + 1,
        type: e.type,
        schemaVersion: eventCatalog[e.type].version,
        dataJson: JSON.stringify(e.data),
        metadataJson: JSON.stringify(e.metadata ?? {}),
        attachment: null,
        recordedAt,
        prevHash,
        hash,
      };
      prevHash = hash;
      return r;
    });
    return { params: records.map(stringParams), byteParams: records.map(rawToParams), record: encodeRecord(records), dataBytes: records.reduce((n, r) => n + r.dataJson.length, 0) };
  });
}

/**
 * The raw baseline: an in-memory sql.js database with the store's schema and a plain
 * prepared INSERT in a transaction per call. With a journal path it also writes the call's
 * journal bytes and fdatasyncs them first, with the same calls as the store's JournalWriter
 * (writeSync, then fdatasync on the thread pool), but without overlapping them with the insert.
 */
export class RawBaseline {
  private written = 0;

  private constructor(
    private readonly db: Database,
    private readonly insert: Statement,
    private readonly insertBytes: Statement,
    private readonly journal: number | null,
  ) {}

  static async create(journalPath?: string): Promise<RawBaseline> {
    const SQL = await loadSqlJs();
    const db = new SQL.Database();
    createSchema(db);
    tuneConnection(db); // the same connection settings the store uses
    const insert = db.prepare(`INSERT INTO events (${EVENT_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)`);
    const insertBytes = db.prepare(INSERT_EVENT_SQL);
    const journal = journalPath ? openSync(journalPath, 'w') : null;
    return new RawBaseline(db, insert, insertBytes, journal);
  }

  /** Inserts one call's rows in one transaction, text bound as JS strings. */
  insertRows(params: readonly SqlValue[][]): void {
    this.db.exec('BEGIN');
    for (const p of params) this.insert.run(p);
    this.db.exec('COMMIT');
  }

  /** Inserts one call's rows in one transaction, text bound as UTF-8 bytes (the store's INSERT). */
  insertByteRows(params: readonly SqlValue[][]): void {
    this.db.exec('BEGIN');
    for (const p of params) this.insertBytes.run(p);
    this.db.exec('COMMIT');
  }

  /** Journal bytes + fdatasync, then the insert (the store's order). */
  async appendDurable(call: RawCall): Promise<void> {
    const journal = this.journal;
    if (journal === null) throw new Error('RawBaseline was created without a journal');
    let done = 0;
    while (done < call.record.length) done += writeSync(journal, call.record, done, call.record.length - done, this.written + done);
    await new Promise<void>((resolve, reject) => fdatasync(journal, (err) => (err ? reject(err) : resolve())));
    this.written += call.record.length;
    this.insertRows(call.params);
  }

  count(): number {
    return this.db.exec('SELECT COUNT(*) FROM events')[0]?.values[0]?.[0] as number;
  }

  async close(): Promise<void> {
    this.insert.free();
    this.insertBytes.free();
    this.db.close();
    if (this.journal !== null) closeSync(this.journal);
  }
}
