import { unmatchedCitationsWarning } from '../core/answer/citations.js';
import type { RecordedEvent } from '../core/eventStore.js';

/** Replaces binary fields with base64 text (little-endian Float32), so envelopes print as JSON. */
function jsonSafe(data: unknown): unknown {
  if (data instanceof Float32Array) return Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('base64');
  if (Array.isArray(data)) return data.map(jsonSafe);
  if (typeof data === 'object' && data !== null) return Object.fromEntries(Object.entries(data).map(([k, v]) => [k, jsonSafe(v)]));
  return data;
}

/** The JSON Lines envelope printed by `log --json`. */
export function envelopeJson(e: RecordedEvent): string {
  return JSON.stringify({
    position: e.position,
    eventId: e.eventId,
    streamId: e.streamId,
    streamVersion: e.streamVersion,
    type: e.type,
    schemaVersion: e.schemaVersion,
    storedSchemaVersion: e.storedSchemaVersion,
    data: jsonSafe(e.data),
    metadata: e.metadata,
    recordedAt: e.recordedAt,
    prevHash: e.prevHash,
    hash: e.hash,
  });
}

function summary(data: unknown, width: number): string {
  const text = JSON.stringify(jsonSafe(data), (_k, v: unknown) => (typeof v === 'string' && v.length > 60 ? `${v.slice(0, 57)}...` : v));
  return text.length > width ? `${text.slice(0, width - 3)}...` : text;
}

/** One human-readable line per event. */
export function envelopeLine(e: RecordedEvent): string {
  return `${String(e.position).padStart(7)}  ${e.recordedAt}  ${e.type.padEnd(24)} ${e.streamId}@${e.streamVersion}  ${summary(e.data, 100)}`;
}

/**
 * Lines printed after an answer: citations that match no passage (the answer text is printed as
 * it came, so such a "[42]" is plain text that leads nowhere), and passages that did not fit the prompt.
 */
export function answerNotes(r: { readonly unmatchedCitations: readonly number[]; readonly omittedChunkIds: readonly string[]; readonly clippedChunkIds: readonly string[] }): string {
  const lines: string[] = [];
  if (r.unmatchedCitations.length > 0) lines.push(unmatchedCitationsWarning(r.unmatchedCitations));
  if (r.omittedChunkIds.length + r.clippedChunkIds.length > 0) {
    lines.push(`Note: to fit the model's context, ${r.omittedChunkIds.length} retrieved passage${r.omittedChunkIds.length === 1 ? ' was' : 's were'} left out and ${r.clippedChunkIds.length} clipped (see InferenceRequested; raise --context-tokens if the model allows).`);
  }
  return lines.map((l) => `\n${l}`).join('');
}
