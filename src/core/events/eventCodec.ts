import { UnsupportedFormatError, ValidationError } from '../errors.js';
import type { DomainEvent, EventDefinition, EventType } from './eventCatalog.js';
import { eventCatalog, isEventType } from './eventCatalog.js';
import type { Validator } from './schema.js';
import { compileObjectSchema } from './schema.js';
import type { StoredBody } from './upcasters.js';
import { upcasters } from './upcasters.js';

/** What the store persists for one event's body. */
export interface EncodedEvent {
  readonly type: EventType;
  readonly schemaVersion: number;
  /** JSON text of `data` without the binary field. Hashed and stored byte for byte. */
  readonly dataJson: string;
  /** The binary field as little-endian Float32 bytes, or null. */
  readonly attachment: Uint8Array | null;
}

interface CompiledDefinition {
  readonly def: EventDefinition;
  readonly strict: Validator;
  readonly lenient: Validator;
}

const compiled = new Map<EventType, CompiledDefinition>();

function definitionOf(type: string): CompiledDefinition {
  if (!isEventType(type)) throw new ValidationError(`unknown event type "${type}"`, [], `Use one of: ${Object.keys(eventCatalog).join(', ')}.`);
  let entry = compiled.get(type);
  if (!entry) {
    const def: EventDefinition = eventCatalog[type];
    entry = { def, strict: compileObjectSchema(def.schema, true), lenient: compileObjectSchema(def.schema, false) };
    compiled.set(type, entry);
  }
  return entry;
}

function toFloat32(bytes: Uint8Array): Float32Array {
  if (bytes.byteLength % 4 !== 0) throw new ValidationError(`attachment of ${bytes.byteLength} bytes is not a Float32 vector`);
  const copy = new Uint8Array(bytes.byteLength);
  copy.set(bytes);
  return new Float32Array(copy.buffer);
}

/** Validates a domain event (strictly: unknown fields are rejected) and encodes it for storage. */
export function encodeEvent(event: { readonly type: string; readonly data: unknown }): EncodedEvent {
  const { def, strict } = definitionOf(event.type);
  const issues = strict(event.data);
  if (issues.length > 0) throw new ValidationError(`invalid ${event.type} event`, issues);
  const data = event.data as Record<string, unknown>;
  let attachment: Uint8Array | null = null;
  let json: Record<string, unknown> = data;
  if (def.binaryField) {
    const { [def.binaryField]: vector, ...rest } = data;
    const floats = vector as Float32Array;
    attachment = new Uint8Array(floats.buffer.slice(floats.byteOffset, floats.byteOffset + floats.byteLength));
    json = rest;
  }
  if (event.type === 'DocumentChunked' && def.version >= TEXTLESS_CHUNKS_VERSION) json = { ...json, chunks: (data.chunks as Record<string, unknown>[]).map(({ text: _text, ...rest }) => rest) };
  checkInvariants(event.type as EventType, data);
  return { type: event.type as EventType, schemaVersion: def.version, dataJson: JSON.stringify(json), attachment };
}

/** The DocumentChunked schema version from which chunk texts are not stored (they are slices of the submission). */
export const TEXTLESS_CHUNKS_VERSION = 2;

export interface DecodeOptions {
  /** Show a model text longer than the cap clipped (default true). */
  readonly clipModelText?: boolean;
  /**
   * For a DocumentChunked stored without chunk texts (v2+): the raw_content of its causation
   * DocumentSubmitted, which each chunk's text is sliced from. Null or absent: the texts read empty
   * (the submission is missing or was forgotten).
   */
  readonly chunkSource?: string | null;
}

/** Puts each stored chunk's text back: the slice of `source` it spans, or '' without a source. */
function restoreChunkTexts(data: Record<string, unknown>, source: string | null): void {
  if (!Array.isArray(data.chunks)) return;
  data.chunks = data.chunks.map((c: unknown) => {
    if (typeof c !== 'object' || c === null || Array.isArray(c)) return c;
    const chunk = c as Record<string, unknown>;
    if ('text' in chunk) throw new ValidationError('DocumentChunked v2 stores no chunk text, but a chunk has one', [], 'The event was not written by RAG Ledger; run `rag-ledger verify`.');
    const at = (typeof chunk.position === 'object' && chunk.position !== null ? chunk.position : {}) as Record<string, unknown>;
    const start = at.start_char;
    const end = at.end_char;
    const text = source !== null && typeof start === 'number' && typeof end === 'number' ? source.slice(start, end) : '';
    // `text` second, where v1 stored it, so a restored event reads like a v1 one.
    const { chunk_id, ...rest } = chunk;
    return { chunk_id, text, ...rest };
  });
}

/**
 * Decodes a stored event body into the current shape: parse, upcast through every
 * version in between, re-attach the binary field, validate (leniently).
 */
