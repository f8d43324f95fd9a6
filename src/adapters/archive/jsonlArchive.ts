import { appendFileSync, closeSync, existsSync, lstatSync, mkdirSync, openSync, readFileSync, readSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { ArchiveError, RagLedgerError, ValidationError } from '../../core/errors.js';
import { validateRecorded } from '../../core/eventLog.js';
import type { EventStore, RawEvent } from '../../core/eventStore.js';
import { keyIdOf } from '../../core/eventLog.js';
import type { HeadSigner } from '../../core/signing.js';
import { headMessage } from '../../core/signing.js';
import { SigningKeyError, ed25519Check } from '../node/signing.js';
import { sha256 } from '../node/sha256.js';

/**
 * Archive layout (what an object-store archive uses):
 *   manifest.json
 *   events/YYYY/MM/DD/<stream id>/events.jsonl   one stored event per line, in position order
 * Lines carry the stored JSON and the vector attachment (base64), so an import reproduces the
 * log exactly: same positions, ids, times and hashes.
 */
export const ARCHIVE_FORMAT = 'rag-ledger-archive';
export const ARCHIVE_VERSION = 1;

interface ArchiveLine {
  readonly position: number;
  readonly eventId: string;
  readonly streamId: string;
  readonly streamVersion: number;
  readonly type: string;
  readonly schemaVersion: number;
  readonly data: unknown;
  readonly metadata: unknown;
  readonly recordedAt: string;
  readonly prevHash: string;
  readonly hash: string;
  readonly attachment: string | null;
}

interface Manifest {
  readonly format: string;
  readonly version: number;
  readonly events: number;
  readonly headPosition: number;
  readonly headHash: string;
  readonly exportedAt: string;
  /** The head's seal (core/signing.ts): who exported it, with which key. Absent when nothing was signed. */
  readonly signature?: { readonly keyId: string; readonly publicKey: string; readonly signature: string };
}

/** How an export seals its manifest: the signer, and the log's key that it must match. */
export interface ExportSealing {
  readonly signer: HeadSigner | null;
  readonly logKey: { readonly publicKey: string; readonly keyId: string } | null;
}

/**
 * Encodes a stream id as one safe path segment, reversibly (see `streamIdOfDirName`): every
 * character but letters, digits and _ = + @ - becomes %XX (UTF-8 bytes), and so does a leading
 * "." — so no name is "." or "..", none is hidden, and none holds a separator, whatever the log holds.
 */
export function streamDirName(streamId: string): string {
  const encoded = Array.from(Buffer.from(streamId, 'utf8'))
    .map((b, i) => {
      const c = String.fromCharCode(b);
      return /[A-Za-z0-9_=+@-]/.test(c) || (c === '.' && i > 0) ? c : `%${b.toString(16).padStart(2, '0').toUpperCase()}`;
    })
    .join('');
  return encoded === '' ? '%' : encoded.slice(0, 240) === encoded ? encoded : `${encoded.slice(0, 200)}%~${encoded.length}`;
}

/** The stream id a directory name stands for (when `streamDirName` did not shorten it). */
export function streamIdOfDirName(name: string): string {
  return Buffer.from(name.replace(/%([0-9A-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16))), 'latin1').toString('utf8');
}

/** events/YYYY/MM/DD from a recorded time; anything that is not a plain date goes under "undated". */
function dayDirs(recordedAt: string): string[] {
  const m = /^(\d{4})-(\d{2})-(\d{2})T/.exec(recordedAt);
  return m ? [m[1]!, m[2]!, m[3]!] : ['undated'];
}

/** Throws unless `file` resolves inside `dir`: an export never writes anywhere else. */
function assertInside(dir: string, file: string): void {
  const rel = relative(resolve(dir), resolve(file));
  if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) throw new ArchiveError(file, `this path is outside the export directory ${dir}; nothing is written there`);
}

/** The export's target directory already holds files; an export never mixes with or overwrites them. */
export class ExportTargetNotEmptyError extends RagLedgerError {
  readonly code = 'export_target_not_empty';
  constructor(readonly dir: string) {
    super(`the export directory ${dir} is not empty; nothing was written`, 'Choose a new or empty directory for the export.');
  }
}

export interface ArchiveProgress {
  readonly done: number;
  readonly total: number;
}

