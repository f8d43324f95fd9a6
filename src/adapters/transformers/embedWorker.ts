// Worker thread: loads a transformers.js feature-extraction pipeline and embeds batches, so the
// model never runs on the extension host's (or the CLI's) main thread.
import { parentPort } from 'node:worker_threads';
import type { EmbedRequest, InitRequest, WorkerReply, WorkerRequest } from './embedProtocol.js';

/** The part of transformers.js's FeatureExtractionPipeline used here. */
type Extractor = (texts: string[], options: { pooling: 'mean' | 'cls'; normalize: boolean }) => Promise<{ data: unknown; dims: number[] }>;

let extractor: Extractor | null = null;
const port = parentPort;
if (!port) throw new Error('embedWorker must run in a worker thread');

function reply(message: WorkerReply, transfer: ArrayBuffer[] = []): void {
  port!.postMessage(message, transfer);
}

async function init(req: InitRequest): Promise<void> {
  try {
    const { env, pipeline } = await import('@huggingface/transformers');
    env.allowRemoteModels = req.allowRemote;
    env.allowLocalModels = req.modelDir !== null;
    if (req.modelDir !== null) env.localModelPath = req.modelDir.endsWith('/') ? req.modelDir : `${req.modelDir}/`;
    if (req.cacheDir !== null) env.cacheDir = req.cacheDir;
    extractor = await pipeline('feature-extraction', req.model, { dtype: req.dtype as 'fp32', device: 'cpu', revision: req.revision });
    const probe = await extractor(['probe'], { pooling: 'mean', normalize: true });
    reply({ type: 'ready', dimensions: probe.dims[probe.dims.length - 1] as number });
  } catch (err) {
    reply({ type: 'init-failed', message: (err as Error).message ?? String(err) });
  }
}

/**
 * TEST HOOK ONLY: with RAG_LEDGER_TEST_EMBED_STALL=1 in the environment the worker is started with, every
 * batch stalls forever (a stuck model), so tests can exercise the per-batch deadline. Nothing else reads it.
 */
const stall = process.env.RAG_LEDGER_TEST_EMBED_STALL === '1';

async function embed(req: EmbedRequest): Promise<void> {
  try {
    if (!extractor) throw new Error('the model is not loaded');
    if (stall) return;
    const out = await extractor([...req.texts], { pooling: req.pooling, normalize: req.normalize });
    const data = out.data as Float32Array;
    const vectors = new Float32Array(data); // a copy we own, to transfer
    reply({ type: 'embedded', id: req.id, vectors, dimensions: out.dims[out.dims.length - 1] as number }, [vectors.buffer]);
  } catch (err) {
    reply({ type: 'embed-failed', id: req.id, message: (err as Error).message ?? String(err) });
  }
}

port.on('message', (req: WorkerRequest) => {
  if (req.type === 'init') void init(req);
  else void embed(req);
});
