import { closeSync, fdatasync, fdatasyncSync, fstatSync, ftruncateSync, openSync, readdirSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { JournalChangedError } from '../../core/errors.js';
import { isLeftOver, ownRecord, sleepSync } from './storeLock.js';

/**
 * A claim is written in one small write right after its exclusive creation, so a claim that is
 * still empty after this long belongs to a writer killed in between (SIGKILL, a crash). The next
 * writer waits this long at most, once, instead of refusing the store.
 */
export const CLAIM_DEBRIS_GRACE_MS = 250;
const CLAIM_DEBRIS_POLL_MS = 25;

/**
 * The claim a writer makes on the journal offset it is about to write at, created exclusively
 * (O_EXCL) just before the write and removed once the record is durable. Two writers that both
 * believe they hold the store's lock (its lock file was deleted under them) cannot both write at
 * one place: the second finds the claim, or finds the journal longer than it thought, and refuses.
 */
export function claimPath(journalPath: string, at: number): string {
  return `${journalPath}.append-${at}`;
}

/** Removes claims left by writers that are gone, and claims on offsets the journal has passed. */
function sweepClaims(journalPath: string, size: number): void {
  const prefix = `${basename(journalPath)}.append-`;
  let names: string[];
  try {
    names = readdirSync(dirname(journalPath));
  } catch {
    return;
  }
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const at = Number(name.slice(prefix.length));
    const path = join(dirname(journalPath), name);
    if (!Number.isSafeInteger(at) || at < size || isLeftOver(path, CLAIM_DEBRIS_GRACE_MS)) rmSync(path, { force: true });
  }
}

function isEmptyFile(path: string): boolean {
  try {
    return statSync(path).size === 0;
  } catch {
    return false;
  }
}

/**
 * The journal's writer. Appends are serialised by the store. The record is copied into the
 * page cache synchronously (cheap), and only the fdatasync runs on the thread pool, so it
 * overlaps with whatever the caller does next (the store inserts the rows meanwhile).
 */
export class JournalWriter {
  private constructor(
    private readonly path: string,
    private readonly fd: number,
    private size: number,
    private readonly ino: number,
  ) {}

  static open(path: string, size: number): Promise<JournalWriter> {
    const fd = openSync(path, 'r+');
    sweepClaims(path, size);
    return Promise.resolve(new JournalWriter(path, fd, size, fstatSync(fd).ino));
  }

  /** Claims the offset `at` (see claimPath): the claim's path, or why another writer has it. */
  private claim(at: number): string | JournalChangedError {
    const path = claimPath(this.path, at);
    let removed = false;
    const waitUntil = Date.now() + CLAIM_DEBRIS_GRACE_MS + 2 * CLAIM_DEBRIS_POLL_MS;
    for (;;) {
      try {
        writeFileSync(path, ownRecord('a journal append'), { flag: 'wx' });
        return path;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
          // Created but not written (a full disk): an empty claim would hold the offset for the grace.
          try {
            rmSync(path, { force: true });
          } catch {
            /* not created (a read-only folder): nothing to remove */
          }
          throw err;
        }
        const refused = new JournalChangedError(this.path, `another process is writing at byte ${at} at the same time`);
        if (removed) return refused;
        if (isLeftOver(path, CLAIM_DEBRIS_GRACE_MS)) {
          rmSync(path, { force: true });
          removed = true;
        } else if (isEmptyFile(path) && Date.now() < waitUntil) {
          sleepSync(CLAIM_DEBRIS_POLL_MS); // Being written this moment, or debris still in its grace.
        } else {
          return refused;
        }
      }
    }
  }

  /**
   * Checks that the journal is still the file this writer opened and ends where this writer
   * last wrote: another process (one that took the store after its lock file was removed, say)
   * must never have its records overwritten. Costs two stat calls per append.
   */
  checkUnchanged(): JournalChangedError | null {
    const size = fstatSync(this.fd).size;
    if (size !== this.size) return new JournalChangedError(this.path, `it is ${size} bytes, but this process last left it at ${this.size}`);
    let ino: number | null;
    try {
      ino = statSync(this.path).ino;
    } catch {
      ino = null;
    }
    if (ino !== this.ino) return new JournalChangedError(this.path, ino === null ? 'the file is gone' : 'the file was replaced');
    return null;
  }

  get bytes(): number {
    return this.size;
  }

  /** Takes the journal's size as read by the store after catching up with other processes' appends (holding the lock). */
  adopt(size: number): void {
    this.size = size;
  }

  /**
   * Set when the journal may disagree with what the store acknowledged (an fdatasync failed,
   * or an undo could not be done). The store then refuses further appends until reopened.
   */
  failure: Error | null = null;

  /**
   * Writes one record durably. If the write itself fails, the file is cut back to where it
   * was (a partial record can never pass its checksum). If the fdatasync fails, the record
   * is left in place and the writer stops: whether it reached the disk is unknown, and a
   * reader may already have seen it, so only a reopen can tell.
   */
  append(record: Buffer): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    const at = this.size;
    let claim: string | JournalChangedError;
    try {
      claim = this.claim(at);
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
    if (claim instanceof JournalChangedError) {
      this.failure = claim;
      return Promise.reject(claim);
    }
    const release = (): void => {
      try {
        rmSync(claim, { force: true });
      } catch {
        /* left over: the next writer's open removes it (its offset is passed) */
      }
    };
    // Checked holding the claim: a writer that wrote here before us has released its claim only
    // after its record was written, so the journal is longer now.
    const changed = this.stopIfChanged();
    if (changed) {
      release();
      return Promise.reject(changed);
    }
    try {
      let written = 0;
      while (written < record.length) written += writeSync(this.fd, record, written, record.length - written, at + written);
    } catch (err) {
      this.cutBack(at);
      release();
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
    return new Promise<void>((resolve, reject) => {
      fdatasync(this.fd, (err) => {
        release();
        if (err) {
          this.failure = err;
          reject(err);
        } else {
          this.size = at + record.length;
          resolve();
        }
      });
    });
  }

  private cutBack(at: number): void {
    try {
      ftruncateSync(this.fd, at);
    } catch {
      /* the record is torn at worst, which open() handles */
    }
  }

  /** Like checkUnchanged, and stops the writer (every later append is refused) if the journal changed. */
  stopIfChanged(): JournalChangedError | null {
    const changed = this.checkUnchanged();
    if (changed) this.failure = changed;
    return changed;
  }

  /** Removes the last record again (used when applying it in memory failed). */
  undo(toSize: number): Promise<void> {
    try {
      ftruncateSync(this.fd, toSize);
      fdatasyncSync(this.fd);
      this.size = toSize;
    } catch (err) {
      this.failure = err instanceof Error ? err : new Error(String(err));
      return Promise.reject(this.failure);
    }
    return Promise.resolve();
  }

  close(): Promise<void> {
    closeSync(this.fd);
    return Promise.resolve();
  }
}
