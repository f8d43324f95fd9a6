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

function processStartTime(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 22 (starttime) follows the parenthesised command name, which may contain spaces.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19] ?? null;
  } catch {
    return null;
  }
}

/** Whether the process recorded in a lock is still running. */
export function isHolderAlive(holder: LockRecord): boolean {
  if (holder.hostname !== hostname()) return true; // Cannot check another machine: assume it is alive.
  try {
    process.kill(holder.pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
  }
  if (holder.startTime !== null) {
    const now = processStartTime(holder.pid);
    if (now !== null && now !== holder.startTime) return false; // The pid was reused by another process.
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
      try {
        const fd = openSync(path, 'wx', 0o644);
        try {
          writeSync(fd, JSON.stringify(record, null, 2));
          fsyncSync(fd);
        } finally {
          closeSync(fd);
        }
        return new StoreLock(path, record);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      const holder = readLock(path);
      if (holder === 'missing') continue;
      if (holder === 'unreadable') {
        // A lock being written right now is unreadable for a moment; an old unreadable one is debris.
        if (Date.now() - mtimeMs(path) < 2000) {
          sleepSync(50);
          continue;
        }
      } else if (isHolderAlive(holder)) {
        throw new StoreLockedError(dir, holder);
      }
      takeOverStaleLock(path, holder);
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
 * Moves a dead holder's lock aside atomically (rename), then checks that what was moved is
 * the lock judged stale. If a live process replaced it in between, it is put back.
 */
function takeOverStaleLock(path: string, stale: LockRecord | 'unreadable'): void {
  const aside = `${path}.stale-${process.pid}-${newUuid()}`;
  try {
    renameSync(path, aside);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  const moved = readLock(aside);
  const sameAsJudged = stale === 'unreadable' ? moved === 'unreadable' : typeof moved === 'object' && moved.nonce === stale.nonce;
  if (!sameAsJudged) {
    try {
      linkSync(aside, path);
    } catch {
      /* somebody holds a newer lock already */
    }
  }
  try {
    unlinkSync(aside);
  } catch {
    /* ignore */
  }
}