/**
 * An exported event that today's rules refuse (it was recorded by an earlier version, before a
 * limit existed, such as a runaway answer before model texts were capped): the archive holds it
 * exactly as stored, so it stays a faithful record, but `import` refuses the archive.
 */
export interface RefusedByImport {
  readonly position: number;
  readonly type: string;
  readonly reason: string;
}

/** One line for the user about events an import would refuse: how many, the first few, what it means. */
export function refusedWarning(refused: readonly RefusedByImport[]): string {
  const first = refused
    .slice(0, 3)
    .map((e) => `position ${e.position} (${e.type}): ${e.reason}`)
    .join('; ');
  const more = refused.length > 3 ? `; and ${refused.length - 3} more` : '';
  const what = refused.length === 1 ? '1 event was' : `${refused.length} events were`;
  return `warning: ${what} recorded under older limits that import now refuses (${first}${more}). The archive holds ${refused.length === 1 ? 'it' : 'them'} exactly as stored and verifies, but \`rag-ledger import\` refuses it: keep it as this log's record; the store itself stays readable.`;
}

/**
 * Writes the whole log to `dir` (which must be empty or absent). Returns the number of events.
 * `onRefused` hears of each event that an import would refuse (see RefusedByImport).
 */
export async function exportArchive(
  store: EventStore,
  dir: string,
  onProgress?: (p: ArchiveProgress) => void,
  sealing: ExportSealing = { signer: null, logKey: null },
  onRefused?: (e: RefusedByImport) => void,
): Promise<number> {
  if (existsSync(dir) && readdirSync(dir).length > 0) {
    throw new ExportTargetNotEmptyError(dir);
  }
  // An archive of a signed log needs a signed manifest to be imported: checked before writing.
  const { signer, logKey } = sealing;
  if (logKey && !signer) throw new SigningKeyError(`this log is signed with key ${logKey.keyId}, and its export must be signed with it; no signing key is configured`, 'Set RAG_LEDGER_SIGNING_KEY or RAG_LEDGER_SIGNING_KEY_FILE to that key (see the README, "Signed heads").');
  if (logKey && signer && logKey.publicKey !== signer.publicKey) throw new SigningKeyError(`this log is signed with key ${logKey.keyId}, not with the configured key ${signer.keyId}`, 'Configure the key the log is signed with.');
  mkdirSync(dir, { recursive: true });
  const total = (await store.head()).position;
  const pending = new Map<string, string[]>();
  let buffered = 0;
  const flush = (): void => {
    for (const [file, lines] of pending) {
      mkdirSync(join(file, '..'), { recursive: true });
      appendFileSync(file, lines.join(''));
    }
    pending.clear();
    buffered = 0;
  };
  let count = 0;
  let head = { position: 0, hash: '0'.repeat(64) };
  for await (const raw of store.readRaw(1)) {
    const file = join(dir, 'events', ...dayDirs(raw.recordedAt), streamDirName(raw.streamId), 'events.jsonl');
    assertInside(dir, file);
    if (onRefused) {
      try {
        validateRecorded(raw);
      } catch (err) {
        onRefused({ position: raw.position, type: raw.type, reason: (err as Error).message });
      }
    }
    const list = pending.get(file) ?? [];
    list.push(`${JSON.stringify(toLine(raw))}\n`);
    pending.set(file, list);
    head = { position: raw.position, hash: raw.hash };
    if (++buffered >= 20_000) flush();
    if (++count % 10_000 === 0) onProgress?.({ done: count, total });
  }
  flush();
  const signature = signer && head.position > 0 ? { keyId: signer.keyId, publicKey: signer.publicKey, signature: signer.sign(headMessage(head.position, head.hash)) } : undefined;
  const manifest: Manifest = { format: ARCHIVE_FORMAT, version: ARCHIVE_VERSION, events: count, headPosition: head.position, headHash: head.hash, exportedAt: new Date().toISOString(), ...(signature ? { signature } : {}) };
  writeFileSync(join(dir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  onProgress?.({ done: count, total });
  return count;
}

function toLine(raw: RawEvent): ArchiveLine {
  return {
    position: raw.position,
    eventId: raw.eventId,
    streamId: raw.streamId,
    streamVersion: raw.streamVersion,
    type: raw.type,
    schemaVersion: raw.schemaVersion,
    data: JSON.parse(raw.dataJson),
    metadata: JSON.parse(raw.metadataJson),
    recordedAt: raw.recordedAt,
    prevHash: raw.prevHash,
    hash: raw.hash,
    attachment: raw.attachment ? Buffer.from(raw.attachment.buffer, raw.attachment.byteOffset, raw.attachment.byteLength).toString('base64') : null,
  };
}

/** The files under `dir`. An export writes only directories and files: a link (which could lead anywhere) is refused. */
function listFiles(dir: string, root = dir): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    const st = lstatSync(p);
    if (st.isSymbolicLink()) throw new ArchiveError(relative(root, p), 'is a symbolic link; an export writes none, so the archive was altered');
    return st.isDirectory() ? listFiles(p, root) : st.isFile() ? [p] : [];
  });
}

