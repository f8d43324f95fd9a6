/** What identifies an embedder's output: two embedders with equal info produce interchangeable vectors. */
export interface EmbedderInfo {
  /** Model id, e.g. Xenova/all-MiniLM-L6-v2. */
  readonly model: string;
  readonly revision: string;
  readonly dtype: string;
  readonly dimensions: number;
  readonly pooling: 'mean' | 'cls';
  readonly normalize: boolean;
}

/** The port the embed processor and retrieval use. Implementations run the model off the caller's thread. */
export interface Embedder {
  readonly info: EmbedderInfo;
  /** One vector per text, in order. Rejects with CancelledError when the signal aborts. */
  embed(texts: readonly string[], signal?: AbortSignal): Promise<Float32Array[]>;
  close(): Promise<void>;
}

/** The key under which a vector is stored and reused: model, revision, dtype, pooling, normalisation. */
export function embedderKey(info: EmbedderInfo): string {
  return `${info.model}@${info.revision}/${info.dtype}/${info.pooling}${info.normalize ? '/norm' : ''}`;
}
