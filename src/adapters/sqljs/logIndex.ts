import { StatementCache } from './statementCache.js';
import type { LazyImage } from './lazyImage.js';
import * as crypto from 'node:crypto';
import type { Database, SqlValue, Statement } from 'sql.js';
import type { RawEvent } from '../../core/eventStore.js';
import type { Span } from './journal.js';

/** Where one event lies in the journal, as the index records it. */
export interface Located {
  readonly position: number;
  readonly at: number;
  readonly len: number;
}

/** A 48-bit key of an event id (exact in a JS number); a match is confirmed against the journal. */
export function idKey(eventId: string): number {
  return parseInt(sha256Hex(eventId).slice(0, 12), 16);
}

/** One-shot hashing (Node >= 20.12) is several times faster than createHash for short strings; catch-up hashes every id. */
const sha256Hex: (text: string) => string =
  typeof crypto.hash === 'function' ? (text) => crypto.hash('sha256', text, 'hex') : (text) => crypto.createHash('sha256').update(text).digest('hex');

/** Streams whose ids are remembered between appends (a bounded cache; the table is the truth). */
const STREAM_CACHE = 4096;

/**
 * The log's index in sql.js (schema.ts, format 2): what the store queries to find events, with
 * their bytes read from the journal. Rows are added only for events already in the journal.
 */
export class LogIndex {
  private readonly statements = new StatementCache(() => this.db);
  private readonly typeIds = new Map<string, number>();
  private readonly typeNames = new Map<number, string>();
  private readonly streamIds = new Map<string, number>();

  /** `image`: the file the database reads its pages from, when it was opened from disk (lazyImage.ts). */
  constructor(
    readonly db: Database,
    readonly image: LazyImage | null = null,
  ) {
    for (const [id, name] of db.exec('SELECT id, name FROM types')[0]?.values ?? []) {
      this.typeIds.set(name as string, id as number);
      this.typeNames.set(id as number, name as string);
    }
  }

  /** Adds an event (its header fields) found at `span` of the journal. The caller holds a transaction. */
  add(raw: RawEvent, span: Span): void {
    this.statement('INSERT INTO events (position, stream, stream_version, type, recorded_ms, id_key, at, len) VALUES (?, ?, ?, ?, ?, ?, ?, ?)').run([
      raw.position,
      this.streamId(raw.streamId, true)!,
      raw.streamVersion,
      this.typeId(raw.type),
      Date.parse(raw.recordedAt) || 0,
      idKey(raw.eventId),
      span.at,
      span.len,
    ]);
  }

  /** Forgets the stream-id cache (after a rollback, ids handed out may not exist). */
  resetCaches(): void {
    this.streamIds.clear();
    this.typeIds.clear();
    this.typeNames.clear();
    for (const [id, name] of this.db.exec('SELECT id, name FROM types')[0]?.values ?? []) {
      this.typeIds.set(name as string, id as number);
      this.typeNames.set(id as number, name as string);
    }
  }

  streamId(name: string, create = false): number | undefined {
    const cached = this.streamIds.get(name);
    if (cached !== undefined) return cached;
    const found = this.one('SELECT id FROM streams WHERE name = ?', [name]);
    let id = found === undefined ? undefined : (found[0] as number);
    if (id === undefined && create) {
      this.statement('INSERT INTO streams (name) VALUES (?)').run([name]);
      id = this.one('SELECT last_insert_rowid()', [])![0] as number;
    }
    if (id !== undefined) {
      if (this.streamIds.size >= STREAM_CACHE) this.streamIds.clear();
      this.streamIds.set(name, id);
    }
    return id;
  }

  typeId(name: string): number {
    let id = this.typeIds.get(name);
    if (id === undefined) {
      this.statement('INSERT INTO types (name) VALUES (?)').run([name]);
      id = this.one('SELECT last_insert_rowid()', [])![0] as number;
      this.typeIds.set(name, id);
      this.typeNames.set(id, name);
    }
    return id;
  }

  /** Type ids of the names (unknown types have none). */
  typeIdsOf(names: readonly string[]): number[] {
    return names.map((n) => this.typeIds.get(n)).filter((id): id is number => id !== undefined);
  }

