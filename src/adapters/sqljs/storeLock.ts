import { closeSync, fsyncSync, linkSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { LockHolder } from '../../core/errors.js';
import { StoreLockedError } from '../../core/errors.js';
import { newUuid } from '../node/sha256.js';

export const LOCK_FILE = 'store.lock';

interface LockRecord extends LockHolder {
  /** Process start time (clock ticks since boot, from /proc), to tell a reused pid from the holder. */
  readonly startTime: string | null;
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

/** Whether the process recorded in a lock is still running. */
export function isHolderAlive(holder: LockRecord): boolean {
  if (holder.hostname !== hostname()) return true; // Cannot check another machine: assume it is alive.
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

function readLock(path: string): LockRecord | 'unreadable' | 'missing' {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'missing' : 'unreadable';
  }
  try {
    const parsed = JSON.parse(text) as LockRecord;
    if (typeof parsed.pid === 'number' && typeof parsed.nonce === 'string') return parsed;
  } catch {
    /* fall through */
  }
  return 'unreadable';
}

/** A held write lock on a store directory. */
export class StoreLock {
  private released = false;
  private constructor(
    private readonly path: string,
    private readonly record: LockRecord,
  ) {}

  /**
   * Takes the store's write lock, or throws StoreLockedError naming the live holder.
   * A lock left by a dead process is moved aside and taken over.
   */
  static acquire(dir: string, owner: string): StoreLock {
    const path = join(dir, LOCK_FILE);
    const record: LockRecord = {
      pid: process.pid,
      hostname: hostname(),
      owner,
      acquiredAt: new Date().toISOString(),
      startTime: processStartTime(process.pid),
      nonce: newUuid(),
    };
    for (let attempt = 0; attempt < 20; attempt++) {
      if (publish(path, record)) return new StoreLock(path, record);
      const judgedAt = fileIdentity(path);
      const holder = readLock(path);
      if (holder === 'missing') continue;
      if (holder === 'unreadable') {
        // Locks are published complete (see publish), so an unreadable one is foreign debris;
        // give a concurrent writer of such a file a moment before calling it stale.
        if (Date.now() - mtimeMs(path) < 2000) {
          sleepSync(50);
          continue;
        }
      } else if (isHolderAlive(holder)) {
        throw new StoreLockedError(dir, holder);
      }
      takeOverStaleLock(path, holder, judgedAt);
    }
    throw new StoreLockedError(dir, { pid: -1, hostname: hostname(), owner: 'another process (the lock keeps changing hands)', acquiredAt: new Date().toISOString() });
  }

  get holder(): LockHolder {
    return this.record;
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
 * Publishes a complete lock record: written and fsync'd under a private name, then linked to
 * the lock path, which fails if a lock exists. Nobody ever sees a half-written lock.
 */
function publish(path: string, record: LockRecord): boolean {
  const tmp = `${path}.${record.nonce}.tmp`;
  const fd = openSync(tmp, 'w', 0o644);
  try {
    writeSync(fd, JSON.stringify(record, null, 2));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
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

/** Inode and modification time: identifies one lock file across a rename. */
function fileIdentity(path: string): string | null {
  try {
    const st = statSync(path);
    return `${st.ino}:${st.mtimeMs}`;
  } catch {
    return null;
  }
}

function mtimeMs(path: string): number {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return 0;
  }
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * Moves a dead holder's lock aside atomically (rename), then checks that the file moved is the
 * one judged stale (same nonce, or same inode and mtime for debris). If a live process replaced
 * it in between, it is linked back; if that is impossible it is left aside, never deleted.
 */
function takeOverStaleLock(path: string, stale: LockRecord | 'unreadable', judgedAt: string | null): void {
  const aside = `${path}.stale-${process.pid}-${newUuid()}`;
  try {
    renameSync(path, aside);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  const moved = readLock(aside);
  const sameAsJudged =
    stale === 'unreadable' ? moved === 'unreadable' && judgedAt !== null && fileIdentity(aside) === judgedAt : typeof moved === 'object' && moved.nonce === stale.nonce;
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
