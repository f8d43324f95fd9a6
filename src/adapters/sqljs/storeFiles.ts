import { createHash } from 'node:crypto';
import { existsSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { replaceFileAtomically } from './atomicFile.js';
import { LazyImage, writeImageTemp } from './lazyImage.js';
import type { Database, SqlJsStatic, Statement } from 'sql.js';
import { CorruptStoreError, UnsupportedFormatError } from '../../core/errors.js';
import type { Hasher } from '../../core/eventLog.js';
import type { SignatureCheck } from '../../core/signing.js';
import { ChainVerifier, GENESIS_HASH } from '../../core/eventLog.js';
import type { LogHead, VerifyReport } from '../../core/eventStore.js';
import type { ScanEnd } from './journal.js';
import { JOURNAL_HEADER, fsyncDir, scanJournal } from './journal.js';
import type { LogIndex } from './logIndex.js';
import { SNAPSHOT_FILE, STORE_FORMAT, createSchema, tuneConnection } from './schema.js';

/**
 * The store's SQLite file (format 2) is the log's index: rebuilt from the journal whenever it is
 * missing, stale or damaged, so it is a cache that makes opening fast, never a second copy of the
 * log. Loading it, catching it up with the journal, and checking the journal against it.
 */

/**
 * Opens the index image on disk for sql.js without reading it into memory (see lazyImage.ts). Throws
 * CorruptStoreError when the file is not an SQLite database.
 */
export function openSnapshotImage(path: string): LazyImage {
  const image = LazyImage.open(path);
  if (image.fileSize < 100 || Buffer.from(image.subarray(0, 16)).toString('latin1') !== 'SQLite format 3\0') {
    image.dispose();
    throw new CorruptStoreError(path, 'the file is not an SQLite database (bad header)');
  }
  return image;
}

export type LoadedImage = { readonly kind: 'index'; readonly db: Database; readonly offset: number } | { readonly kind: 'legacy' };

/** Opens an index image. Format 1 (payloads in SQLite) is reported as `legacy`, to be migrated. */
export function loadIndexImage(SQL: SqlJsStatic, path: string, image: LazyImage): LoadedImage {
  const db = new SQL.Database(image as unknown as Uint8Array);
  try {
    const meta = new Map((db.exec('SELECT key, value FROM meta')[0]?.values ?? []).map(([k, v]) => [String(k), String(v)]));
    const format = Number(meta.get('format'));
    if (format > STORE_FORMAT) throw new UnsupportedFormatError(`the store at ${path} has format ${format}; this RAG Ledger reads format ${STORE_FORMAT}`);
    if (format < STORE_FORMAT) {
      db.close();
      return { kind: 'legacy' };
    }
    const offset = Number(meta.get('journal_offset') ?? JOURNAL_HEADER.length);
    if (!Number.isSafeInteger(offset) || offset < JOURNAL_HEADER.length) throw new Error(`invalid journal_offset ${meta.get('journal_offset')}`);
    db.exec('SELECT position, at, len FROM events ORDER BY position DESC LIMIT 1');
    tuneConnection(db);
    // Pages come from the file on demand: a larger page cache keeps the hot ones (16 MiB).
    db.exec('PRAGMA cache_size = -16384');
    return { kind: 'index', db, offset };
  } catch (err) {
    db.close();
    if (err instanceof UnsupportedFormatError) throw err;
    throw new CorruptStoreError(path, (err as Error).message);
  }
}

/** A new, empty index. */
export function emptyIndex(SQL: SqlJsStatic): Database {
  const db = new SQL.Database();
  createSchema(db);
  tuneConnection(db);
  return db;
}

export interface CatchUp {
  readonly head: LogHead;
  readonly end: ScanEnd;
  /** Just past the last record added. */
  readonly lastGoodOffset: number;
  readonly added: number;
}

/**
 * Adds the journal's records after `offset` to the index (reading only their headers); each must
 * continue the chain. One transaction: on an error nothing is added.
 */
export function catchUpIndex(index: LogIndex, journalPath: string, offset: number, head: LogHead, onProgress?: (offset: number) => void): CatchUp {
  let current = head;
  let lastGoodOffset = offset;
  let added = 0;
  index.db.exec('BEGIN');
  try {
    const end = scanJournal(
      journalPath,
      offset,
      (events, at, spans) => {
        const first = events[0];
        if (!first) return;
        if (first.position !== current.position + 1 || first.prevHash !== current.hash) {
          throw new CorruptStoreError(journalPath, `the journal record ending at byte ${at} does not continue the log at position ${current.position}`);
        }
        for (let i = 0; i < events.length; i++) index.add(events[i]!, spans[i]!);
        added += events.length;
        const last = events[events.length - 1]!;
        current = { position: last.position, hash: last.hash };
        lastGoodOffset = at;
        onProgress?.(at);
      },
      Number.POSITIVE_INFINITY,
      { headersOnly: true },
    );
    index.db.exec('COMMIT');
    return { head: current, end, lastGoodOffset, added };
  } catch (err) {
    index.db.exec('ROLLBACK');
    index.resetCaches();
    throw err;
  }
}

/**
 * Checks the whole journal up to `limit`: every record's checksum, every event's hash chain and
 * seals, and that the index holds exactly these events at these places. Memory is bounded by the
 * largest record. Returns the verifier's report with the first difference, if any.
 */
export function verifyJournal(journalPath: string, index: LogIndex, limit: number, hasher: Hasher, signatureCheck?: SignatureCheck): VerifyReport {
  const verifier = new ChainVerifier(hasher, signatureCheck);
  let mismatch: VerifyReport['firstFailure'];
  let seen = 0;
  const rows: Statement = index.db.prepare('SELECT position, at, len FROM events ORDER BY position');
  try {
    const end = existsSync(journalPath)
      ? scanJournal(
          journalPath,
          JOURNAL_HEADER.length,
          (events, _end, spans) => {
            for (let i = 0; i < events.length; i++) {
              if (mismatch) return;
              const e = events[i]!;
              if (!verifier.check(e)) return;
              seen++;
              const row = rows.step() ? rows.get() : null;
              if (!row) mismatch = { position: e.position, kind: 'removed', detail: `event ${e.position} is in the journal but missing from the index (events.sqlite)` };
              else if (row[0] !== e.position || row[1] !== spans[i]!.at || row[2] !== spans[i]!.len) {
                mismatch = { position: e.position, kind: 'journal_mismatch', detail: `the index (events.sqlite) places event ${row[0] as number} at byte ${row[1] as number}, the journal holds event ${e.position} at byte ${spans[i]!.at}` };
              }
            }
          },
          limit,
        )
      : ({ kind: 'clean', offset: 0 } as ScanEnd);
    const report = verifier.report();
    if (!report.ok) return report;
    if (!mismatch && end.kind === 'corrupt') mismatch = { position: seen + 1, kind: 'journal_mismatch', detail: `journal: ${end.detail}` };
    if (!mismatch && rows.step()) {
      mismatch = { position: rows.get()[0] as number, kind: 'inserted', detail: `event ${rows.get()[0] as number} is in the index (events.sqlite) but not in the journal` };
    }
    return mismatch ? { ...report, ok: false, firstFailure: mismatch } : report;
  } finally {
    rows.free();
  }
}

/**
 * The digests of the index images this store's writers wrote (`events.sqlite.check`, written before
 * each image is renamed into place, listing the new one and the current one). An image whose digest
 * is not listed was edited, damaged or copied in from elsewhere: it is rebuilt from the journal
 * instead of being trusted. Cost on open: one SHA-256 pass over bytes read anyway.
 */
export const SNAPSHOT_CHECK_FILE = `${SNAPSHOT_FILE}.check`;

export function imageDigest(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export function readCheckedDigests(dir: string): string[] {
  return readDigestList(dir, SNAPSHOT_CHECK_FILE);
}

/** A list of image digests kept beside a file (the newest first). */
export function readDigestList(dir: string, name: string): string[] {
  try {
    const parsed = JSON.parse(readFileSync(join(dir, name), 'utf8')) as { version?: unknown; images?: unknown };
    if (parsed.version !== 2 || !Array.isArray(parsed.images)) return [];
    return parsed.images.filter((d): d is string => typeof d === 'string');
  } catch {
    return [];
  }
}

export function checkedDigestsFile(digests: readonly string[]): Uint8Array {
  return digestListFile(digests);
}

/** The list file: at most the two newest digests (the new image and the one it replaces). */
export function digestListFile(digests: readonly string[]): Uint8Array {
  return Buffer.from(JSON.stringify({ version: 2, images: [...new Set(digests)].slice(0, 2) }));
}

/**
 * Saves an index that lives on disk (a LazyImage): the image is written to a new file in one
 * synchronous pass (one moment's image; it becomes the image's base), its digest listed, then the
 * file renamed over the old one.
 */
export async function saveLazyIndexImage(dir: string, image: LazyImage, bytes: number, previousDigest: string | null): Promise<string> {
  const target = join(dir, SNAPSHOT_FILE);
  const { tmp, sha256: digest } = writeImageTemp(image, target, bytes);
  try {
    await replaceFileAtomically(dir, SNAPSHOT_CHECK_FILE, checkedDigestsFile(previousDigest ? [digest, previousDigest] : [digest]));
    renameSync(tmp, target);
  } catch (err) {
    rmSync(tmp, { force: true }); // the image keeps reading it through its descriptor
    throw err;
  }
  image.renamed(target);
  fsyncDir(dir);
  return digest;
}

/** Saves an index image: its digest listed first, then the image replaces the old one atomically. */
export async function saveIndexImage(dir: string, image: Uint8Array, previousDigest: string | null): Promise<string> {
  const digest = imageDigest(image);
  await replaceFileAtomically(dir, SNAPSHOT_CHECK_FILE, checkedDigestsFile(previousDigest ? [digest, previousDigest] : [digest]));
  await replaceFileAtomically(dir, SNAPSHOT_FILE, image);
  return digest;
}

export const EMPTY_HEAD: LogHead = { position: 0, hash: GENESIS_HASH };

/** Whether an error from sql.js means the database image itself is damaged. */
export function isDamagedImage(err: unknown): boolean {
  return err instanceof Error && /malformed|not a database|SQLITE_CORRUPT|SQLITE_NOTADB|file is encrypted/i.test(err.message);
}
