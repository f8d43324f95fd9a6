import { linkSync, readFileSync, readdirSync, renameSync, statSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { basename, dirname, join } from 'node:path';
import type { LockHolder } from '../../core/errors.js';
import { StoreLockedError } from '../../core/errors.js';
import { newUuid } from '../node/sha256.js';

export const LOCK_FILE = 'store.lock';

/**
 * An unreadable lock file (empty, not JSON, no pid) is debris: locks are published complete (see
 * publish), so it was left by a writer killed while it wrote the file in place, or came back empty
 * after a power loss. It is taken over once its mtime is this old, or once it stayed the same file
 * this long while a writer waited. A writer waits out this grace even with `waitMs: 0`.
 */
export const LOCK_DEBRIS_GRACE_MS = 2_000;
/** How long past a debris lock's grace a writer still tries once more before giving up. */
const DEBRIS_MARGIN_MS = 250;

/**
 * The lease of a lock taken on another host. Liveness cannot be checked across machines; a lock is
 * held for one append (milliseconds), so a lock from another host whose file is this old (or that
 * stayed the same file this long while a writer waited) is stale. Younger, it counts as live.
 */
export const FOREIGN_LOCK_LEASE_MS = 30_000;

/** Longest pause between two attempts while waiting for a holder (the backoff starts at 1 ms). */
const MAX_BACKOFF_MS = 25;
/** Attempts without a pause when the lock vanishes or is taken over in between. */
const IMMEDIATE_ATTEMPTS = 20;

export interface AcquireOptions {
  /** Wait up to this long for a live holder to release (retry with short backoff, 1 ms growing to ~25 ms); 0 = fail at once. Default 0. */
  readonly waitMs?: number;
  /** Lock file name inside dir. Default LOCK_FILE ('store.lock'). Other locks of a store (e.g. 'pipeline.lock') use the same rules. */
  readonly file?: string;
}

interface LockRecord extends LockHolder {
  /** Process start time (clock ticks since boot, from /proc), to tell a reused pid from the holder. */
  readonly startTime: string | null;
  /** The kernel's boot id: a lock taken before a reboot is stale whatever its pid. Absent in older locks. */
  readonly bootId?: string | null;
  readonly nonce: string;
}

/** Fields of /proc/<pid>/stat after the parenthesised command name (which may contain spaces). */
function procStat(pid: number): string[] | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return null;
  }
}

function processStartTime(pid: number): string | null {
  return procStat(pid)?.[19] ?? null; // field 22, starttime
}

let cachedBootId: string | null | undefined;
function bootId(): string | null {
  if (cachedBootId === undefined) {
    try {
      cachedBootId = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim() || null;
    } catch {
      cachedBootId = null;
    }
  }
  return cachedBootId;
}

/** Whether the process recorded in a lock is still running (a holder on another host cannot be checked: true). */
export function isHolderAlive(holder: LockRecord): boolean {
  if (holder.hostname !== hostname()) return true;
  const ours = bootId();
  if (holder.bootId && ours && holder.bootId !== ours) return false; // Taken before this machine rebooted.
  try {
    process.kill(holder.pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
  }
  const stat = procStat(holder.pid);
  if (stat) {
    if (stat[0] === 'Z' || stat[0] === 'X') return false; // Dead, not yet reaped by its parent.
    if (holder.startTime !== null && stat[19] !== undefined && stat[19] !== holder.startTime) return false; // The pid now belongs to another process.
  }
  return true;
}

/** This process as a lock file records it (for other exclusive files that follow the lock's rules). */
export function ownRecord(owner: string): string {
  const record: LockRecord = { pid: process.pid, hostname: hostname(), owner, acquiredAt: new Date().toISOString(), startTime: processStartTime(process.pid), bootId: bootId(), nonce: newUuid() };
  return JSON.stringify(record);
}

/**
 * Whether an exclusive file written with ownRecord is left over from a writer that is gone: its
 * process died (this host), its lease lapsed (another host), or it stayed unreadable past the grace.
 */
export function isLeftOver(path: string, debrisGraceMs = LOCK_DEBRIS_GRACE_MS): boolean {
  const record = readLock(path);
  if (record === 'missing') return true;
  let ageMs: number;
  try {
    ageMs = Date.now() - statSync(path).mtimeMs;
  } catch {
    return true;
  }
  if (record === 'unreadable') return ageMs > debrisGraceMs;
  if (record.hostname !== hostname()) return ageMs > FOREIGN_LOCK_LEASE_MS;
  return !isHolderAlive(record);
}

function readLock(path: string): LockRecord | 'unreadable' | 'missing' {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'missing' : 'unreadable';
  }
  try {
    const parsed = JSON.parse(text) as LockRecord;
    if (parsed !== null && typeof parsed === 'object' && typeof parsed.pid === 'number' && typeof parsed.nonce === 'string') return parsed;
  } catch {
    /* fall through */
  }
  return 'unreadable';
}

