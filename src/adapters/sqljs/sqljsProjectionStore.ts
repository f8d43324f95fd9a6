import { existsSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import type { Database, Statement } from 'sql.js';
import type { JsonValue } from '../../core/events/eventCatalog.js';
import type { Checkpoint, ProjectionStore } from '../../core/projections/projection.js';
import { tuneConnection } from './schema.js';
import { replaceFileAtomically } from './atomicFile.js';
import { loadSqlJs, readDatabaseFile } from './sqlJsLoader.js';
import { digestListFile, imageDigest, readDigestList } from './storeFiles.js';
import { reserveSlack } from './logIndex.js';

export const PROJECTIONS_FILE = 'projections.sqlite';
/** Images up to this size are written on every flush (cheap); larger ones when enough changed. */
const SMALL_IMAGE = 8 << 20;
/** Digests of the images writers wrote (see storeFiles.ts): such an image skips the integrity check on open. */
const PROJECTIONS_CHECK_FILE = `${PROJECTIONS_FILE}.check`;

export interface SqlJsProjectionStoreOptions {
  /** Read-only stores catch up in memory and never write the file. */
  readonly writable: boolean;
  /** Called when a damaged projections file was moved aside (it is rebuilt from the log). */
  readonly onDiscarded?: (movedTo: string, reason: string) => void;
}

/**
 * Projection documents and checkpoints in one SQLite database (projections.sqlite beside the
 * log). Each commit is one transaction; `flush` replaces the file atomically. Projections
 * are disposable: after a crash they resume from the checkpoint in the last flushed file.
 */
export class SqlJsProjectionStore implements ProjectionStore {
  /** Bumped by every change; a flush records the generation its image contains. */
  private generation = 0;
  private flushedGeneration = 0;
  /** The highest checkpoint in the image on disk: how far a reopen resumes from. */
  private writtenPosition = 0;
  /** A truncate or a compact happened: the next flush writes whatever the size. */
  private mustWrite = false;
  private flushing: Promise<void> = Promise.resolve();
  private readonly statements = new Map<string, Statement>();

  private constructor(
    private readonly dir: string,
    private db: Database,
    private readonly writable: boolean,
  ) {}

  static async open(dir: string, options: SqlJsProjectionStoreOptions): Promise<SqlJsProjectionStore> {
    const SQL = await loadSqlJs();
    const path = join(dir, PROJECTIONS_FILE);
    let db: Database | undefined;
    if (existsSync(path)) {
      try {
        const bytes = readDatabaseFile(path);
        const digest = imageDigest(bytes);
        db = new SQL.Database(bytes);
        db.exec('SELECT COUNT(*) FROM checkpoints');
        // Every page, not only the ones that query touched: read models are rebuilt from the log, so
        // a damaged file is set aside (writers) rather than met half-way through a command. An image
        // whose digest a writer listed when it wrote it is the one it wrote: no need to check it again.
        if (!readDigestList(dir, PROJECTIONS_CHECK_FILE).includes(digest)) {
          const check = db.exec('PRAGMA quick_check')[0]?.values[0]?.[0];
          if (check !== 'ok') throw new Error(`integrity check: ${String(check)}`);
        }
      } catch (err) {
        db?.close();
        db = undefined;
        if (options.writable) {
          const aside = `${path}.damaged-${Date.now()}`;
          renameSync(path, aside);
          options.onDiscarded?.(aside, (err as Error).message);
        }
      }
    }
    db ??= new SQL.Database();
    tuneConnection(db);
    db.exec(`
      CREATE TABLE IF NOT EXISTS docs (projection TEXT NOT NULL, key TEXT NOT NULL, doc TEXT NOT NULL, PRIMARY KEY (projection, key)) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS checkpoints (projection TEXT PRIMARY KEY, version INTEGER NOT NULL, position INTEGER NOT NULL);
    `);
    const store = new SqlJsProjectionStore(dir, db, options.writable);
    store.writtenPosition = store.highestCheckpoint();
    return store;
  }

  checkpoint(name: string): Checkpoint | undefined {
    const s = this.statement('SELECT version, position FROM checkpoints WHERE projection = ?');
    s.bind([name]);
    const row = s.step() ? s.get() : undefined;
    s.reset();
    return row ? { version: row[0] as number, position: row[1] as number } : undefined;
  }

  get(name: string, key: string): JsonValue | undefined {
    const s = this.statement('SELECT doc FROM docs WHERE projection = ? AND key = ?');
    s.bind([name, key]);
    const text = s.step() ? (s.get()[0] as string) : undefined;
    s.reset();
    return text === undefined ? undefined : (JSON.parse(text) as JsonValue);
  }

  *list(name: string, prefix = ''): Iterable<readonly [string, JsonValue]> {
    // Stepped, not collected: a read model of 100k documents is never all in memory at once.
    const s = this.db.prepare('SELECT key, doc FROM docs WHERE projection = ? AND key >= ? AND key < ? ORDER BY key');
    try {
      s.bind([name, prefix, `${prefix}\uffff`]);
      while (s.step()) {
        const [k, d] = s.get();
        yield [k as string, JSON.parse(d as string) as JsonValue] as const;
      }
    } finally {
      s.free();
    }
  }

  topBy(name: string, prefix: string, field: string, limit: number): (readonly [string, JsonValue])[] {
    const rows =
      this.db.exec(
        "SELECT key, doc FROM docs WHERE projection = ? AND key >= ? AND key < ? ORDER BY json_extract(doc, '$.' || ?) DESC, key LIMIT ?",
        [name, prefix, `${prefix}\uffff`, field, limit],
      )[0]?.values ?? [];
    return rows.map(([k, d]) => [k as string, JSON.parse(d as string) as JsonValue] as const);
  }

  countBy(name: string, prefix: string, field?: string): Map<string, number> {
    const value = field === undefined ? "''" : "json_extract(doc, '$.' || ?)";
    const params = field === undefined ? [name, prefix, `${prefix}\uffff`] : [field, name, prefix, `${prefix}\uffff`];
    const rows = this.db.exec(`SELECT ${value} AS v, COUNT(*) FROM docs WHERE projection = ? AND key >= ? AND key < ? GROUP BY v`, params)[0]?.values ?? [];
    return new Map(rows.map(([v, n]) => [String(v ?? ''), n as number]));
  }

  commit(name: string, changes: ReadonlyMap<string, JsonValue | null>, checkpoint: Checkpoint): void {
    const put = this.statement('INSERT OR REPLACE INTO docs (projection, key, doc) VALUES (?, ?, ?)');
    const del = this.statement('DELETE FROM docs WHERE projection = ? AND key = ?');
    this.db.exec('BEGIN');
    try {
      for (const [key, doc] of changes) {
        if (doc === null) del.run([name, key]);
        else put.run([name, key, JSON.stringify(doc)]);
      }
      this.statement('INSERT OR REPLACE INTO checkpoints (projection, version, position) VALUES (?, ?, ?)').run([name, checkpoint.version, checkpoint.position]);
      this.db.exec('COMMIT');
    } catch (err) {
      this.db.exec('ROLLBACK');
      throw err;
    }
    this.generation++;
  }

  truncate(name: string): void {
    this.db.exec('BEGIN');
    try {
      this.db.run('DELETE FROM docs WHERE projection = ?', [name]);
      this.db.run('DELETE FROM checkpoints WHERE projection = ?', [name]);
      this.db.exec('COMMIT');
    } catch (err) {
      this.db.exec('ROLLBACK');
      throw err;
    }
    this.generation++;
    this.mustWrite = true;
  }

  /**
   * Rewrites the database without free pages (VACUUM: deleted rows' bytes are gone from the
   * image), then writes the file. Used after a forget.
   */
  async compact(): Promise<void> {
    await this.flushing;
    for (const s of this.statements.values()) s.free();
    this.statements.clear();
    this.db.exec('VACUUM');
    tuneConnection(this.db);
    this.generation++;
    this.mustWrite = true;
    await this.flush();
  }

  /** Writes the file if anything changed; flushes run one at a time. */
  flush(): Promise<void> {
    const run = this.flushing.then(() => this.writeFile());
    this.flushing = run.catch(() => undefined);
    return run;
  }

  /** Exports synchronously (a consistent image), then writes it: temp file, fsync, rename. */
  private async writeFile(): Promise<void> {
    if (!this.writable || this.generation === this.flushedGeneration) return;
    // Writes follow what changed: the image is written whole (sql.js can do nothing else), so a large
    // one is written only once the read models have moved on by enough events that catching up on the
    // next open would cost more than writing it (one event behind per 8 KiB of image). A question
    // on a million-event store then writes its events, not the read models.
    const position = this.highestCheckpoint();
    const bytes = this.number('PRAGMA page_count') * this.number('PRAGMA page_size');
    if (!this.mustWrite && bytes > SMALL_IMAGE && position - this.writtenPosition < bytes / 8192) return;
    const generation = this.generation;
    for (const s of this.statements.values()) s.free();
    this.statements.clear();
    // Room for the next opener's catch-up (see logIndex.ts): an eighth of the file, at most 8 MiB.
    const pages = (this.db.exec('PRAGMA page_count')[0]?.values[0]?.[0] as number | undefined) ?? 0;
    reserveSlack(this.db, Math.min(8 << 20, Math.floor((pages * 4096) / 8)));
    const image = this.db.export();
    tuneConnection(this.db);
    await replaceFileAtomically(this.dir, PROJECTIONS_CHECK_FILE, digestListFile([imageDigest(image), ...readDigestList(this.dir, PROJECTIONS_CHECK_FILE)]));
    await replaceFileAtomically(this.dir, PROJECTIONS_FILE, image);
    this.flushedGeneration = generation;
    this.writtenPosition = position;
    this.mustWrite = false;
  }

  async close(): Promise<void> {
    await this.flush();
    for (const s of this.statements.values()) s.free();
    this.statements.clear();
    this.db.close();
  }

  private number(sql: string): number {
    return (this.db.exec(sql)[0]?.values[0]?.[0] as number | undefined) ?? 0;
  }

  private highestCheckpoint(): number {
    return this.number('SELECT COALESCE(MAX(position), 0) FROM checkpoints');
  }

  private statement(sql: string): Statement {
    let s = this.statements.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      this.statements.set(sql, s);
    }
    return s;
  }
}
