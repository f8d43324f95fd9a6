import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Database, SqlJsStatic } from 'sql.js';
import { UnsupportedFormatError } from '../../core/errors.js';
import { plural } from '../../core/text.js';
import type { Hasher } from '../../core/eventLog.js';
import { GENESIS_HASH, decodeRaw, hashEvent } from '../../core/eventLog.js';
import { forgottenBy, rowDigest } from '../../core/forget.js';
import type { RawEvent } from '../../core/eventStore.js';
import { JOURNAL_HEADER, hasJournalHeader, scanJournal } from './journal.js';
import { JOURNAL_FILE, SNAPSHOT_FILE } from './schema.js';
import { EVENT_COLUMNS, rowToRaw } from './legacySchema.js';
import type { PositionRange, RecoveryReport } from './recoverStore.js';

/**
 * Planning a recovery: gather every intact copy of every event from the snapshot and the
 * journal (resynchronising past damaged journal records) and build the longest hash chain.
 * Reads only; recoverStore.ts writes the result.
 */
// ---------------------------------------------------------------------------------------------
// Planning: the longest hash chain from every intact copy of every event.

/** One intact event, and which copies of the store hold it. */
interface Candidate {
  readonly event: RawEvent;
  inSnapshot: boolean;
  inJournal: boolean;
}

export interface Plan {
  readonly chain: readonly RawEvent[];
  /** Byte ranges of the journal (start included, end excluded) that hold damaged records. */
  readonly damagedJournal: readonly { readonly from: number; readonly to: number }[];
  readonly report: Omit<RecoveryReport, 'keptFiles' | 'notes'>;
}

/** All intact events found, keyed by hash. */
class Pool {
  readonly byHash = new Map<string, Candidate>();
  highest = 0;
  damaged = 0;

  constructor(private readonly hasher: Hasher) {}

  /** Copies of emptied events (see core/forget.ts): intact only if an intact DocumentForgotten attests them. */
  private readonly emptied: { readonly event: RawEvent; readonly from: 'snapshot' | 'journal' }[] = [];

  add(e: RawEvent, from: 'snapshot' | 'journal'): void {
    if (Number.isSafeInteger(e.position) && e.position > this.highest) this.highest = e.position;
    const known = this.byHash.get(e.hash);
    if (known && sameContent(known.event, e)) {
      if (from === 'snapshot') known.inSnapshot = true;
      else known.inJournal = true;
      return;
    }
    if (!known && forgottenBy(e) !== null && decodes(e)) {
      this.emptied.push({ event: e, from });
      return;
    }
    if (known || !intact(e, this.hasher)) {
      this.damaged++;
      return;
    }
    this.byHash.set(e.hash, { event: e, inSnapshot: from === 'snapshot', inJournal: from === 'journal' });
  }

  /**
   * Admits the emptied copies that an intact DocumentForgotten attests (by the digest of the
   * emptied row): they replace a copy of the original with the same hash, since the forget
   * happened after it. Call once every copy has been added.
   */
  settleEmptied(): void {
    const attested = new Map<string, { readonly by: string; readonly digest: string }>();
    for (const c of this.byHash.values()) {
      if (c.event.type !== 'DocumentForgotten') continue;
      const d = decodeRaw(c.event);
      if (d.type === 'DocumentForgotten') for (const x of d.data.emptied) attested.set(x.event_id, { by: c.event.eventId, digest: x.emptied_digest });
    }
    for (const { event, from } of this.emptied) {
      const a = attested.get(event.eventId);
      if (!a || a.by !== forgottenBy(event) || a.digest !== rowDigest(this.hasher, event)) {
        this.damaged++;
        continue;
      }
      const known = this.byHash.get(event.hash);
      const candidate: Candidate = known && sameContent(known.event, event) ? known : { event, inSnapshot: false, inJournal: false };
      if (from === 'snapshot') candidate.inSnapshot = true;
      else candidate.inJournal = true;
      this.byHash.set(event.hash, candidate);
    }
    this.emptied.length = 0;
  }
}

function decodes(e: RawEvent): boolean {
  try {
    decodeRaw(e);
    return Number.isSafeInteger(e.position) && e.position >= 1;
  } catch {
    return false;
  }
}

/**
 * Whether an event's stored hash matches its content, and it decodes. An intact event of a
 * schema version newer than this build reads is not dropped: recover refuses (upgrade first).
 */
function intact(e: RawEvent, hasher: Hasher): boolean {
  if (!Number.isSafeInteger(e.position) || e.position < 1 || typeof e.hash !== 'string' || typeof e.prevHash !== 'string') return false;
  try {
    if (hashEvent(hasher, e) !== e.hash) return false;
  } catch {
    return false;
  }
  try {
    decodeRaw(e);
    return true;
  } catch (err) {
    if (err instanceof UnsupportedFormatError) throw err;
    return false;
  }
}

