import type { JsonValue } from '../events/eventCatalog.js';
import type { RecordedEvent } from '../eventStore.js';
import type { EmbedderInfo } from '../pipeline/pipelineConfig.js';
import { embedderKey } from '../pipeline/pipelineConfig.js';
import type { Projection, ProjectionView } from './projection.js';

/** Counts for one document version under one pipeline version. */
export interface PipelineCounts {
  readonly chunks: number;
  readonly embedded: number;
  readonly indexed: number;
  readonly failed: number;
}

export type DocumentState = 'submitted' | 'validated' | 'rejected' | 'chunked' | 'embedded' | 'indexed' | 'deleted';

/** Per document: latest version, progress per pipeline version, last error. */
export interface DocumentStatus {
  readonly document_id: string;
  readonly source: string;
  /** 1 for the first submission, +1 for every changed content. */
  readonly version: number;
  readonly content_hash: string | null;
  readonly state: DocumentState;
  readonly format: string | null;
  /** The validated content's size, or a rejected file's size on disk (null when unknown). */
  readonly byte_count: number | null;
  /** How many secrets were replaced by a marker before the content was recorded. */
  readonly secrets_redacted: number;
  readonly submitted_at: string;
  readonly updated_at: string;
  readonly last_error: string | null;
  /** Set when the document's content was forgotten (DocumentForgotten); its state is then `deleted`. */
  readonly forgotten_at?: string;
  readonly pipelines: Readonly<Record<string, PipelineCounts>>;
}

/** Internal: which chunk ids belong to the document's latest version, per pipeline. */
interface ChunkSets {
  readonly chunks: string[];
  readonly embedded: string[];
  readonly indexed: string[];
  readonly failed: string[];
}

const DEFAULT_PIPELINE = 'default';

/** The embedder key in a PipelineVersionDefined config, or null when the config has none. */
function embedderKeyOf(config: JsonValue): string | null {
  const embedder = typeof config === 'object' && config !== null && !Array.isArray(config) ? (config as Record<string, JsonValue>).embedder : undefined;
  if (typeof embedder !== 'object' || embedder === null || Array.isArray(embedder)) return null;
  return embedderKey(embedder as unknown as EmbedderInfo);
}

function pipelineOf(e: RecordedEvent): string {
  return typeof e.metadata.pipeline_version === 'string' ? e.metadata.pipeline_version : DEFAULT_PIPELINE;
}

const docKey = (id: string): string => `doc:${id}`;
/** The embedder key of a defined pipeline version. */
const pipeKey = (pipeline: string): string => `pipe:${pipeline}`;
/** Embedder keys a chunk has a vector under. */
const vecKey = (chunkId: string): string => `vec:${chunkId}`;
const PIPES = 'pipes';
/** The log position of the latest ChunkEmbedded for an embedding text (by digest) under an embedder. */
const textKey = (embedder: string, textHash: string): string => `text:${embedder}:${textHash}`;
const setsKey = (id: string, pipeline: string): string => `sets:${id}:${pipeline}`;
const chunkKey = (chunkId: string, pipeline: string): string => `chunk:${pipeline}:${chunkId}`;

function counts(s: ChunkSets): PipelineCounts {
  return { chunks: s.chunks.length, embedded: s.embedded.length, indexed: s.indexed.length, failed: s.failed.length };
}

function stateFor(s: ChunkSets): DocumentState {
  if (s.chunks.length > 0 && s.indexed.length >= s.chunks.length) return 'indexed';
  if (s.chunks.length > 0 && s.embedded.length >= s.chunks.length) return 'embedded';
  return 'chunked';
}

/**
 * The pipelines a chunk event counts for: the one in its metadata, and, for a vector, every defined
 * pipeline whose embedder produced it (a vector is computed once and shared by pipeline versions
 * that differ only in chunking of other documents, retrieval or prompting).
 */
function pipelinesFor(view: ProjectionView, e: RecordedEvent, embedder?: string): string[] {
  const out = new Set([pipelineOf(e)]);
  if (embedder !== undefined) for (const p of (view.get(PIPES) as string[] | undefined) ?? []) if (view.get(pipeKey(p)) === embedder) out.add(p);
  return [...out];
}

const EMBEDDING_FAILED = 'embedding failed: ';

