import type { JsonValue } from '../events/eventCatalog.js';
import type { RecordedEvent } from '../eventStore.js';
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
  readonly byte_count: number | null;
  readonly submitted_at: string;
  readonly updated_at: string;
  readonly last_error: string | null;
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

function pipelineOf(e: RecordedEvent): string {
  return typeof e.metadata.pipeline_version === 'string' ? e.metadata.pipeline_version : DEFAULT_PIPELINE;
}

const docKey = (id: string): string => `doc:${id}`;
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

function onChunkProgress(view: ProjectionView, e: RecordedEvent, chunkId: string, field: 'embedded' | 'indexed' | 'failed', error?: string): void {
  const pipeline = pipelineOf(e);
  const owners = (view.get(chunkKey(chunkId, pipeline)) as string[] | undefined) ?? [];
  for (const documentId of owners) {
    const sets = view.get(setsKey(documentId, pipeline)) as unknown as ChunkSets | undefined;
    const doc = view.get(docKey(documentId)) as unknown as DocumentStatus | undefined;
    if (!sets || !doc || !sets.chunks.includes(chunkId) || sets[field].includes(chunkId)) continue;
    const next: ChunkSets = { ...sets, [field]: [...sets[field], chunkId] };
    view.put(setsKey(documentId, pipeline), next as unknown as JsonValue);
    const state = doc.state === 'deleted' ? 'deleted' : stateFor(next);
    putDoc(view, { ...doc, state, updated_at: e.recordedAt, last_error: error ?? doc.last_error, pipelines: { ...doc.pipelines, [pipeline]: counts(next) } });
  }
}

function putDoc(view: ProjectionView, doc: DocumentStatus): void {
  view.put(docKey(doc.document_id), doc as unknown as JsonValue);
}

/** Document status read model: `doc:<id>` holds a DocumentStatus. */
export const documentStatusProjection: Projection = {
  name: 'document-status',
  version: 1,
  eventTypes: ['DocumentSubmitted', 'DocumentValidated', 'DocumentRejected', 'DocumentChunked', 'DocumentDeleted', 'ChunkEmbedded', 'ChunkEmbeddingFailed', 'ChunkIndexed'],
  handle(e, view) {
    switch (e.type) {
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
        if (e.type === 'DocumentValidated') putDoc(view, { ...doc, state: 'validated', format: e.data.format, byte_count: e.data.byte_count, updated_at: e.recordedAt });
        else if (e.type === 'DocumentRejected') putDoc(view, { ...doc, state: 'rejected', last_error: `${e.data.reason}: ${e.data.detail}`, updated_at: e.recordedAt });
        else putDoc(view, { ...doc, state: 'deleted', updated_at: e.recordedAt });
        return;
      }
      case 'DocumentChunked': {
        const doc = view.get(docKey(e.data.document_id)) as unknown as DocumentStatus | undefined;
        if (!doc) return;
        const pipeline = pipelineOf(e);
        const ids = e.data.chunks.map((c) => c.chunk_id);
        const sets: ChunkSets = { chunks: ids, embedded: [], indexed: [], failed: [] };
        view.put(setsKey(doc.document_id, pipeline), sets as unknown as JsonValue);
        for (const id of ids) {
          const owners = (view.get(chunkKey(id, pipeline)) as string[] | undefined) ?? [];
          if (!owners.includes(doc.document_id)) view.put(chunkKey(id, pipeline), [...owners, doc.document_id]);
        }
        putDoc(view, { ...doc, state: 'chunked', updated_at: e.recordedAt, pipelines: { ...doc.pipelines, [pipeline]: counts(sets) } });
        return;
      }
      case 'ChunkEmbedded':
        return onChunkProgress(view, e, e.data.chunk_id, 'embedded');
      case 'ChunkIndexed':
        return onChunkProgress(view, e, e.data.chunk_id, 'indexed');
      case 'ChunkEmbeddingFailed':
        return onChunkProgress(view, e, e.data.chunk_id, 'failed', `embedding failed: ${e.data.reason}`);
      default:
        return;
    }
  },
};
