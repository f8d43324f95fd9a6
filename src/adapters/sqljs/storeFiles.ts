import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Database } from 'sql.js';
import { CorruptStoreError, UnsupportedFormatError } from '../../core/errors.js';
import type { Hasher } from '../../core/eventLog.js';
import { ChainVerifier, GENESIS_HASH } from '../../core/eventLog.js';
import type { LogHead, VerifyReport } from '../../core/eventStore.js';
import { JOURNAL_HEADER, scanJournal } from './journal.js';
import { EVENT_COLUMNS, INSERT_EVENT_SQL, SNAPSHOT_FILE, STORE_FORMAT, rawToParams, rowToRaw } from './schema.js';

/**
 * Loading a store from disk: the snapshot image, then the journal records after the offset
 * the snapshot covers; and checking the journal against the loaded database.
 */

export function readSnapshotBytes(path: string): Uint8Array {
  const bytes = readFileSync(path);
  if (bytes.length < 100 || bytes.toString('latin1', 0, 16) !== 'SQLite format 3\0') {
    throw new CorruptStoreError(path, 'the file is not an SQLite database (bad header)');
  }
  return bytes;
}

export function openSnapshot(db: Database, path: string): { db: Database; offset: number } {
  try {
    const meta = new Map((db.exec('SELECT key, value FROM meta')[0]?.values ?? []).map(([k, v]) => [String(k), String(v)]));
    const format = Number(meta.get('format'));
    if (format > STORE_FORMAT) throw new UnsupportedFormatError(`the store at ${path} has format ${format}; this RAG Ledger reads format ${STORE_FORMAT}`);
    const offset = Number(meta.get('journal_offset') ?? JOURNAL_HEADER.length);
    if (!Number.isSafeInteger(offset) || offset < JOURNAL_HEADER.length) throw new Error(`invalid journal_offset ${meta.get('journal_offset')}`);
    db.exec('SELECT position, hash FROM events ORDER BY position DESC LIMIT 1');
    return { db, offset };
  } catch (err) {
    db.close();
    if (err instanceof UnsupportedFormatError) throw err;
    throw new CorruptStoreError(path, (err as Error).message);
  }
}

export function readHead(db: Database): LogHead {
  const row = db.exec('SELECT position, hash FROM events ORDER BY position DESC LIMIT 1')[0]?.values[0];
  return row ? { position: row[0] as number, hash: row[1] as string } : { position: 0, hash: GENESIS_HASH };
}

/** Applies journal records after `offset` to the database; each must continue the chain. */
export function replayJournal(db: Database, journalPath: string, offset: number, head: LogHead): { head: LogHead; end: ReturnType<typeof scanJournal>; lastGoodOffset: number } {
  let current = head;
  let lastGoodOffset = offset;
  const insert = db.prepare(INSERT_EVENT_SQL);
  db.exec('BEGIN');
  try {
    const end = scanJournal(journalPath, offset, (events, at) => {
      const first = events[0];
      if (!first) return;
      if (first.position !== current.position + 1 || first.prevHash !== current.hash) {
        throw new CorruptStoreError(journalPath, `the journal record ending at byte ${at} does not continue the log at position ${current.position}`);
      }
      for (const e of events) insert.run(rawToParams(e));
      const last = events[events.length - 1]!;
      current = { position: last.position, hash: last.hash };
      lastGoodOffset = at;
    });
    db.exec('COMMIT');
    return { head: current, end, lastGoodOffset };
  } catch (err) {
    db.exec('ROLLBACK');
    throw err;
  } finally {
    insert.free();
  }
}

/**
 * Compares the journal (up to `limit` bytes) with the database's hashes by position: every
 * journal event must be in the database with the same hash, in order, and vice versa.
 * Returns the first difference, if any.
 */
export function crossCheckJournal(journalPath: string, hashes: readonly string[], limit: number): VerifyReport['firstFailure'] {
  let mismatch: VerifyReport['firstFailure'];
  let seen = 0;
  const end = scanJournal(
    journalPath,
    JOURNAL_HEADER.length,
    (events) => {
      for (const e of events) {
        if (mismatch) return;
        seen++;
        if (e.position !== seen) {
          mismatch = { position: seen, kind: e.position > seen ? 'removed' : 'reordered', detail: `the journal holds event ${e.position} where event ${seen} belongs` };
          return;
        }
        const stored = hashes[e.position - 1];
        if (stored === undefined) mismatch = { position: e.position, kind: 'removed', detail: `event ${e.position} is in the journal but missing from the database` };
        else if (stored !== e.hash) mismatch = { position: e.position, kind: 'journal_mismatch', detail: `event ${e.position} differs between the journal and the database` };
      }
    },
    limit,
  );
  if (!mismatch && end.kind === 'corrupt') mismatch = { position: seen + 1, kind: 'journal_mismatch', detail: `journal: ${end.detail}` };
  if (!mismatch && seen < hashes.length) {
    mismatch = { position: seen + 1, kind: 'inserted', detail: `events ${seen + 1}..${hashes.length} are in the database but not in the journal` };
  }
  return mismatch;
}

/**
 * The digests of the snapshot images this store's writers wrote or checked, kept beside the
 * snapshot (`events.sqlite.check`). An image whose digest is listed was checked against the
 * journal (or written from a checked log), so opening it costs one SHA-256 pass over bytes
 * already read. Any other image (edited, damaged, or written by a forget or a recovery) is
 * checked in full: every event re-hashed and compared with the journal. The list is only a
 * shortcut: a missing or stale one costs time, never a false refusal.
 */
export const SNAPSHOT_CHECK_FILE = `${SNAPSHOT_FILE}.check`;

export function imageDigest(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export function readCheckedDigests(dir: string): string[] {
  try {
    const parsed = JSON.parse(readFileSync(join(dir, SNAPSHOT_CHECK_FILE), 'utf8')) as { version?: unknown; images?: unknown };
    if (parsed.version !== 1 || !Array.isArray(parsed.images)) return [];
    return parsed.images.filter((d): d is string => typeof d === 'string');
  } catch {
    return [];
  }
}

export function checkedDigestsFile(digests: readonly string[]): Uint8Array {
  return Buffer.from(JSON.stringify({ version: 1, images: [...new Set(digests)].slice(0, 2) }));
}

/**
 * Checks a snapshot image in full: the hash chain of every event it holds, and that the journal
 * up to `offset` (the part the image covers) holds exactly the same events. Returns the first
 * difference. Cost: one pass over the image's events and one over that part of the journal.
 */
export function checkImage(db: Database, journalPath: string, offset: number, hasher: Hasher): VerifyReport['firstFailure'] {
  const verifier = new ChainVerifier(hasher);
  const hashes: string[] = [];
  const stmt = db.prepare(`SELECT ${EVENT_COLUMNS} FROM events ORDER BY position`);
  try {
    while (stmt.step()) {
      const raw = rowToRaw(stmt.get());
      if (!verifier.check(raw)) break;
      hashes.push(raw.hash);
    }
  } finally {
    stmt.free();
  }
  const report = verifier.report();
  if (!report.ok) return report.firstFailure;
  return existsSync(journalPath) ? crossCheckJournal(journalPath, hashes, offset) : undefined;
}

/** Whether an error from sql.js means the database image itself is damaged. */
export function isDamagedImage(err: unknown): boolean {
  return err instanceof Error && /malformed|not a database|SQLITE_CORRUPT|SQLITE_NOTADB|file is encrypted/i.test(err.message);
}
