import type { Database } from 'sql.js';
import type { RawEvent } from '../../core/eventStore.js';

/** Version of the on-disk layout (snapshot tables + journal). */
export const STORE_FORMAT = 1;

export const SNAPSHOT_FILE = 'events.sqlite';
export const JOURNAL_FILE = 'events.journal';
/** Present while `recover` swaps files (see recoverStore.ts); a store is not opened meanwhile. */
export const RECOVER_MARKER_FILE = 'recover-in-progress.json';

export const EVENT_COLUMNS =
  'position, event_id, stream_id, stream_version, type, schema_version, data, metadata, attachment, recorded_at, prev_hash, hash';

export function createSchema(db: Database): void {
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
    INSERT OR IGNORE INTO meta (key, value) VALUES ('format', '${STORE_FORMAT}');
  `);
}

/**
 * Connection settings for a database that lives only in sql.js's memory: durability comes from
 * the journal, so SQLite's own locking and rollback-journal files are pure overhead. Exports
 * close and reopen the connection, so this is applied again after each snapshot.
 */
export function tuneConnection(db: Database): void {
  db.exec('PRAGMA locking_mode = EXCLUSIVE; PRAGMA journal_mode = MEMORY; PRAGMA synchronous = OFF; PRAGMA temp_store = MEMORY;');
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

export function rawToParams(e: RawEvent): (string | number | Uint8Array | null)[] {
  return [e.position, e.eventId, e.streamId, e.streamVersion, e.type, e.schemaVersion, e.dataJson, e.metadataJson, e.attachment, e.recordedAt, e.prevHash, e.hash];
}
