import { closeSync, fstatSync, openSync, readSync, statSync } from 'node:fs';
import { CorruptStoreError } from '../../core/errors.js';
import type { RawEvent } from '../../core/eventStore.js';
import { decodeEventAt } from './journal.js';
import type { Located } from './logIndex.js';

/** Neighbouring events are read with one call while the span stays under this size. */
const MAX_SPAN = 8 << 20;

/**
 * Reads events from the journal by the offsets the index gives. Every event read is checked to be
 * the one the index expected (its position), so an index that disagrees with the journal is found
 * at once rather than showing another event. The records' checksums are checked by `verify` and
 * when the index is built, not on every read.
 */
export class JournalReader {
  private fd: number;
  private ino: number;

  constructor(private readonly path: string) {
    this.fd = openSync(path, 'r');
    this.ino = fstatSync(this.fd).ino;
  }

  /** The journal's current size (another process may have appended). */
  size(): number {
    return fstatSync(this.fd).size;
  }

  /** Whether the journal at the path is no longer the file this reader has open (a forget or recover replaced it). */
  replaced(): boolean {
    try {
      return statSync(this.path).ino !== this.ino;
    } catch {
      return true;
    }
  }

  /** Opens the file now at the path (after it was replaced). */
  reopen(): void {
    closeSync(this.fd);
    this.fd = openSync(this.path, 'r');
    this.ino = fstatSync(this.fd).ino;
  }

  /** Reads and decodes the events, in the order given. */
  read(located: readonly Located[]): RawEvent[] {
    const out: RawEvent[] = [];
    for (let i = 0; i < located.length; ) {
      // A run of events that lie back to back in the file (the usual case for a page) is one read.
      let j = i + 1;
      while (j < located.length && located[j]!.at === located[j - 1]!.at + located[j - 1]!.len && located[j]!.at + located[j]!.len - located[i]!.at <= MAX_SPAN) j++;
      const first = located[i]!;
      const last = located[j - 1]!;
      const buf = this.bytes(first.at, last.at + last.len - first.at);
      for (let k = i; k < j; k++) {
        const l = located[k]!;
        out.push(this.decode(buf, l.at - first.at, l));
      }
      i = j;
    }
    return out;
  }

  private decode(buf: Buffer, offset: number, l: Located): RawEvent {
    let raw: RawEvent;
    let end: number;
    try {
      ({ raw, end } = decodeEventAt(buf.subarray(offset, offset + l.len), 0));
    } catch (err) {
      throw new CorruptStoreError(this.path, `event ${l.position} cannot be read at byte ${l.at} (${(err as Error).message}); run \`rag-ledger verify\``);
    }
    if (raw.position !== l.position || end !== l.len) {
      throw new CorruptStoreError(this.path, `the index says event ${l.position} is at byte ${l.at}, but the journal holds event ${raw.position} there; run \`rag-ledger verify\``);
    }
    return raw;
  }

  private bytes(at: number, len: number): Buffer {
    const buf = Buffer.allocUnsafe(len);
    let got = 0;
    while (got < len) {
      const n = readSync(this.fd, buf, got, len - got, at + got);
      if (n === 0) throw new CorruptStoreError(this.path, `the journal ends before byte ${at + len}, where the index expects an event; run \`rag-ledger verify\``);
      got += n;
    }
    return buf;
  }

  private closed = false;

  /** Closes the file (once; later calls do nothing). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    closeSync(this.fd);
  }
}
