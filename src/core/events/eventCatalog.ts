import type { FieldSpec, ObjectSpec } from './schema.js';

/**
 * The event catalog: every event type, its current schema version and its schema.
 * Field names are snake_case because they are what is stored. Events are facts in the
 * past tense; changing a stored shape means a new schema version plus an upcaster
 * (see upcasters.ts), never an edit of what was written.
 */

const position = {
  object: {
    index: 'nonNegativeInt',
    start_line: 'nonNegativeInt',
    end_line: 'nonNegativeInt',
    start_char: 'nonNegativeInt',
    end_char: 'nonNegativeInt',
  },
} as const satisfies FieldSpec;

export const eventCatalog = {
  DocumentSubmitted: {
    version: 1,
    schema: {
      document_id: 'nonEmptyString',
      source: 'nonEmptyString',
      raw_content: 'string',
      content_hash: { optional: 'nonEmptyString' },
      submitted_at: 'isoTime',
    },
  },
  DocumentValidated: {
    version: 2,
    schema: {
      document_id: 'nonEmptyString',
      format: 'nonEmptyString',
      byte_count: 'nonNegativeInt',
      /** v2: how many secrets were replaced by a `[REDACTED:rule]` marker before the content was recorded. */
      secrets_redacted: 'nonNegativeInt',
      validated_at: 'isoTime',
    },
  },
  DocumentRejected: {
    version: 2,
    schema: {
      document_id: 'nonEmptyString',
      /** v2 adds `link`: a symbolic link that is not followed (outside the workspace, a loop, dangling). */
      reason: { oneOf: ['binary', 'too_large', 'invalid_utf8', 'unreadable', 'vanished', 'secret', 'link', 'other'] },
      detail: 'string',
      /** v2: the file's size on disk; null when unknown (events of v1). */
      size_bytes: { nullable: 'nonNegativeInt' },
      rejected_at: 'isoTime',
    },
  },
  DocumentChunked: {
    /**
     * v2 stores no chunk text: each chunk's text is the slice [start_char, end_char) of its causation
     * DocumentSubmitted's raw_content, restored on read (see core/chunkTexts.ts). The event keeps `text`.
     */
    version: 2,
    schema: {
      document_id: 'nonEmptyString',
      chunks: { arrayOf: { object: { chunk_id: 'nonEmptyString', text: 'string', position, heading_path: { optional: { arrayOf: 'string' } } } } },
      chunked_at: 'isoTime',
    },
  },
  DocumentDeleted: {
    version: 1,
    schema: { document_id: 'nonEmptyString', reason: 'string', deleted_at: 'isoTime' },
  },
  /**
   * A document's content was removed from the log on request: the listed events' readable
   * payloads (content, chunk text, vectors, and the prompts and answers of questions that
   * cited it) were emptied in place. Their hashes stay; each entry records the digest of the
   * original payload and of the emptied row, which is what `verify` checks the emptied row against.
   */
  DocumentForgotten: {
    version: 1,
    schema: {
      document_id: 'nonEmptyString',
      source: 'string',
      reason: 'string',
      /** Who asked: the OS user and the tool (e.g. "alice via rag-ledger CLI"). */
      actor: 'string',
      emptied: {
        arrayOf: {
          object: {
            event_id: 'nonEmptyString',
            position: 'nonNegativeInt',
            type: 'nonEmptyString',
            /** SHA-256 of the original payload (data JSON, a newline, the attachment bytes). */
            payload_digest: 'nonEmptyString',
            /** SHA-256 of the emptied stored row, hash included: what verify compares. */
            emptied_digest: 'nonEmptyString',
          },
        },
      },
      /** Questions whose prompts and answers were emptied because they cited the document. */
      questions: { arrayOf: 'nonEmptyString' },
      forgotten_at: 'isoTime',
    },
  },
  ChunkEmbedded: {
    version: 3,
    binaryField: 'vector',
    schema: {
      chunk_id: 'nonEmptyString',
      embedding_model: 'nonEmptyString',
      dimensions: 'nonNegativeInt',
      vector: 'float32',
      embedded_at: 'isoTime',
      // Optional fields need no version bump: stored v3 events lack them and reads are lenient.
      /** Digest of the text the model embedded (its embedding text): identical text under the same embedder reuses the vector. */
      text_hash: { optional: 'nonEmptyString' },
      /** The ChunkEmbedded (event id) whose vector this one copies, instead of running the model on identical text. */
      reused_from: { optional: 'nonEmptyString' },
    },
  },
  ChunkEmbeddingFailed: {
    version: 1,
    schema: { chunk_id: 'nonEmptyString', embedding_model: 'nonEmptyString', reason: 'string', failed_at: 'isoTime' },
  },
  ChunkIndexed: {
    version: 1,
    schema: { chunk_id: 'nonEmptyString', index_name: 'nonEmptyString', indexed_at: 'isoTime' },
  },
  QueryReceived: {
    version: 2,
    schema: { query_id: 'nonEmptyString', query_text: 'string', user_id: 'string', received_at: 'isoTime' },
  },
  ContextRetrieved: {
    version: 1,
    schema: {
      query_id: 'nonEmptyString',
      chunk_ids: { arrayOf: 'nonEmptyString' },
      scores: { arrayOf: 'number' },
      /** 1-based ranks, same order as chunk_ids; the retrieval mode that ran; the pipeline version searched. */
      ranks: { optional: { arrayOf: 'nonNegativeInt' } },
      mode: { optional: { oneOf: ['vector', 'lexical', 'hybrid'] } },
      pipeline_version: { optional: 'nonEmptyString' },
      /** Only chunks indexed at or before this log position were eligible (point-in-time retrieval). */
      as_of_position: { optional: 'nonNegativeInt' },
      retrieved_at: 'isoTime',
    },
  },
  InferenceRequested: {
    version: 1,
    schema: {
      query_id: 'nonEmptyString',
      model_id: 'nonEmptyString',
      prompt_hash: 'nonEmptyString',
      /** The exact prompt sent (system and user parts), so it can be reconstructed and re-run. */
      prompt: { optional: { object: { system: 'string', user: 'string' } } },
      host: { optional: 'string' },
      /** The context size the prompt was fitted into (tokens), and the retrieved chunks left out of it or clipped to fit. */
      context_tokens: { optional: 'nonNegativeInt' },
      omitted_chunk_ids: { optional: { arrayOf: 'nonEmptyString' } },
      clipped_chunk_ids: { optional: { arrayOf: 'nonEmptyString' } },
      requested_at: 'isoTime',
    },
  },
  InferenceCompleted: {
    version: 2,
    schema: {
      query_id: 'nonEmptyString',
      response_text: 'string',
      tokens_used: 'nonNegativeInt',
      model_id: { optional: 'nonEmptyString' },
      prompt_tokens: { optional: 'nonNegativeInt' },
      completion_tokens: { optional: 'nonNegativeInt' },
      duration_ms: { optional: 'nonNegativeInt' },
      /** Citation numbers in the answer that match no passage of the prompt (e.g. [42] with 8 passages). */
      unmatched_citations: { arrayOf: 'nonNegativeInt' },
      completed_at: 'isoTime',
    },
  },
  InferenceFailed: {
    version: 1,
    schema: {
      query_id: 'nonEmptyString',
      model_id: 'nonEmptyString',
      reason: { oneOf: ['unreachable', 'model_missing', 'timeout', 'cut_off', 'cancelled', 'other'] },
      detail: 'string',
      partial_text: { optional: 'string' },
      failed_at: 'isoTime',
    },
  },
  ContextReplayed: {
    version: 1,
    schema: {
      /** Identifies this replay; the events of one replay share it. */
      replay_id: 'nonEmptyString',
      /** The recorded question that was replayed. */
      query_id: 'nonEmptyString',
      /** The version searched now, and the one the question originally searched. */
      pipeline_version: 'nonEmptyString',
      original_pipeline_version: { optional: 'nonEmptyString' },
      mode: { oneOf: ['vector', 'lexical', 'hybrid'] },
      k: 'nonNegativeInt',
      chunk_ids: { arrayOf: 'nonEmptyString' },
      scores: { arrayOf: 'number' },
      ranks: { arrayOf: 'nonNegativeInt' },
      /** Set for point-in-time retrieval: only what was indexed, and not superseded, at this log position. */
      as_of_position: { optional: 'nonNegativeInt' },
      /** The diff against the original context: counts and similarity (overlap@k, Jaccard, RBO). */
      diff: 'json',
      replayed_at: 'isoTime',
    },
  },
  ReplayAnswered: {
    version: 1,
    schema: {
      replay_id: 'nonEmptyString',
      query_id: 'nonEmptyString',
      model_id: 'nonEmptyString',
      prompt_hash: 'nonEmptyString',
      prompt: { object: { system: 'string', user: 'string' } },
      response_text: 'string',
      /** Why the model did not answer (the answer is then extractive). */
      generation_failure: { optional: 'string' },
      /** Word-level similarity to the original answer, 0 to 1 (absent when the question had no answer). */
      similarity: { optional: 'number' },
      answered_at: 'isoTime',
    },
  },
  PipelineVersionDefined: {
    version: 1,
    schema: { pipeline_version: 'nonEmptyString', label: 'string', config: 'json', defined_at: 'isoTime' },
  },
  PipelineVersionActivated: {
    version: 1,
    schema: { pipeline_version: 'nonEmptyString', activated_at: 'isoTime' },
  },
  /**
   * A seal: an Ed25519 signature of the head just before this event (its position and chain
   * hash, never payload bytes, so forgetting keeps it valid). `public_key` is the SPKI DER in
   * base64; `key_id` its fingerprint. See signing.ts.
   */
  HeadSigned: {
    version: 1,
    schema: {
      position: 'nonNegativeInt',
      hash: 'nonEmptyString',
      key_id: 'nonEmptyString',
      public_key: 'nonEmptyString',
      signature: 'nonEmptyString',
      signed_at: 'isoTime',
    },
  },
} as const satisfies Record<string, EventDefinition>;

