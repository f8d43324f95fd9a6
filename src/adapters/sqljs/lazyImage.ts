import { createHash } from 'node:crypto';
import { closeSync, fstatSync, fsyncSync, openSync, readSync, renameSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { Database } from 'sql.js';
import { fsyncDir } from './journal.js';

const BLOCK = 4096;
/** What the in-memory file system may believe it holds: it never needs to grow the storage. */
const CAPACITY = 2 ** 52;
/** Bytes read from the file at a time for a page (the page and those after it). */
const READ_AHEAD = 64 * 1024;

/**
 * An SQLite image that stays on disk while sql.js uses it. sql.js keeps its database file in its
 * in-memory file system (MEMFS) as one byte array, `node.contents`, which it reads with
 * `subarray(start, end)` and writes with `set(bytes, position)`; handed this object instead of the
 * file's bytes (as `new SQL.Database(image)`), it reads pages from the file as SQLite asks for them
 * (SQLite's own page cache keeps the hot ones) and keeps the pages it writes in memory, in 4 KiB
 * blocks. So an index of a million events costs the pages a command touches, not its 100 MB.
 *
 * The file is never written: stores replace images by renaming new files over them, so the bytes
 * behind an open descriptor do not change. `writeTo` writes the current image (file and changed
 * blocks) to a new file, which then becomes the base and the changed blocks are dropped.
 *
 * This relies on how sql.js 1.16's MEMFS uses `node.contents` (pinned in package.json); a load
 * through it is checked by reading the database (loadIndexImage) before it is trusted.
 */
export class LazyImage {
  private readonly changed = new Map<number, Uint8Array>();
  /** Taken by MEMFS as a file's storage (see `length`). */
  private adopted = false;
  /** Writes received (see `backs`). */
  private writes = 0;
  /** The file's bytes from `aheadAt`, read with the last page read (see readFile). */
  private ahead: Buffer | null = null;
  private aheadAt = 0;
  /** Where the last read from the file ended (a read starting there continues a scan). */
  private lastEnd = -1;
  private fd: number;
  private size: number;

  private constructor(
    private path: string,
    fd: number,
    /** A scratch file of this image's own: deleted when it is let go. */
    private owned: boolean,
  ) {
    this.fd = fd;
    this.size = fstatSync(fd).size;
  }

  static open(path: string, options: { readonly owned?: boolean } = {}): LazyImage {
    return new LazyImage(path, openSync(path, 'r'), options.owned ?? false);
  }

  /** An image over a file already open for reading (the image closes it when disposed). */
  static fromDescriptor(fd: number, path: string): LazyImage {
    return new LazyImage(path, fd, false);
  }

  /** The file's bytes on disk when opened. */
  get fileSize(): number {
    return this.size;
  }

  /** Memory held for changed blocks. */
  get changedBytes(): number {
    return this.changed.size * BLOCK;
  }

  // ---- what MEMFS uses ----

  /**
   * Handed to sql.js, the image is data of its size (MEMFS writes `length` bytes of it when it creates
   * the file, taking `slice(0, length)`); once it is the file's storage, it is storage that never
   * needs to grow (MEMFS compares `length`, its capacity, with what a write needs).
   */
  get length(): number {
    return this.adopted ? CAPACITY : this.size;
  }

  slice(start = 0, end = this.size): LazyImage | Uint8Array {
    if (start !== 0 || end !== this.size || this.adopted) return this.subarray(start, end);
    this.adopted = true;
    return this;
  }

  subarray(start = 0, end = this.size): Uint8Array {
    const out = new Uint8Array(Math.max(0, end - start));
    let at = start;
    while (at < end) {
      const block = Math.floor(at / BLOCK);
      const changed = this.changed.get(block);
      const blockEnd = Math.min(end, (block + 1) * BLOCK);
      if (changed) {
        out.set(changed.subarray(at - block * BLOCK, blockEnd - block * BLOCK), at - start);
        at = blockEnd;
        continue;
      }
      // A run of unchanged blocks: one read.
      let runEnd = blockEnd;
      while (runEnd < end && !this.changed.has(Math.floor(runEnd / BLOCK))) runEnd = Math.min(end, runEnd + BLOCK);
      this.readFile(out, at - start, at, runEnd - at);
      at = runEnd;
    }
    return out;
  }

  set(bytes: ArrayLike<number> & { subarray?: (a: number, b: number) => Uint8Array }, position = 0): void {
    this.writes++;
    const src = bytes instanceof Uint8Array ? bytes : Uint8Array.from(bytes);
    let done = 0;
    while (done < src.length) {
      const at = position + done;
      const block = Math.floor(at / BLOCK);
      const inBlock = at - block * BLOCK;
      const n = Math.min(BLOCK - inBlock, src.length - done);
      let changed = this.changed.get(block);
      if (!changed) {
        changed = new Uint8Array(BLOCK);
        if (n < BLOCK) this.readFile(changed, 0, block * BLOCK, BLOCK);
        this.changed.set(block, changed);
      }
      changed.set(src.subarray(done, done + n), inBlock);
      done += n;
    }
  }

  // ---- for the store ----

  /**
   * Whether the database still reads and writes this image. MEMFS replaces a file's storage with a
   * plain array when the file is truncated (SQLite truncates on VACUUM, and when it rolls back a
   * transaction that grew the file); from then on the database is wholly in memory and this image
   * is stale. A one-page write (the header's user version) tells: it reaches `set` only if the image
   * is still the storage. Callers save a stale image's database with `export()` instead.
   */
  backs(db: Database): boolean {
    const before = this.writes;
    const version = (db.exec('PRAGMA user_version')[0]?.values[0]?.[0] as number | undefined) ?? 0;
    db.exec(`PRAGMA user_version = ${(version + 1) % 0x7fffffff}`);
    return this.writes > before;
  }

  /**
   * Writes the first `bytes` of the image to `fd` (a new file opened for reading and writing) and
   * returns its SHA-256. Synchronous: the image written is one moment's. That file then becomes the
   * base and the changed blocks are let go.
   */
  writeTo(fd: number, bytes: number, path: string, options: { readonly owned?: boolean } = {}): string {
    const hash = createHash('sha256');
    for (let at = 0; at < bytes; at += 1 << 20) {
      const chunk = this.subarray(at, Math.min(bytes, at + (1 << 20)));
      hash.update(chunk);
      for (let done = 0; done < chunk.length; ) done += writeSync(fd, chunk, done, chunk.length - done, at + done);
    }
    this.dispose();
    this.ahead = null;
    this.fd = openSync(path, 'r');
    this.path = path;
    this.owned = options.owned ?? false;
    this.size = bytes;
    this.changed.clear();
    return hash.digest('hex');
  }

  /** The SHA-256 of the file as opened (before any change). */
  digest(): string {
    const hash = createHash('sha256');
    const buf = Buffer.allocUnsafe(1 << 20);
    for (let at = 0; at < this.size; ) {
      const n = readSync(this.fd, buf, 0, Math.min(buf.length, this.size - at), at);
      if (n === 0) throw new Error(`${this.path} ended at ${at} bytes; expected ${this.size}`);
      hash.update(buf.subarray(0, n));
      at += n;
    }
    return hash.digest('hex');
  }

  /** Moves the base to the file's final name after a rename (the descriptor stays the same file). */
  renamed(path: string): void {
    this.path = path;
  }

  dispose(): void {
    try {
      closeSync(this.fd);
    } catch {
      // Already closed.
    }
    if (this.owned) rmSync(this.path, { force: true });
  }

  /**
   * Bytes of the file (zeros past its end: blocks SQLite has not written yet). A page that follows the
   * page read before it is read with the 60 KiB after it, kept for the next reads: a scan in file
   * order makes one read per 16 pages, and random lookups read one page each.
   */
  private readFile(out: Uint8Array, offset: number, position: number, length: number): void {
    const sequential = position === this.lastEnd;
    this.lastEnd = position + length;
    const inWindow = this.ahead !== null && position >= this.aheadAt && position + length <= this.aheadAt + this.ahead.length;
    if (length <= BLOCK && position + length <= this.size && (inWindow || sequential)) {
      if (!inWindow) {
        const n = Math.min(READ_AHEAD, this.size - position);
        const window = this.ahead && this.ahead.length === n ? this.ahead : Buffer.allocUnsafe(n);
        this.readRange(window, 0, position, n);
        this.ahead = window;
        this.aheadAt = position;
      }
      out.set(this.ahead!.subarray(position - this.aheadAt, position - this.aheadAt + length), offset);
      return;
    }
    this.readRange(out, offset, position, length);
  }

  private readRange(out: Uint8Array, offset: number, position: number, length: number): void {
    const available = Math.max(0, Math.min(length, this.size - position));
    for (let done = 0; done < available; ) {
      const n = readSync(this.fd, out, offset + done, available - done, position + done);
      if (n === 0) throw new Error(`${this.path} ended at ${position + done} bytes; expected ${this.size}`);
      done += n;
    }
    out.fill(0, offset + available, offset + length);
  }
}

/**
 * Writes an image to a new temporary file beside `target`, fsync'd, in one synchronous pass (one
 * moment's image); the file becomes the image's base. Returns its path and SHA-256.
 */
export function writeImageTemp(image: LazyImage, target: string, bytes: number): { readonly tmp: string; readonly sha256: string } {
  const tmp = `${target}.${process.pid}-${Date.now()}.tmp`;
  const fd = openSync(tmp, 'wx');
  try {
    const sha256 = image.writeTo(fd, bytes, tmp);
    fsyncSync(fd);
    return { tmp, sha256 };
  } catch (err) {
    rmSync(tmp, { force: true }); // the image keeps reading it through its descriptor if it got that far
    throw err;
  } finally {
    closeSync(fd);
  }
}

/** Saves an image to `dir/name` atomically and synchronously (writeImageTemp, then a rename). Returns its SHA-256. */
export function saveImageFile(image: LazyImage, dir: string, name: string, bytes: number): string {
  const target = join(dir, name);
  const { tmp, sha256 } = writeImageTemp(image, target, bytes);
  try {
    renameSync(tmp, target);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
  image.renamed(target);
  fsyncDir(dir);
  return sha256;
}

/** A database's size in bytes as SQLite sees it (page count × page size). */
export function databaseBytes(db: Database): number {
  const n = (sql: string): number => (db.exec(sql)[0]?.values[0]?.[0] as number | undefined) ?? 0;
  return n('PRAGMA page_count') * n('PRAGMA page_size');
}
