import { closeSync, fdatasync, fdatasyncSync, fstatSync, ftruncateSync, openSync, statSync, writeSync } from 'node:fs';
import { JournalChangedError } from '../../core/errors.js';

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
    return Promise.resolve(new JournalWriter(path, fd, size, fstatSync(fd).ino));
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
    const changed = this.stopIfChanged();
    if (changed) return Promise.reject(changed);
    const at = this.size;
    try {
      let written = 0;
      while (written < record.length) written += writeSync(this.fd, record, written, record.length - written, at + written);
    } catch (err) {
      this.cutBack(at);
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
    return new Promise<void>((resolve, reject) => {
      fdatasync(this.fd, (err) => {
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