/** How one event type is defined in the catalog. */
export interface EventDefinition {
  /** The schema version new events of this type are written with. */
  readonly version: number;
  /** The current shape of `data`. */
  readonly schema: ObjectSpec;
  /** A Float32 field that is stored as the binary attachment, never as JSON. */
  readonly binaryField?: string;
}

export type EventType = keyof typeof eventCatalog;

export const eventTypes = Object.keys(eventCatalog) as EventType[];

export function isEventType(value: string): value is EventType {
  return Object.prototype.hasOwnProperty.call(eventCatalog, value);
}

/** Any JSON value. */
export type JsonValue = string | number | boolean | null | readonly JsonValue[] | { readonly [key: string]: JsonValue };

type InferField<F> = F extends 'string' | 'nonEmptyString' | 'isoTime'
  ? string
  : F extends 'int' | 'nonNegativeInt' | 'number'
    ? number
    : F extends 'boolean'
      ? boolean
      : F extends 'float32'
        ? Float32Array
        : F extends 'json'
          ? JsonValue
          : F extends { readonly arrayOf: infer I }
            ? readonly InferField<I>[]
            : F extends { readonly object: infer O }
              ? InferObject<O>
              : F extends { readonly nullable: infer I }
                ? InferField<I> | null
                : F extends { readonly oneOf: readonly (infer S)[] }
                  ? S
                  : never;

type OptionalKeys<O> = { [K in keyof O]: O[K] extends { readonly optional: unknown } ? K : never }[keyof O];
type RequiredKeys<O> = Exclude<keyof O, OptionalKeys<O>>;

type InferObject<O> = { readonly [K in RequiredKeys<O>]: InferField<O[K]> } & {
  readonly [K in OptionalKeys<O>]?: O[K] extends { readonly optional: infer I } ? InferField<I> : never;
};

/** The current data shape of event type T. */
export type EventData<T extends EventType> = InferObject<(typeof eventCatalog)[T]['schema']>;

/** A domain event: a type and its data in the current schema version. */
export type DomainEvent = { [T in EventType]: { readonly type: T; readonly data: EventData<T> } }[EventType];

/** The domain event of type T. */
export type EventOf<T extends EventType> = Extract<DomainEvent, { type: T }>;
