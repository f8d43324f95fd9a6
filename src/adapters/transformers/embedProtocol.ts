/** Messages between TransformersEmbedder and its worker thread. */
export interface InitRequest {
  readonly type: 'init';
  readonly model: string;
  readonly revision: string;
  readonly dtype: string;
  /** Local model folder (holds <model>/...), or null to use only the download cache. */
  readonly modelDir: string | null;
  readonly allowRemote: boolean;
  readonly cacheDir: string | null;
}

export interface EmbedRequest {
  readonly type: 'embed';
  readonly id: number;
  readonly texts: readonly string[];
  readonly pooling: 'mean' | 'cls';
  readonly normalize: boolean;
}

export type WorkerRequest = InitRequest | EmbedRequest;

export type WorkerReply =
  | { readonly type: 'ready'; readonly dimensions: number }
  | { readonly type: 'init-failed'; readonly message: string }
  | { readonly type: 'embedded'; readonly id: number; readonly vectors: Float32Array; readonly dimensions: number }
  | { readonly type: 'embed-failed'; readonly id: number; readonly message: string };
