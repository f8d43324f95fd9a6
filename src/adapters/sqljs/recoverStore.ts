import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { Database } from 'sql.js';
import type { Hasher } from '../../core/eventLog.js';
import { ChainVerifier } from '../../core/eventLog.js';
import type { RawEvent } from '../../core/eventStore.js';
import { sha256 } from '../node/sha256.js';
import { JOURNAL_HEADER, createJournal, encodeRecord, fsyncDir, hasJournalHeader, scanJournal } from './journal.js';
import { EVENT_COLUMNS, JOURNAL_FILE, SNAPSHOT_FILE, createSchema, rawToParams, rowToRaw } from './schema.js';
import { loadSqlJs } from './sqlJsLoader.js';
import { PROJECTIONS_FILE } from './sqljsProjectionStore.js';
import { StoreLock } from './storeLock.js';

/** What `recover` did. Nothing is deleted: every replaced file is kept beside the store. */
export interface RecoveryReport {
  readonly events: number;
  readonly headHash: string;
  /** Which copy the recovered log came from. */
  readonly source: 'journal' | 'snapshot' | 'both agree' | 'empty';
  /** Events each copy held intact (valid hash chain from position 1). */
  readonly intact: { readonly snapshot: number; readonly journal: number };
  /** The original files, renamed. */
  readonly keptFiles: readonly string[];
  readonly notes: readonly string[];
}

function validPrefix(events: readonly RawEvent[], hasher: Hasher): RawEvent[] {
  const verifier = new ChainVerifier(hasher);
  const out: RawEvent[] = [];
  for (const e of events) {
    if (!verifier.check(e)) break;
    out.push(e);
  }
  return out;
}

function readSnapshotEvents(db: Database): RawEvent[] {
  const rows = db.exec(`SELECT ${EVENT_COLUMNS} FROM events ORDER BY position`)[0]?.values ?? [];
  return rows.map((r) => rowToRaw(r));
}

/**
 * Rebuilds a damaged store from whatever is intact: the longest valid hash chain found in
 * the snapshot or the journal. The originals are renamed to `*.before-recover-<time>`.
 */
export async function recoverStore(dir: string, hasher: Hasher = sha256): Promise<RecoveryReport> {
  const lock = StoreLock.acquire(dir, 'rag-ledger recover');
  try {
    const SQL = await loadSqlJs();
    const notes: string[] = [];
    const snapshotPath = join(dir, SNAPSHOT_FILE);
    const journalPath = join(dir, JOURNAL_FILE);

    let fromSnapshot: RawEvent[] = [];
    if (existsSync(snapshotPath)) {
      let db: Database | undefined;
      try {
        db = new SQL.Database(readFileSync(snapshotPath));
        fromSnapshot = validPrefix(readSnapshotEvents(db), hasher);
      } catch (err) {
        notes.push(`the snapshot could not be read (${(err as Error).message})`);
      } finally {
        db?.close();
      }
    }

    let fromJournal: RawEvent[] = [];
    if (existsSync(journalPath)) {
      if (!hasJournalHeader(journalPath)) notes.push('the journal has no valid header');
      else {
        const all: RawEvent[] = [];
        const end = scanJournal(journalPath, JOURNAL_HEADER.length, (events) => all.push(...events));
        if (end.kind === 'corrupt') notes.push(`the journal is damaged: ${end.detail}`);
        if (end.kind === 'torn') notes.push(`the journal ended in an incomplete record at byte ${end.offset} (an append interrupted by a crash)`);
        fromJournal = validPrefix(all, hasher);
        if (fromJournal.length < all.length) notes.push(`the journal's hash chain breaks at position ${fromJournal.length + 1}`);
      }
    }

    const agree = (a: RawEvent[], b: RawEvent[]): boolean => a.every((e, i) => b[i] === undefined || b[i].hash === e.hash);
    let chosen: RawEvent[];
    let source: RecoveryReport['source'];
    if (fromSnapshot.length === 0 && fromJournal.length === 0) {
      chosen = [];
      source = 'empty';
    } else if (fromJournal.length >= fromSnapshot.length) {
      chosen = fromJournal;
      source = fromSnapshot.length === fromJournal.length && agree(fromSnapshot, fromJournal) ? 'both agree' : 'journal';
    } else {
      chosen = fromSnapshot;
      source = 'snapshot';
    }
    if (!agree(fromSnapshot, fromJournal)) notes.push('the snapshot and the journal disagree; the longer intact chain was kept and both originals are preserved');

    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    const keptFiles: string[] = [];
    for (const f of [SNAPSHOT_FILE, JOURNAL_FILE, PROJECTIONS_FILE]) {
      const p = join(dir, f);
      if (existsSync(p)) {
        const aside = `${p}.before-recover-${stamp}`;
        renameSync(p, aside);
        keptFiles.push(aside);
      }
    }
    fsyncDir(dir);
    writeJournal(journalPath, chosen);
    const db = new SQL.Database();
    try {
      createSchema(db);
      const insert = db.prepare(`INSERT INTO events (${EVENT_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)`);
      db.exec('BEGIN');
      for (const e of chosen) insert.run(rawToParams(e));
      db.exec('COMMIT');
      insert.free();
      const { size } = statSync(journalPath);
      db.run("INSERT OR REPLACE INTO meta (key, value) VALUES ('journal_offset', ?)", [String(size)]);
      writeDurably(`${snapshotPath}.tmp`, db.export());
      renameSync(`${snapshotPath}.tmp`, snapshotPath);
      fsyncDir(dir);
    } finally {
      db.close();
    }
    const last = chosen[chosen.length - 1];
    return {
      events: chosen.length,
      headHash: last?.hash ?? '0'.repeat(64),
      source,
      intact: { snapshot: fromSnapshot.length, journal: fromJournal.length },
      keptFiles,
      notes,
    };
  } finally {
    lock.release();
  }
}

function writeJournal(path: string, events: readonly RawEvent[]): void {
  createJournal(path);
  const fd = openSync(path, 'a');
  try {
    for (let i = 0; i < events.length; i += 1000) writeSync(fd, encodeRecord(events.slice(i, i + 1000)));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function writeDurably(path: string, bytes: Uint8Array): void {
  const fd = openSync(path, 'w');
  try {
    writeSync(fd, bytes);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
