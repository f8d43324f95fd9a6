import { ValidationError } from './errors.js';
import type { Hasher } from './eventLog.js';
import type { RawEvent } from './eventStore.js';

/**
 * Forgetting a document: its readable content is removed from the log while the hash chain
 * stays verifiable. An emptied event keeps its position, ids, type, times and stored hash; its
 * payload loses the text (document content, chunk text, prompts, answers) and its vector is
 * zeroed, and its metadata gains `forgotten_by`: the id of the DocumentForgotten event that
 * attests it. That event records, per emptied event, the digest of the original payload and the
 * digest of the emptied row (the stored hash included). `verify` accepts a row whose hash no
 * longer matches its content only when a later, chain-verified DocumentForgotten lists exactly
 * that row's digest; every other event is checked as before. See docs/architecture.md,
 * "Forgetting a document".
 */

/** The metadata key that marks an emptied event. */
export const FORGOTTEN_BY = 'forgotten_by';

/** The event types whose payload can hold document text (or a vector of it). */
export const FORGETTABLE_TYPES: ReadonlySet<string> = new Set([
  'DocumentSubmitted',
  'DocumentChunked',
  'ChunkEmbedded',
  'InferenceRequested',
  'InferenceCompleted',
  'InferenceFailed',
  'ReplayAnswered',
]);

/** SHA-256 of a stored payload: the data JSON, a newline, the attachment bytes (if any). */
export function payloadDigest(hasher: Hasher, raw: Pick<RawEvent, 'dataJson' | 'attachment'>): string {
  return raw.attachment ? hasher([raw.dataJson, '\n', raw.attachment]) : hasher([raw.dataJson, '\n']);
}

/** SHA-256 of every stored byte of a row, its stored hash and predecessor's hash included. */
export function rowDigest(hasher: Hasher, raw: RawEvent): string {
  const header = JSON.stringify([
    raw.position,
    raw.eventId,
    raw.streamId,
    raw.streamVersion,
    raw.type,
    raw.schemaVersion,
    raw.recordedAt,
    raw.prevHash,
    raw.hash,
    raw.metadataJson.length,
    raw.dataJson.length,
    raw.attachment ? raw.attachment.byteLength : -1,
  ]);
  const text = `${header}\n${raw.metadataJson}\n${raw.dataJson}`;
  return raw.attachment ? hasher([text, '\n', raw.attachment]) : hasher([text]);
}

/** Whether a stored row carries the mark of an emptied event. */
export function forgottenBy(raw: Pick<RawEvent, 'metadataJson'>): string | null {
  if (!raw.metadataJson.includes(FORGOTTEN_BY)) return null;
  try {
    const m = JSON.parse(raw.metadataJson) as Record<string, unknown>;
    return typeof m[FORGOTTEN_BY] === 'string' ? m[FORGOTTEN_BY] : null;
  } catch {
    return null;
  }
}

const emptyPrompt = (prompt: unknown): unknown => (prompt && typeof prompt === 'object' ? { system: '', user: '' } : prompt);

/**
 * The emptied form of one stored event, in its stored schema version: the same shape with every
 * text field empty and every vector zeroed (same length, so the event still decodes), and
 * `forgotten_by` in its metadata. Fields that are not content stay: ids, paths, sizes, content
 * hashes, line positions, models, token counts, times.
 * @throws ValidationError for an event type that holds no document text.
 */
