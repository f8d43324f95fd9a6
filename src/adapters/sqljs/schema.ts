import type { Database } from 'sql.js';

/** Version of the on-disk layout: 1 = events with payloads in SQLite; 2 = SQLite holds only the index, payloads stay in the journal. */
export const STORE_FORMAT = 2;

export const SNAPSHOT_FILE = 'events.sqlite';
export const JOURNAL_FILE = 'events.journal';
/** Present while `recover` swaps files (see recoverStore.ts); a store is not opened meanwhile. */
export const RECOVER_MARKER_FILE = 'recover-in-progress.json';
/** Present while a forget installs the store's rewritten files (see forgetFiles.ts); completed on the next open for writing. */
export const FORGET_MARKER_FILE = 'forget-in-progress.json';

/**
 * The index of the log (format 2): per event its position, stream, version, type, time, a 48-bit
 * key of its id, and where its bytes lie in the journal. No payload: events are read from the
 * journal by offset. Streams and types are interned as small integers. About 100 bytes per event
 * with the indexes (1M events: ~100 MB).
 */
export function createSchema(db: Database): void {
  db.exec(`
    CREATE TABLE IF NOT EXISTS streams (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
    CREATE TABLE IF NOT EXISTS types (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
    CREATE TABLE IF NOT EXISTS events (
      position       INTEGER PRIMARY KEY,
      stream         INTEGER NOT NULL,
      stream_version INTEGER NOT NULL,
      type           INTEGER NOT NULL,
      recorded_ms    INTEGER NOT NULL,
      id_key         INTEGER NOT NULL,
      at             INTEGER NOT NULL,
      len            INTEGER NOT NULL
    );
    CREATE UNIQUE INDEX IF NOT EXISTS events_by_stream ON events (stream, stream_version);
    CREATE INDEX IF NOT EXISTS events_by_type ON events (type);
    CREATE INDEX IF NOT EXISTS events_by_id ON events (id_key);
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