function onChunkProgress(view: ProjectionView, e: RecordedEvent, chunkId: string, field: 'embedded' | 'indexed' | 'failed', error?: string, embedder?: string): void {
  for (const pipeline of pipelinesFor(view, e, embedder)) {
    const owners = (view.get(chunkKey(chunkId, pipeline)) as string[] | undefined) ?? [];
    for (const documentId of owners) {
      const sets = view.get(setsKey(documentId, pipeline)) as unknown as ChunkSets | undefined;
      const doc = view.get(docKey(documentId)) as unknown as DocumentStatus | undefined;
      if (!sets || !doc || !sets.chunks.includes(chunkId)) continue;
      let next: ChunkSets = sets[field].includes(chunkId) ? sets : { ...sets, [field]: [...sets[field], chunkId] };
      // A vector for a chunk whose embedding had failed: the failure is over. Indexing the chunk
      // without a vector (lexical only) is not: the document still shows the failure.
      if (field === 'embedded' && next.failed.includes(chunkId)) next = { ...next, failed: next.failed.filter((id) => id !== chunkId) };
      if (next === sets) continue;
      view.put(setsKey(documentId, pipeline), next as unknown as JsonValue);
      const state = doc.state === 'deleted' ? 'deleted' : stateFor(next);
      const recovered = sets.failed.length > 0 && next.failed.length === 0 && doc.last_error?.startsWith(EMBEDDING_FAILED) === true;
      putDoc(view, { ...doc, state, updated_at: e.recordedAt, last_error: error ?? (recovered ? null : doc.last_error), pipelines: { ...doc.pipelines, [pipeline]: counts(next) } });
    }
  }
}

/**
 * Running totals over the live documents (neither deleted nor rejected): how many there are and,
 * per pipeline version, how many documents it chunked and their chunks, vectors and index entries.
 * Kept as documents change so that a version's progress is one read, not a pass over every document.
 */
export interface DocumentTotals {
  readonly live: number;
  readonly rejected: number;
  /** Every document (deleted ones too) by state. */
  readonly states: Readonly<Partial<Record<DocumentState, number>>>;
  readonly pipelines: Readonly<Record<string, PipelineTotals>>;
}

/** One pipeline version's totals over the live documents. */
export interface PipelineTotals {
  /** Documents it chunked. */
  readonly documents: number;
  readonly chunks: number;
  readonly embedded: number;
  readonly indexed: number;
  /** Documents whose every chunk it indexed. */
  readonly complete: number;
  /** Documents with a chunk whose embedding failed. */
  readonly failing: number;
}

export const TOTALS_KEY = 'totals';
export const EMPTY_TOTALS: DocumentTotals = { live: 0, rejected: 0, states: {}, pipelines: {} };
export const EMPTY_PIPELINE_TOTALS: PipelineTotals = { documents: 0, chunks: 0, embedded: 0, indexed: 0, complete: 0, failing: 0 };

const isLive = (doc: DocumentStatus | undefined): doc is DocumentStatus => doc !== undefined && doc.state !== 'deleted' && doc.state !== 'rejected';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

function addTo(totals: { live: number; rejected: number; states: Partial<Record<DocumentState, number>>; pipelines: Record<string, Mutable<PipelineTotals>> }, doc: DocumentStatus | undefined, sign: 1 | -1): void {
  if (doc) totals.states[doc.state] = (totals.states[doc.state] ?? 0) + sign;
  if (doc?.state === 'rejected') totals.rejected += sign;
  if (!isLive(doc)) return;
  totals.live += sign;
  for (const [pipeline, c] of Object.entries(doc.pipelines)) {
    const t = (totals.pipelines[pipeline] ??= { ...EMPTY_PIPELINE_TOTALS });
    t.documents += sign;
    t.chunks += sign * c.chunks;
    t.embedded += sign * c.embedded;
    t.indexed += sign * c.indexed;
    if (c.indexed >= c.chunks) t.complete += sign;
    if (c.failed > 0) t.failing += sign;
  }
}

function putDoc(view: ProjectionView, doc: DocumentStatus): void {
  const key = docKey(doc.document_id);
  const prev = view.get(key) as unknown as DocumentStatus | undefined;
  if (prev !== undefined || doc.state !== 'deleted') {
    const current = (view.get(TOTALS_KEY) as unknown as DocumentTotals | undefined) ?? EMPTY_TOTALS;
    const totals = { live: current.live, rejected: current.rejected, states: { ...current.states }, pipelines: Object.fromEntries(Object.entries(current.pipelines).map(([k, v]) => [k, { ...v }])) };
    addTo(totals, prev, -1);
    addTo(totals, doc, 1);
    view.put(TOTALS_KEY, totals);
  }
  view.put(key, doc as unknown as JsonValue);
}

