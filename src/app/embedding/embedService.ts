import { embeddingText } from '../../core/chunking/chunker.js';
import { CancelledError, EmbeddingDimensionsMismatchError, EmbeddingModelUnavailableError } from '../../core/errors.js';
import type { NewEvent } from '../../core/eventStore.js';
import type { PipelineConfig } from '../../core/pipeline/pipelineConfig.js';
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
  /**
   * Of `embedded`, chunks whose embedding text is identical to another chunk's (in the log, or in
   * this run) under the same embedder: the vector was copied (ChunkEmbedded with `reused_from`),
   * not computed again.
   */
  readonly copied: number;
  readonly failed: number;
}

interface Work {
  readonly documentId: string;
  readonly streamId: string;
  readonly causationId: string;
  readonly chunkId: string;
  readonly text: string;
  /** Digest of `text`: identical texts share one vector per embedder. */
  readonly textHash: string;
}

/** A vector to record for a chunk: computed by the model, or copied from another chunk's ChunkEmbedded. */
interface Outcome {
  readonly vector: Float32Array;
  readonly reusedFrom?: string;
}

/**
 * The embed processor: for every chunk of the pipeline version's latest chunking that has no
 * vector under the pipeline's embedder, compute one and append ChunkEmbedded (vector attached).
 * Event ids derive from chunk and embedder, so a vector is never stored twice, whatever crashes
 * or retries happen. A chunk that already has a vector under the same embedder (from another
 * pipeline version) is reused: the document status counts it without recomputing anything. A
 * chunk whose embedding text is identical to one already embedded under the same embedder (another
 * document's copy of a paragraph, a file duplicated across examples) gets that vector copied into
 * its own ChunkEmbedded, with `reused_from` naming the source event: the model runs once per text.
 */
export class EmbedService {
  constructor(private readonly deps: EmbedDeps) {}

  async embedPending(options: EmbedOptions): Promise<EmbedReport> {
    const { readModels } = this.deps;
    await this.deps.runner.catchUp(options.signal ? { signal: options.signal } : {});
    const key = embedderKey(options.embedder.info);
    const work: Work[] = [];
    const fromLog: { readonly item: Work; readonly position: number }[] = [];
    let reused = 0;
    for (const doc of readModels.documents()) {
      const counts = doc.pipelines[options.pipelineVersion];
      if (doc.state === 'deleted' || doc.state === 'rejected' || !counts || counts.embedded >= counts.chunks) continue;
      for (const item of await this.chunksOf(doc.document_id, options.pipelineVersion)) {
        if (readModels.vectorKeys(item.chunkId).includes(key)) {
          reused++;
          continue;
        }
        const position = readModels.embeddedText(key, item.textHash);
        if (position !== undefined) fromLog.push({ item, position });
        else work.push(item);
      }
    }
    const copiedFromLog = await this.copyFromLog(fromLog, key, options);
    const { embedded, copied, failed } = await this.run(work, key, options);
    return { pending: work.length + fromLog.length + reused, embedded: embedded + copiedFromLog, reused, copied: copied + copiedFromLog, failed };
  }

  /** Copies the vectors of identical texts already in the log (nothing computed), in batches. */
  private async copyFromLog(items: readonly { readonly item: Work; readonly position: number }[], key: string, options: EmbedOptions): Promise<number> {
    const batchSize = options.batchSize ?? 32;
    let copied = 0;
    for (let i = 0; i < items.length; i += batchSize) {
      if (options.signal?.aborted) throw new CancelledError('embedding');
      const batch = items.slice(i, i + batchSize);
      const outcomes: (Outcome | null)[] = [];
      for (const { position } of batch) {
        let found: Outcome | null = null;
        for await (const e of this.deps.events.readAll({ fromPosition: position, limit: 1 })) {
          if (e.type === 'ChunkEmbedded' && e.data.embedding_model === key) found = { vector: e.data.vector, reusedFrom: e.eventId };
        }
        outcomes.push(found);
      }
      const usable = batch.filter((_, j) => outcomes[j] !== null);
      await this.record(usable.map((b) => b.item), outcomes.filter((o): o is Outcome => o !== null), key, '', options.pipelineVersion);
      copied += usable.length;
    }
    return copied;
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
    const { embedded, copied, failed } = await this.run(work, key, options, options.requestId);
    return { pending: work.length, embedded, reused: 0, copied, failed };
  }

