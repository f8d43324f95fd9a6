import { existsSync, readFileSync, readdirSync, renameSync, statSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import type { SqlJsStatic } from 'sql.js';
import { CorruptStoreError } from '../../core/errors.js';
import type { RawEvent } from '../../core/eventStore.js';
import { fsyncDir } from './journal.js';
import { checkJournal, fileSha256, indexImage, writeDurably, writeJournal } from './recoverStore.js';
import { FORGET_MARKER_FILE, JOURNAL_FILE, SNAPSHOT_FILE } from './schema.js';

/**
 * How a forget replaces the store's two files: the whole log, with the emptied rows, is written
 * to a new journal and a new snapshot built from scratch (so no free page of the old database
 * survives in it), both fsync'd under temporary names. Then `forget-in-progress.json` is written
 * durably: the commit point. The new files are then renamed over the old ones and the marker is
 * removed. A crash before the marker leaves the old store (the temporary files are removed on the
 * next open); a crash after it leaves a marker that the next open for writing completes, and that
 * makes readers wait for it (ForgetInProgressError). The old files are unlinked by the renames:
 * nothing of them is kept beside the store.
 */

/** Suffix of the new files while they are written. */
const NEW = '.forget-new';

interface ForgetMarker {
  readonly version: 1;
  readonly install: readonly { readonly from: string; readonly to: string; readonly size: number; readonly sha256: string }[];
}

/** Called between the steps of a forget (the crash tests stop the process there). */
export type ForgetStep = 'written' | 'marked' | 'installed-journal' | 'installed';

/** Writes and installs the rewritten log. Returns the new journal's size and the snapshot image. */
export function installRewrittenLog(dir: string, SQL: SqlJsStatic, events: Iterable<RawEvent>, onStep?: (step: ForgetStep) => void): { readonly journalSize: number; readonly image: Uint8Array } {
  discardUnfinished(dir);
  const newJournal = join(dir, JOURNAL_FILE + NEW);
  const newSnapshot = join(dir, SNAPSHOT_FILE + NEW);
  const markerPath = join(dir, FORGET_MARKER_FILE);
  let marker: ForgetMarker;
  let image: Uint8Array;
  let journalSize: number;
  try {
    checkJournal(newJournal, writeJournal(newJournal, events));
    journalSize = statSync(newJournal).size;
    image = indexImage(SQL, newJournal);
    writeDurably(newSnapshot, image);
    fsyncDir(dir);
    onStep?.('written');
    marker = {
      version: 1,
      install: [
        { from: JOURNAL_FILE + NEW, to: JOURNAL_FILE, size: journalSize, sha256: fileSha256(newJournal) },
        { from: SNAPSHOT_FILE + NEW, to: SNAPSHOT_FILE, size: image.byteLength, sha256: fileSha256(newSnapshot) },
      ],
    };
    writeDurably(`${markerPath}.tmp`, Buffer.from(JSON.stringify(marker, null, 2)), 'w');
    renameSync(`${markerPath}.tmp`, markerPath);
    fsyncDir(dir);
  } catch (err) {
    if (!existsSync(markerPath)) discardUnfinished(dir);
    throw err;
  }
  onStep?.('marked');
  install(dir, marker, onStep);
  return { journalSize, image };
}

/** Whether a forget's marker is present (its files are being installed). */
export function forgetPending(dir: string): boolean {
  return existsSync(join(dir, FORGET_MARKER_FILE));
}

/** Whether an unfinished forget's new files lie beside the store (a forget in progress, or one that crashed before its commit point). */
export function forgetLeftovers(dir: string): boolean {
  return [JOURNAL_FILE + NEW, SNAPSHOT_FILE + NEW, `${FORGET_MARKER_FILE}.tmp`].some((f) => existsSync(join(dir, f)));
}

/**
 * Settles what an interrupted forget left, for a writer that holds the lock: completes the
 * installation when the marker is there, otherwise removes the unfinished new files.
 * Returns true when a forget was completed.
 */
export function settleForget(dir: string): boolean {
  const markerPath = join(dir, FORGET_MARKER_FILE);
  if (!existsSync(markerPath)) {
    discardUnfinished(dir);
    return false;
  }
  let marker: ForgetMarker;
  try {
    marker = JSON.parse(readFileSync(markerPath, 'utf8')) as ForgetMarker;
    if (marker.version !== 1 || !Array.isArray(marker.install)) throw new Error('unknown marker version');
  } catch (err) {
    throw new CorruptStoreError(markerPath, `the marker of an interrupted forget cannot be read (${(err as Error).message})`);
  }
  install(dir, marker);
  return true;
}

function install(dir: string, marker: ForgetMarker, onStep?: (step: ForgetStep) => void): void {
  for (const s of marker.install) {
    const [from, to] = [join(dir, s.from), join(dir, s.to)];
    if (isOurs(from, s)) {
      renameSync(from, to);
      fsyncDir(dir);
    } else if (!isOurs(to, s)) {
      throw new CorruptStoreError(to, `an interrupted forget should have installed it, but neither it nor ${s.from} holds the rewritten file`);
    }
    if (s.to === JOURNAL_FILE) onStep?.('installed-journal');
  }
  unlinkSync(join(dir, FORGET_MARKER_FILE));
  fsyncDir(dir);
  onStep?.('installed');
}

function discardUnfinished(dir: string): void {
  for (const f of [JOURNAL_FILE + NEW, SNAPSHOT_FILE + NEW, `${FORGET_MARKER_FILE}.tmp`]) {
    const p = join(dir, f);
    if (existsSync(p)) unlinkSync(p);
  }
}

function isOurs(path: string, spec: { readonly size: number; readonly sha256: string }): boolean {
  try {
    return statSync(path).size === spec.size && fileSha256(path) === spec.sha256;
  } catch {
    return false;
  }
}

/** Names of the copies the store keeps aside (torn journal tails, files replaced by `recover`, damaged read models). */
const KEPT_COPY = /\.(torn-at-|before-recover-|after-interrupted-recover-|damaged-)/;

/**
 * Copies kept beside the store (in it and its sub-folders, relative paths) that a forget does not
 * rewrite: they predate it and may still hold the forgotten content. The user decides to delete them.
 */
export function keptCopies(dir: string): string[] {
  const out: string[] = [];
  const walk = (rel: string, depth: number): void => {
    let names: string[];
    try {
      names = readdirSync(join(dir, rel));
    } catch {
      return;
    }
    for (const name of names) {
      const path = rel === '' ? name : `${rel}/${name}`;
      if (KEPT_COPY.test(name)) out.push(path);
      else if (depth < 2 && statSync(join(dir, path)).isDirectory() && !name.endsWith('.lance')) walk(path, depth + 1);
    }
  };
  walk('', 0);
  return out.sort();
}
