import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { Database, SqlJsStatic, SqlValue, Statement } from 'sql.js';
import type { Citation, EventIndex, IndexFilter, IndexSelection, TypeDensity } from '../../app/explorer/eventIndex.js';
import type { IndexEntry } from '../../core/explorer/indexEntry.js';
import { LazyImage, databaseBytes, saveImageFile } from './lazyImage.js';
import { fsyncDir } from './journal.js';
import { ListSelection, ScanSelection, candidateKey, upperBound } from './sqljsEventSelections.js';
import { tuneConnection } from './schema.js';
import { loadSqlJs } from './sqlJsLoader.js';

/** The explorer's files live in their own folder of the store: a projection, safe to delete. */
export const EXPLORER_DIR = 'explorer';
export const EVENT_INDEX_FILE = 'index.sqlite';
/** Bumped when the layout or what is indexed changes: an index of another format is rebuilt. */
const FORMAT = '1';

/** Positions per block of the per-type counts (density chart, type estimates). */
const BLOCK_SHIFT = 10;
/** Written to disk after this many new events, besides on close. */
const FLUSH_EVERY = 50_000;
/** Selections kept (each is a few KB of anchors). */
const MAX_SELECTIONS = 16;
const MAX_STATEMENTS = 200;

const enum Kind {
  Type = 0,
  Stream = 1,
  Correlation = 2,
  Pipeline = 3,
}

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS ev (position INTEGER PRIMARY KEY, type INTEGER NOT NULL, stream INTEGER NOT NULL, corr INTEGER, pv INTEGER, t INTEGER NOT NULL, failed INTEGER NOT NULL);
  CREATE INDEX IF NOT EXISTS ev_type ON ev (type, position);
  CREATE INDEX IF NOT EXISTS ev_stream ON ev (stream, position);
  CREATE INDEX IF NOT EXISTS ev_corr ON ev (corr, position) WHERE corr IS NOT NULL;
  CREATE INDEX IF NOT EXISTS ev_pv ON ev (pv, position) WHERE pv IS NOT NULL;
  CREATE INDEX IF NOT EXISTS ev_failed ON ev (position) WHERE failed = 1;
  CREATE TABLE IF NOT EXISTS names (id INTEGER PRIMARY KEY, kind INTEGER NOT NULL, value TEXT NOT NULL, label TEXT, UNIQUE (kind, value));
  CREATE TABLE IF NOT EXISTS blocks (block INTEGER NOT NULL, type INTEGER NOT NULL, pv INTEGER NOT NULL, n INTEGER NOT NULL, PRIMARY KEY (block, type, pv)) WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS block_time (block INTEGER PRIMARY KEY, t_min INTEGER NOT NULL, t_max INTEGER NOT NULL);
  CREATE TABLE IF NOT EXISTS cites (chunk TEXT NOT NULL, position INTEGER NOT NULL, rank INTEGER NOT NULL, PRIMARY KEY (chunk, position)) WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
