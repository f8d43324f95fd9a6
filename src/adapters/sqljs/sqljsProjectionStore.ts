import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Database, SqlJsStatic } from 'sql.js';
import type { JsonValue } from '../../core/events/eventCatalog.js';
import type { Checkpoint, ProjectionStore } from '../../core/projections/projection.js';
import { tuneConnection } from './schema.js';
import { replaceFileAtomically } from './atomicFile.js';
import { loadSqlJs, readDatabaseFile } from './sqlJsLoader.js';
import { imageDigest } from './storeFiles.js';
import { reserveSlack } from './logIndex.js';
import type { Manifest, ManifestEntry, ShardRef } from './projectionShards.js';
import { EMPTY_MANIFEST, MANIFEST_FILE, PROJECTIONS_DIR, SHARD_GRACE_MS, manifestBytes, newId, pinShard, readManifest, segmentOf, setAside, shardFileName, sweepShards } from './projectionShards.js';
import { StoreLock } from './storeLock.js';
import { LazyImage, saveImageFile } from './lazyImage.js';
import { ProjectionState, Shard } from './projectionShard.js';

/** The single-file layout of earlier versions: read once, split into shards, then deleted. */
export const LEGACY_PROJECTIONS_FILE = 'projections.sqlite';
/** Past this many bytes held in memory, a shard moves to a scratch file (Shard.spill). */
const SPILL_BYTES = 16 << 20;
/** Shards up to this size are written on every flush (cheap); larger ones when enough changed. */
const SMALL_IMAGE = 8 << 20;
const SCHEMA = 'CREATE TABLE IF NOT EXISTS docs (key TEXT PRIMARY KEY, doc TEXT NOT NULL) WITHOUT ROWID';

export interface SqlJsProjectionStoreOptions {
  /** Read-only stores catch up in memory and never write a file. */
  readonly writable: boolean;
  /** Called when damaged read-model files were moved aside (that projection is rebuilt from the log). */
  readonly onDiscarded?: (movedTo: string, reason: string) => void;
  /** Named in the lock taken to commit the manifest. */
  readonly owner?: string;
  /** How long a commit waits for another process's (default 15 s). */
  readonly lockWaitMs?: number;
  /** Bytes a shard may hold in memory before it moves to a scratch file (default 16 MiB). */
  readonly spillBytes?: number;
}

/**
 * Projection documents and checkpoints, one in-memory SQLite database per shard (see
 * projectionShards.ts), loaded when first read: a command that reads a projection's totals never
 * loads its hundred thousand documents. A commit is one transaction per shard and moves the
 * projection's checkpoint in memory; `flush` writes the changed shards and commits them in the
 * manifest. Projections are disposable: after a crash they resume from the manifest's checkpoints.
 */
export class SqlJsProjectionStore implements ProjectionStore {
  private readonly states = new Map<string, ProjectionState>();
  private flushing: Promise<void> = Promise.resolve();
  /** After a forget: unreferenced files are deleted at once, not after the grace period. */
  private sweepNow = false;

  private constructor(
    private readonly dir: string,
    private readonly SQL: SqlJsStatic,
    private manifest: Manifest,
    private readonly options: SqlJsProjectionStoreOptions,
  ) {}

  static async open(storeDir: string, options: SqlJsProjectionStoreOptions): Promise<SqlJsProjectionStore> {
    const SQL = await loadSqlJs();
    const dir = join(storeDir, PROJECTIONS_DIR);
    let manifest: Manifest | null = null;
    try {
      manifest = readManifest(dir);
    } catch (err) {
      if (options.writable) {
        const aside = setAside(join(dir, MANIFEST_FILE));
        if (aside) options.onDiscarded?.(aside, (err as Error).message);
      }
    }
    const store = new SqlJsProjectionStore(dir, SQL, manifest ?? EMPTY_MANIFEST, options);
    const legacy = join(storeDir, LEGACY_PROJECTIONS_FILE);
    if (manifest === null && existsSync(legacy)) {
      store.importLegacy(legacy);
      if (options.writable) {
        await store.flush();
        rmSync(legacy, { force: true });
      }
    }
    return store;
  }

  checkpoint(name: string): Checkpoint | undefined {
    return this.state(name).checkpoint;
  }

  get(name: string, key: string): JsonValue | undefined {
    const shard = this.shard(name, segmentOf(key), false);
    if (!shard) return undefined;
    const s = shard.statement('SELECT doc FROM docs WHERE key = ?');
    s.bind([key]);
    const text = s.step() ? (s.get()[0] as string) : undefined;
    s.reset();
    return text === undefined ? undefined : (JSON.parse(text) as JsonValue);
  }

