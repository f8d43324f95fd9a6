import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Embedder } from '../../app/embedding/embedder.js';
import type { EmbedderInfo } from '../../core/pipeline/pipelineConfig.js';
import { CancelledError, EmbeddingModelUnavailableError, EmbeddingTimeoutError } from '../../core/errors.js';
import type { InitRequest, WorkerReply, WorkerRequest } from './embedProtocol.js';

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
  /** Give up on a batch the model has not answered after this long (default $RAG_LEDGER_EMBED_TIMEOUT seconds, else 120 s). */
  readonly batchTimeoutMs?: number;
}

interface Pending {
  resolve(v: Float32Array[]): void;
  reject(e: Error): void;
}

/** Default per-batch deadline: a model that returns nothing for this long is stuck. */
export const DEFAULT_BATCH_TIMEOUT_MS = 120_000;

/**
 * The per-batch deadline: the option, else $RAG_LEDGER_EMBED_TIMEOUT (seconds), else 120 s.
 */
export function batchTimeoutMsFrom(option: number | undefined): number {
  if (option !== undefined && option > 0) return option;
  const env = Number(process.env.RAG_LEDGER_EMBED_TIMEOUT);
  return Number.isFinite(env) && env > 0 ? env * 1000 : DEFAULT_BATCH_TIMEOUT_MS;
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

/** Starts a worker and loads the model in it; rejects with the reason when it cannot. */
async function startLoaded(request: InitRequest, limit: number): Promise<{ worker: Worker; dimensions: number }> {
  const worker = startWorker();
  worker.unref();
  let timer: NodeJS.Timeout | undefined;
  let listeners: { message: (m: WorkerReply) => void; error: (e: Error) => void; exit: (code: number) => void } | undefined;
  try {
    const dimensions = await new Promise<number>((resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`loading took longer than ${Math.round(limit / 1000)} s`)), limit);
      listeners = {
        message: (m) => (m.type === 'ready' ? resolve(m.dimensions) : m.type === 'init-failed' ? reject(new Error(m.message)) : undefined),
        error: reject,
        exit: (code) => reject(new Error(`the embedding worker exited (code ${code})`)),
      };
      worker.on('message', listeners.message).on('error', listeners.error).on('exit', listeners.exit);
      worker.postMessage(request);
    });
    return { worker, dimensions };
  } catch (err) {
    await worker.terminate();
    throw err;
  } finally {
    clearTimeout(timer);
    // Only our own listeners: Worker uses listener bookkeeping of its own to ref its port.
    if (listeners) worker.off('message', listeners.message).off('error', listeners.error).off('exit', listeners.exit);
  }
}

/**
 * transformers.js feature extraction in a worker thread. `load()` resolves once the model is ready
 * or rejects with EmbeddingModelUnavailableError naming the model and how to point at a local copy.
 * Every batch has a deadline: a batch the model does not answer in time is rejected with
 * EmbeddingTimeoutError, the stuck worker is terminated, and the next batch starts a fresh one.
 */
export class TransformersEmbedder implements Embedder {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private queue: Promise<unknown> = Promise.resolve();
  private exited: Error | null = null;
  /** null after a batch timed out: the next batch starts a new worker. */
  private worker: Worker | null;
  /** The batch the worker is computing, and its deadline (kept when the caller cancels: a stuck worker is still replaced). */
  private inFlight: { readonly id: number; readonly timer: NodeJS.Timeout; readonly over: Promise<void>; readonly end: () => void } | null = null;
  private readonly listeners = {
    message: (m: WorkerReply): void => this.onReply(m),
    error: (err: Error): void => this.failAll(new EmbeddingModelUnavailableError(this.info.model, `the embedding worker failed: ${err.message}`)),
    exit: (code: number): void => this.failAll(new EmbeddingModelUnavailableError(this.info.model, `the embedding worker exited (code ${code})`)),
  };
  /** Texts sent to the model so far (how much real embedding work was done). */
  textsEmbedded = 0;

  private constructor(
    worker: Worker,
    readonly info: EmbedderInfo,
    private readonly request: InitRequest,
    private readonly loadTimeoutMs: number,
    private readonly batchTimeoutMs: number,
  ) {
    this.worker = worker;
    this.attach(worker);
  }

  private attach(worker: Worker): void {
    worker.on('message', this.listeners.message).on('error', this.listeners.error).on('exit', this.listeners.exit);
    // A 'message' listener refs the worker's port again: only a pending embed may keep the process alive.
    worker.unref();
  }

  /**
   * Loads the embedder a pipeline configuration names (model, revision, dtype, pooling,
   * normalisation) and checks it produces the dimensions the pipeline expects.
   * @throws EmbeddingModelUnavailableError when it cannot be loaded or its dimensions differ.
   */
  static async loadFor(info: EmbedderInfo, options: { readonly modelDir?: string; readonly batchTimeoutMs?: number } = {}): Promise<TransformersEmbedder> {
    const embedder = await TransformersEmbedder.load({
      model: info.model,
      dtype: info.dtype,
      revision: info.revision,
      pooling: info.pooling,
      normalize: info.normalize,
      ...(options.modelDir ? { modelDir: options.modelDir } : {}),
      ...(options.batchTimeoutMs !== undefined ? { batchTimeoutMs: options.batchTimeoutMs } : {}),
    });
    if (embedder.info.dimensions !== info.dimensions) {
      await embedder.close();
      throw new EmbeddingModelUnavailableError(info.model, `it produces ${embedder.info.dimensions}-dimensional vectors but the pipeline expects ${info.dimensions}`);
    }
    return embedder;
  }