function fromLine(line: ArchiveLine, where: string): RawEvent {
  const str = (v: unknown, f: string): string => {
    if (typeof v !== 'string') throw new ArchiveError(where, `field ${f} must be a string`);
    return v;
  };
  const int = (v: unknown, f: string): number => {
    if (!Number.isSafeInteger(v)) throw new ArchiveError(where, `field ${f} must be an integer`);
    return v as number;
  };
  if (line.data === undefined || line.metadata === undefined) throw new ArchiveError(where, 'data and metadata are required');
  return {
    position: int(line.position, 'position'),
    eventId: str(line.eventId, 'eventId'),
    streamId: str(line.streamId, 'streamId'),
    streamVersion: int(line.streamVersion, 'streamVersion'),
    type: str(line.type, 'type'),
    schemaVersion: int(line.schemaVersion, 'schemaVersion'),
    dataJson: JSON.stringify(line.data),
    metadataJson: JSON.stringify(line.metadata),
    recordedAt: str(line.recordedAt, 'recordedAt'),
    prevHash: str(line.prevHash, 'prevHash'),
    hash: str(line.hash, 'hash'),
    attachment: line.attachment === null ? null : new Uint8Array(Buffer.from(str(line.attachment, 'attachment'), 'base64')),
  };
}

/**
 * The longest archive line an import reads by default: 64 MiB, far above any event RAG Ledger
 * writes (a document's text is capped at a few MiB, a vector at a few KiB), far below what would
 * exhaust memory. `ImportOptions.maxLineBytes` (the CLI's RAG_LEDGER_ARCHIVE_MAX_LINE_BYTES) changes it.
 */
export const ARCHIVE_MAX_LINE_BYTES = 64 * 1024 * 1024;

export interface ImportOptions {
  readonly maxLineBytes?: number;
}

/** An archive line longer than the import's limit. */
export class ArchiveLineTooLongError extends RagLedgerError {
  readonly code = 'archive_line_too_long';
  constructor(
    readonly where: string,
    readonly limit: number,
  ) {
    super(
      `the archive line ${where} is longer than ${limit} bytes; nothing was imported`,
      `An export writes such a line only for an event recorded before today's limits (and says so when it exports it); such an event is also refused once read. Otherwise re-export the archive from its source store, or, if the line is genuine, raise the limit with RAG_LEDGER_ARCHIVE_MAX_LINE_BYTES (now ${limit}).`,
    );
  }
}

const READ_CHUNK = 1024 * 1024;

interface ArchiveLineRef {
  readonly text: string;
  readonly lineNo: number;
  readonly offset: number;
  readonly length: number;
}