export function emptyEvent(raw: RawEvent, forgottenEventId: string): RawEvent {
  if (!FORGETTABLE_TYPES.has(raw.type)) throw new ValidationError(`${raw.type} holds no document content to forget`);
  const data = JSON.parse(raw.dataJson) as Record<string, unknown>;
  let attachment = raw.attachment;
  switch (raw.type) {
    case 'DocumentSubmitted':
      data.raw_content = '';
      break;
    case 'DocumentChunked':
      data.chunks = (Array.isArray(data.chunks) ? data.chunks : []).map((c: unknown) => {
        const { heading_path: _headings, ...rest } = c as Record<string, unknown>;
        // v2 stores no chunk text (it is read from the submission, emptied too): there is none to empty.
        return raw.schemaVersion >= 2 ? rest : { ...rest, text: '' };
      });
      break;
    case 'ChunkEmbedded':
      if (attachment) attachment = new Uint8Array(attachment.byteLength);
      if (Array.isArray(data.vector)) data.vector = (data.vector as unknown[]).map(() => 0);
      // Without its text digest the zeroed vector is never copied to a chunk with the same text.
      delete data.text_hash;
      break;
    case 'InferenceRequested':
      if ('prompt' in data) data.prompt = emptyPrompt(data.prompt);
      break;
    case 'InferenceCompleted':
      data.response_text = '';
      break;
    case 'InferenceFailed':
      if ('partial_text' in data) data.partial_text = '';
      break;
    case 'ReplayAnswered':
      data.prompt = emptyPrompt(data.prompt);
      data.response_text = '';
      break;
  }
  const metadata = JSON.parse(raw.metadataJson) as Record<string, unknown>;
  return { ...raw, dataJson: JSON.stringify(data), metadataJson: JSON.stringify({ ...metadata, [FORGOTTEN_BY]: forgottenEventId }), attachment };
}

/** One entry of DocumentForgotten.emptied. */
export interface EmptiedEntry {
  readonly event_id: string;
  readonly position: number;
  readonly type: string;
  readonly payload_digest: string;
  readonly emptied_digest: string;
}

/** Empties the given rows for a DocumentForgotten with id `forgottenEventId`; returns the new rows and the entries to record. */
export function planForget(hasher: Hasher, rows: readonly RawEvent[], forgottenEventId: string): { readonly emptied: RawEvent[]; readonly entries: EmptiedEntry[] } {
  const emptied: RawEvent[] = [];
  const entries: EmptiedEntry[] = [];
  for (const raw of rows) {
    const after = emptyEvent(raw, forgottenEventId);
    emptied.push(after);
    entries.push({ event_id: raw.eventId, position: raw.position, type: raw.type, payload_digest: payloadDigest(hasher, raw), emptied_digest: rowDigest(hasher, after) });
  }
  return { emptied, entries };
}

/**
 * Checks a forget before a store performs it: each replacement is a row of the log (same
 * position, ids, type, times and hashes) and carries the mark of the DocumentForgotten being
 * appended, which lists its digest.
 * @throws ValidationError naming the first problem.
 */
export function checkReplacements(hasher: Hasher, current: ReadonlyMap<number, RawEvent>, replacements: readonly RawEvent[], attestation: { readonly eventId: string; readonly emptied: readonly EmptiedEntry[] }): void {
  const listed = new Map(attestation.emptied.map((e) => [e.event_id, e]));
  if (listed.size !== replacements.length) throw new ValidationError(`the DocumentForgotten lists ${listed.size} emptied events but ${replacements.length} are replaced`);
  for (const r of replacements) {
    const old = current.get(r.position);
    if (!old) throw new ValidationError(`no event at position ${r.position} to empty`);
    const same = old.eventId === r.eventId && old.streamId === r.streamId && old.streamVersion === r.streamVersion && old.type === r.type && old.schemaVersion === r.schemaVersion && old.recordedAt === r.recordedAt && old.prevHash === r.prevHash && old.hash === r.hash;
    if (!same) throw new ValidationError(`the replacement for position ${r.position} changes more than its payload`);
    if (forgottenBy(r) !== attestation.eventId) throw new ValidationError(`the replacement for position ${r.position} is not marked as emptied by ${attestation.eventId}`);
    const entry = listed.get(r.eventId);
    if (!entry || entry.position !== r.position || entry.emptied_digest !== rowDigest(hasher, r)) throw new ValidationError(`the DocumentForgotten does not attest the emptied event at position ${r.position}`);
  }
}
