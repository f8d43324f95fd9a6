import { EmbeddingModelUnavailableError } from '../core/errors.js';
import type { PipelineConfig } from '../core/pipeline/pipelineConfig.js';
import { embedderKey } from '../core/pipeline/pipelineConfig.js';
import { TransformersEmbedder } from './transformers/transformersEmbedder.js';

/** Where the engine's embedding models come from (read from its settings at each use). */
export interface EmbedderSource {
  readonly modelDir?: string;
  readonly embedBatchTimeoutMs?: number;
}

/** The message an unloadable model gives the user: what failed, then what to do. */
export function unavailableMessage(err: EmbeddingModelUnavailableError): string {
  return `${err.message.replace(/\.$/, '')}. ${err.hint}`;
}

/**
 * The engine's embedding model: loaded once (in its worker) and kept while the pipeline's
 * embedder, the model folder and the batch deadline stay the same; loaded again when they change.
 */
export class EmbedderCache {
  private current: { readonly key: string; readonly modelDir: string | undefined; readonly batchTimeoutMs: number | undefined; readonly loading: Promise<TransformersEmbedder> } | null = null;

  constructor(private readonly source: () => EmbedderSource) {}

  /** The key of the model loaded (or loading), if any. */
  get loadedKey(): string | undefined {
    return this.current?.key;
  }

  /** The embedding model for a pipeline configuration, loaded once and kept while it is the same. */
  embedderFor(config: PipelineConfig): Promise<TransformersEmbedder> {
    const key = embedderKey(config.embedder);
    const { modelDir, embedBatchTimeoutMs } = this.source();
    if (!this.current || this.current.key !== key || this.current.modelDir !== modelDir || this.current.batchTimeoutMs !== embedBatchTimeoutMs) {
      const previous = this.current;
      this.current = null;
      if (previous) void previous.loading.then((e) => e.close()).catch(() => undefined);
      const loading = TransformersEmbedder.loadFor(config.embedder, this.loadOptions());
      this.current = { key, modelDir, batchTimeoutMs: embedBatchTimeoutMs, loading };
      // A failed load is not cached: the next operation tries again (the user may have fixed the setting).
      loading.catch(() => {
        if (this.current?.loading === loading) this.current = null;
      });
    }
    return this.current.loading;
  }

  /** A model loaded apart from the kept one (the caller closes it). */
  loadSeparately(config: PipelineConfig): Promise<TransformersEmbedder> {
    return TransformersEmbedder.loadFor(config.embedder, this.loadOptions());
  }

  private loadOptions(): { modelDir?: string; batchTimeoutMs?: number } {
    const { modelDir, embedBatchTimeoutMs } = this.source();
    return { ...(modelDir ? { modelDir } : {}), ...(embedBatchTimeoutMs !== undefined ? { batchTimeoutMs: embedBatchTimeoutMs } : {}) };
  }

  /**
   * The embedder a version retrieves with, or null (lexical retrieval) when its mode is lexical or
   * its model cannot be loaded; `onUnavailable` is told why (`unavailableMessage` words it).
   */
  async retrievalEmbedder(config: PipelineConfig, mode: string, onUnavailable?: (err: EmbeddingModelUnavailableError) => void): Promise<TransformersEmbedder | null> {
    if (mode === 'lexical') return null;
    try {
      return await this.embedderFor(config);
    } catch (err) {
      if (!(err instanceof EmbeddingModelUnavailableError)) throw err;
      onUnavailable?.(err);
      return null;
    }
  }

  async close(): Promise<void> {
    const current = this.current;
    this.current = null;
    if (current) await current.loading.then((e) => e.close()).catch(() => undefined);
  }
}
