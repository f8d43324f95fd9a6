import { unmatchedInRecordedAnswer } from '../answer/citations.js';
import type { EventType } from './eventCatalog.js';

/** A stored event body on its way to the current schema. */
export interface StoredBody {
  readonly data: Record<string, unknown>;
  readonly attachment: Uint8Array | null;
}

/** Turns a body of schema version N into version N + 1. Pure; never reads the clock or I/O. */
export type Upcaster = (body: StoredBody) => StoredBody;

function floatBytes(values: readonly number[]): Uint8Array {
  const floats = Float32Array.from(values);
  return new Uint8Array(floats.buffer, floats.byteOffset, floats.byteLength);
}

/**
 * Upcasters by event type and the version they upcast FROM. Reading applies them in
 * sequence (v1 -> v2 -> v3 ...), so each only knows its neighbour. Keep every one forever:
 * old events never change on disk, and test/fixtures holds samples of each old version.
 */
export const upcasters: Partial<Record<EventType, Readonly<Record<number, Upcaster>>>> = {
  ChunkEmbedded: {
    // v1 stored the vector as a JSON number array under `vector` and the model under `model`.
    1: ({ data }) => {
      const { model, vector, ...rest } = data;
      const values = Array.isArray(vector) ? (vector as number[]) : [];
      return { data: { ...rest, embedding_model: model }, attachment: floatBytes(values) };
    },
    // v3 records the dimension count so a vector can be checked without decoding it.
    2: ({ data, attachment }) => ({
      data: { ...data, dimensions: attachment ? attachment.byteLength / 4 : 0 },
      attachment,
    }),
  },
  DocumentChunked: {
    // v1 stored each chunk's text; v2 stores it once, in the submission. The event's shape is the same.
    1: ({ data, attachment }) => ({ data, attachment }),
  },
  DocumentValidated: {
    // v2 records how many secrets were redacted; nothing was redacted before.
    1: ({ data, attachment }) => ({ data: { ...data, secrets_redacted: 0 }, attachment }),
  },
  DocumentRejected: {
    // v2 records the file's size; v1 did not know it.
    1: ({ data, attachment }) => ({ data: { ...data, size_bytes: null }, attachment }),
  },
  QueryReceived: {
    // v1 had no user; questions asked before users were recorded belong to "unknown".
    1: ({ data, attachment }) => ({ data: { ...data, user_id: 'unknown' }, attachment }),
  },
  InferenceCompleted: {
    // v2 records the citations that match no passage; v1 answers end with their Sources block, which lists the passages.
    1: ({ data, attachment }) => ({ data: { ...data, unmatched_citations: unmatchedInRecordedAnswer(typeof data.response_text === 'string' ? data.response_text : '') }, attachment }),
  },
};
