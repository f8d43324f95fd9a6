import { createHash } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, linkSync, openSync, readFileSync, readSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { SqlJsStatic } from 'sql.js';
import { StoreNotFoundError } from '../../core/errors.js';
import type { Hasher } from '../../core/eventLog.js';
import { GENESIS_HASH } from '../../core/eventLog.js';
import type { RawEvent } from '../../core/eventStore.js';
import { sha256 } from '../node/sha256.js';
import { JOURNAL_HEADER, createJournal, encodeRecord, fsyncDir, scanJournal } from './journal.js';
import { JOURNAL_FILE, RECOVER_MARKER_FILE, SNAPSHOT_FILE, tuneConnection } from './schema.js';
import { LogIndex } from './logIndex.js';
import { catchUpIndex, emptyIndex, EMPTY_HEAD } from './storeFiles.js';
import { planRecovery } from './recoveryPlan.js';
import { settleForget } from './forgetFiles.js';
import { loadSqlJs } from './sqlJsLoader.js';
import { LEGACY_PROJECTIONS_FILE } from './sqljsProjectionStore.js';
import { PROJECTIONS_DIR } from './projectionShards.js';
import { StoreLock } from './storeLock.js';

/**
 * Present while `recover` replaces the store's files: it lists the planned renames, so that the
 * next `recover` can complete (or undo) a recovery that was interrupted half-way. A store must
 * not be opened while it exists.
 */
export { RECOVER_MARKER_FILE };
/** Suffix of the new files while they are written, before they are renamed into place. */
const RECOVERING = '.recovering';

/** A run of consecutive positions, both ends included. */
export interface PositionRange {
  readonly from: number;
  readonly to: number;
}

/** What `recover` did. Nothing of the store is deleted: every replaced file is kept beside the store. */
export interface RecoveryReport {
  readonly events: number;
  readonly headHash: string;
  /**
   * Which copy the recovered log came from: one copy held all of it ('both agree': each did),
   * or it was spliced from the snapshot and the journal.
   */
  readonly source: 'journal' | 'snapshot' | 'both agree' | 'snapshot and journal' | 'empty';
  /** Events each copy held intact (valid hash chain from position 1). */
  readonly intact: { readonly snapshot: number; readonly journal: number };
  /** The highest position found in any copy, intact or not (0 if none). */
  readonly highestPosition: number;
  /** Events that existed (up to `highestPosition`) but could not be recovered. */
  readonly dropped: number;
  /** Their positions, `events + 1` to `highestPosition`; null when nothing was dropped. */
  readonly droppedPositions: PositionRange | null;
  /** Positions up to `highestPosition` of which no copy was intact: why the log ends where it does. */
  readonly unreadablePositions: readonly PositionRange[];
  /** The original files, kept under new names. */
  readonly keptFiles: readonly string[];
  readonly notes: readonly string[];
}

/** `recover-in-progress.json`. File names are relative to the store directory. */
interface RecoveryMarker {
  readonly version: 1;
  readonly stamp: string;
  /** Originals kept under a second name (a hard link) before their replacement is renamed over them. */
  readonly kept: readonly { readonly file: string; readonly as: string }[];
  /** The new files (complete and fsync'd before the marker was written) and where they go. */
  readonly install: readonly { readonly from: string; readonly to: string; readonly size: number; readonly sha256: string }[];
  /** Originals renamed aside without a replacement (read models: rebuilt on next use). */
  readonly moved: readonly { readonly file: string; readonly as: string }[];
  /** The report of the recovery, returned by whichever call completes it. */
  readonly report: RecoveryReport;
}

/**
 * Rebuilds a damaged store from everything intact: the longest hash chain that can be built
 * from the snapshot's rows and every intact journal record (damaged records are skipped and
 * the scan resumes at the next intact one). The new files are written and fsync'd under
 * temporary names first; only then are the originals kept as `*.before-recover-<time>` and the
 * new files renamed into place, under a marker file that lets the next call finish an
 * interrupted run. Throws StoreNotFoundError, and touches nothing, if `dir` holds no store.
 */