function sameContent(a: RawEvent, b: RawEvent): boolean {
  return (
    a.position === b.position &&
    a.eventId === b.eventId &&
    a.streamId === b.streamId &&
    a.streamVersion === b.streamVersion &&
    a.type === b.type &&
    a.schemaVersion === b.schemaVersion &&
    a.recordedAt === b.recordedAt &&
    a.prevHash === b.prevHash &&
    a.hash === b.hash &&
    a.metadataJson === b.metadataJson &&
    a.dataJson === b.dataJson &&
    (a.attachment === null ? b.attachment === null : b.attachment !== null && Buffer.from(a.attachment).equals(b.attachment))
  );
}

export function planRecovery(dir: string, SQL: SqlJsStatic, hasher: Hasher, notes: string[]): Plan {
  const pool = new Pool(hasher);
  const snapshotPath = join(dir, SNAPSHOT_FILE);
  const journalPath = join(dir, JOURNAL_FILE);
  if (existsSync(snapshotPath)) readSnapshot(snapshotPath, SQL, (e) => pool.add(e, 'snapshot'), notes);
  else notes.push('there was no snapshot');
  const damagedJournal: { from: number; to: number }[] = [];
  if (existsSync(journalPath)) readJournal(journalPath, (e) => pool.add(e, 'journal'), notes, damagedJournal);
  else notes.push('there was no journal');
  pool.settleEmptied();
  if (pool.damaged > 0) notes.push(`${plural(pool.damaged, 'copy', 'copies')} of events failed their hash check (damaged or altered) and were ignored`);

  const graph = new ChainGraph(pool);
  const { chain, forks } = graph.longest();
  const events = chain.length;
  const inJournal = chain.filter((c) => c.inJournal).length;
  const inSnapshot = chain.filter((c) => c.inSnapshot).length;
  const source: RecoveryReport['source'] =
    events === 0 ? 'empty' : inJournal === events && inSnapshot === events ? 'both agree' : inJournal === events ? 'journal' : inSnapshot === events ? 'snapshot' : 'snapshot and journal';
  if (source === 'snapshot and journal') {
    notes.push(`the log was spliced from both copies: ${plural(events - inJournal, 'event')} came from the snapshot because the journal's copies are damaged or missing`);
  }
  for (const p of forks) notes.push(`the copies hold different intact events at position ${p}; the one that continues the longer chain was kept (both originals are preserved)`);

  const highest = Math.max(pool.highest, events);
  const dropped = highest - events;
  const unreadable = missingPositions(pool, highest);
  if (dropped > 0) {
    const first = events + 1;
    const why = unreadable.some((r) => r.from <= first && first <= r.to)
      ? `no intact copy of position ${first} was found`
      : `no intact copy of position ${first} continues the hash chain from position ${events}`;
    notes.push(`${plural(dropped, 'event')} after position ${events} could not be recovered (${dropped === 1 ? `position ${first}` : `positions ${first}-${highest}`}): ${why}`);
  }
  const last = chain[chain.length - 1];
  return {
    chain: chain.map((c) => c.event),
    damagedJournal,
    report: {
      events,
      headHash: last?.event.hash ?? GENESIS_HASH,
      source,
      intact: { snapshot: graph.prefix((c) => c.inSnapshot), journal: graph.prefix((c) => c.inJournal) },
      highestPosition: highest,
      dropped,
      droppedPositions: dropped > 0 ? { from: events + 1, to: highest } : null,
      unreadablePositions: unreadable,
    },
  };
}

/** Intact events linked by hash: an event's successors are the events at the next position whose prevHash is its hash. */
class ChainGraph {
  private readonly byPrev = new Map<string, Candidate[]>();

  constructor(private readonly pool: Pool) {
    for (const c of pool.byHash.values()) {
      const list = this.byPrev.get(c.event.prevHash);
      if (list) list.push(c);
      else this.byPrev.set(c.event.prevHash, [c]);
    }
  }

  private next(hash: string, position: number): Candidate[] {
    return (this.byPrev.get(hash) ?? []).filter((c) => c.event.position === position + 1);
  }

  /** The longest chain from position 1; at a fork, the longer branch (then the journal's copy) wins. */
  longest(): { chain: Candidate[]; forks: number[] } {
    const length = new Map<Candidate, number>();
    const all = [...this.pool.byHash.values()].sort((a, b) => b.event.position - a.event.position);
    for (const c of all) {
      let best = 0;
      for (const n of this.next(c.event.hash, c.event.position)) best = Math.max(best, length.get(n) ?? 0);
      length.set(c, best + 1);
    }
    const rank = (c: Candidate): number[] => [length.get(c) ?? 0, c.inJournal ? 1 : 0, c.inSnapshot ? 1 : 0];
    const better = (a: Candidate, b: Candidate): boolean => {
      const [x, y] = [rank(a), rank(b)];
      for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return x[i]! > y[i]!;
      return false;
    };
    const chain: Candidate[] = [];
    const forks: number[] = [];
    for (let hash = GENESIS_HASH, position = 0; ; position++) {
      const options = this.next(hash, position);
      if (options.length === 0) break;
      if (options.length > 1) forks.push(position + 1);
      const pick = options.reduce((a, b) => (better(b, a) ? b : a));
      chain.push(pick);
      hash = pick.event.hash;
    }
    return { chain, forks };
  }

