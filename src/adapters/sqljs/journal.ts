import { closeSync, fstatSync, linkSync, unlinkSync, fsyncSync, ftruncateSync, openSync, readSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { crc32 } from 'node:zlib';
import type { RawEvent } from '../../core/eventStore.js';

/**
 * The journal: an append-only file that is the durable truth of the log. Each append call
 * becomes one record, written and fdatasync'd before the append is acknowledged, so the
 * cost of persisting an append is proportional to the append, not to the log.
 *
 *   file   = HEADER record*
 *   record = u32le magic "RRL1", u32le payloadLength, u32le crc32(payload), u32le crc32(first 12 bytes), payload
 *
 * A crash can leave only the last record torn; a bad record followed by an intact one is corruption.
 */
export const JOURNAL_HEADER = Buffer.from('RAG-LEDGER-JRN1\n', 'ascii');
/** Marks the start of every record, so a scan can find intact records after damage. */
const RECORD_MAGIC = 0x314c5252; // "RRL1" little-endian
/** magic, payload length, crc32(payload), crc32(the first 12 header bytes). */
export const RECORD_HEADER = 16;
/** The largest record (one append call) the journal accepts. */
export const MAX_RECORD = 1 << 30;

/**
 * payload = u32le count, then per event:
 *   u32le n, header JSON [position, eventId, streamId, streamVersion, type, schemaVersion, recordedAt, prevHash, hash]
 *   u32le n, metadata JSON;  u32le n, data JSON;  i32le n (-1: none), attachment bytes
 * Strings are stored as UTF-8 verbatim: no second round of JSON escaping.
 */
type Header = [number, string, string, number, string, number, string, string, string];

/** Where one event's bytes lie: file (or record) offset of its first length prefix, and their length. */
export interface Span {
  readonly at: number;
  readonly len: number;
}

export function encodeRecord(events: readonly RawEvent[]): Buffer {
  return encodeRecordSpans(events).record;
}

/** Encodes a record and says where each event's bytes lie inside it (offsets from the record's start). */
export function encodeRecordSpans(events: readonly RawEvent[]): { readonly record: Buffer; readonly spans: Span[] } {
  const headers = events.map((e) => JSON.stringify([e.position, e.eventId, e.streamId, e.streamVersion, e.type, e.schemaVersion, e.recordedAt, e.prevHash, e.hash] satisfies Header));
  let payloadLength = 4;
  for (let i = 0; i < events.length; i++) {
    const e = events[i]!;
    payloadLength += 16 + Buffer.byteLength(headers[i]!) + Buffer.byteLength(e.metadataJson) + Buffer.byteLength(e.dataJson) + (e.attachment?.byteLength ?? 0);
  }
  if (payloadLength > MAX_RECORD) throw new RangeError(`a journal record of ${payloadLength} bytes exceeds the limit of ${MAX_RECORD} bytes`);
  const buf = Buffer.allocUnsafe(RECORD_HEADER + payloadLength);
  const spans: Span[] = [];
  buf.writeUInt32LE(RECORD_MAGIC, 0);
  buf.writeUInt32LE(payloadLength, 4);
  let at = RECORD_HEADER;
  buf.writeUInt32LE(events.length, at);
  at += 4;
  const text = (value: string): void => {
    const n = buf.write(value, at + 4, 'utf8');
    buf.writeUInt32LE(n, at);
    at += 4 + n;
  };
  for (let i = 0; i < events.length; i++) {
    const e = events[i]!;
    const start = at;
    text(headers[i]!);
    text(e.metadataJson);
    text(e.dataJson);
    if (e.attachment) {
      buf.writeInt32LE(e.attachment.byteLength, at);
      buf.set(e.attachment, at + 4);
      at += 4 + e.attachment.byteLength;
    } else {
      buf.writeInt32LE(-1, at);
      at += 4;
    }
    spans.push({ at: start, len: at - start });
  }
  buf.writeUInt32LE(crc32(buf.subarray(RECORD_HEADER)), 8);
  buf.writeUInt32LE(crc32(buf.subarray(0, 12)), 12);
  return { record: buf, spans };
}

/**
 * Decodes one event's bytes starting at `at` in `buf`. With `headersOnly`, the metadata and data
 * are skipped (returned empty) and the attachment is not copied: what building the index needs.
 */
export function decodeEventAt(buf: Buffer, at: number, headersOnly = false): { readonly raw: RawEvent; readonly end: number } {
  const start = at;
  const field = (): [number, number] => {
    if (at + 4 > buf.length) throw new Error('field runs past the end of the record');
    const n = buf.readUInt32LE(at);
    if (at + 4 + n > buf.length) throw new Error('field runs past the end of the record');
    const range: [number, number] = [at + 4, at + 4 + n];
    at += 4 + n;
    return range;
  };
  const [hs, he] = field();
  const h = JSON.parse(buf.toString('utf8', hs, he)) as Header;
  if (!Array.isArray(h) || h.length !== 9) throw new Error(`malformed event header at byte ${start}`);
  const [ms, me] = field();
  const [ds, de] = field();
  if (at + 4 > buf.length) throw new Error('attachment length runs past the end of the record');
  const len = buf.readInt32LE(at);
  at += 4;
  let attachment: Uint8Array | null = null;
  if (len >= 0) {
    if (at + len > buf.length) throw new Error('attachment runs past the end of the record');
    attachment = headersOnly ? EMPTY : new Uint8Array(buf.subarray(at, at + len));
    at += len;
  }
  const metadataJson = headersOnly ? '' : buf.toString('utf8', ms, me);
  const dataJson = headersOnly ? '' : buf.toString('utf8', ds, de);
  return {
    raw: { position: h[0], eventId: h[1], streamId: h[2], streamVersion: h[3], type: h[4], schemaVersion: h[5], recordedAt: h[6], prevHash: h[7], hash: h[8], metadataJson, dataJson, attachment },
    end: at,
  };
}

const EMPTY = new Uint8Array(0);

/** Decodes a record's payload; `base` is the payload's file offset, for the spans. */
function decodePayload(payload: Buffer, base = 0, headersOnly = false): { events: RawEvent[]; spans: Span[] } {
  if (payload.length < 4) throw new Error('the record is too short');
  const count = payload.readUInt32LE(0);
  let at = 4;
  const events: RawEvent[] = [];
  const spans: Span[] = [];
  for (let i = 0; i < count; i++) {
    const { raw, end } = decodeEventAt(payload, at, headersOnly);
    events.push(raw);
    spans.push({ at: base + at, len: end - at });
    at = end;
  }
  if (at !== payload.length) throw new Error(`${payload.length - at} unexpected bytes after the last event`);
  return { events, spans };
}

/** How a scan of the journal ended. */
export type ScanEnd =
  | { readonly kind: 'clean'; readonly offset: number }
  /** The last record is incomplete: a write interrupted by a crash (never acknowledged). */
  | { readonly kind: 'torn'; readonly offset: number; readonly size: number }
  /**
   * A damaged record: one with data after it, or a complete last record (its whole length is
   * on disk) that fails its checksum, which no interrupted append leaves behind. `end`: where
   * the damage ends (the next intact record, or the end of the file).
   */
  | { readonly kind: 'corrupt'; readonly offset: number; readonly detail: string; readonly end?: number };

/** Reads a file sequentially through a large buffer. */
class BlockReader {
  private buf = Buffer.alloc(0);
  private start = 0;
  constructor(
    private readonly fd: number,
    readonly size: number,
  ) {}

  read(offset: number, length: number): Buffer | null {
    if (offset + length > this.size) return null;
    if (offset < this.start || offset + length > this.start + this.buf.length) {
      const want = Math.min(Math.max(length, 8 << 20), this.size - offset);
      const buf = Buffer.allocUnsafe(want);
      let got = 0;
      while (got < want) {
        const n = readSync(this.fd, buf, got, want - got, offset + got);
        if (n === 0) break;
        got += n;
      }
      this.buf = buf.subarray(0, got);
      this.start = offset;
      if (got < length) return null;
    }
    return this.buf.subarray(offset - this.start, offset - this.start + length);
  }
}

/** Whether a complete, intact record starts at `at`. */
function intactRecordAt(reader: BlockReader, at: number): boolean {
  const header = reader.read(at, RECORD_HEADER);
  if (!header || header.readUInt32LE(0) !== RECORD_MAGIC || crc32(header.subarray(0, 12)) !== header.readUInt32LE(12)) return false;
  const length = header.readUInt32LE(4);
  const payload = length >= 4 && length <= MAX_RECORD ? reader.read(at + RECORD_HEADER, length) : null;
  return payload !== null && crc32(payload) === header.readUInt32LE(8);
}

/** The offset of the first intact record after `from`, if any (found by its magic number). */
export function findNextIntactRecord(path: string, from: number): number | undefined {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const reader = new BlockReader(fd, size);
    const magic = Buffer.alloc(4);
    magic.writeUInt32LE(RECORD_MAGIC, 0);
    const window = Buffer.allocUnsafe(8 << 20);
    for (let base = from + 1; base < size; base += window.length - 3) {
      const n = readSync(fd, window, 0, Math.min(window.length, size - base), base);
      for (let i = window.subarray(0, n).indexOf(magic); i >= 0; i = window.subarray(0, n).indexOf(magic, i + 1)) {
        if (intactRecordAt(reader, base + i)) return base + i;
      }
      if (n < window.length) break;
    }
    return undefined;
  } finally {
    closeSync(fd);
  }
}