/** Why a round of attempts did not get the lock. */
type Busy =
  /** A live holder; staleAt: when its lock lapses (a holder on another host), else null. */
  | { readonly kind: 'held'; readonly holder: LockRecord; readonly staleAt: number | null }
  /** An unreadable lock file, taken over at staleAt. */
  | { readonly kind: 'debris'; readonly staleAt: number; readonly mtimeMs: number }
  /** The lock kept vanishing or changing hands. */
  | { readonly kind: 'churn' };

/** One acquisition: the record to publish, and what was seen of the lock while waiting. */
class Acquisition {
  readonly path: string;
  record: LockRecord;
  private readonly startedAt = Date.now();
  private readonly deadline: number;
  private backoff = 1;
  /** When each lock file (by identity) was first seen: a file that stays the same while we wait ages. */
  private readonly firstSeen = new Map<string, number>();
  private lastHolder: LockRecord | null = null;

  constructor(
    readonly dir: string,
    owner: string,
    options: AcquireOptions,
  ) {
    this.path = join(dir, options.file ?? LOCK_FILE);
    this.deadline = this.startedAt + Math.max(0, options.waitMs ?? 0);
    this.record = {
      pid: process.pid,
      hostname: hostname(),
      owner,
      acquiredAt: new Date().toISOString(),
      startTime: processStartTime(process.pid),
      bootId: bootId(),
      nonce: newUuid(),
    };
  }

  /** Takes the lock if it is free or stale ('acquired'), else says who or what holds it. */
  attempt(): 'acquired' | Busy {
    this.record = { ...this.record, acquiredAt: new Date().toISOString() }; // The time it is taken, not when the wait began.
    for (let i = 0; i < IMMEDIATE_ATTEMPTS; i++) {
      if (publish(this.path, this.record)) return 'acquired';
      const judged = fileIdentity(this.path);
      if (judged === null) continue;
      const holder = readLock(this.path);
      if (holder === 'missing') continue;
      const now = Date.now();
      let seen = this.firstSeen.get(judged.key);
      if (seen === undefined) this.firstSeen.set(judged.key, (seen = now));
      // A file's age: since its mtime, or since we first saw it (if its clock runs ahead of ours).
      const since = Math.min(judged.mtimeMs, seen);
      if (holder === 'unreadable') {
        if (now < since + LOCK_DEBRIS_GRACE_MS) return { kind: 'debris', staleAt: since + LOCK_DEBRIS_GRACE_MS, mtimeMs: judged.mtimeMs };
      } else if (holder.hostname !== this.record.hostname) {
        this.lastHolder = holder;
        if (now < since + FOREIGN_LOCK_LEASE_MS) return { kind: 'held', holder, staleAt: since + FOREIGN_LOCK_LEASE_MS };
      } else if (isHolderAlive(holder)) {
        this.lastHolder = holder;
        return { kind: 'held', holder, staleAt: null };
      }
      takeOverStaleLock(this.path, holder, judged.key);
    }
    return { kind: 'churn' };
  }

