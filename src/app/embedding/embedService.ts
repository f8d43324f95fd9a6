import { embeddingText } from '../../core/chunking/chunker.js';
import { CancelledError, EmbeddingModelUnavailableError } from '../../core/errors.js';
import type { NewEvent } from '../../core/eventStore.js';
import { embedderKey } from '../../core/pipeline/pipelineConfig.js';
import type { Embedder } from './embedder.js';
import { digestOf } from '../../core/ids.js';
import type { EngineDeps } from '../engineDeps.js';

export type EmbedDeps = EngineDeps;

export interface EmbedOptions {
  readonly pipelineVersion: string;
  readonly embedder: Embedder;
  /** Texts per call into the model (default 32). */
  readonly batchSize?: number;
  readonly signal?: AbortSignal;
  readonly onProgress?: (p: { readonly done: number; readonly total: number }) => void;
}

export interface EmbedReport {
  /** Chunks that needed a vector for the pipeline version. */
  readonly pending: number;
  readonly embedded: number;
  /** Chunks whose text already had a vector under this embedder (nothing computed). */
  readonly reused: number;
  readonly failed: number;
}

interface Work {
  readonly documentId: string;
  readonly streamId: string;
  readonly causationId: string;
  readonly chunkId: string;
  readonly text: string;
}

/**
 * The embed processor: for every chunk of the pipeline version's latest chunking that has no
 * vector under the pipeline's embedder, compute one and append ChunkEmbedded (vector attached).
 * Event ids derive from chunk and embedder, so a vector is never stored twice, whatever crashes
 * or retries happen. A chunk that already has a vector under the same embedder (from another
 * pipeline version) is reused: the document status counts it without recomputing anything.
 */
export class EmbedService {
  constructor(private readonly deps: EmbedDeps) {}

  async embedPending(options: EmbedOptions): Promise<EmbedReport> {
    const { readModels } = this.deps;
    await this.deps.runner.catchUp(options.signal ? { signal: options.signal } : {});
    const key = embedderKey(options.embedder.info);
    const work: Work[] = [];
    let reused = 0;
    for (const doc of readModels.documents()) {
      const counts = doc.pipelines[options.pipelineVersion];
      if (doc.state === 'deleted' || doc.state === 'rejected' || !counts || counts.embedded >= counts.chunks) continue;
      for (const item of await this.chunksOf(doc.document_id, options.pipelineVersion)) {
        if (readModels.vectorKeys(item.chunkId).includes(key)) reused++;
        else work.push(item);
      }
    }
    const { embedded, failed } = await this.run(work, key, options);
    return { pending: work.length + reused, embedded, reused, failed };
  }

  /**
   * Re-embeds documents on purpose (a suspect vector, a model file replaced under the same id):
   * every chunk of each document's latest chunking for the pipeline version gets a freshly
   * computed vector, appended as a new ChunkEmbedded (ids derive from the request, so a retry of
   * the same request is idempotent, a new request is not). The latest vector is the one indexed.
   */
  async reembed(documentIds: readonly string[], options: EmbedOptions & { readonly requestId: string }): Promise<EmbedReport> {
    await this.deps.runner.catchUp(options.signal ? { signal: options.signal } : {});
    const key = embedderKey(options.embedder.info);
    const work: Work[] = [];
    for (const documentId of documentIds) work.push(...(await this.chunksOf(documentId, options.pipelineVersion)));
    const { embedded, failed } = await this.run(work, key, options, options.requestId);
    return { pending: work.length, embedded, reused: 0, failed };
  }