  typeName(id: number): string {
    return this.typeNames.get(id) ?? `#${id}`;
  }

  streamVersion(name: string): number {
    const id = this.streamId(name);
    if (id === undefined) return 0;
    return (this.one('SELECT MAX(stream_version) FROM events WHERE stream = ?', [id])?.[0] as number | null) ?? 0;
  }

  /** Positions whose id key matches one of the ids (candidates: confirm against the journal). */
  candidates(eventIds: readonly string[]): Map<string, Located[]> {
    const byKey = new Map<number, string[]>();
    for (const id of eventIds) {
      const k = idKey(id);
      byKey.set(k, [...(byKey.get(k) ?? []), id]);
    }
    const out = new Map<string, Located[]>();
    const keys = [...byKey.keys()];
    for (let i = 0; i < keys.length; i += 500) {
      const chunk = keys.slice(i, i + 500);
      for (const [key, position, at, len] of this.db.exec(`SELECT id_key, position, at, len FROM events WHERE id_key IN (${chunk.map(() => '?').join(',')})`, chunk)[0]?.values ?? []) {
        for (const id of byKey.get(key as number) ?? []) out.set(id, [...(out.get(id) ?? []), { position: position as number, at: at as number, len: len as number }]);
      }
    }
    return out;
  }

  /** The last event's location, if any. */
  last(): Located | null {
    const row = this.one('SELECT position, at, len FROM events ORDER BY position DESC LIMIT 1', []);
    return row ? { position: row[0] as number, at: row[1] as number, len: row[2] as number } : null;
  }

  count(): number {
    return (this.one('SELECT COUNT(*) FROM events', [])?.[0] as number) ?? 0;
  }

  /** Runs a query whose first three columns are position, at, len. */
  locate(sql: string, params: SqlValue[]): Located[] {
    const s = this.statement(sql);
    s.bind(params);
    const out: Located[] = [];
    try {
      while (s.step()) {
        const r = s.get();
        out.push({ position: r[0] as number, at: r[1] as number, len: r[2] as number });
      }
    } finally {
      s.reset();
    }
    return out;
  }

  rows(sql: string, params: SqlValue[] = []): SqlValue[][] {
    return this.db.exec(sql, params)[0]?.values ?? [];
  }

  meta(key: string): string | undefined {
    return this.one('SELECT value FROM meta WHERE key = ?', [key])?.[0] as string | undefined;
  }

  setMeta(key: string, value: string): void {
    this.statement('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)').run([key, value]);
  }

  one(sql: string, params: SqlValue[]): SqlValue[] | undefined {
    const s = this.statement(sql);
    s.bind(params);
    try {
      return s.step() ? s.get() : undefined;
    } finally {
      s.reset();
    }
  }

  statement(sql: string): Statement {
    return this.statements.get(sql);
  }

  /**
   * Leaves about `bytes` of free pages in the database (a table of that size created and dropped:
   * its pages go to the free list), so rows added later reuse them instead of growing the file.
   */
  reserveSlack(bytes: number): void {
    reserveSlack(this.db, bytes);
  }

  /** Frees prepared statements (before an export, which closes and reopens the connection). */
  freeStatements(): void {
    this.statements.free();
  }

  close(): void {
    this.freeStatements();
    this.db.close();
    this.image?.dispose();
  }
}

/**
 * Leaves about `bytes` of free pages in a database (a table of that size created and dropped: its
 * pages go to the free list and are saved with the image), so rows added after the next load reuse
 * them instead of growing sql.js's in-memory file, which it does by copying it into a larger buffer.
 */
export function reserveSlack(db: Database, bytes: number): void {
  const number = (sql: string): number => (db.exec(sql)[0]?.values[0]?.[0] as number | undefined) ?? 0;
  const free = number('PRAGMA freelist_count') * number('PRAGMA page_size');
  if (bytes < 64 * 1024 || free >= bytes / 2) return;
  db.exec('CREATE TABLE rag_ledger_slack (b BLOB)');
  db.run('INSERT INTO rag_ledger_slack VALUES (zeroblob(?))', [bytes - free]);
  db.exec('DROP TABLE rag_ledger_slack');
}