/**
 * Scans records from `offset`, calling `onRecord` with each record's events and the offset
 * just past it. Stops at the end of the file, a torn tail or corruption. A bad record is a
 * torn tail (an append interrupted by a crash, never acknowledged) only when nothing intact
 * follows it; otherwise it is corruption.
 */
export function scanJournal(
  path: string,
  offset: number,
  onRecord: (events: RawEvent[], end: number, spans: Span[]) => void,
  limit = Number.POSITIVE_INFINITY,
  options: { readonly headersOnly?: boolean } = {},
): ScanEnd {
  const fd = openSync(path, 'r');
  try {
    const size = Math.min(fstatSync(fd).size, limit);
    const reader = new BlockReader(fd, size);
    const tornOrCorrupt = (at: number, problem: string, complete = false): ScanEnd => {
      const next = findNextIntactRecord(path, at);
      if (next === undefined || next >= size) {
        if (complete) return { kind: 'corrupt', offset: at, detail: `the last record, at byte ${at}, is complete but ${problem} (damaged after it was written)`, end: size };
        return { kind: 'torn', offset: at, size };
      }
      return { kind: 'corrupt', offset: at, detail: `record at byte ${at} ${problem}, and an intact record follows at byte ${next}`, end: next };
    };
    let at = offset;
    while (at < size) {
      const header = reader.read(at, RECORD_HEADER);
      if (!header) return tornOrCorrupt(at, 'is cut short');
      if (header.readUInt32LE(0) !== RECORD_MAGIC || crc32(header.subarray(0, 12)) !== header.readUInt32LE(12)) {
        if (restIsZero(fd, at, size)) return { kind: 'torn', offset: at, size };
        return tornOrCorrupt(at, 'has a damaged header');
      }
      const length = header.readUInt32LE(4);
      if (length < 4 || length > MAX_RECORD) return { kind: 'corrupt', offset: at, detail: `record at byte ${at} has an impossible length ${length}` };
      const payload = reader.read(at + RECORD_HEADER, length);
      if (!payload) return tornOrCorrupt(at, 'is cut short');
      // A complete record that fails its checksum is damage, not a torn append: the append that
      // wrote it was acknowledged. Only a record whose end never reached the disk (its last
      // bytes still zero, as when the file grew before its data was written) counts as torn.
      if (crc32(payload) !== header.readUInt32LE(8)) return tornOrCorrupt(at, 'fails its checksum', !endsInZeros(payload));
      let decoded: { events: RawEvent[]; spans: Span[] };
      try {
        decoded = decodePayload(payload, at + RECORD_HEADER, options.headersOnly);
      } catch (err) {
        return { kind: 'corrupt', offset: at, detail: `record at byte ${at} passes its checksum but cannot be decoded (${(err as Error).message})` };
      }
      onRecord(decoded.events, at + RECORD_HEADER + length, decoded.spans);
      at += RECORD_HEADER + length;
    }
    return { kind: 'clean', offset: at };
  } finally {
    closeSync(fd);
  }
}

