import { resolve } from 'node:path';
import { TransformersEmbedder } from '../adapters/transformers/transformersEmbedder.js';
import { EmbeddingModelUnavailableError } from '../core/errors.js';
import type { Ledger } from '../adapters/ledger.js';
import type { EmbedderInfo, PipelineConfig } from '../core/pipeline/pipelineConfig.js';
import type { RetrievalMode } from '../core/retrieval/fusion.js';
import type { Io, ParsedArgs } from './cliSupport.js';
import { CheckFailed, UsageError } from './cliSupport.js';

/** The local model folder: --model-dir, else $RAG_LEDGER_MODEL_DIR, else none. */
export function modelDirFrom(args: ParsedArgs): string | null {
  const dir = (args.values['model-dir'] as string | undefined) ?? process.env.RAG_LEDGER_MODEL_DIR ?? null;
  return dir === null || dir === '' ? null : resolve(dir);
}

/**
 * Loads the pipeline's embedding model. When it cannot be loaded, prints one clear line (what,
 * why, how to point at a local copy) and returns null: callers carry on lexically.
 */
export async function loadEmbedder(args: ParsedArgs, io: Io, command: string, info: EmbedderInfo): Promise<TransformersEmbedder | null> {
  try {
    const embedder = await TransformersEmbedder.load({ model: info.model, dtype: info.dtype, revision: info.revision, pooling: info.pooling, normalize: info.normalize, modelDir: modelDirFrom(args) });
    if (embedder.info.dimensions !== info.dimensions) {
      await embedder.close();
      throw new EmbeddingModelUnavailableError(info.model, `it produces ${embedder.info.dimensions}-dimensional vectors but the pipeline expects ${info.dimensions}`);
    }
    return embedder;
  } catch (err) {
    if (!(err instanceof EmbeddingModelUnavailableError)) throw err;
    io.err(`rag-ledger ${command}: ${err.message.replace(/\.$/, '')}. ${err.hint}\n`);
    return null;
  }
}

const MODES: readonly RetrievalMode[] = ['hybrid', 'vector', 'lexical'];

/** --mode, checked; undefined when not given. */
export function retrievalModeOption(raw: unknown): RetrievalMode | undefined {
  if (raw === undefined) return undefined;
  if (typeof raw !== 'string' || !MODES.includes(raw as RetrievalMode)) throw new UsageError(`--mode must be one of ${MODES.join(', ')}, got ${JSON.stringify(raw)}`);
  return raw as RetrievalMode;
}

/** The dtypes transformers.js loads (model_<suffix>.onnx files). */
export const EMBEDDING_DTYPES = ['q8', 'int8', 'uint8', 'fp32', 'fp16', 'q4', 'q4f16', 'bnb4'] as const;

/** The pipeline version to query (--pipeline, else the active one) and its configuration. */
export async function pipelineToQuery(ledger: Ledger, requested: string | undefined): Promise<{ version: string; config: PipelineConfig }> {
  await ledger.runner.catchUp();
  const version = requested ?? ledger.readModels.activePipeline();
  if (version === undefined) throw new CheckFailed('this store has no active pipeline version yet; run rag-ledger ingest DIR first');
  const record = ledger.readModels.pipeline(version);
  if (!record) throw new CheckFailed(`pipeline version ${version} is not defined; run rag-ledger pipelines to list them`);
  return { version, config: record.config as unknown as PipelineConfig };
}