  *list(name: string, prefix = ''): Iterable<readonly [string, JsonValue]> {
    // Stepped, not collected: a read model of 100k documents is never all in memory at once. Keys of
    // several shards are merged in key order.
    const cursors = this.segmentsFor(name, prefix).map((seg) => this.rows(name, seg, prefix));
    const step = (c: Generator<readonly [string, string], void>): readonly [string, string] | undefined => {
      const r = c.next();
      return r.done ? undefined : r.value;
    };
    const heads = cursors.map(step);
    try {
      for (;;) {
        let best = -1;
        for (let i = 0; i < heads.length; i++) if (heads[i] && (best < 0 || heads[i]![0] < heads[best]![0])) best = i;
        if (best < 0) return;
        const [k, d] = heads[best]!;
        yield [k, JSON.parse(d) as JsonValue] as const;
        heads[best] = step(cursors[best]!);
      }
    } finally {
      for (const c of cursors) c.return();
    }
  }

  topBy(name: string, prefix: string, field: string, limit: number): (readonly [string, JsonValue])[] {
    const rows: [string, string, number][] = [];
    for (const seg of this.segmentsFor(name, prefix)) {
      const shard = this.shard(name, seg, false)!;
      const found = shard.db.exec("SELECT key, doc, json_extract(doc, '$.' || ?) AS v FROM docs WHERE key >= ? AND key < ? ORDER BY v DESC, key LIMIT ?", [field, prefix, `${prefix}\uffff`, limit])[0]?.values ?? [];
      for (const [k, d, v] of found) rows.push([k as string, d as string, Number(v ?? 0)]);
    }
    rows.sort((a, b) => b[2] - a[2] || (a[0] < b[0] ? -1 : 1));
    return rows.slice(0, limit).map(([k, d]) => [k, JSON.parse(d) as JsonValue] as const);
  }

  countBy(name: string, prefix: string, field?: string): Map<string, number> {
    const out = new Map<string, number>();
    const value = field === undefined ? "''" : "json_extract(doc, '$.' || ?)";
    for (const seg of this.segmentsFor(name, prefix)) {
      const params = field === undefined ? [prefix, `${prefix}\uffff`] : [field, prefix, `${prefix}\uffff`];
      const rows = this.shard(name, seg, false)!.db.exec(`SELECT ${value} AS v, COUNT(*) FROM docs WHERE key >= ? AND key < ? GROUP BY v`, params)[0]?.values ?? [];
      for (const [v, n] of rows) out.set(String(v ?? ''), (out.get(String(v ?? '')) ?? 0) + (n as number));
    }
    return out;
  }

  commit(name: string, changes: ReadonlyMap<string, JsonValue | null>, checkpoint: Checkpoint): void {
    // Encoded first: a document that cannot be stored fails the commit before any shard changes.
    const bySegment = new Map<string, [string, string | null][]>();
    for (const [key, doc] of changes) {
      const text = doc === null ? null : JSON.stringify(doc);
      if (text === undefined) throw new TypeError(`${name}: the document of ${key} cannot be stored`);
      const seg = segmentOf(key);
      let list = bySegment.get(seg);
      if (!list) bySegment.set(seg, (list = []));
      list.push([key, text]);
    }
    const state = this.state(name);
    for (const [seg, list] of bySegment) {
      const shard = this.shard(name, seg, true)!;
      const put = shard.statement('INSERT OR REPLACE INTO docs (key, doc) VALUES (?, ?)');
      const del = shard.statement('DELETE FROM docs WHERE key = ?');
      shard.db.exec('BEGIN');
      try {
        for (const [key, text] of list) {
          if (text === null) del.run([key]);
          else put.run([key, text]);
        }
        shard.db.exec('COMMIT');
      } catch (err) {
        shard.db.exec('ROLLBACK');
        throw err;
      }
      shard.dirty = true;
      if (shard.heldBytes() > (this.options.spillBytes ?? SPILL_BYTES)) shard.spill(this.SQL);
    }
    state.checkpoint = checkpoint;
    state.changed = true;
  }

  truncate(name: string): void {
    const state = this.state(name);
    state.drop();
    state.checkpoint = undefined;
    state.cleared = true;
    state.changed = true;
  }