`;

/** A filter turned into SQL over `ev`, with the position range it can be limited to. */
export interface Where {
  readonly sql: string;
  readonly params: readonly SqlValue[];
}

export interface SqlJsEventIndexOptions {
  /** False: kept in memory, never written (a read-only process). */
  readonly writable: boolean;
  /** Told when a damaged or outdated index file was moved aside (it is rebuilt from the log). */
  readonly onDiscarded?: (movedTo: string, reason: string) => void;
}

/**
 * The explorer's index on sql.js: one integer row per event with the indexes that keep a page of any
 * filter a few milliseconds away at a million events. Names (types, streams, correlations, pipeline
 * versions) are stored once and referred to by number. Persisted as `explorer/index.sqlite`
 * (replaced atomically every FLUSH_EVERY events and on close); after a crash the next catch-up
 * continues from the last written checkpoint.
 */
export class SqlJsEventIndex implements EventIndex {
  private readonly ids: Map<string, number>[] = [new Map<string, number>(), new Map<string, number>(), new Map<string, number>(), new Map<string, number>()];
  private readonly typeNames = new Map<number, string>();
  private readonly statements = new Map<string, Statement>();
  private readonly queries = new Map<string, Statement>();
  private readonly selections = new Map<string, IndexSelection>();
  private checkpointState = 0;
  private hashState: string | null = null;
  private unflushed = 0;
  private dirty = false;

  private constructor(
    private readonly dir: string,
    private db: Database,
    readonly writable: boolean,
    /** The file the database reads its pages from, once it has one (lazyImage.ts). */
    private image: LazyImage | null,
    private readonly SQL: SqlJsStatic,
  ) {
    this.loadState();
  }

  static async open(storeDir: string, options: SqlJsEventIndexOptions): Promise<SqlJsEventIndex> {
    const SQL = await loadSqlJs();
    const dir = join(storeDir, EXPLORER_DIR);
    const path = join(dir, EVENT_INDEX_FILE);
    let db: Database | undefined;
    let image: LazyImage | null = null;
    if (existsSync(path)) {
      try {
        // Pages are read from the file as queries need them (lazyImage.ts): ~90 MB at 1M events stay on disk.
        image = LazyImage.open(path);
        db = new SQL.Database(image as unknown as Uint8Array);
        const format = db.exec("SELECT value FROM meta WHERE key = 'format'")[0]?.values[0]?.[0];
        if (format !== FORMAT) throw new Error(`format ${String(format)}, this version writes ${FORMAT}`);
      } catch (err) {
        db?.close();
        db = undefined;
        image?.dispose();
        image = null;
        if (options.writable) {
          const aside = `${path}.discarded-${Date.now()}`;
          renameSync(path, aside);
          options.onDiscarded?.(aside, (err as Error).message);
        }
      }
    }
    db ??= new SQL.Database();
    tuneConnection(db);
    db.exec(SCHEMA);
    db.exec(`INSERT OR IGNORE INTO meta (key, value) VALUES ('format', '${FORMAT}'), ('checkpoint', '0')`);
    if (image) db.exec('PRAGMA cache_size = -16384');
    if (options.writable) mkdirSync(dir, { recursive: true });
    return new SqlJsEventIndex(dir, db, options.writable, image, SQL);
  }

  get checkpoint(): number {
    return this.checkpointState;
  }

  get checkpointHash(): string | null {
    return this.hashState;
  }

  private loadState(): void {
    for (const m of this.ids) m.clear();
    this.typeNames.clear();
    for (const [id, kind, value] of this.db.exec('SELECT id, kind, value FROM names')[0]?.values ?? []) {
      this.ids[kind as number]!.set(value as string, id as number);
      if (kind === Kind.Type) this.typeNames.set(id as number, value as string);
    }
    const meta = new Map((this.db.exec('SELECT key, value FROM meta')[0]?.values ?? []).map(([k, v]) => [k as string, v as string]));
    this.checkpointState = Number(meta.get('checkpoint') ?? 0);
    this.hashState = meta.get('checkpoint_hash') ?? null;
  }

  private intern(kind: Kind, value: string): number {
    const known = this.ids[kind]!.get(value);
    if (known !== undefined) return known;
    this.statement('INSERT INTO names (kind, value) VALUES (?, ?)').run([kind, value]);
    const id = this.db.exec('SELECT last_insert_rowid()')[0]!.values[0]![0] as number;
    this.ids[kind]!.set(value, id);
    if (kind === Kind.Type) this.typeNames.set(id, value);
    return id;
  }

  apply(entries: readonly IndexEntry[], lastHash: string): void {
    if (entries.length === 0) return;
    if (entries[0]!.position !== this.checkpointState + 1) throw new Error(`the explorer index is at ${this.checkpointState}; entries must start at ${this.checkpointState + 1}, not ${entries[0]!.position}`);
    const insert = this.statement('INSERT INTO ev (position, type, stream, corr, pv, t, failed) VALUES (?, ?, ?, ?, ?, ?, ?)');
    const label = this.statement('UPDATE names SET label = ? WHERE id = ?');
    const cite = this.statement('INSERT OR IGNORE INTO cites (chunk, position, rank) VALUES (?, ?, ?)');
    const blocks = new Map<string, number>();
    const times = new Map<number, [number, number]>();
    this.db.exec('BEGIN');
    try {
      for (const e of entries) {
        const type = this.intern(Kind.Type, e.type);
        const stream = this.intern(Kind.Stream, e.streamId);
        const corr = e.correlation === null ? null : this.intern(Kind.Correlation, e.correlation);
        const pv = e.pipeline === null ? null : this.intern(Kind.Pipeline, e.pipeline);
        insert.run([e.position, type, stream, corr, pv, e.time, e.failed ? 1 : 0]);
        if (e.label !== null) label.run([e.label, stream]);
        for (const [i, chunk] of e.cites.entries()) cite.run([chunk, e.position, i + 1]);
        const block = e.position >> BLOCK_SHIFT;
        const key = `${block}:${type}:${pv ?? 0}`;
        blocks.set(key, (blocks.get(key) ?? 0) + 1);
        const span = times.get(block);
        if (!span) times.set(block, [e.time, e.time]);
        else {
          if (e.time < span[0]) span[0] = e.time;
          if (e.time > span[1]) span[1] = e.time;
        }
      }
      const addBlock = this.statement('INSERT INTO blocks (block, type, pv, n) VALUES (?, ?, ?, ?) ON CONFLICT (block, type, pv) DO UPDATE SET n = n + excluded.n');
      for (const [key, n] of blocks) {
        const [block, type, pv] = key.split(':').map(Number) as [number, number, number];
        addBlock.run([block, type, pv, n]);
      }
      const addTime = this.statement('INSERT INTO block_time (block, t_min, t_max) VALUES (?, ?, ?) ON CONFLICT (block) DO UPDATE SET t_min = min(t_min, excluded.t_min), t_max = max(t_max, excluded.t_max)');
      for (const [block, [min, max]] of times) addTime.run([block, min, max]);
      const last = entries[entries.length - 1]!.position;
      this.statement("INSERT OR REPLACE INTO meta (key, value) VALUES ('checkpoint', ?), ('checkpoint_hash', ?)").run([String(last), lastHash]);
      this.db.exec('COMMIT');
      this.checkpointState = last;
      this.hashState = lastHash;
    } catch (err) {
      this.db.exec('ROLLBACK');
      this.loadState();
      throw err;
    }
    this.dirty = true;
    this.unflushed += entries.length;
    if (this.unflushed >= FLUSH_EVERY) void this.flush().catch(() => undefined);
  }

  /** SQL for the filter, or null when it can match nothing (a name the index has never seen). */
  private where(filter: IndexFilter): Where | null {
    const parts: string[] = [];
    const params: SqlValue[] = [];
    const equal = (kind: Kind, column: string, value: string | undefined): boolean => {
      if (value === undefined) return true;
      const id = this.ids[kind]!.get(value);
      if (id === undefined) return false;
      parts.push(`${column} = ?`);
      params.push(id);
      return true;
    };
    if (!equal(Kind.Stream, 'stream', filter.stream) || !equal(Kind.Correlation, 'corr', filter.correlation) || !equal(Kind.Pipeline, 'pv', filter.pipeline)) return null;
    if (filter.types) {
      const ids = filter.types.map((t) => this.ids[Kind.Type]!.get(t)).filter((id): id is number => id !== undefined);
      if (ids.length === 0) return null;
      // One type: its (type, position) index gives rows in order. Several: the index would need a
      // sort of every match, so unless they are rare the table is scanned in order instead (+type).
      const narrowedElsewhere = parts.length > 0;
      const rare = this.estimate(ids) < 0.02 * Math.max(1, this.checkpointState);
      const column = ids.length === 1 && !narrowedElsewhere ? 'type' : ids.length > 1 && rare && !narrowedElsewhere ? 'type' : '+type';
      parts.push(ids.length === 1 ? `${column} = ?` : `${column} IN (${ids.map(() => '?').join(',')})`);
      params.push(...ids);
    }
    if (filter.failures) parts.push('failed = 1');
    const since = filter.since === undefined ? undefined : Date.parse(filter.since);
    const until = filter.until === undefined ? undefined : Date.parse(filter.until);
    if (since !== undefined || until !== undefined) {
      // Times follow positions closely but not exactly (clocks move); blocks whose span overlaps the
      // range bound the positions, and each row's own time decides.
      const span = this.db.exec('SELECT min(block), max(block) FROM block_time WHERE t_max >= ? AND t_min < ?', [since ?? -8.64e15, until ?? 8.64e15])[0]?.values[0];
      if (!span || span[0] === null) return null;
      parts.push('position BETWEEN ? AND ?', '+t >= ?', '+t < ?');
      params.push((span[0] as number) << BLOCK_SHIFT, (((span[1] as number) + 1) << BLOCK_SHIFT) - 1, since ?? -8.64e15, until ?? 8.64e15);
    }
    return { sql: parts.length === 0 ? '1' : parts.join(' AND '), params };
  }

  /** Rows of these types, from the per-block counts. */
  private estimate(typeIds: readonly number[]): number {
    const n = this.db.exec(`SELECT sum(n) FROM blocks WHERE type IN (${typeIds.map(() => '?').join(',')})`, [...typeIds])[0]?.values[0]?.[0];
    return typeof n === 'number' ? n : 0;
  }

  async select(filter: IndexFilter, candidates?: readonly number[]): Promise<IndexSelection> {
    const key = JSON.stringify([filter, candidates ? candidateKey(candidates) : null]);
    const cached = this.selections.get(key);
    if (cached) {
      this.selections.delete(key);
      this.selections.set(key, cached);
      return cached;
    }
    const where = this.where(filter);
    // A filter naming something not indexed yet matches nothing now, but may later: never cached.
    if (where === null) return new ListSelection([]);
    let selection: IndexSelection;
    if (candidates) selection = new ListSelection(this.intersect(where, candidates));
    else selection = new ScanSelection(this, where);
    this.selections.set(key, selection);
    while (this.selections.size > MAX_SELECTIONS) this.selections.delete(this.selections.keys().next().value!);
    return selection;
  }

  /** The candidates (ascending) that also match `where`. */
  private intersect(where: Where, candidates: readonly number[]): number[] {
    const out: number[] = [];
    const n = Math.min(candidates.length, upperBound(candidates, this.checkpointState));
    if (where.sql === '1') return candidates.slice(0, n);
    for (let i = 0; i < n; i += 500) {
      const chunk = candidates.slice(i, Math.min(n, i + 500));
      const rows = this.db.exec(`SELECT position FROM ev WHERE position IN (${chunk.map(() => '?').join(',')}) AND ${where.sql} ORDER BY position`, [...chunk, ...where.params])[0]?.values ?? [];
      for (const [p] of rows) out.push(p as number);
    }
    return out;
  }

  /** @internal Runs a query for a selection; returns the first column of each row. */
  column(sql: string, params: readonly SqlValue[]): number[] {
    // Each filter prepares a few statements of its own: they get a bounded cache of their own.
    let s = this.queries.get(sql);
    if (s) this.queries.delete(sql);
    else {
      if (this.queries.size >= MAX_STATEMENTS) {
        const [oldest, statement] = this.queries.entries().next().value!;
        statement.free();
        this.queries.delete(oldest);
      }
      s = this.db.prepare(sql);
    }
    this.queries.set(sql, s);
    s.bind([...params]);
    const out: number[] = [];
    try {
      while (s.step()) out.push(s.get()[0] as number);
    } finally {
      s.reset();
    }
    return out;
  }

  async density(filter: IndexFilter, buckets: number, candidates?: readonly number[]): Promise<TypeDensity> {
    // The whole log's span, or the filter's time range when it has one (brushing zooms in).
    const extent = this.db.exec('SELECT min(t_min), max(t_max) FROM block_time')[0]?.values[0];
    const from = filter.since !== undefined ? Date.parse(filter.since) : ((extent?.[0] as number | null) ?? 0);
    const to = filter.until !== undefined ? Date.parse(filter.until) - 1 : ((extent?.[1] as number | null) ?? 0);
    const n = Math.max(1, Math.min(1000, Math.floor(buckets)));
    const bucketMs = Math.max(1, Math.ceil((to - from + 1) / n));
    const byType = new Map<string, number[]>();
    const add = (typeId: number, bucket: number, count: number): void => {
      const name = this.typeNames.get(typeId) ?? 'unknown';
      let row = byType.get(name);
      if (!row) byType.set(name, (row = new Array<number>(n).fill(0)));
      const b = Math.min(n - 1, Math.max(0, Math.floor(bucket)));
      row[b] = (row[b] ?? 0) + count;
    };
    const where = this.where(filter);
    const result = { from, bucketMs, buckets: n, byType };
    if (where === null || this.checkpointState === 0) return result;
    const onlyTypesAndPipeline = !candidates && filter.stream === undefined && filter.correlation === undefined && !filter.failures && filter.since === undefined && filter.until === undefined;
    if (onlyTypesAndPipeline) {
      // From the per-block counts: no row is read. A block's events are spread over its time span.
      const typeIds = filter.types?.map((t) => this.ids[Kind.Type]!.get(t)).filter((id): id is number => id !== undefined);
      const pv = filter.pipeline === undefined ? undefined : this.ids[Kind.Pipeline]!.get(filter.pipeline);
      const conditions: string[] = [];
      const params: SqlValue[] = [];
      if (typeIds) {
        conditions.push(`b.type IN (${typeIds.map(() => '?').join(',') || 'NULL'})`);
        params.push(...typeIds);
      }
      if (pv !== undefined) {
        conditions.push('b.pv = ?');
        params.push(pv);
      }
      const rows = this.db.exec(`SELECT b.type, b.n, t.t_min, t.t_max FROM blocks b JOIN block_time t ON t.block = b.block${conditions.length ? ` WHERE ${conditions.join(' AND ')}` : ''}`, params)[0]?.values ?? [];
      for (const [type, count, tMin, tMax] of rows) {
        const first = Math.floor(((tMin as number) - from) / bucketMs);
        const last = Math.floor(((tMax as number) - from) / bucketMs);
        // Whole events per bucket: an even share each, the remainder to the first buckets.
        const span = last - first + 1;
        const base = Math.floor((count as number) / span);
        const rest = (count as number) - base * span;
        for (let b = first; b <= last; b++) add(type as number, b, base + (b - first < rest ? 1 : 0));
      }
      return result;
    }
    // sql.js binds JS numbers as REAL: the bucket is made an integer in SQL, or every row would be its own group.
    // +type: grouping must not lead SQLite to walk the type index instead of the filter's own (failures: 250 ms → 4 ms at 1M).
    const group = `SELECT type, CAST((t - ?) / ? AS INTEGER) AS b, count(*) FROM ev WHERE %WHERE% GROUP BY +type, b`;
    if (!candidates) {
      for (const [type, b, count] of this.db.exec(group.replace('%WHERE%', where.sql), [from, bucketMs, ...where.params])[0]?.values ?? []) add(type as number, b as number, count as number);
      return result;
    }
    const n2 = upperBound(candidates, this.checkpointState);
    for (let i = 0; i < n2; i += 500) {
      const chunk = candidates.slice(i, Math.min(n2, i + 500));
      const sql = group.replace('%WHERE%', `position IN (${chunk.map(() => '?').join(',')}) AND ${where.sql}`);
      for (const [type, b, count] of this.db.exec(sql, [from, bucketMs, ...chunk, ...where.params])[0]?.values ?? []) add(type as number, b as number, count as number);
    }
    return result;
  }

  labels(streamIds: readonly string[]): Map<string, string> {
    const out = new Map<string, string>();
    const s = this.statement('SELECT label FROM names WHERE id = ?');
    for (const stream of new Set(streamIds)) {
      const id = this.ids[Kind.Stream]!.get(stream);
      if (id === undefined) continue;
      s.bind([id]);
      const label = s.step() ? (s.get()[0] as string | null) : null;
      s.reset();
      if (label !== null) out.set(stream, label);
    }
    return out;
  }

  citations(chunkIds: readonly string[], limit: number): Citation[] {
    const out: Citation[] = [];
    for (let i = 0; i < chunkIds.length; i += 500) {
      const chunk = chunkIds.slice(i, i + 500);
      const rows = this.db.exec(`SELECT chunk, position, rank FROM cites WHERE chunk IN (${chunk.map(() => '?').join(',')})`, [...chunk])[0]?.values ?? [];
      for (const [c, position, rank] of rows) out.push({ chunkId: c as string, position: position as number, rank: rank as number });
    }
    return out.sort((a, b) => b.position - a.position || a.rank - b.rank).slice(0, limit);
  }

  /**
   * Writes the index, synchronously (one moment's image). An index built in memory is then reopened
   * from the file it was written to, so that it holds only the pages changed since (a build from
   * scratch at a million events stays bounded).
   */
  flush(): Promise<void> {
    if (!this.writable || !this.dirty) return Promise.resolve();
    if (this.image?.backs(this.db)) {
      saveImageFile(this.image, this.dir, EVENT_INDEX_FILE, databaseBytes(this.db));
    } else {
      this.freeStatements();
      const bytes = this.db.export();
      writeFileDurably(this.dir, EVENT_INDEX_FILE, bytes);
      this.db.close();
      this.image?.dispose();
      this.image = LazyImage.open(join(this.dir, EVENT_INDEX_FILE));
      this.db = new this.SQL.Database(this.image as unknown as Uint8Array);
      tuneConnection(this.db);
      this.db.exec('PRAGMA cache_size = -16384');
    }
    this.dirty = false;
    this.unflushed = 0;
    return Promise.resolve();
  }

  reset(): void {
    this.freeStatements();
    this.db.exec('DROP TABLE IF EXISTS ev; DROP TABLE IF EXISTS names; DROP TABLE IF EXISTS blocks; DROP TABLE IF EXISTS block_time; DROP TABLE IF EXISTS cites; DELETE FROM meta;');
    this.db.exec(SCHEMA);
    this.db.exec(`INSERT OR IGNORE INTO meta (key, value) VALUES ('format', '${FORMAT}'), ('checkpoint', '0')`);
    this.selections.clear();
    this.loadState();
    this.dirty = true;
  }

  async close(): Promise<void> {
    try {
      await this.flush();
    } finally {
      this.freeStatements();
      this.db.close();
      this.image?.dispose();
    }
  }

  private statement(sql: string): Statement {
    let s = this.statements.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      this.statements.set(sql, s);
    }
    return s;
  }

  private freeStatements(): void {
    for (const s of this.statements.values()) s.free();
    this.statements.clear();
    for (const s of this.queries.values()) s.free();
    this.queries.clear();
  }
}

/** Writes `bytes` to `dir/name` atomically and synchronously: temporary file, fsync, rename. */
function writeFileDurably(dir: string, name: string, bytes: Uint8Array): void {
  const target = join(dir, name);
  const tmp = `${target}.${process.pid}-${Date.now()}.tmp`;
  const fd = openSync(tmp, 'wx');
  try {
    for (let done = 0; done < bytes.length; ) done += writeSync(fd, bytes, done, bytes.length - done);
    fsyncSync(fd);
    renameSync(tmp, target);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  } finally {
    closeSync(fd);
  }
  fsyncDir(dir);
}