export function decodeEvent(type: string, schemaVersion: number, dataJson: string, attachment: Uint8Array | null, options: DecodeOptions = {}): DomainEvent {
  const { def, lenient } = definitionOf(type);
  if (!Number.isSafeInteger(schemaVersion) || schemaVersion < 1) throw new ValidationError(`${type} has invalid schema version ${schemaVersion}`);
  if (schemaVersion > def.version) {
    throw new UnsupportedFormatError(`${type} schema version ${schemaVersion} was written by a newer RAG Ledger (this one reads up to ${def.version})`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(dataJson);
  } catch (err) {
    throw new ValidationError(`${type} data is not valid JSON (${(err as Error).message})`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new ValidationError(`${type} data must be a JSON object`);
  if (type === 'DocumentChunked' && schemaVersion >= TEXTLESS_CHUNKS_VERSION) restoreChunkTexts(parsed as Record<string, unknown>, options.chunkSource ?? null);
  let body: StoredBody = { data: parsed as Record<string, unknown>, attachment };
  for (let v = schemaVersion; v < def.version; v++) {
    const up = upcasters[type as EventType]?.[v];
    if (!up) throw new ValidationError(`no upcaster for ${type} from schema version ${v} to ${v + 1}`);
    body = up(body);
  }
  const data = body.data;
  if (def.binaryField) {
    if (!body.attachment) throw new ValidationError(`${type} is missing its ${def.binaryField} attachment`);
    data[def.binaryField] = toFloat32(body.attachment);
  }
  const issues = lenient(data);
  if (issues.length > 0) throw new ValidationError(`stored ${type} (schema v${schemaVersion}) is invalid`, issues);
  // A model text recorded before answers were capped is shown clipped; its stored bytes (and hash) are untouched.
  if (options.clipModelText !== false) clipModelText(data);
  checkInvariants(type as EventType, data);
  return { type, data } as DomainEvent;
}

/**
 * The checks append makes on an event body, made on a stored one (an archive's line): decoded
 * through its upcasters, and, when it was written at the current schema version, validated as
 * strictly as append validates (no unknown fields, real dates).
 */
export function checkStoredData(type: string, schemaVersion: number, dataJson: string, attachment: Uint8Array | null): void {
  const event = decodeEvent(type, schemaVersion, dataJson, attachment, { clipModelText: false });
  const { def, strict } = definitionOf(type);
  if (schemaVersion !== def.version) return;
  const issues = strict(event.data);
  if (issues.length > 0) throw new ValidationError(`invalid ${type} event`, issues);
}

function checkInvariants(type: EventType, data: Record<string, unknown>): void {
  switch (type) {
    case 'ChunkEmbedded': {
      const vector = data.vector as Float32Array;
      if (data.dimensions !== vector.length) throw new ValidationError(`ChunkEmbedded dimensions ${String(data.dimensions)} does not match its vector of ${vector.length} values`);
      for (let i = 0; i < vector.length; i++) {
        if (!Number.isFinite(vector[i])) throw new ValidationError(`ChunkEmbedded vector[${i}] is not a finite number`);
      }
      return;
    }
    case 'ContextRetrieved':
      if ((data.chunk_ids as unknown[]).length !== (data.scores as unknown[]).length) {
        throw new ValidationError('ContextRetrieved needs one score per chunk id');
      }
      return;
    case 'ContextReplayed': {
      const n = (data.chunk_ids as unknown[]).length;
      if ((data.scores as unknown[]).length !== n || (data.ranks as unknown[]).length !== n) {
        throw new ValidationError('ContextReplayed needs one score and one rank per chunk id');
      }
      return;
    }
    case 'InferenceCompleted':
    case 'InferenceFailed':
    case 'ReplayAnswered':
      // A model's text is bounded where it is produced (ragLedger.ollama.maxAnswerChars); this is the
      // backstop, so no runaway answer can make an event too large to read back.
      for (const field of MODEL_TEXT_FIELDS) {
        const text = data[field];
        if (typeof text === 'string' && text.length > MAX_MODEL_TEXT_CHARS) {
          throw new ValidationError(`${type} ${field} has ${text.length} characters, more than the ${MAX_MODEL_TEXT_CHARS} a model's text may have in the log`, [], 'Cap the text before recording it (ragLedger.ollama.maxAnswerChars, at most 1000000).');
        }
      }
      return;
    default:
      return;
  }
}

const MODEL_TEXT_FIELDS = ['response_text', 'partial_text', 'detail', 'generation_failure'] as const;

/** Clips model text fields longer than the cap (in the decoded object only), saying how long they were. */
function clipModelText(data: Record<string, unknown>): void {
  for (const field of MODEL_TEXT_FIELDS) {
    const text = data[field];
    if (typeof text === 'string' && text.length > MAX_MODEL_TEXT_CHARS) {
      const note = `\n[clipped on read: ${text.length} characters were recorded]`;
      data[field] = text.slice(0, MAX_MODEL_TEXT_CHARS - note.length) + note;
    }
  }
}

/** The most characters one model text field (an answer, a partial answer, a failure) may hold in the log. */
export const MAX_MODEL_TEXT_CHARS = 1_100_000;
