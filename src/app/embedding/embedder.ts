import type { EmbedderInfo } from '../../core/pipeline/pipelineConfig.js';

/** The port the embed processor and retrieval use. Implementations run the model off the caller's thread. */
export interface Embedder {
  readonly info: EmbedderInfo;
  /** One vector per text, in order. Rejects with CancelledError when the signal aborts. */
  embed(texts: readonly string[], signal?: AbortSignal): Promise<Float32Array[]>;
  close(): Promise<void>;
}
