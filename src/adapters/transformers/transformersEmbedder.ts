import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Embedder } from '../../app/embedding/embedder.js';
import type { EmbedderInfo } from '../../core/pipeline/pipelineConfig.js';
import { CancelledError, EmbeddingModelUnavailableError } from '../../core/errors.js';
import type { WorkerReply, WorkerRequest } from './embedProtocol.js';

export interface TransformersEmbedderOptions {
  /** Model id (default Xenova/all-MiniLM-L6-v2). */
  readonly model: string;
  readonly revision?: string;
  /** q8 (model_quantized.onnx), fp32 (model.onnx), fp16… Default q8. */
  readonly dtype?: string;
  readonly pooling?: 'mean' | 'cls';
  readonly normalize?: boolean;
  /** A local folder holding `<model>/…`; looked at before any download. */
  readonly modelDir?: string | null;
  /** Allow downloading the model when it is not local (default: only when no modelDir is given). */
  readonly allowRemote?: boolean;
  /** Where downloads are cached. */
  readonly cacheDir?: string | null;
  /** Give up loading after this long (a download that hangs must not hang ingest). Default 120 s. */
  readonly loadTimeoutMs?: number;
}

interface Pending {
  resolve(v: Float32Array[]): void;
  reject(e: Error): void;
}

/**
 * The worker: next to the bundle in dist/, or the TypeScript source when running from sources
 * (tests, benchmarks), loaded through tsx's require hook because module hooks do not reach workers.
 */
function startWorker(): Worker {
  const bundled = join(__dirname, 'embedWorker.js');
  if (existsSync(bundled)) return new Worker(bundled);
  const source = join(__dirname, 'embedWorker.ts');
  return new Worker(`require('tsx/cjs'); require(${JSON.stringify(source)});`, { eval: true });
}

/**
 * transformers.js feature extraction in a worker thread. `load()` resolves once the model is ready
 * or rejects with EmbeddingModelUnavailableError naming the model and how to point at a local copy.
 */
export class TransformersEmbedder implements Embedder {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private queue: Promise<unknown> = Promise.resolve();
  private exited: Error | null = null;

  private constructor(
    private readonly worker: Worker,
    readonly info: EmbedderInfo,
  ) {
    worker.on('message', (m: WorkerReply) => this.onReply(m));
    worker.on('error', (err) => this.failAll(new EmbeddingModelUnavailableError(info.model, `the embedding worker failed: ${err.message}`)));
    worker.on('exit', (code) => this.failAll(new EmbeddingModelUnavailableError(info.model, `the embedding worker exited (code ${code})`)));
    // A 'message' listener refs the worker's port again: only a pending embed may keep the process alive.
    worker.unref();
  }

  /**
   * Loads the embedder a pipeline configuration names (model, revision, dtype, pooling,
   * normalisation) and checks it produces the dimensions the pipeline expects.
   * @throws EmbeddingModelUnavailableError when it cannot be loaded or its dimensions differ.
   */
  static async loadFor(info: EmbedderInfo, options: { readonly modelDir?: string } = {}): Promise<TransformersEmbedder> {
    const embedder = await TransformersEmbedder.load({ model: info.model, dtype: info.dtype, revision: info.revision, pooling: info.pooling, normalize: info.normalize, ...(options.modelDir ? { modelDir: options.modelDir } : {}) });
    if (embedder.info.dimensions !== info.dimensions) {
      await embedder.close();
      throw new EmbeddingModelUnavailableError(info.model, `it produces ${embedder.info.dimensions}-dimensional vectors but the pipeline expects ${info.dimensions}`);
    }
    return embedder;
  }

  static async load(options: TransformersEmbedderOptions): Promise<TransformersEmbedder> {
    const worker = startWorker();
    worker.unref();
    const modelDir = options.modelDir ?? null;
    const request: WorkerRequest = {
      type: 'init',
      model: options.model,
      revision: options.revision ?? 'main',
      dtype: options.dtype ?? 'q8',
      modelDir,
      allowRemote: options.allowRemote ?? modelDir === null,
      cacheDir: options.cacheDir ?? null,
    };
    let timer: NodeJS.Timeout | undefined;
    let listeners: { message: (m: WorkerReply) => void; error: (e: Error) => void; exit: (code: number) => void } | undefined;
    try {
      const dimensions = await new Promise<number>((resolve, reject) => {
        const limit = options.loadTimeoutMs ?? 120_000;
        timer = setTimeout(() => reject(new Error(`loading took longer than ${Math.round(limit / 1000)} s`)), limit);
        listeners = {
          message: (m) => (m.type === 'ready' ? resolve(m.dimensions) : m.type === 'init-failed' ? reject(new Error(m.message)) : undefined),
          error: reject,
          exit: (code) => reject(new Error(`the embedding worker exited (code ${code})`)),
        };
        worker.on('message', listeners.message).on('error', listeners.error).on('exit', listeners.exit);
        worker.postMessage(request);
      });
      return new TransformersEmbedder(worker, {
        model: options.model,
        revision: request.revision,
        dtype: request.dtype,
        dimensions,
        pooling: options.pooling ?? 'mean',
        normalize: options.normalize ?? true,
      });
    } catch (err) {
      await worker.terminate();
      throw new EmbeddingModelUnavailableError(options.model, oneLine((err as Error).message));
    } finally {
      clearTimeout(timer);
      // Only our own listeners: Worker uses listener bookkeeping of its own to ref its port.
      if (listeners) worker.off('message', listeners.message).off('error', listeners.error).off('exit', listeners.exit);
    }
  }

  embed(texts: readonly string[], signal?: AbortSignal): Promise<Float32Array[]> {
    if (texts.length === 0) return Promise.resolve([]);
    const run = async (): Promise<Float32Array[]> => {
      if (signal?.aborted) throw new CancelledError('embedding');
      if (this.exited) throw this.exited;
      const id = this.nextId++;
      const result = new Promise<Float32Array[]>((resolve, reject) => this.pending.set(id, { resolve, reject }));
      this.worker.ref();
      this.worker.postMessage({ type: 'embed', id, texts, pooling: this.info.pooling, normalize: this.info.normalize } satisfies WorkerRequest);
      const onAbort = (): void => {
        // The batch in flight finishes in the worker; its result is dropped.
        const p = this.pending.get(id);
        this.pending.delete(id);
        p?.reject(new CancelledError('embedding'));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      try {
        return await result;
      } finally {
        signal?.removeEventListener('abort', onAbort);
        if (this.pending.size === 0) this.worker.unref();
      }
    };
    const next = this.queue.then(run, run);
    this.queue = next.catch(() => undefined);
    return next;
  }

  async close(): Promise<void> {
    this.failAll(new EmbeddingModelUnavailableError(this.info.model, 'the embedder was closed'));
    await this.worker.terminate();
  }

  private onReply(m: WorkerReply): void {
    if (m.type !== 'embedded' && m.type !== 'embed-failed') return;
    const p = this.pending.get(m.id);
    if (!p) return;
    this.pending.delete(m.id);
    if (m.type === 'embed-failed') {
      p.reject(new Error(`embedding failed: ${m.message}`));
      return;
    }
    const out: Float32Array[] = [];
    for (let i = 0; i < m.vectors.length; i += m.dimensions) out.push(m.vectors.slice(i, i + m.dimensions));
    p.resolve(out);
  }

  private failAll(err: Error): void {
    this.exited ??= err;
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }
}

const oneLine = (s: string): string => s.replace(/\s*\n\s*/g, ' ').slice(0, 500);