  /** How long to pause before the next attempt, or the StoreLockedError if the wait is over. */
  pause(busy: Busy): number {
    const now = Date.now();
    // Debris is waited out (bounded) even past the caller's deadline: it is nobody's lock.
    // (A margin past the moment it turns stale, so the attempt that takes it over always runs.)
    const limit = busy.kind === 'debris' ? Math.max(this.deadline, Math.min(busy.staleAt, this.startedAt + 2 * LOCK_DEBRIS_GRACE_MS) + DEBRIS_MARGIN_MS) : this.deadline;
    if (now >= limit) throw this.refusal(busy, now);
    let ms = Math.min(this.backoff, limit - now);
    if (busy.kind !== 'churn' && busy.staleAt !== null) ms = Math.min(ms, Math.max(1, busy.staleAt - now));
    this.backoff = Math.min(this.backoff * 2, MAX_BACKOFF_MS);
    return Math.max(1, ms);
  }

  private refusal(busy: Busy, now: number): StoreLockedError {
    // Only a caller that asked to wait is told how long it waited.
    const waitedMs = this.deadline > this.startedAt || busy.kind === 'debris' ? now - this.startedAt : 0;
    const lockPath = this.path;
    if (busy.kind === 'held') {
      const foreign = busy.holder.hostname !== this.record.hostname;
      return new StoreLockedError(this.dir, busy.holder, { lockPath, waitedMs, ...(foreign ? { foreignLeaseMs: FOREIGN_LOCK_LEASE_MS } : {}) });
    }
    if (busy.kind === 'churn' && this.lastHolder) return new StoreLockedError(this.dir, this.lastHolder, { lockPath, waitedMs });
    const holder: LockHolder =
      busy.kind === 'debris'
        ? { pid: 0, hostname: this.record.hostname, owner: 'an unknown writer (the lock file is unreadable and keeps changing)', acquiredAt: new Date(busy.mtimeMs).toISOString() }
        : { pid: 0, hostname: this.record.hostname, owner: 'other writers (the lock kept changing hands)', acquiredAt: new Date(now).toISOString() };
    return new StoreLockedError(this.dir, holder, { lockPath, waitedMs });
  }
}

/** A held write lock on a store directory. */
export class StoreLock {
  private released = false;
  private constructor(
    private readonly path: string,
    private readonly record: LockRecord,
  ) {}

  /**
   * Takes the lock (`store.lock`, or `options.file`) in `dir`, waiting up to `options.waitMs` for a
   * live holder, or throws StoreLockedError naming the holder. A stale lock (dead or reused pid,
   * zombie, taken before a reboot, from another host and older than FOREIGN_LOCK_LEASE_MS) is moved
   * aside and taken over; unreadable debris after LOCK_DEBRIS_GRACE_MS. Blocks the thread while it
   * waits: within one process, a holder cannot release meanwhile (use acquireAsync there).
   */
  static acquire(dir: string, owner: string, options: AcquireOptions = {}): StoreLock {
    const acquisition = new Acquisition(dir, owner, options);
    for (;;) {
      const got = acquisition.attempt();
      if (got === 'acquired') return StoreLock.held(acquisition);
      sleepSync(acquisition.pause(got));
    }
  }

  /** As acquire, but waits with timers instead of blocking the thread. */
  static async acquireAsync(dir: string, owner: string, options: AcquireOptions = {}): Promise<StoreLock> {
    const acquisition = new Acquisition(dir, owner, options);
    for (;;) {
      const got = acquisition.attempt();
      if (got === 'acquired') return StoreLock.held(acquisition);
      const ms = acquisition.pause(got);
      await new Promise<void>((resolve) => setTimeout(resolve, ms));
    }
  }