  /** How far one copy alone holds a valid chain from position 1. */
  prefix(holds: (c: Candidate) => boolean): number {
    let count = 0;
    for (let hash = GENESIS_HASH; ; count++) {
      const pick = this.next(hash, count).find(holds);
      if (!pick) return count;
      hash = pick.event.hash;
    }
  }
}

/** Positions 1..highest of which no intact copy was found, as ranges. */
function missingPositions(pool: Pool, highest: number): PositionRange[] {
  const present = [...new Set([...pool.byHash.values()].map((c) => c.event.position))].sort((a, b) => a - b);
  const out: PositionRange[] = [];
  let expected = 1;
  for (const p of present) {
    if (p > highest) break;
    if (p > expected) out.push({ from: expected, to: p - 1 });
    expected = p + 1;
  }
  if (expected <= highest) out.push({ from: expected, to: highest });
  return out;
}

/** Every row of the snapshot that can be read (all of them, or those before the damage). */
function readSnapshot(path: string, SQL: SqlJsStatic, take: (e: RawEvent) => void, notes: string[]): void {
  const bytes = readFileSync(path);
  let rows = 0;
  let db: Database | undefined;
  try {
    db = new SQL.Database(bytes);
    const format = db.exec("SELECT value FROM meta WHERE key = 'format'")[0]?.values[0]?.[0];
    if (Number(format) >= 2) {
      notes.push('the index (events.sqlite) holds no events of its own: the journal is the only copy of the log');
      return;
    }
    const stmt = db.prepare(`SELECT ${EVENT_COLUMNS} FROM events ORDER BY position`);
    try {
      while (stmt.step()) {
        take(rowToRaw(stmt.get()));
        rows++;
      }
    } finally {
      stmt.free();
    }
  } catch (err) {
    const why = (err as Error).message;
    notes.push(rows > 0 ? `the snapshot could be read only as far as its row ${rows} (${why})` : `the snapshot could not be read (${why})`);
  } finally {
    db?.close();
  }
}

/**
 * Every intact journal record. After a damaged record the scan resumes at the next offset where
 * an intact record starts: scanJournal reports corruption only when an intact record follows
 * (and names its offset, which is tried first), a torn end when nothing intact follows.
 */
function readJournal(path: string, take: (e: RawEvent) => void, notes: string[], damaged: { from: number; to: number }[]): void {
  if (!hasJournalHeader(path)) notes.push('the journal does not start with a valid header; its records were read anyway');
  let offset = JOURNAL_HEADER.length;
  let damagedAt: { offset: number; detail: string } | null = null;
  for (;;) {
    let records = 0;
    const end = scanJournal(path, offset, (events) => {
      records++;
      for (const e of events) take(e);
    });
    if (damagedAt) {
      if (records === 0) {
        // `offset` does not start an intact record: try the next candidate.
        if (end.kind === 'corrupt' && (end.end === undefined || end.end < statSync(path).size)) {
          offset = end.end !== undefined && end.end > offset ? end.end : nextIntactRecord(path, offset, end.detail);
          continue;
        }
        damaged.push({ from: damagedAt.offset, to: statSync(path).size });
        notes.push(`the journal is damaged at byte ${damagedAt.offset} (${damagedAt.detail}); no intact record follows`);
        return;
      }
      notes.push(`the journal is damaged at byte ${damagedAt.offset} (${damagedAt.detail}); reading resumed at byte ${offset}`);
      damaged.push({ from: damagedAt.offset, to: offset });
      damagedAt = null;
    }
    if (end.kind === 'clean') return;
    if (end.kind === 'torn') {
      notes.push(`the journal ended in an incomplete record at byte ${end.offset} (an append interrupted by a crash)`);
      return;
    }
    if (end.end !== undefined && end.end >= statSync(path).size) {
      // The damaged record is the last one: nothing intact follows it.
      notes.push(`the journal's last record is damaged (${end.detail}); its events were taken from the snapshot where it holds them`);
      damaged.push({ from: end.offset, to: end.end });
      return;
    }
    damagedAt = { offset: end.offset, detail: end.detail };
    offset = end.end !== undefined && end.end > end.offset ? end.end : nextIntactRecord(path, end.offset, end.detail);
  }
}

/**
 * Where the next intact record after the bad one at `from` starts (a scan from `from` ended
 * 'corrupt', so one does). scanJournal's detail names it; if it does not, the offset is found by
 * bisecting the scan's limit: a bad record is corrupt rather than torn only when an intact record
 * starts before the limit. The result is only a candidate: the caller scans from it.
 */
function nextIntactRecord(path: string, from: number, detail: string): number {
  const named = /intact record follows at byte (\d+)/.exec(detail);
  if (named && Number(named[1]) > from) return Number(named[1]);
  let lo = from + 1; // nothing after `from` starts before this limit
  let hi = statSync(path).size; // something does before this one
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (scanJournal(path, from, () => undefined, mid).kind === 'corrupt') hi = mid;
    else lo = mid;
  }
  return Math.max(from + 1, hi - 1);
}


