import { StatementCache } from './statementCache.js';
import { closeSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Database, SqlJsStatic, Statement } from 'sql.js';
import type { Checkpoint } from '../../core/projections/projection.js';
import { LazyImage } from './lazyImage.js';
import type { ManifestEntry, PinnedShard } from './projectionShards.js';
import { newId, unpin } from './projectionShards.js';
import { tuneConnection } from './schema.js';

// What one process holds of the read models (see sqljsProjectionStore.ts): a shard's database, and a
// projection's state between the commit it read and the changes it made.

/** One shard's documents, in an in-memory SQLite database. */
export class Shard {
  dirty = false;
  private readonly statements = new StatementCache(() => this.db);
  /** `image`: the file it reads its pages from, when it was opened from disk (lazyImage.ts). */
  constructor(
    public db: Database,
    public image: LazyImage | null = null,
  ) {}

  /** Bytes held in memory: the pages changed since it was read from disk, else the whole database. */
  heldBytes(): number {
    return this.image ? this.image.changedBytes : this.bytes();
  }

  /**
   * Moves the shard to a private scratch file and reads it from there (a shard built in memory, as
   * in a rebuild, or one whose changed pages grew large): what it holds in memory stays bounded.
   */
  spill(SQL: SqlJsStatic): void {
    const path = join(tmpdir(), `rag-ledger-shard-${process.pid}-${newId()}.sqlite`);
    const fd = openSync(path, 'wx', 0o600);
    let written = false;
    try {
      if (this.image?.backs(this.db)) {
        this.image.writeTo(fd, this.bytes(), path, { owned: true });
        written = true;
        return;
      }
      this.freeStatements();
      const bytes = this.db.export();
      for (let done = 0; done < bytes.length; ) done += writeSync(fd, bytes, done, bytes.length - done);
      written = true;
    } finally {
      closeSync(fd);
      if (!written) rmSync(path, { force: true });
    }
    this.db.close();
    this.image?.dispose();
    this.image = LazyImage.open(path, { owned: true });
    this.db = new SQL.Database(this.image as unknown as Uint8Array);
    tuneConnection(this.db);
  }

  statement(sql: string): Statement {
    return this.statements.get(sql);
  }

  freeStatements(): void {
    this.statements.free();
  }

  bytes(): number {
    const n = (sql: string): number => (this.db.exec(sql)[0]?.values[0]?.[0] as number | undefined) ?? 0;
    return n('PRAGMA page_count') * n('PRAGMA page_size');
  }

  close(): void {
    this.freeStatements();
    this.db.close();
    this.image?.dispose();
  }
}

/** What this process holds of one projection: the commit it started from, and the shards it loaded or changed. */
export class ProjectionState {
  /** The manifest entry this state descends from (null: none on disk when it was read). */
  baseId: string | null;
  checkpoint: Checkpoint | undefined;
  /** Shards of the base commit not loaded yet, kept open. */
  readonly pinned = new Map<string, PinnedShard>();
  readonly shards = new Map<string, Shard>();
  /** Changed since the last write. */
  changed = false;
  /** Its documents were dropped (truncate, damage): the next write replaces every shard. */
  cleared = false;
  /** Another process committed this projection since this one read it: this process no longer writes it. */
  diverged = false;
  writtenPosition: number;

  constructor(entry: ManifestEntry | undefined) {
    this.baseId = entry?.id ?? null;
    this.checkpoint = entry ? { version: entry.version, position: entry.position } : undefined;
    this.writtenPosition = entry?.position ?? 0;
  }

  segments(): string[] {
    return [...new Set([...this.pinned.keys(), ...this.shards.keys()])].sort();
  }

  drop(): void {
    for (const s of this.shards.values()) s.close();
    this.shards.clear();
    for (const p of this.pinned.values()) unpin(p);
    this.pinned.clear();
  }
}