  private async run(work: Work[], key: string, options: EmbedOptions, requestId?: string): Promise<{ embedded: number; failed: number }> {
    const batchSize = options.batchSize ?? 32;
    // A batch is padded to its longest text: batching texts of similar length wastes the least.
    work.sort((a, b) => a.text.length - b.text.length);
    const batches: Work[][] = [];
    for (let i = 0; i < work.length; i += batchSize) batches.push(work.slice(i, i + batchSize));
    // The model runs in a worker: while it computes batch i+1, this thread records batch i, so
    // the log's cost hides behind the model's instead of adding to it.
    const compute = (batch: readonly Work[]): Promise<{ vectors: Float32Array[] | null; reason: string }> => {
      if (options.signal?.aborted) return Promise.reject(new CancelledError('embedding'));
      return options.embedder.embed(batch.map((w) => w.text), options.signal).then(
        (vectors) => ({ vectors, reason: '' }),
        (err: unknown) => {
          // Cancelled, or the model itself is gone (worker crashed, embedder closed): stop, record nothing.
          if (err instanceof CancelledError || err instanceof EmbeddingModelUnavailableError) throw err;
          return { vectors: null, reason: (err as Error).message };
        },
      );
    };
    let embedded = 0;
    let failed = 0;
    let done = 0;
    let ahead = batches.length > 0 ? compute(batches[0]!) : null;
    for (let i = 0; i < batches.length; i++) {
      const batch = batches[i]!;
      const { vectors, reason } = await ahead!;
      ahead = i + 1 < batches.length ? compute(batches[i + 1]!) : null;
      // If recording fails, the batch computing ahead is abandoned: its outcome must not go unhandled.
      ahead?.catch(() => undefined);
      if (options.signal?.aborted) throw new CancelledError('embedding');
      await this.record(batch, vectors, key, reason, options.pipelineVersion, requestId);
      if (vectors) embedded += batch.length;
      else failed += batch.length;
      done += batch.length;
      options.onProgress?.({ done, total: work.length });
    }
    return { embedded, failed };
  }

  /** The latest chunking of a document for a pipeline version, as work items. */
  private async chunksOf(documentId: string, pipelineVersion: string): Promise<Work[]> {
    const streamId = `document-${documentId}`;
    let latest: Work[] = [];
    for await (const e of this.deps.events.readStream(streamId)) {
      if (e.type === 'DocumentSubmitted') latest = [];
      if (e.type !== 'DocumentChunked' || e.metadata.pipeline_version !== pipelineVersion) continue;
      latest = e.data.chunks.map((c) => ({ documentId, streamId, causationId: e.eventId, chunkId: c.chunk_id, text: embeddingText(c) }));
    }
    return latest;
  }

  /** One append per batch: ChunkEmbedded, or ChunkEmbeddingFailed with the reason. */
  private async record(batch: readonly Work[], vectors: Float32Array[] | null, key: string, reason: string, pipelineVersion: string, requestId?: string): Promise<void> {
    const now = this.deps.clock();
    const byStream = new Map<string, NewEvent[]>();
    batch.forEach((w, i) => {
      const vector = vectors?.[i];
      const event: NewEvent = vector
        ? {
            type: 'ChunkEmbedded',
            eventId: `emb-${digestOf(this.deps.hasher, requestId === undefined ? ['embedded', w.chunkId, key] : ['re-embedded', w.chunkId, key, requestId]).slice(0, 32)}`,
            data: { chunk_id: w.chunkId, embedding_model: key, dimensions: vector.length, vector, embedded_at: now },
            metadata: { actor: this.deps.actor, pipeline_version: pipelineVersion, causation_id: w.causationId, ...(requestId === undefined ? {} : { correlation_id: requestId, reason: 're-embed' }) },
          }
        : {
            type: 'ChunkEmbeddingFailed',
            data: { chunk_id: w.chunkId, embedding_model: key, reason, failed_at: now },
            metadata: { actor: this.deps.actor, pipeline_version: pipelineVersion, causation_id: w.causationId },
          };
      byStream.set(w.streamId, [...(byStream.get(w.streamId) ?? []), event]);
    });
    // One durable write for the whole batch, whatever number of documents it spans.
    await this.deps.events.appendMany([...byStream].map(([streamId, events]) => ({ streamId, events, expectedVersion: 'any' as const })));
  }
}
