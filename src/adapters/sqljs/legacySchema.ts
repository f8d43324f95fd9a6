import type { Database } from 'sql.js';
import type { RawEvent } from '../../core/eventStore.js';

/**
 * Format 1 of the store's SQLite file: every event with its payload in one table. Stores of that
 * format are migrated to format 2 on first open (see storeFiles.ts, migrateLegacyIndex); this file
 * is kept for that migration, for `recover` (whose sources may be format-1 images) and as the
 * benchmark's baseline of a plain sql.js INSERT.
 */
export const LEGACY_FORMAT = 1;

export const EVENT_COLUMNS =
  'position, event_id, stream_id, stream_version, type, schema_version, data, metadata, attachment, recorded_at, prev_hash, hash';

export function createLegacySchema(db: Database): void {
  db.exec(`
    CREATE TABLE IF NOT EXISTS events (
      position       INTEGER PRIMARY KEY,
      event_id       TEXT    NOT NULL UNIQUE,
      stream_id      TEXT    NOT NULL,
      stream_version INTEGER NOT NULL,
      type           TEXT    NOT NULL,
      schema_version INTEGER NOT NULL,
      data           TEXT    NOT NULL,
      metadata       TEXT    NOT NULL,
      attachment     BLOB,
      recorded_at    TEXT    NOT NULL,
      prev_hash      TEXT    NOT NULL,
      hash           TEXT    NOT NULL,
      UNIQUE (stream_id, stream_version)
    );
    CREATE INDEX IF NOT EXISTS events_by_type ON events (type, position);
    CREATE INDEX IF NOT EXISTS events_by_time ON events (recorded_at, position);
    CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    INSERT OR IGNORE INTO meta (key, value) VALUES ('format', '${LEGACY_FORMAT}');
  `);
}

/**
 * The columns reads select: numbers and the attachment as columns, and all text joined with
 * U+001F into one column. sql.js decodes every text column with its own TextDecoder call and a
 * few calls into WebAssembly, so one text value per row instead of eight reads a page of events
 * measurably faster. No stored text contains U+001F: JSON text escapes control characters and ids
 * exclude them. A row that was tampered with to contain one splits into the wrong number of
 * fields; `packedRowToRaw` returns null for it and the caller reads that row column by column.
 */
export const PACKED_COLUMNS =
  "position, stream_version, schema_version, attachment, event_id || char(31) || stream_id || char(31) || type || char(31) || data || char(31) || metadata || char(31) || recorded_at || char(31) || prev_hash || char(31) || hash";

/** Converts a PACKED_COLUMNS row to a RawEvent, or null when its text does not split into 8 fields. */
export function packedRowToRaw(r: unknown[]): RawEvent | null {
  const f = (r[4] as string).split('\x1f');
  if (f.length !== 8) return null;
  return {
    position: r[0] as number,
    eventId: f[0]!,
    streamId: f[1]!,
    streamVersion: r[1] as number,
    type: f[2]!,
    schemaVersion: r[2] as number,
    dataJson: f[3]!,
    metadataJson: f[4]!,
    attachment: (r[3] as Uint8Array | null) ?? null,
    recordedAt: f[5]!,
    prevHash: f[6]!,
    hash: f[7]!,
  };
}

/** Converts a result row (in EVENT_COLUMNS order) to a RawEvent. */
export function rowToRaw(r: unknown[]): RawEvent {
  return {
    position: r[0] as number,
    eventId: r[1] as string,
    streamId: r[2] as string,
    streamVersion: r[3] as number,
    type: r[4] as string,
    schemaVersion: r[5] as number,
    dataJson: r[6] as string,
    metadataJson: r[7] as string,
    attachment: (r[8] as Uint8Array | null) ?? null,
    recordedAt: r[9] as string,
    prevHash: r[10] as string,
    hash: r[11] as string,
  };
}

/**
 * The INSERT every write path uses. Text columns are bound as UTF-8 bytes and cast back to
 * TEXT in SQL: sql.js encodes a bound JS string with a byte-by-byte loop in JavaScript (twice:
 * once to measure, once to copy), while a bound Uint8Array is one native copy, and
 * `Buffer.from(s, 'utf8')` is native too. CAST(blob AS TEXT) keeps the bytes as they are in a
 * UTF-8 database, so the stored text is identical.
 */
export const INSERT_EVENT_SQL =
  `INSERT INTO events (${EVENT_COLUMNS}) VALUES (?, CAST(? AS TEXT), CAST(? AS TEXT), ?, CAST(? AS TEXT), ?, ` +
  `CAST(? AS TEXT), CAST(? AS TEXT), ?, CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS TEXT))`;

const utf8 = (s: string): Buffer => Buffer.from(s, 'utf8');

/** Parameters for INSERT_EVENT_SQL. */
export function rawToParams(e: RawEvent): (number | Uint8Array | null)[] {
  return [
    e.position,
    utf8(e.eventId),
    utf8(e.streamId),
    e.streamVersion,
    utf8(e.type),
    e.schemaVersion,
    utf8(e.dataJson),
    utf8(e.metadataJson),
    e.attachment,
    utf8(e.recordedAt),
    utf8(e.prevHash),
    utf8(e.hash),
  ];
}
