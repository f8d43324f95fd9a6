import { appendFileSync, existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { ArchiveError, RagLedgerError } from '../../core/errors.js';
import type { EventStore, RawEvent } from '../../core/eventStore.js';

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
export async function exportArchive(store: EventStore, dir: string, onProgress?: (p: ArchiveProgress) => void): Promise<number> {
  if (existsSync(dir) && readdirSync(dir).length > 0) {
    throw new ExportTargetNotEmptyError(dir);
  }
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
  const manifest: Manifest = { format: ARCHIVE_FORMAT, version: ARCHIVE_VERSION, events: count, headPosition: head.position, headHash: head.hash, exportedAt: new Date().toISOString() };
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
  return store.importRaw(events);
}