/** Whether the last bytes of a record's payload (up to 512) are all zero. */
function endsInZeros(payload: Buffer): boolean {
  for (let i = Math.max(0, payload.length - 512); i < payload.length; i++) if (payload[i] !== 0) return false;
  return true;
}

function restIsZero(fd: number, from: number, size: number): boolean {
  const buf = Buffer.allocUnsafe(1 << 16);
  for (let at = from; at < size; ) {
    const n = readSync(fd, buf, 0, Math.min(buf.length, size - at), at);
    if (n === 0) break;
    for (let i = 0; i < n; i++) if (buf[i] !== 0) return false;
    at += n;
  }
  return true;
}

/** Checks the journal's file header. Returns false for a foreign or damaged header. */
export function hasJournalHeader(path: string): boolean {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(JOURNAL_HEADER.length);
    const n = readSync(fd, buf, 0, buf.length, 0);
    return n === buf.length && buf.equals(JOURNAL_HEADER);
  } finally {
    closeSync(fd);
  }
}

/**
 * Creates a new journal holding only the header, durably and atomically: the header is
 * written to a temporary file that is then linked into place (which fails if a journal exists),
 * so a crash can never leave an empty or half-written journal behind.
 */
export function createJournal(path: string): void {
  const tmp = `${path}.new-${process.pid}`;
  const fd = openSync(tmp, 'w');
  try {
    writeSync(fd, JOURNAL_HEADER);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    linkSync(tmp, path);
  } finally {
    unlinkSync(tmp);
  }
}

/**
 * Cuts a torn tail off the journal after copying it aside (nothing is ever destroyed).
 * Returns the path of the copy.
 */
export function cutTornTail(path: string, offset: number): string {
  const aside = `${path}.torn-at-${offset}-${Date.now()}`;
  const fd = openSync(path, 'r+');
  try {
    const size = fstatSync(fd).size;
    const tail = Buffer.alloc(size - offset);
    readSync(fd, tail, 0, tail.length, offset);
    const out = openSync(aside, 'wx');
    try {
      writeSync(out, tail);
      fsyncSync(out);
    } finally {
      closeSync(out);
    }
    fsyncDir(dirname(path)); // the copy is durable before anything is cut
    ftruncateSync(fd, offset);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  return aside;
}

export { JournalWriter } from './journalWriter.js';

/** Flushes a directory entry (after create or rename) where the platform allows it. */
export function fsyncDir(dir: string): void {
  try {
    const fd = openSync(dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    /* not supported on this platform */
  }
}

