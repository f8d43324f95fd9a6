import { ValidationError } from '../../core/errors.js';
import type { EventStore, RecordedEvent } from '../../core/eventStore.js';
import type { ProjectionRunner } from '../projectionRunner.js';
import type { ReadModels } from '../readModels.js';

/** Where one retrieved chunk came from, back to the document version. */
export interface ChunkProvenance {
  readonly rank: number;
  readonly chunkId: string;
  readonly score: number;
  readonly path: string | null;
  readonly lines: string | null;
  /** The DocumentChunked that produced the chunk, and the pipeline version it ran for. */
  readonly chunking: { readonly position: number; readonly eventId: string; readonly pipelineVersion: string } | null;
  /** The DocumentSubmitted the chunking came from: the document version. */
  readonly documentVersion: { readonly position: number; readonly documentId: string; readonly contentHash: string | null; readonly submittedAt: string } | null;
  /** The vector's ChunkEmbedded, under the embedder of the pipeline. */
  readonly embedding: { readonly position: number; readonly model: string } | null;
  /**
   * Set when the document's content was forgotten after the question (DocumentForgotten): the
   * chunk's text and vector are gone from the log; ids, ranks, scores, path and lines remain.
   */
  readonly sourceForgotten: { readonly position: number; readonly forgottenAt: string; readonly reason: string } | null;
}

export interface Provenance {
  readonly queryId: string;
  /** Every event of the question's stream, in order (received, retrieved, requested, completed or failed). */
  readonly chain: readonly RecordedEvent[];
  readonly chunks: readonly ChunkProvenance[];
}

/**
 * The provenance of a question, entirely from the log: answer ← inference ← prompt ← retrieved
 * chunks ← their embeddings ← the chunking ← the document version that was submitted.
 */
export class ProvenanceService {
  constructor(private readonly deps: { readonly events: EventStore; readonly runner: ProjectionRunner; readonly readModels: ReadModels }) {}

  async show(queryId: string): Promise<Provenance> {
    const chain: RecordedEvent[] = [];
    for await (const e of this.deps.events.readStream(`query-${queryId}`)) chain.push(e);
    if (chain.length === 0) throw new ValidationError(`no question ${queryId} in this store`, [], 'List questions with `rag-ledger log --type QueryReceived`.');
    const retrieved = chain.find((e) => e.type === 'ContextRetrieved');
    if (!retrieved || retrieved.type !== 'ContextRetrieved') return { queryId, chain, chunks: [] };
    await this.deps.runner.catchUp();
    const pipeline = retrieved.data.pipeline_version ?? (typeof retrieved.metadata.pipeline_version === 'string' ? retrieved.metadata.pipeline_version : '');
    const chunks: ChunkProvenance[] = [];
    for (const [i, chunkId] of retrieved.data.chunk_ids.entries()) {
      chunks.push(await this.chunk(chunkId, pipeline, retrieved.data.ranks?.[i] ?? i + 1, retrieved.data.scores[i] ?? 0, retrieved.position));
    }
    return { queryId, chain, chunks };
  }

  /** Looks in the owning document's stream, as it was when the question was asked (up to `asOf`). */
  private async chunk(chunkId: string, pipeline: string, rank: number, score: number, asOf: number): Promise<ChunkProvenance> {
    const empty = { rank, chunkId, score, path: null, lines: null, chunking: null, documentVersion: null, embedding: null, sourceForgotten: null };
    const documentId = this.deps.readModels.chunkOwners(pipeline, chunkId)[0];
    if (!documentId) return empty;
    let submitted: RecordedEvent | null = null;
    let found: Omit<ChunkProvenance, 'rank' | 'chunkId' | 'score' | 'embedding' | 'sourceForgotten'> | null = null;
    let embedding: ChunkProvenance['embedding'] = null;
    let sourceForgotten: ChunkProvenance['sourceForgotten'] = null;
    for await (const e of this.deps.events.readStream(`document-${documentId}`)) {
      if (e.type === 'DocumentForgotten' && found?.chunking && e.data.emptied.some((x) => x.event_id === found?.chunking?.eventId)) {
        sourceForgotten = { position: e.position, forgottenAt: e.data.forgotten_at, reason: e.data.reason };
      }
      if (e.position > asOf) continue;
      if (e.type === 'DocumentSubmitted') submitted = e;
      if (e.type === 'DocumentChunked' && e.metadata.pipeline_version === pipeline) {
        const c = e.data.chunks.find((x) => x.chunk_id === chunkId);
        if (c && submitted?.type === 'DocumentSubmitted') {
          found = {
            path: submitted.data.source,
            lines: `${c.position.start_line}-${c.position.end_line}`,
            chunking: { position: e.position, eventId: e.eventId, pipelineVersion: pipeline },
            documentVersion: { position: submitted.position, documentId, contentHash: submitted.data.content_hash ?? null, submittedAt: submitted.data.submitted_at },
          };
        }
      }
      if (e.type === 'ChunkEmbedded' && e.data.chunk_id === chunkId) embedding = { position: e.position, model: e.data.embedding_model };
    }
    return found ? { rank, chunkId, score, ...found, embedding, sourceForgotten } : empty;
  }
}