export async function recoverStore(dir: string, hasher: Hasher = sha256): Promise<RecoveryReport> {
  if (!isStore(dir)) throw new StoreNotFoundError(dir);
  const lock = StoreLock.acquire(dir, 'rag-ledger recover');
  try {
    if (!isStore(dir)) throw new StoreNotFoundError(dir);
    // A forget interrupted while it replaced the files is completed first: recovering from its
    // half-installed files could splice forgotten content back in.
    settleForget(dir);
    const notes: string[] = [];
    const asides: string[] = [];
    const markerPath = join(dir, RECOVER_MARKER_FILE);
    if (existsSync(markerPath)) {
      const marker = readMarker(markerPath);
      const placed = new Set<string>();
      const complete = marker.install.every((s) => {
        if (isOurs(join(dir, s.to), s)) placed.add(s.to);
        else if (!isOurs(join(dir, s.from), s)) return false;
        return true;
      });
      if (complete) {
        install(dir, marker, placed, asides, notes);
        discardLeftovers(dir);
        return {
          ...marker.report,
          keptFiles: [...marker.kept, ...marker.moved].map((k) => join(dir, k.as)).concat(asides),
          notes: [...marker.report.notes, `this completes a recovery started at ${marker.stamp} that was interrupted`, ...notes],
        };
      }
      rollBack(dir, marker, asides, notes);
      notes.push(`a recovery started at ${marker.stamp} was interrupted before its new files were complete; it was undone and the store recovered again`);
    }
    if (!isStore(dir)) throw new StoreNotFoundError(dir);
    discardLeftovers(dir);

    const SQL = await loadSqlJs();
    const plan = planRecovery(dir, SQL, hasher, notes);
    const stamp = uniqueStamp(dir);
    const inspection = keepDamagedRecords(dir, plan.damagedJournal, stamp, notes);
    const newJournal = join(dir, JOURNAL_FILE + RECOVERING);
    const newSnapshot = join(dir, SNAPSHOT_FILE + RECOVERING);
    let marker: RecoveryMarker;
    try {
      checkJournal(newJournal, writeJournal(newJournal, plan.chain));
      const journalSize = statSync(newJournal).size;
      writeDurably(newSnapshot, indexImage(SQL, newJournal));
      fsyncDir(dir);
      const present = (f: string): boolean => existsSync(join(dir, f));
      const kept = [JOURNAL_FILE, SNAPSHOT_FILE].filter(present).map((file) => ({ file, as: `${file}.before-recover-${stamp}` }));
      const moved = [LEGACY_PROJECTIONS_FILE, PROJECTIONS_DIR].filter(present).map((file) => ({ file, as: `${file}.before-recover-${stamp}` }));
      marker = {
        version: 1,
        stamp,
        kept,
        install: [
          { from: JOURNAL_FILE + RECOVERING, to: JOURNAL_FILE, size: journalSize, sha256: fileSha256(newJournal) },
          { from: SNAPSHOT_FILE + RECOVERING, to: SNAPSHOT_FILE, size: statSync(newSnapshot).size, sha256: fileSha256(newSnapshot) },
        ],
        moved,
        report: { ...plan.report, keptFiles: [...kept, ...moved].map((k) => join(dir, k.as)).concat(inspection), notes: [...notes] },
      };
      writeMarker(markerPath, marker);
    } catch (err) {
      // Nothing of the store has been touched yet: only this call's unfinished output is removed.
      if (!existsSync(markerPath)) for (const p of [newJournal, newSnapshot, `${markerPath}.tmp`]) removeQuietly(p);
      throw err;
    }
    try {
      install(dir, marker, new Set(), asides, notes);
    } catch (err) {
      try {
        rollBack(dir, marker, asides, notes);
        discardLeftovers(dir);
      } catch (undoErr) {
        throw new Error(
          `recover failed while replacing the store's files (${(err as Error).message}) and could not put the originals back (${(undoErr as Error).message}); ` +
            `${RECOVER_MARKER_FILE} records what was done: run recover again to complete it`,
          { cause: err },
        );
      }
      throw err;
    }
    return { ...marker.report, keptFiles: [...marker.report.keptFiles, ...asides], notes: [...notes] };
  } finally {
    lock.release();
  }
}

/** The most bytes of one damaged stretch of the journal copied aside for inspection. */
const DAMAGED_COPY_LIMIT = 64 << 20;

/**
 * Copies each damaged stretch of the journal into a file of its own beside the store, for
 * inspection (the whole original journal is kept too). Returns the files' paths.
 */
function keepDamagedRecords(dir: string, ranges: readonly { readonly from: number; readonly to: number }[], stamp: string, notes: string[]): string[] {
  const kept: string[] = [];
  if (ranges.length === 0) return kept;
  const fd = openSync(join(dir, JOURNAL_FILE), 'r');
  try {
    for (const r of ranges) {
      const name = `${JOURNAL_FILE}.damaged-at-${r.from}-${stamp}`;
      // Bounded: the whole original journal is kept as well; this copy only makes the damage easy to find.
      const bytes = Buffer.alloc(Math.min(Math.max(0, r.to - r.from), DAMAGED_COPY_LIMIT));
      let got = 0;
      while (got < bytes.length) {
        const n = readSync(fd, bytes, got, bytes.length - got, r.from + got);
        if (n === 0) break;
        got += n;
      }
      writeDurably(join(dir, name), bytes.subarray(0, got));
      kept.push(join(dir, name));
      const cut = r.from + got < r.to ? ` (the first ${got} of ${r.to - r.from})` : '';
      notes.push(`the damaged journal bytes ${r.from}..${r.from + got}${cut} were copied to ${name} for inspection`);
    }
  } finally {
    closeSync(fd);
  }
  fsyncDir(dir);
  return kept;
}