  static async load(options: TransformersEmbedderOptions): Promise<TransformersEmbedder> {
    const modelDir = options.modelDir ?? null;
    const request: InitRequest = {
      type: 'init',
      model: options.model,
      revision: options.revision ?? 'main',
      dtype: options.dtype ?? 'q8',
      modelDir,
      allowRemote: options.allowRemote ?? modelDir === null,
      cacheDir: options.cacheDir ?? null,
    };
    const loadTimeoutMs = options.loadTimeoutMs ?? 120_000;
    let started: { worker: Worker; dimensions: number };
    try {
      started = await startLoaded(request, loadTimeoutMs);
    } catch (err) {
      throw new EmbeddingModelUnavailableError(options.model, oneLine((err as Error).message));
    }
    return new TransformersEmbedder(
      started.worker,
      {
        model: options.model,
        revision: request.revision,
        dtype: request.dtype,
        dimensions: started.dimensions,
        pooling: options.pooling ?? 'mean',
        normalize: options.normalize ?? true,
      },
      request,
      loadTimeoutMs,
      batchTimeoutMsFrom(options.batchTimeoutMs),
    );
  }

  embed(texts: readonly string[], signal?: AbortSignal): Promise<Float32Array[]> {
    if (texts.length === 0) return Promise.resolve([]);
    const run = async (): Promise<Float32Array[]> => {
      if (signal?.aborted) throw new CancelledError('embedding');
      if (this.exited) throw this.exited;
      const worker = await this.liveWorker(signal);
      if (signal?.aborted) throw new CancelledError('embedding');
      const id = this.nextId++;
      const result = new Promise<Float32Array[]>((resolve, reject) => this.pending.set(id, { resolve, reject }));
      worker.ref();
      this.textsEmbedded += texts.length;
      worker.postMessage({ type: 'embed', id, texts, pooling: this.info.pooling, normalize: this.info.normalize } satisfies WorkerRequest);
      const timer = setTimeout(() => this.onTimeout(id, texts.length), this.batchTimeoutMs);
      // The deadline alone never keeps the process alive (a pending batch refs the worker).
      timer.unref();
      let end = (): void => undefined;
      const over = new Promise<void>((resolve) => (end = resolve));
      this.inFlight = { id, timer, over, end };
      const onAbort = (): void => {
        // The batch in flight finishes in the worker (its deadline still runs); its result is dropped.
        const p = this.pending.get(id);
        this.pending.delete(id);
        p?.reject(new CancelledError('embedding'));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      try {
        return await result;
      } finally {
        signal?.removeEventListener('abort', onAbort);
        if (this.pending.size === 0) this.worker?.unref();
      }
    };
    const next = this.queue.then(run, run);
    this.queue = next.catch(() => undefined);
    return next;
  }

  /** The worker, started again (model loaded again) when the previous one was stopped after a timeout. */
  private async liveWorker(signal?: AbortSignal): Promise<Worker> {
    // A cancelled batch may still be computing: wait for it (or for its deadline, or a cancel) before
    // sending more. Its deadline keeps the process alive meanwhile: someone is waiting.
    if (this.inFlight) {
      this.inFlight.timer.ref();
      let onAbort = (): void => undefined;
      const aborted = new Promise<never>((_, reject) => {
        onAbort = () => reject(new CancelledError('embedding'));
        signal?.addEventListener('abort', onAbort, { once: true });
      });
      try {
        await Promise.race([this.inFlight.over, aborted]);
      } finally {
        signal?.removeEventListener('abort', onAbort);
      }
    }
    if (this.worker) return this.worker;
    let started: { worker: Worker; dimensions: number };
    try {
      started = await startLoaded(this.request, this.loadTimeoutMs);
    } catch (err) {
      this.exited ??= new EmbeddingModelUnavailableError(this.info.model, `restarting it after a timeout failed: ${oneLine((err as Error).message)}`);
      throw this.exited;
    }
    if (this.exited) {
      await started.worker.terminate();
      throw this.exited;
    }
    this.worker = started.worker;
    this.attach(started.worker);
    return started.worker;
  }

  /** A batch's deadline passed: reject it and stop the stuck worker (the next batch starts another). */
  private onTimeout(id: number, texts: number): void {
    if (this.inFlight?.id !== id) return;
    this.endInFlight();
    const worker = this.worker;
    this.worker = null;
    if (worker) {
      worker.off('message', this.listeners.message).off('error', this.listeners.error).off('exit', this.listeners.exit);
      void worker.terminate().catch(() => undefined);
    }
    const p = this.pending.get(id);
    this.pending.delete(id);
    p?.reject(new EmbeddingTimeoutError(this.info.model, Math.round(this.batchTimeoutMs / 100) / 10, texts));
  }

  async close(): Promise<void> {
    this.failAll(new EmbeddingModelUnavailableError(this.info.model, 'the embedder was closed'));
    this.endInFlight();
    const worker = this.worker;
    this.worker = null;
    // An unref'd worker would let the process exit while this awaits it (a CLI command that failed
    // mid-ingest would end with code 0 and its lock left behind): hold the process until it is gone.
    worker?.ref();
    await worker?.terminate();
  }

  private onReply(m: WorkerReply): void {
    if (m.type !== 'embedded' && m.type !== 'embed-failed') return;
    if (this.inFlight?.id === m.id) this.endInFlight();
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

  private endInFlight(): void {
    if (!this.inFlight) return;
    clearTimeout(this.inFlight.timer);
    this.inFlight.end();
    this.inFlight = null;
  }

  private failAll(err: Error): void {
    this.exited ??= err;
    this.endInFlight();
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }
}

const oneLine = (s: string): string => s.replace(/\s*\n\s*/g, ' ').slice(0, 500);