  /**
   * Rewrites every shard without free pages (VACUUM: deleted rows' bytes are gone from the images),
   * writes them all and deletes the files they replace at once. Used after a forget.
   */
  async compact(): Promise<void> {
    await this.flushing;
    for (const name of new Set([...Object.keys(this.manifest.projections), ...this.states.keys()])) {
      const state = this.state(name);
      for (const seg of state.segments()) {
        const shard = this.shard(name, seg, false)!;
        shard.freeStatements();
        shard.db.exec('VACUUM');
        tuneConnection(shard.db);
        shard.dirty = true;
      }
      state.cleared = true;
      state.changed = true;
    }
    this.sweepNow = true;
    await this.flush();
  }

  /** Writes the changed shards and commits them; flushes run one at a time. */
  flush(): Promise<void> {
    const run = this.flushing.then(() => this.write(false));
    this.flushing = run.catch(() => undefined);
    return run;
  }

  /** Writes what changed and drops a projection from memory; one that could not be written (another process committed it meanwhile, or a read-only store) stays. */
  async unload(name: string): Promise<void> {
    await this.flush();
    const state = this.states.get(name);
    if (!state || state.changed) return;
    state.drop();
    this.states.delete(name);
  }

  async close(): Promise<void> {
    await this.flush();
    for (const state of this.states.values()) state.drop();
    this.states.clear();
  }

  /** Rows of one shard whose key starts with `prefix`, in key order (stepped). */
  private *rows(name: string, seg: string, prefix: string): Generator<readonly [string, string], void> {
    const s = this.shard(name, seg, false)!.db.prepare('SELECT key, doc FROM docs WHERE key >= ? AND key < ? ORDER BY key');
    try {
      s.bind([prefix, `${prefix}\uffff`]);
      while (s.step()) {
        const [k, d] = s.get();
        yield [k as string, d as string] as const;
      }
    } finally {
      s.free();
    }
  }

  /** The shards that can hold keys starting with `prefix`. */
  private segmentsFor(name: string, prefix: string): string[] {
    const all = this.state(name).segments();
    if (prefix.includes(':')) return all.filter((s) => s === segmentOf(prefix));
    return all.filter((s) => s === '' || s.startsWith(prefix));
  }

  /**
   * This process's view of a projection, created from the manifest on first use: the files of its
   * commit are opened and checked (size and digest) now, so damage is found before anything is
   * read or folded, and the projection is then rebuilt rather than half read.
   */
  private state(name: string): ProjectionState {
    let state = this.states.get(name);
    if (state) return state;
    const entry = this.manifest.projections[name];
    state = new ProjectionState(entry);
    this.states.set(name, state);
    if (!entry) return state;
    for (const [seg, ref] of Object.entries(entry.shards)) {
      try {
        state.pinned.set(seg, pinShard(this.dir, ref));
      } catch (err) {
        this.discard(state, ref, err);
        break;
      }
    }
    return state;
  }

  /** A damaged shard: its file is moved aside and the whole projection starts again from the log. */
  private discard(state: ProjectionState, ref: ShardRef, err: unknown): void {
    state.drop();
    state.checkpoint = undefined;
    state.cleared = true;
    state.changed = true;
    const reason = (err as NodeJS.ErrnoException).code === 'ENOENT' ? `${ref.file} is missing` : (err as Error).message;
    const aside = this.options.writable ? setAside(join(this.dir, ref.file)) : null;
    this.options.onDiscarded?.(aside ?? join(this.dir, ref.file), reason);
  }

  private shard(name: string, seg: string, create: boolean): Shard | undefined {
    const state = this.state(name);
    let shard = state.shards.get(seg);
    if (shard) return shard;
    const pinned = state.pinned.get(seg);
    if (pinned) {
      // Read from the pinned file page by page; the image owns its descriptor from now on.
      const image = LazyImage.fromDescriptor(pinned.fd, join(this.dir, pinned.ref.file));
      shard = new Shard(new this.SQL.Database(image as unknown as Uint8Array), image);
      state.pinned.delete(seg);
    } else if (create) {
      shard = new Shard(new this.SQL.Database());
    } else {
      return undefined;
    }
    tuneConnection(shard.db);
    shard.db.exec(SCHEMA);
    state.shards.set(seg, shard);
    return shard;
  }

