import { appendFileSync, existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { ArchiveError, RagLedgerError } from '../../core/errors.js';
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

/** Encodes a stream id as one safe path segment (reversible). */
export function streamDirName(streamId: string): string {
  return streamId.replace(/[^A-Za-z0-9._=+@-]/g, (c) => `%${c.charCodeAt(0).toString(16).padStart(2, '0').toUpperCase()}`);
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

/** Writes the whole log to `dir` (which must be empty or absent). Returns the number of events. */
export async function exportArchive(store: EventStore, dir: string, onProgress?: (p: ArchiveProgress) => void, sealing: ExportSealing = { signer: null, logKey: null }): Promise<number> {
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
    const day = raw.recordedAt.slice(0, 10).split('-');
    const file = join(dir, 'events', day[0] ?? '0000', day[1] ?? '00', day[2] ?? '00', streamDirName(raw.streamId), 'events.jsonl');
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

function listFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? listFiles(p) : [p];
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

/** Reads an archive written by exportArchive into an empty store. Returns the number of events. */
export async function importArchive(store: EventStore, dir: string): Promise<number> {
  const manifestPath = join(dir, 'manifest.json');
  if (!existsSync(manifestPath)) throw new ArchiveError(dir, 'manifest.json is missing; is this a RAG Ledger archive?');
  let manifest: Manifest;
  try {
    manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as Manifest;
  } catch (err) {
    throw new ArchiveError(manifestPath, `not valid JSON (${(err as Error).message})`);
  }
  if (manifest.format !== ARCHIVE_FORMAT) throw new ArchiveError(manifestPath, `format is ${JSON.stringify(manifest.format)}, expected ${ARCHIVE_FORMAT}`);
  if (manifest.version > ARCHIVE_VERSION) throw new ArchiveError(manifestPath, `archive version ${manifest.version} is newer than this RAG Ledger understands (${ARCHIVE_VERSION})`);
  const eventsDir = join(dir, 'events');
  const files = existsSync(eventsDir) ? listFiles(eventsDir).filter((f) => f.endsWith('.jsonl')) : [];
  const events: RawEvent[] = [];
  for (const file of files) {
    const lines = readFileSync(file, 'utf8').split('\n');
    lines.forEach((text, i) => {
      if (text.trim() === '') return;
      const where = `${relative(dir, file)}:${i + 1}`;
      let parsed: ArchiveLine;
      try {
        parsed = JSON.parse(text) as ArchiveLine;
      } catch (err) {
        throw new ArchiveError(where, `not valid JSON (${(err as Error).message})`);
      }
      events.push(fromLine(parsed, where));
    });
  }
  events.sort((a, b) => a.position - b.position);
  if (events.length !== manifest.events) throw new ArchiveError(dir, `the manifest lists ${manifest.events} events but the files hold ${events.length}`);
  const last = events[events.length - 1];
  if (last && (last.position !== manifest.headPosition || last.hash !== manifest.headHash)) {
    throw new ArchiveError(dir, `the last event (${last.position}) does not match the manifest's head (${manifest.headPosition})`);
  }
  checkManifestSeal(manifest, manifestPath, events.find((e) => e.type === 'HeadSigned'));
  return store.importRaw(events);
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
