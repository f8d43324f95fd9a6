import { existsSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import type { SqlJsStatic } from 'sql.js';
import { CorruptStoreError } from '../../core/errors.js';
import type { LogHead } from '../../core/eventStore.js';
import { JOURNAL_HEADER, cutTornTail } from './journal.js';
import type { JournalReader } from './journalReader.js';
import { LogIndex } from './logIndex.js';
import { JOURNAL_FILE, SNAPSHOT_FILE, tuneConnection } from './schema.js';
import type { LazyImage } from './lazyImage.js';
import { EMPTY_HEAD, catchUpIndex, emptyIndex, loadIndexImage, openSnapshotImage, readCheckedDigests, saveIndexImage } from './storeFiles.js';
import { StoreLock } from './storeLock.js';
import type { Settings } from './sqljsEventStore.js';

/**
 * Opening a store: the saved index (format 2) loaded and caught up with the journal, or rebuilt
 * from the journal; and the lock taken for one step at a time.
 */

/** Runs `fn` holding the store's lock, waiting up to `lockWaitMs` for another process's append. */
export async function withLock<T>(dir: string, settings: Pick<Settings, 'lockWaitMs' | 'owner'>, fn: () => Promise<T>): Promise<T> {
  const lock = await StoreLock.acquireAsync(dir, settings.owner, { waitMs: settings.lockWaitMs });
  try {
    return await fn();
  } finally {
    lock.release();
  }
}

export interface LoadedIndex {
  readonly index: LogIndex;
  readonly head: LogHead;
  readonly end: number;
  /** Journal offset the saved image covers. */
  readonly savedOffset: number;
  readonly warning: string | null;
  readonly digest: string | null;
}

/**
 * Loads the saved index and catches it up with the journal. An index that is missing, of the old
 * format, stale (it covers more journal than there is) or disagrees with the journal at its last
 * event is rebuilt from the journal: by a writer (under the lock, saved, the old file kept beside
 * the store once), or by a reader in memory only.
 */
export async function loadOrBuildIndex(dir: string, SQL: SqlJsStatic, reader: JournalReader, mode: 'write' | 'read', settings: Settings): Promise<LoadedIndex> {
  const snapshotPath = join(dir, SNAPSHOT_FILE);
  const journalPath = join(dir, JOURNAL_FILE);
  let reason: string | null = null;
  let legacy = false;
  if (existsSync(snapshotPath)) {
    let loaded: ReturnType<typeof loadIndexImage> | null = null;
    let digest: string | null = null;
    let image: LazyImage | null = null;
    try {
      image = openSnapshotImage(snapshotPath);
      digest = image.digest();
      loaded = loadIndexImage(SQL, snapshotPath, image);
      if (loaded.kind === 'index' && !readCheckedDigests(dir).includes(digest)) {
        loaded.db.close();
        loaded = null;
        reason = 'it is not an image this store wrote (edited, damaged or copied in)';
      }
    } catch (err) {
      if (!(err instanceof CorruptStoreError)) {
        image?.dispose();
        throw err;
      }
      reason = err.detail;
    }
    if (loaded?.kind !== 'index') image?.dispose();
    if (loaded?.kind === 'legacy') legacy = true;
    else if (loaded?.kind === 'index') {
      const index = new LogIndex(loaded.db, image);
      const problem = checkIndexAgainstJournal(index, reader, loaded.offset);
      if (problem === null) {
        const head = headOf(index, reader);
        const caught = catchUpIndex(index, journalPath, loaded.offset, head);
        if (caught.end.kind === 'corrupt') {
          index.close();
          throw new CorruptStoreError(journalPath, caught.end.detail);
        }
        const end = caught.end.kind === 'clean' ? caught.end.offset : caught.lastGoodOffset;
        return { index, head: caught.head, end, savedOffset: loaded.offset, warning: null, digest };
      }
      index.close();
      reason = problem;
    }
  }
  const hadImage = existsSync(snapshotPath);
  const why = legacy ? 'upgrading the event store to format 2 (the index of the log in events.sqlite, the events in the journal)' : reason ? `the index events.sqlite does not match the journal (${reason}); rebuilding it from the journal` : null;
  const size = reader.size();
  if (why && size > 1 << 20) settings.onNotice?.(`RAG Ledger: ${why}: reading ${(size / (1 << 20)).toFixed(0)} MiB of journal once…`);
  const build = (): LoadedIndex => {
    const index = new LogIndex(emptyIndex(SQL));
    try {
      const caught = catchUpIndex(index, journalPath, JOURNAL_HEADER.length, EMPTY_HEAD);
      if (caught.end.kind === 'corrupt') throw new CorruptStoreError(journalPath, caught.end.detail);
      const end = caught.end.kind === 'clean' ? caught.end.offset : caught.lastGoodOffset;
      return { index, head: caught.head, end, savedOffset: JOURNAL_HEADER.length, warning: null, digest: null };
    } catch (err) {
      index.close();
      throw err;
    }
  };
  if (mode !== 'write') {
    const built = build();
    return {
      ...built,
      warning:
        reason && !legacy
          ? `warning: the index ${snapshotPath} does not match the journal (${reason}); it was rebuilt in memory from the journal for this command, and the next command that writes saves it (if this recurs, run \`rag-ledger recover --store ${dir}\`)`
          : null,
    };
  }
  return withLock(dir, settings, async () => {
    const built = build();
    // Holding the lock, a partial last record is a crashed append, not one being written.
    if (reader.size() > built.end) cutTornTail(journalPath, built.end);
    if (hadImage) {
      const kept = `${snapshotPath}.${legacy ? 'format1' : 'damaged'}-${new Date().toISOString().replace(/[:.]/g, '-')}`;
      renameSync(snapshotPath, kept);
      settings.onNotice?.(`RAG Ledger: ${legacy ? 'the store was upgraded; the old file is kept as' : 'the index was rebuilt; the old one is kept as'} ${kept}`);
    }
    built.index.setMeta('journal_offset', String(built.end));
    built.index.freeStatements();
    const image = built.index.db.export();
    tuneConnection(built.index.db);
    const digest = await saveIndexImage(dir, image, null);
    return { ...built, savedOffset: built.end, digest };
  });
}

/** Why the index cannot be trusted against this journal, or null. */
function checkIndexAgainstJournal(index: LogIndex, reader: JournalReader, offset: number): string | null {
  const size = reader.size();
  if (offset > size) return `it covers ${offset} bytes of journal, the journal has ${size}`;
  const last = index.last();
  if (!last) return offset === JOURNAL_HEADER.length ? null : `it holds no event but covers ${offset} bytes of journal`;
  if (last.at + last.len !== offset) return `its last event ends at byte ${last.at + last.len}, not at the ${offset} bytes it covers`;
  try {
    reader.read([last]);
    return null;
  } catch (err) {
    return (err as Error).message;
  }
}

function headOf(index: LogIndex, reader: JournalReader): LogHead {
  const last = index.last();
  if (!last) return EMPTY_HEAD;
  const [raw] = reader.read([last]);
  return { position: raw!.position, hash: raw!.hash };
}
