import { createHash, randomBytes } from 'node:crypto';
import { closeSync, fstatSync, openSync, readSync, readdirSync, readFileSync, renameSync, statSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The read models' files: `projections/` beside the log holds one SQLite image per shard (a
 * projection's documents whose keys share a prefix, `doc:`, `chunk:`…) and `manifest.json`, which
 * names, for every projection, its checkpoint and the shard images that hold its documents at that
 * checkpoint. Shard images are immutable once written; replacing the manifest (atomically, under
 * `projections/store.lock`) is the commit point, so a projection's shards always come from one
 * commit. A process pins (keeps open) the files of the commit it reads, so another process's
 * commit and clean-up never pulls a file from under it.
 */
export const PROJECTIONS_DIR = 'projections';
export const MANIFEST_FILE = 'manifest.json';
const MANIFEST_FORMAT = 1;
/** Unreferenced shard files are deleted once this old (other processes may still be opening them). */
export const SHARD_GRACE_MS = 10 * 60_000;

export interface ShardRef {
  readonly file: string;
  readonly bytes: number;
  readonly sha256: string;
}

export interface ManifestEntry {
  /** Unique per commit of this projection: a writer replaces only the entry it started from. */
  readonly id: string;
  readonly version: number;
  readonly position: number;
  readonly shards: Readonly<Record<string, ShardRef>>;
}

export interface Manifest {
  readonly format: number;
  readonly projections: Readonly<Record<string, ManifestEntry>>;
}

export const EMPTY_MANIFEST: Manifest = { format: MANIFEST_FORMAT, projections: {} };

/** The shard a key belongs to: what precedes its first `:` (keys without one share the shard ''). */
export function segmentOf(key: string): string {
  const colon = key.indexOf(':');
  return colon < 0 ? '' : key.slice(0, colon);
}

/** A file-name-safe spelling of a projection or segment name. */
function safe(name: string): string {
  return name === '' ? '_' : name.replace(/[^A-Za-z0-9-]/g, (c) => `_${c.charCodeAt(0).toString(16)}`);
}

export function newId(): string {
  return randomBytes(6).toString('hex');
}

export function shardFileName(projection: string, segment: string): string {
  return `${safe(projection)}~${safe(segment)}~${newId()}.sqlite`;
}

function isRef(v: unknown): v is ShardRef {
  const r = v as ShardRef;
  return typeof r === 'object' && r !== null && typeof r.file === 'string' && /^[A-Za-z0-9_~-]+\.sqlite$/.test(r.file) && Number.isSafeInteger(r.bytes) && typeof r.sha256 === 'string';
}

function isEntry(v: unknown): v is ManifestEntry {
  const e = v as ManifestEntry;
  return (
    typeof e === 'object' && e !== null && typeof e.id === 'string' && Number.isSafeInteger(e.version) && Number.isSafeInteger(e.position) &&
    typeof e.shards === 'object' && e.shards !== null && Object.values(e.shards).every(isRef)
  );
}

/**
 * Reads the manifest: null when there is none, an error when it is not one this version can read
 * (the caller sets the read models aside and rebuilds them).
 */
export function readManifest(dir: string): Manifest | null {
  let text: string;
  try {
    text = readFileSync(join(dir, MANIFEST_FILE), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  const parsed = JSON.parse(text) as Manifest;
  if (parsed?.format !== MANIFEST_FORMAT || typeof parsed.projections !== 'object' || parsed.projections === null) throw new Error(`${MANIFEST_FILE} is not a format ${MANIFEST_FORMAT} manifest`);
  for (const [name, entry] of Object.entries(parsed.projections)) if (!isEntry(entry)) throw new Error(`${MANIFEST_FILE}: the entry of ${name} is malformed`);
  return parsed;
}

export function manifestBytes(manifest: Manifest): Uint8Array {
  return Buffer.from(`${JSON.stringify(manifest, null, 1)}\n`);
}

/** An open, verified shard file: its bytes are those the manifest names. */
export interface PinnedShard {
  readonly ref: ShardRef;
  readonly fd: number;
}

/** Opens a shard file and checks its size and digest; throws with what is wrong. */
export function pinShard(dir: string, ref: ShardRef): PinnedShard {
  const fd = openSync(join(dir, ref.file), 'r');
  try {
    const size = fstatSync(fd).size;
    if (size !== ref.bytes) throw new Error(`${ref.file} has ${size} bytes, the manifest says ${ref.bytes}`);
    const hash = createHash('sha256');
    const buf = Buffer.allocUnsafe(Math.min(size, 1 << 20) || 1);
    for (let at = 0; at < size; ) {
      const n = readSync(fd, buf, 0, Math.min(buf.length, size - at), at);
      if (n === 0) throw new Error(`${ref.file} ended early`);
      hash.update(buf.subarray(0, n));
      at += n;
    }
    if (hash.digest('hex') !== ref.sha256) throw new Error(`${ref.file} does not match its digest`);
    return { ref, fd };
  } catch (err) {
    closeSync(fd);
    throw err;
  }
}

export function unpin(pinned: PinnedShard | undefined): void {
  if (pinned) closeSync(pinned.fd);
}

/** Moves a damaged file aside (kept for inspection); returns where, or null when it was already gone. */
export function setAside(path: string): string | null {
  const aside = `${path}.damaged-${new Date().toISOString().replace(/[:.]/g, '-')}`;
  try {
    renameSync(path, aside);
    return aside;
  } catch {
    return null;
  }
}

/**
 * Deletes shard files no manifest entry names, and abandoned temporary files, once older than
 * `graceMs` (0 after a forget: nothing of forgotten documents may stay on disk). A file another
 * process still has open stays readable to it (or, where the system refuses, is deleted later).
 */
export function sweepShards(dir: string, manifest: Manifest, graceMs: number, now = Date.now()): void {
  const live = new Set(Object.values(manifest.projections).flatMap((e) => Object.values(e.shards).map((r) => r.file)));
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    if (live.has(name) || !(name.endsWith('.sqlite') || name.endsWith('.tmp')) || name.includes('.damaged-')) continue;
    const path = join(dir, name);
    try {
      if (graceMs > 0 && now - statSync(path).mtimeMs < graceMs) continue;
      unlinkSync(path);
    } catch {
      // Gone already, or in use where the system forbids deleting it: the next sweep tries again.
    }
  }
}

/** Total bytes of the files in the read models' folder (for stats and benchmarks). */
export function projectionsBytes(storeDir: string): number {
  const dir = join(storeDir, PROJECTIONS_DIR);
  let total = 0;
  try {
    for (const name of readdirSync(dir)) total += statSync(join(dir, name)).size;
  } catch {
    return 0;
  }
  return total;
}