/** Document status read model: `doc:<id>` holds a DocumentStatus; `totals` the DocumentTotals. */
export const documentStatusProjection: Projection = {
  name: 'document-status',
  // 6: secrets_redacted and a rejected file's size in byte_count; only a vector clears an embedding
  // failure; the latest vector per (embedder, text hash) for reuse; forgotten documents (forgotten_at).
  // 7: documents by state in the totals.
  version: 7,
  eventTypes: ['PipelineVersionDefined', 'DocumentSubmitted', 'DocumentValidated', 'DocumentRejected', 'DocumentChunked', 'DocumentDeleted', 'DocumentForgotten', 'ChunkEmbedded', 'ChunkEmbeddingFailed', 'ChunkIndexed'],
  handle(e, view) {
    switch (e.type) {
      case 'PipelineVersionDefined': {
        const key = embedderKeyOf(e.data.config);
        if (key === null || view.get(pipeKey(e.data.pipeline_version)) !== undefined) return;
        view.put(pipeKey(e.data.pipeline_version), key);
        view.put(PIPES, [...((view.get(PIPES) as string[] | undefined) ?? []), e.data.pipeline_version]);
        return;
      }
      case 'DocumentSubmitted': {
        const prev = view.get(docKey(e.data.document_id)) as unknown as DocumentStatus | undefined;
        putDoc(view, {
          document_id: e.data.document_id,
          source: e.data.source,
          version: (prev?.version ?? 0) + 1,
          content_hash: e.data.content_hash ?? null,
          state: 'submitted',
          format: null,
          byte_count: null,
          secrets_redacted: 0,
          submitted_at: e.data.submitted_at,
          updated_at: e.recordedAt,
          last_error: null,
          pipelines: {},
        });
        return;
      }
      case 'DocumentValidated':
      case 'DocumentRejected':
      case 'DocumentDeleted': {
        const doc = view.get(docKey(e.data.document_id)) as unknown as DocumentStatus | undefined;
        if (!doc) return;
        if (e.type === 'DocumentValidated') putDoc(view, { ...doc, state: 'validated', format: e.data.format, byte_count: e.data.byte_count, secrets_redacted: e.data.secrets_redacted, updated_at: e.recordedAt });
        else if (e.type === 'DocumentRejected') putDoc(view, { ...doc, state: 'rejected', byte_count: e.data.size_bytes, last_error: `${e.data.reason}: ${e.data.detail}`, updated_at: e.recordedAt });
        else putDoc(view, { ...doc, state: 'deleted', updated_at: e.recordedAt });
        return;
      }
      case 'DocumentForgotten': {
        // Forgotten: out of the index and the live documents, like a deleted one; the path and
        // content hash stay (ingest skips the file while its content is unchanged).
        const doc = view.get(docKey(e.data.document_id)) as unknown as DocumentStatus | undefined;
        if (doc) putDoc(view, { ...doc, state: 'deleted', forgotten_at: e.data.forgotten_at, updated_at: e.recordedAt });
        return;
      }
      case 'DocumentChunked': {
        const doc = view.get(docKey(e.data.document_id)) as unknown as DocumentStatus | undefined;
        if (!doc) return;
        const pipeline = pipelineOf(e);
        const ids = e.data.chunks.map((c) => c.chunk_id);
        const embedder = view.get(pipeKey(pipeline));
        const embedded = typeof embedder === 'string' ? ids.filter((id) => ((view.get(vecKey(id)) as string[] | undefined) ?? []).includes(embedder)) : [];
        const sets: ChunkSets = { chunks: ids, embedded, indexed: [], failed: [] };
        view.put(setsKey(doc.document_id, pipeline), sets as unknown as JsonValue);
        for (const id of ids) {
          const owners = (view.get(chunkKey(id, pipeline)) as string[] | undefined) ?? [];
          if (!owners.includes(doc.document_id)) view.put(chunkKey(id, pipeline), [...owners, doc.document_id]);
        }
        putDoc(view, { ...doc, state: doc.state === 'deleted' ? 'deleted' : stateFor(sets), updated_at: e.recordedAt, pipelines: { ...doc.pipelines, [pipeline]: counts(sets) } });
        return;
      }
      case 'ChunkEmbedded': {
        const vectors = (view.get(vecKey(e.data.chunk_id)) as string[] | undefined) ?? [];
        if (!vectors.includes(e.data.embedding_model)) view.put(vecKey(e.data.chunk_id), [...vectors, e.data.embedding_model]);
        // The latest vector of each embedding text, for reuse by identical text elsewhere.
        if (e.data.text_hash !== undefined) view.put(textKey(e.data.embedding_model, e.data.text_hash), e.position);
        return onChunkProgress(view, e, e.data.chunk_id, 'embedded', undefined, e.data.embedding_model);
      }
      case 'ChunkIndexed':
        return onChunkProgress(view, e, e.data.chunk_id, 'indexed');
      case 'ChunkEmbeddingFailed':
        return onChunkProgress(view, e, e.data.chunk_id, 'failed', `${EMBEDDING_FAILED}${e.data.reason}`);
      default:
        return;
    }
  },
};