/** The non-blank lines of a file, read in chunks: memory stays bounded by the chunk and the longest line. */
function* readLines(file: string, where: string, maxLineBytes: number): Generator<ArchiveLineRef> {
  const fd = openSync(file, 'r');
  try {
    const chunk = Buffer.allocUnsafe(READ_CHUNK);
    let parts: Buffer[] = [];
    let partBytes = 0;
    let lineStart = 0;
    let lineNo = 1;
    let filePos = 0;
    const emit = (): ArchiveLineRef | undefined => {
      const text = (parts.length === 1 ? parts[0]! : Buffer.concat(parts, partBytes)).toString('utf8');
      const ref = text.trim() === '' ? undefined : { text, lineNo, offset: lineStart, length: partBytes };
      parts = [];
      partBytes = 0;
      return ref;
    };
    for (;;) {
      const n = readSync(fd, chunk, 0, READ_CHUNK, filePos);
      if (n === 0) break;
      let from = 0;
      while (from < n) {
        const nl = chunk.indexOf(10, from);
        const end = nl === -1 || nl >= n ? n : nl;
        if (partBytes + (end - from) > maxLineBytes) throw new ArchiveLineTooLongError(`${where}:${lineNo}`, maxLineBytes);
        if (end > from) {
          parts.push(Buffer.from(chunk.subarray(from, end)));
          partBytes += end - from;
        }
        if (end === n) break;
        const ref = emit();
        if (ref) yield ref;
        lineNo++;
        lineStart = filePos + end + 1;
        from = end + 1;
      }
      filePos += n;
    }
    const last = emit();
    if (last) yield last;
  } finally {
    closeSync(fd);
  }
}