function isStore(dir: string): boolean {
  try {
    if (!statSync(dir).isDirectory()) return false;
  } catch {
    return false;
  }
  return [SNAPSHOT_FILE, JOURNAL_FILE, RECOVER_MARKER_FILE].some((f) => existsSync(join(dir, f)));
}

// ---------------------------------------------------------------------------------------------
// Writing the new files.

/** Writes a new journal holding the events, in records of at most 1000 events or about 32 MiB. Returns what it wrote. */
export function writeJournal(path: string, events: Iterable<RawEvent>): { readonly count: number; readonly lastHash: string } {
  createJournal(path);
  const fd = openSync(path, 'a');
  let count = 0;
  let lastHash = GENESIS_HASH;
  try {
    let batch: RawEvent[] = [];
    let bytes = 0;
    const flush = (): void => {
      if (batch.length === 0) return;
      writeAll(fd, encodeRecord(batch));
      batch = [];
      bytes = 0;
    };
    for (const e of events) {
      batch.push(e);
      count++;
      lastHash = e.hash;
      bytes += e.dataJson.length + e.metadataJson.length + (e.attachment?.byteLength ?? 0) + 256;
      if (batch.length >= 1000 || bytes >= 32 << 20) flush();
    }
    flush();
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  return { count, lastHash };
}

/** Reads the new journal back: it must hold exactly what was written. */
export function checkJournal(path: string, written: { readonly count: number; readonly lastHash: string }): void {
  let count = 0;
  let lastHash = GENESIS_HASH;
  const end = scanJournal(
    path,
    JOURNAL_HEADER.length,
    (batch) => {
      count += batch.length;
      lastHash = batch[batch.length - 1]?.hash ?? lastHash;
    },
    Number.POSITIVE_INFINITY,
    { headersOnly: true },
  );
  if (end.kind !== 'clean' || count !== written.count || lastHash !== written.lastHash) {
    throw new Error(`the new journal ${path} did not read back as written (${end.kind}, ${count} of ${written.count} events)`);
  }
}

/** The index image (format 2) of a journal, built by reading it. */
export function indexImage(SQL: SqlJsStatic, journalPath: string): Uint8Array {
  const index = new LogIndex(emptyIndex(SQL));
  try {
    const caught = catchUpIndex(index, journalPath, JOURNAL_HEADER.length, EMPTY_HEAD);
    if (caught.end.kind !== 'clean') throw new Error(`the new journal ${journalPath} did not read back cleanly (${caught.end.kind})`);
    index.setMeta('journal_offset', String(caught.end.offset));
    index.freeStatements();
    const image = index.db.export();
    tuneConnection(index.db);
    return image;
  } finally {
    index.close();
  }
}

function writeAll(fd: number, bytes: Uint8Array): void {
  for (let at = 0; at < bytes.byteLength; ) at += writeSync(fd, bytes, at, bytes.byteLength - at);
}

/** Writes a new file and fsyncs it (the caller fsyncs the directory). */
export function writeDurably(path: string, bytes: Uint8Array, flags = 'wx'): void {
  const fd = openSync(path, flags);
  try {
    writeAll(fd, bytes);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function writeMarker(path: string, marker: RecoveryMarker): void {
  const tmp = `${path}.tmp`;
  writeDurably(tmp, Buffer.from(JSON.stringify(marker, null, 2)), 'w');
  renameSync(tmp, path);
  fsyncDir(dirname(path));
}

function readMarker(path: string): RecoveryMarker {
  let marker: RecoveryMarker;
  try {
    marker = JSON.parse(readFileSync(path, 'utf8')) as RecoveryMarker;
  } catch (err) {
    throw new Error(`${path} cannot be read (${(err as Error).message}): an interrupted recovery cannot be completed automatically; the original files are kept as *.before-recover-*`);
  }
  if (marker.version !== 1 || !Array.isArray(marker.kept) || !Array.isArray(marker.install) || !Array.isArray(marker.moved) || typeof marker.report !== 'object') {
    throw new Error(`${path} is not a marker this version of RAG Ledger understands; an interrupted recovery cannot be completed automatically`);
  }
  return marker;
}

// ---------------------------------------------------------------------------------------------
// Replacing the store's files. Each step can be repeated after a crash; `events.journal` and
// `events.sqlite` are never missing: an original is first kept under a second name (a hard
// link), then the new file is renamed over it.

/**
 * Performs (or completes) the renames a marker plans, then removes the marker. `placed`: the
 * new files already in place. A file found where none was expected (written after a crash,
 * say) is moved aside, never overwritten.
 */
function install(dir: string, marker: RecoveryMarker, placed: ReadonlySet<string>, asides: string[], notes: string[]): void {
  for (const k of marker.kept) {
    const [file, as] = [join(dir, k.file), join(dir, k.as)];
    if (existsSync(as)) continue;
    if (placed.has(k.file)) notes.push(`the original ${k.file} should have been kept as ${k.as}, but that file is gone`);
    else if (existsSync(file)) linkSync(file, as);
  }
  fsyncDir(dir);
  for (const s of marker.install) {
    if (placed.has(s.to)) continue;
    const target = join(dir, s.to);
    const original = marker.kept.find((k) => k.file === s.to);
    if (existsSync(target) && !(original && sameFile(target, join(dir, original.as)))) moveAside(dir, s.to, marker.stamp, asides, notes);
    renameSync(join(dir, s.from), target);
  }
  for (const m of marker.moved) {
    if (!existsSync(join(dir, m.file))) continue;
    if (existsSync(join(dir, m.as))) moveAside(dir, m.file, marker.stamp, asides, notes);
    else renameSync(join(dir, m.file), join(dir, m.as));
  }
  fsyncDir(dir);
  unlinkSync(join(dir, RECOVER_MARKER_FILE));
  fsyncDir(dir);
}

/** Puts the originals a marker lists back in place, then removes the marker. */
function rollBack(dir: string, marker: RecoveryMarker, asides: string[], notes: string[]): void {
  for (const s of marker.install) {
    const target = join(dir, s.to);
    if (isOurs(target, s)) renameSync(target, join(dir, s.from));
  }
  for (const k of marker.kept) {
    const [file, as] = [join(dir, k.file), join(dir, k.as)];
    if (!existsSync(as)) continue;
    if (existsSync(file)) {
      // The original is still in place: `as` is only a second name for it (nothing is lost).
      if (sameFile(file, as)) {
        unlinkSync(as);
        continue;
      }
      moveAside(dir, k.file, marker.stamp, asides, notes);
    }
    renameSync(as, file);
  }
  for (const m of marker.moved) {
    if (existsSync(join(dir, m.as)) && !existsSync(join(dir, m.file))) renameSync(join(dir, m.as), join(dir, m.file));
  }
  fsyncDir(dir);
  unlinkSync(join(dir, RECOVER_MARKER_FILE));
  fsyncDir(dir);
}

/** Keeps a file that is in the way under a name of its own. */
function moveAside(dir: string, file: string, stamp: string, asides: string[], notes: string[]): void {
  let as = `${file}.after-interrupted-recover-${stamp}`;
  for (let i = 2; existsSync(join(dir, as)); i++) as = `${file}.after-interrupted-recover-${stamp}-${i}`;
  renameSync(join(dir, file), join(dir, as));
  asides.push(join(dir, as));
  notes.push(`${file} appeared while a recovery was interrupted; it was kept as ${as}`);
}

/** Removes what an earlier call that failed before writing its marker may have left: only recover's own temporary files. */
function discardLeftovers(dir: string): void {
  for (const f of [JOURNAL_FILE + RECOVERING, SNAPSHOT_FILE + RECOVERING, `${RECOVER_MARKER_FILE}.tmp`]) {
    const p = join(dir, f);
    if (existsSync(p)) unlinkSync(p);
  }
}

function removeQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    /* not there, or not ours to remove */
  }
}

function isOurs(path: string, spec: { readonly size: number; readonly sha256: string }): boolean {
  try {
    return statSync(path).size === spec.size && fileSha256(path) === spec.sha256;
  } catch {
    return false;
  }
}

function sameFile(a: string, b: string): boolean {
  try {
    const [x, y] = [statSync(a), statSync(b)];
    return x.ino !== 0 && x.ino === y.ino && x.dev === y.dev;
  } catch {
    return false;
  }
}

export function fileSha256(path: string): string {
  const hash = createHash('sha256');
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.allocUnsafe(1 << 20);
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      hash.update(buf.subarray(0, n));
    }
  } finally {
    closeSync(fd);
  }
  return hash.digest('hex');
}


/** A time stamp for the kept files' names, unique in the directory. */
function uniqueStamp(dir: string): string {
  const base = new Date().toISOString().replace(/[:.]/g, '-');
  const taken = (s: string): boolean => [JOURNAL_FILE, SNAPSHOT_FILE, LEGACY_PROJECTIONS_FILE, PROJECTIONS_DIR].some((f) => existsSync(join(dir, `${f}.before-recover-${s}`)));
  let stamp = base;
  for (let i = 2; taken(stamp); i++) stamp = `${base}-${i}`;
  return stamp;
}
