import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, sep } from 'node:path';
import { EmbeddingDimensionsMismatchError, EmbeddingDimensionsUnknownError } from '../../core/errors.js';
import type { EmbedderInfo } from '../../core/pipeline/pipelineConfig.js';

/** How many dimensions a model's vectors have, and which file (and key) said so. */
export interface ModelDimensions {
  readonly dimensions: number;
  /** e.g. `hidden_size in /models/org/model/config.json`. */
  readonly source: string;
}

/** An embedder as the user chose it: the dimensions may be left to the model's config.json. */
export type EmbedderChoice = Omit<EmbedderInfo, 'dimensions'> & { readonly dimensions?: number };

/**
 * The keys of a Hugging Face `config.json` that give a transformer's output size, first match wins:
 * `hidden_size` (BERT, RoBERTa, MPNet, XLM-R, nomic-bert…), `d_model` (T5, BART), `dim` (DistilBERT),
 * `n_embd` (GPT-2).
 */
const CONFIG_KEYS = ['hidden_size', 'd_model', 'dim', 'n_embd'] as const;

/** Config files are small; anything bigger is not one. */
const MAX_CONFIG_BYTES = 1_048_576;

/**
 * The folder transformers.js downloads models into (its `.cache`, beside the installed package),
 * or null when the package cannot be found.
 */
function transformersCacheDir(): string | null {
  try {
    // Built at run time so the bundler leaves it alone (the package is external to every bundle).
    const main = require.resolve(['@huggingface', 'transformers'].join('/'));
    const marker = `${sep}@huggingface${sep}transformers${sep}`;
    const at = main.lastIndexOf(marker);
    return at < 0 ? null : join(main.slice(0, at + marker.length), '.cache');
  } catch {
    return null;
  }
}

/**
 * Where the model's files are on this machine, as transformers.js looks for them: `<modelDir>/<model>`
 * when a local model folder is given (it then loads only from there), else its download cache
 * (`<cache>/<model>`, or `<cache>/<model>/<revision>` for another revision than main).
 */
export function localModelFolder(model: string, revision: string, modelDir: string | null | undefined): string | null {
  if (modelDir) return join(modelDir, ...model.split('/'));
  const cache = transformersCacheDir();
  if (cache === null) return null;
  return join(cache, ...model.split('/'), ...(revision === 'main' ? [] : [revision]));
}

function readJson(file: string): Record<string, unknown> {
  if (statSync(file).size > MAX_CONFIG_BYTES) throw new Error(`${file} is larger than ${MAX_CONFIG_BYTES} bytes`);
  const value: unknown = JSON.parse(readFileSync(file, 'utf8'));
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new Error(`${file} does not hold a JSON object`);
  return value as Record<string, unknown>;
}

const positiveInt = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v > 0;

/**
 * The size of the vectors transformers.js's feature extraction produces with the model in `folder`,
 * from its `config.json` (see CONFIG_KEYS), else from a sentence-transformers `1_Pooling/config.json`
 * (`word_embedding_dimension`). A sentence-transformers Dense layer (`2_Dense`, `out_features`) is
 * deliberately not read: transformers.js pools the transformer's output itself and never applies it,
 * so its vectors keep the transformer's hidden size.
 * @throws Error (with the file in its message) when a config file is there but cannot be read or names no size.
 */
export function readModelDimensions(folder: string): ModelDimensions | null {
  const config = join(folder, 'config.json');
  if (existsSync(config)) {
    const json = readJson(config);
    for (const key of CONFIG_KEYS) if (positiveInt(json[key])) return { dimensions: json[key], source: `${key} in ${config}` };
  }
  const pooling = join(folder, '1_Pooling', 'config.json');
  if (existsSync(pooling)) {
    const json = readJson(pooling);
    if (positiveInt(json.word_embedding_dimension)) return { dimensions: json.word_embedding_dimension, source: `word_embedding_dimension in ${pooling}` };
  }
  if (existsSync(config)) throw new Error(`${config} names no vector size (none of ${CONFIG_KEYS.join(', ')})`);
  return null;
}

/**
 * The embedder with its dimensions settled before anything is written (they are part of the
 * pipeline version). The model's config.json is looked for in the local model folder, else in
 * transformers.js's download cache (never downloaded here):
 * - dimensions given: kept, but when the config says otherwise, EmbeddingDimensionsMismatchError;
 * - not given: the config's; without a readable config, `known`'s when it is the same model
 *   (the pipeline it derives from, or the default model), else EmbeddingDimensionsUnknownError.
 */
export function settleEmbedderDimensions(choice: EmbedderChoice, options: { readonly modelDir?: string | null; readonly known?: EmbedderInfo } = {}): EmbedderInfo {
  const folder = localModelFolder(choice.model, choice.revision, options.modelDir);
  let fromModel: ModelDimensions | null = null;
  let problem = folder === null ? 'the transformers.js cache folder was not found' : `no config.json in ${folder}`;
  if (folder !== null) {
    try {
      fromModel = readModelDimensions(folder);
    } catch (err) {
      problem = (err as Error).message.replace(/\s*\n\s*/g, ' ').slice(0, 300);
    }
  }
  if (choice.dimensions !== undefined) {
    if (fromModel && fromModel.dimensions !== choice.dimensions) throw new EmbeddingDimensionsMismatchError(choice.model, choice.dimensions, fromModel.dimensions, fromModel.source);
    return { ...choice, dimensions: choice.dimensions };
  }
  if (fromModel) return { ...choice, dimensions: fromModel.dimensions };
  const known = options.known;
  if (known && known.model === choice.model && known.revision === choice.revision) return { ...choice, dimensions: known.dimensions };
  throw new EmbeddingDimensionsUnknownError(choice.model, problem);
}