function parseLine(text: string, where: string, check = true): RawEvent {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new ArchiveError(where, `not valid JSON (${(err as Error).message})`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new ArchiveError(where, 'a line must be one JSON object');
  const raw = fromLine(parsed as ArchiveLine, where);
  if (!check) return raw;
  try {
    validateRecorded(raw);
  } catch (err) {
    if (err instanceof ValidationError) throw new ArchiveError(where, err.message);
    throw err;
  }
  return raw;
}

/** A growable column of numbers, far smaller than an array of objects for millions of events. */
class Column {
  private data = new Float64Array(1024);
  length = 0;
  push(v: number): void {
    if (this.length === this.data.length) {
      const next = new Float64Array(this.data.length * 2);
      next.set(this.data);
      this.data = next;
    }
    this.data[this.length++] = v;
  }
  at(i: number): number {
    return this.data[i]!;
  }
}

/**
 * Reads an archive written by exportArchive into an empty store. Returns the number of events.
 * An archive is untrusted input: every line gets the checks an append makes (stream and event
 * ids, type, schema version, data, recorded time, metadata), then the store checks the hash chain,
 * all before anything is written. Files are read line by line in two passes (check, then write in
 * position order), keeping only a few numbers per event, never a whole file.
 */
export async function importArchive(store: EventStore, dir: string, options: ImportOptions = {}): Promise<number> {
  return scanArchive(dir, options).importInto(store);
}

/** An archive whose every line was checked: what `importInto` writes, in position order. */
export interface ScannedArchive {
  readonly events: number;
  importInto(store: EventStore): Promise<number>;
}

/**
 * The first pass of an import, which needs no store: checks the manifest and every line (see
 * importArchive). The CLI runs it before opening (or creating) the store, so a refused archive
 * leaves nothing behind.
 */
export function scanArchive(dir: string, options: ImportOptions = {}): ScannedArchive {
  const maxLineBytes = options.maxLineBytes ?? ARCHIVE_MAX_LINE_BYTES;
  const manifestPath = join(dir, 'manifest.json');
  if (!existsSync(manifestPath)) throw new ArchiveError(dir, 'manifest.json is missing; is this a RAG Ledger archive?');
  if (statSync(manifestPath).size > 1024 * 1024) throw new ArchiveError(manifestPath, 'larger than 1 MiB, so not a manifest an export writes');
  let manifest: Manifest;
  try {
    manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as Manifest;
  } catch (err) {
    throw new ArchiveError(manifestPath, `not valid JSON (${(err as Error).message})`);
  }
  if (typeof manifest !== 'object' || manifest === null) throw new ArchiveError(manifestPath, 'not a JSON object');
  if (manifest.format !== ARCHIVE_FORMAT) throw new ArchiveError(manifestPath, `format is ${JSON.stringify(manifest.format)}, expected ${ARCHIVE_FORMAT}`);
  if (manifest.version > ARCHIVE_VERSION) throw new ArchiveError(manifestPath, `archive version ${manifest.version} is newer than this RAG Ledger understands (${ARCHIVE_VERSION})`);
  const eventsDir = join(dir, 'events');
  const files = existsSync(eventsDir) ? listFiles(eventsDir, dir).filter((f) => f.endsWith('.jsonl')).sort() : [];

  // Pass 1: check every line; remember where each event is.
  const positions = new Column();
  const fileOf = new Column();
  const offsets = new Column();
  const lengths = new Column();
  const lineNos = new Column();
  let lastHash: { position: number; hash: string } | undefined;
  let firstSeal: RawEvent | undefined;
  files.forEach((file, f) => {
    const rel = relative(dir, file);
    for (const line of readLines(file, rel, maxLineBytes)) {
      const raw = parseLine(line.text, `${rel}:${line.lineNo}`);
      positions.push(raw.position);
      fileOf.push(f);
      offsets.push(line.offset);
      lengths.push(line.length);
      lineNos.push(line.lineNo);
      if (!lastHash || raw.position > lastHash.position) lastHash = { position: raw.position, hash: raw.hash };
      if (raw.type === 'HeadSigned' && (!firstSeal || raw.position < firstSeal.position)) firstSeal = raw;
    }
  });
  const count = positions.length;
  if (count !== manifest.events) throw new ArchiveError(dir, `the manifest lists ${manifest.events} events but the files hold ${count}`);
  if (lastHash && (lastHash.position !== manifest.headPosition || lastHash.hash !== manifest.headHash)) {
    throw new ArchiveError(dir, `the last event (${lastHash.position}) does not match the manifest's head (${manifest.headPosition})`);
  }
  checkManifestSeal(manifest, manifestPath, firstSeal);
  const order = Uint32Array.from({ length: count }, (_, i) => i).sort((a, b) => positions.at(a) - positions.at(b));
  order.forEach((i, k) => {
    if (positions.at(i) !== k + 1) {
      const where = `${relative(dir, files[fileOf.at(i)]!)}:${lineNos.at(i)}`;
      throw new ArchiveError(where, positions.at(i) === k ? `position ${k} appears twice` : `position ${k + 1} is missing (the log has no gaps)`);
    }
  });

  // Pass 2: the events in position order, each line read again from where pass 1 found it.
  function* inOrder(): Generator<RawEvent> {
    const fds = new Map<number, number>();
    try {
      for (const i of order) {
        const f = fileOf.at(i);
        let fd = fds.get(f);
        if (fd === undefined) {
          if (fds.size >= 32) {
            const [oldest, oldFd] = fds.entries().next().value as [number, number];
            closeSync(oldFd);
            fds.delete(oldest);
          }
          fd = openSync(files[f]!, 'r');
          fds.set(f, fd);
        }
        const buf = Buffer.allocUnsafe(lengths.at(i));
        readSync(fd, buf, 0, buf.length, offsets.at(i));
        // Checked in pass 1; the store checks each event again (and the chain) before writing.
        yield parseLine(buf.toString('utf8'), `${relative(dir, files[f]!)}:${lineNos.at(i)}`, false);
      }
    } finally {
      for (const fd of fds.values()) closeSync(fd);
    }
  }
  return { events: count, importInto: (store) => store.importRaw(inOrder()) };
}

/**
 * A signed log's archive must carry a manifest signed by the log's key over its head: without it,
 * events after the last seal could have been dropped. (The seals inside are checked by importRaw.)
 */
function checkManifestSeal(manifest: Manifest, where: string, firstSeal: RawEvent | undefined): void {
  const logKey = firstSeal ? (JSON.parse(firstSeal.dataJson) as { public_key?: unknown; key_id?: unknown }) : undefined;
  const sig = manifest.signature;
  if (sig === undefined) {
    if (logKey) throw new ArchiveError(where, `the log is signed with key ${String(logKey.key_id)} but the manifest carries no signature of its head: events may have been dropped`);
    return;
  }
  if (typeof sig !== 'object' || sig === null || typeof sig.publicKey !== 'string' || typeof sig.signature !== 'string' || typeof sig.keyId !== 'string') throw new ArchiveError(where, 'the manifest\'s signature is malformed');
  if (sig.keyId !== keyIdOf(sha256, sig.publicKey) || !ed25519Check(sig.publicKey, headMessage(manifest.headPosition, manifest.headHash), sig.signature)) {
    throw new ArchiveError(where, `the manifest's signature of head ${manifest.headPosition} does not verify with key ${sig.keyId}: the archive was altered`);
  }
  if (logKey && logKey.public_key !== sig.publicKey) throw new ArchiveError(where, `the manifest is signed with key ${sig.keyId}, not with the log's key ${String(logKey.key_id)}`);
}