  private async run(all: Work[], key: string, options: EmbedOptions, requestId?: string): Promise<{ embedded: number; copied: number; failed: number }> {
    const batchSize = options.batchSize ?? 32;
    // One model call per distinct text: later chunks with the same text follow the first one's outcome.
    const followers = new Map<string, Work[]>();
    const work: Work[] = [];
    for (const w of all) {
      const same = followers.get(w.textHash);
      if (same) same.push(w);
      else {
        followers.set(w.textHash, []);
        work.push(w);
      }
    }
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
    // The vector size the pipeline version was defined with: a model producing another size is the
    // wrong model (or a wrong setting), and nothing of it is recorded.
    const configured = (this.deps.readModels.pipeline(options.pipelineVersion)?.config as unknown as PipelineConfig | undefined)?.embedder.dimensions ?? options.embedder.info.dimensions;
    let embedded = 0;
    let copied = 0;
    let failed = 0;
    let done = 0;
    let ahead = batches.length > 0 ? compute(batches[0]!) : null;
    for (let i = 0; i < batches.length; i++) {
      const batch = batches[i]!;
      const { vectors, reason } = await ahead!;
      const wrong = vectors?.find((v) => v.length !== configured);
      if (wrong) throw new EmbeddingDimensionsMismatchError(options.embedder.info.model, configured, wrong.length, 'the length of the vectors it returned');
      ahead = i + 1 < batches.length ? compute(batches[i + 1]!) : null;
      // If recording fails, the batch computing ahead is abandoned: its outcome must not go unhandled.
      ahead?.catch(() => undefined);
      if (options.signal?.aborted) throw new CancelledError('embedding');
      // The batch, then the chunks with the same texts: a copy names the event whose vector it copies.
      const items: Work[] = [];
      const outcomes: (Outcome | null)[] = [];
      batch.forEach((w, j) => {
        const vector = vectors?.[j] ?? null;
        items.push(w);
        outcomes.push(vector ? { vector } : null);
        for (const f of followers.get(w.textHash) ?? []) {
          items.push(f);
          outcomes.push(vector ? { vector, reusedFrom: this.embeddedEventId(w.chunkId, key, requestId) } : null);
          if (vector) copied++;
        }
      });
      await this.record(items, outcomes, key, reason, options.pipelineVersion, requestId);
      if (vectors) embedded += items.length;
      else failed += items.length;
      done += items.length;
      options.onProgress?.({ done, total: all.length });
    }
    return { embedded, copied, failed };
  }

  private embeddedEventId(chunkId: string, key: string, requestId: string | undefined): string {
    return `emb-${digestOf(this.deps.hasher, requestId === undefined ? ['embedded', chunkId, key] : ['re-embedded', chunkId, key, requestId]).slice(0, 32)}`;
  }

  /** The latest chunking of a document for a pipeline version, as work items. */
  private async chunksOf(documentId: string, pipelineVersion: string): Promise<Work[]> {
    const streamId = `document-${documentId}`;
    let latest: Work[] = [];
    for await (const e of this.deps.events.readStream(streamId)) {
      if (e.type === 'DocumentSubmitted') latest = [];
      if (e.type !== 'DocumentChunked' || e.metadata.pipeline_version !== pipelineVersion) continue;
      latest = e.data.chunks.map((c) => {
        const text = embeddingText(c);
        return { documentId, streamId, causationId: e.eventId, chunkId: c.chunk_id, text, textHash: digestOf(this.deps.hasher, ['embedding-text', text]) };
      });
    }
    return latest;
  }

  /** One append per batch: ChunkEmbedded (a computed or copied vector), or ChunkEmbeddingFailed with the reason. */
  private async record(batch: readonly Work[], outcomes: readonly (Outcome | null)[], key: string, reason: string, pipelineVersion: string, requestId?: string): Promise<void> {
    if (batch.length === 0) return;
    const now = this.deps.clock();
    const byStream = new Map<string, NewEvent[]>();
    batch.forEach((w, i) => {
      const outcome = outcomes[i];
      const event: NewEvent = outcome
        ? {
            type: 'ChunkEmbedded',
            eventId: this.embeddedEventId(w.chunkId, key, requestId),
            data: { chunk_id: w.chunkId, embedding_model: key, dimensions: outcome.vector.length, vector: outcome.vector, embedded_at: now, text_hash: w.textHash, ...(outcome.reusedFrom !== undefined ? { reused_from: outcome.reusedFrom } : {}) },
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
