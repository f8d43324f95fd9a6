import { resolve } from 'node:path';
import { TransformersEmbedder } from '../adapters/transformers/transformersEmbedder.js';
import { EmbeddingModelUnavailableError } from '../core/errors.js';
import type { EmbedderInfo } from '../core/pipeline/pipelineConfig.js';
import type { Io, ParsedArgs } from './cliSupport.js';

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