  /** Reads a read-models file of the single-file layout into shards (written by the next flush). */
  private importLegacy(path: string): void {
    let old: Database | undefined;
    try {
      old = new this.SQL.Database(readDatabaseFile(path));
      const checkpoints = old.exec('SELECT projection, version, position FROM checkpoints')[0]?.values ?? [];
      for (const [name, version, position] of checkpoints) {
        const s = old.prepare('SELECT key, doc FROM docs WHERE projection = ? ORDER BY key');
        try {
          s.bind([name as string]);
          let batch = new Map<string, JsonValue | null>();
          const cp = { version: version as number, position: position as number };
          while (s.step()) {
            const [k, d] = s.get();
            batch.set(k as string, JSON.parse(d as string) as JsonValue);
            if (batch.size >= 10_000) {
              this.commit(name as string, batch, cp);
              batch = new Map();
            }
          }
          this.commit(name as string, batch, cp);
        } finally {
          s.free();
        }
      }
    } catch (err) {
      // Damaged: nothing is imported (the projections are rebuilt from the log).
      for (const state of this.states.values()) state.drop();
      this.states.clear();
      const aside = this.options.writable ? setAside(path) : null;
      if (aside) this.options.onDiscarded?.(aside, (err as Error).message);
    } finally {
      old?.close();
    }
  }

  /**
   * Writes the shards of every changed projection, then commits them in the manifest under the
   * lock: a projection another process committed since this one read it is not overwritten.
   */
  private async write(force: boolean): Promise<void> {
    if (!this.options.writable) return;
    const written = new Map<string, ManifestEntry>();
    for (const [name, state] of this.states) {
      if (!state.changed || state.diverged || !state.checkpoint) continue;
      const dirty = [...state.shards.values()].filter((s) => s.dirty);
      // Writes follow what changed: a large shard is written once the projection has moved on by enough
      // events that catching up on the next open would cost more than writing it (one event per 8 KiB).
      const bytes = dirty.reduce((n, s) => n + s.bytes(), 0);
      if (!force && !state.cleared && bytes > SMALL_IMAGE && state.checkpoint.position - state.writtenPosition < bytes / 8192) continue;
      mkdirSync(this.dir, { recursive: true });
      const base = state.cleared ? {} : (this.manifest.projections[name]?.shards ?? {});
      const shards: Record<string, ShardRef> = {};
      for (const [seg, ref] of Object.entries(base)) if (state.pinned.has(seg) || (state.shards.has(seg) && !state.shards.get(seg)!.dirty)) shards[seg] = ref;
      for (const [seg, shard] of state.shards) {
        if (!shard.dirty && shards[seg]) continue;
        shards[seg] = await this.writeShard(name, seg, shard);
      }
      written.set(name, { id: newId(), version: state.checkpoint.version, position: state.checkpoint.position, shards });
    }
    if (written.size === 0 && !this.sweepNow) return;
    mkdirSync(this.dir, { recursive: true });
    const lock = await StoreLock.acquireAsync(this.dir, this.options.owner ?? `rag-ledger (pid ${process.pid})`, { waitMs: this.options.lockWaitMs ?? 15_000 });
    try {
      let current: Manifest;
      try {
        current = readManifest(this.dir) ?? EMPTY_MANIFEST;
      } catch {
        current = EMPTY_MANIFEST;
      }
      const projections = { ...current.projections };
      for (const [name, entry] of written) {
        const state = this.states.get(name)!;
        if ((projections[name]?.id ?? null) !== state.baseId && !state.cleared) {
          state.diverged = true;
          continue;
        }
        projections[name] = entry;
      }
      this.manifest = { format: current.format, projections };
      await replaceFileAtomically(this.dir, MANIFEST_FILE, manifestBytes(this.manifest));
      for (const [name, entry] of written) {
        const state = this.states.get(name)!;
        if (state.diverged) continue;
        state.baseId = entry.id;
        state.writtenPosition = entry.position;
        state.changed = false;
        state.cleared = false;
        for (const shard of state.shards.values()) shard.dirty = false;
      }
      sweepShards(this.dir, this.manifest, this.sweepNow ? 0 : SHARD_GRACE_MS);
      this.sweepNow = false;
    } finally {
      lock.release();
    }
  }

  private async writeShard(name: string, seg: string, shard: Shard): Promise<ShardRef> {
    const file = shardFileName(name, seg);
    const onDisk = shard.image?.backs(shard.db) === true;
    // Room for the next opener's catch-up (see logIndex.ts): an eighth of the file, at most 8 MiB.
    reserveSlack(shard.db, Math.min(8 << 20, Math.floor(shard.bytes() / 8)));
    if (onDisk) {
      // Written from the file it was read from and the changed pages, never whole in memory.
      const bytes = shard.bytes();
      return { file, bytes, sha256: saveImageFile(shard.image!, this.dir, file, bytes) };
    }
    shard.freeStatements();
    const image = shard.db.export();
    tuneConnection(shard.db);
    await replaceFileAtomically(this.dir, file, image);
    return { file, bytes: image.byteLength, sha256: imageDigest(image) };
  }
}