  private static held(acquisition: Acquisition): StoreLock {
    sweepPrivateFiles(acquisition.path);
    return new StoreLock(acquisition.path, acquisition.record);
  }

  get holder(): LockHolder {
    return this.record;
  }

  /**
   * Renews a lock held for long (a pipeline run): its mtime is what another host's lease counts
   * from. Returns false if the lock is no longer this process's.
   */
  renew(): boolean {
    if (this.released) return false;
    const current = readLock(this.path);
    if (typeof current !== 'object' || current.nonce !== this.record.nonce) return false;
    try {
      const now = new Date();
      utimesSync(this.path, now, now);
      return true;
    } catch {
      return false;
    }
  }

  /** Releases the lock if this process still holds it. */
  release(): void {
    if (this.released) return;
    this.released = true;
    const current = readLock(this.path);
    if (typeof current === 'object' && current.nonce === this.record.nonce) {
      try {
        unlinkSync(this.path);
      } catch {
        /* already gone */
      }
    }
  }
}

/**
 * Publishes a complete lock record: written under a private name, then linked to the lock path,
 * which fails if a lock exists. No running process ever sees a half-written lock. The file is not
 * fsync'd: it only matters while its writer runs, and what a power loss leaves of it (nothing,
 * an empty file, a lock of a process that no longer exists) is debris the rules above take over.
 */
function publish(path: string, record: LockRecord): boolean {
  const tmp = `${path}.${record.nonce}.tmp`;
  writeFileSync(tmp, JSON.stringify(record, null, 2), { flag: 'wx', mode: 0o666 });
  try {
    linkSync(tmp, path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    return false;
  } finally {
    unlinkSync(tmp);
  }
}

const swept = new Set<string>();

/**
 * Removes private files of publishes that never finished (a writer killed between writing its
 * record and linking it), once per process and lock, when it first holds the lock. Only files
 * older than FOREIGN_LOCK_LEASE_MS: a publish in progress lasts microseconds.
 */
function sweepPrivateFiles(path: string): void {
  if (swept.has(path)) return;
  swept.add(path);
  const prefix = `${basename(path)}.`;
  let names: string[];
  try {
    names = readdirSync(dirname(path));
  } catch {
    return;
  }
  const cutoff = Date.now() - FOREIGN_LOCK_LEASE_MS;
  for (const name of names) {
    if (!name.startsWith(prefix) || !/^[0-9a-f-]{36}\.tmp$/.test(name.slice(prefix.length))) continue;
    const file = join(dirname(path), name);
    try {
      if (statSync(file).mtimeMs < cutoff) unlinkSync(file);
    } catch {
      /* gone already */
    }
  }
}

/** Inode, size and modification time: identifies one lock file across a rename. */
function fileIdentity(path: string): { key: string; mtimeMs: number } | null {
  try {
    const st = statSync(path);
    return { key: `${st.ino}:${st.size}:${st.mtimeMs}`, mtimeMs: st.mtimeMs };
  } catch {
    return null;
  }
}

export function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * Moves a stale lock aside atomically (rename), then checks that the file moved is the one judged
 * stale (same nonce, or same inode, size and mtime for debris). If a live process replaced it in
 * between, it is linked back; if that is impossible it is left aside, never deleted.
 */
function takeOverStaleLock(path: string, stale: LockRecord | 'unreadable', judgedAt: string): void {
  const aside = `${path}.stale-${process.pid}-${newUuid()}`;
  try {
    renameSync(path, aside);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  const moved = readLock(aside);
  const sameAsJudged = stale === 'unreadable' ? moved === 'unreadable' && fileIdentity(aside)?.key === judgedAt : typeof moved === 'object' && moved.nonce === stale.nonce;
  if (sameAsJudged) {
    unlinkSync(aside);
    return;
  }
  try {
    linkSync(aside, path);
    unlinkSync(aside);
  } catch {
    /* A newer lock exists; keep the moved one aside rather than lose it. */
  }
}
