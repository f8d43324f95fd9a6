import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { TransformersEmbedder } from '../adapters/transformers/transformersEmbedder.js';
import { settleEmbedderDimensions } from '../adapters/transformers/modelDimensions.js';
import { EmbeddingModelUnavailableError } from '../core/errors.js';
import type { Ledger } from '../adapters/ledger.js';
import type { EmbedderInfo, PipelineConfig } from '../core/pipeline/pipelineConfig.js';
import { DEFAULT_PIPELINE } from '../core/pipeline/pipelineConfig.js';
import type { RetrievalMode } from '../core/retrieval/fusion.js';
import type { Io, Options, ParsedArgs } from './cliSupport.js';
import { CheckFailed, UsageError, intOption } from './cliSupport.js';
import { PROMPT_TEMPLATES } from '../core/answer/prompt.js';

/** The local model folder: --model-dir, else $RAG_LEDGER_MODEL_DIR, else none. */
export function modelDirFrom(args: ParsedArgs): string | null {
  const dir = (args.values['model-dir'] as string | undefined) ?? process.env.RAG_LEDGER_MODEL_DIR ?? null;
  return dir === null || dir === '' ? null : resolve(dir);
}

/**
 * The store remembers, on this machine, the model folder its last ingest loaded the model from
 * (`<store>/model-folder.json`, never in the log: a path is local to one machine), so `ask`,
 * `search` and the rest need no --model-dir again.
 */
const REMEMBERED = 'model-folder.json';

function rememberedModelDir(store: string): string | null {
  try {
    const dir = (JSON.parse(readFileSync(join(store, REMEMBERED), 'utf8')) as { modelDirectory?: unknown }).modelDirectory;
    return typeof dir === 'string' && dir !== '' ? dir : null;
  } catch {
    return null;
  }
}

/** Records the folder a command loaded the model from, for later commands on this store. */
export function rememberModelDir(store: string, dir: string): void {
  try {
    if (rememberedModelDir(store) !== dir) writeFileSync(join(store, REMEMBERED), `${JSON.stringify({ modelDirectory: dir })}\n`);
  } catch {
    // Remembering is a convenience; the flag still works.
  }
}

/**
 * Loads the pipeline's embedding model from --model-dir, $RAG_LEDGER_MODEL_DIR, or the folder the
 * store remembers (in that order); `remember` (ingest, pipelines build) records an explicit folder
 * that worked. When the model cannot be loaded, prints one clear line (what, why, how to point at a
 * local copy) and returns null: callers carry on lexically.
 */
export async function loadEmbedder(args: ParsedArgs, io: Io, command: string, info: EmbedderInfo, options: { readonly remember?: boolean } = {}): Promise<TransformersEmbedder | null> {
  const folder = modelFolder(args);
  try {
    const timeout = intOption(args.values['embed-timeout'], 'embed-timeout', 1);
    const embedder = await TransformersEmbedder.loadFor(info, { ...(folder.modelDir ? { modelDir: folder.modelDir } : {}), ...(timeout !== undefined ? { batchTimeoutMs: timeout * 1000 } : {}) });
    if (folder.explicit !== null && options.remember === true) rememberModelDir(args.store, folder.explicit);
    return embedder;
  } catch (err) {
    if (!(err instanceof EmbeddingModelUnavailableError)) throw err;
    io.err(modelUnavailableLine(folder, command, err));
    return null;
  }
}

export interface ModelFolder {
  /** --model-dir or $RAG_LEDGER_MODEL_DIR, else null. */
  readonly explicit: string | null;
  /** The folder the store remembers, when no explicit one is given. */
  readonly remembered: string | null;
  /** The folder models are loaded from, or null to download them. */
  readonly modelDir: string | null;
}

/** Where the model is loaded from: --model-dir, $RAG_LEDGER_MODEL_DIR, else the folder the store remembers. */
export function modelFolder(args: ParsedArgs): ModelFolder {
  const explicit = modelDirFrom(args);
  const remembered = explicit === null ? rememberedModelDir(args.store) : null;
  return { explicit, remembered, modelDir: explicit ?? remembered };
}

/** The one line on stderr that says the model could not be loaded: what, where it was looked for, what to do. */
export function modelUnavailableLine(folder: ModelFolder, command: string, why: { readonly message: string; readonly hint: string }): string {
  const from = folder.modelDir === null ? '' : ` (looked in ${folder.modelDir}${folder.remembered !== null ? ', the folder this store was last ingested with' : ''})`;
  return `rag-ledger ${command}: ${why.message.replace(/\.$/, '')}${from}. ${why.hint}\n`;
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

/** The flags that describe a pipeline configuration (ingest takes the embedding ones, pipelines define all). */
export const EMBEDDING_FLAGS = {
  'embedding-model': { type: 'string' },
  'embedding-dims': { type: 'string' },
  'embedding-dtype': { type: 'string' },
} as const satisfies Options;

export const PIPELINE_FLAGS = {
  ...EMBEDDING_FLAGS,
  'markdown-max-chars': { type: 'string' },
  'code-window-lines': { type: 'string' },
  'code-overlap-lines': { type: 'string' },
  'text-max-chars': { type: 'string' },
  k: { type: 'string' },
  mode: { type: 'string' },
  'prompt-template': { type: 'string' },
  'generator-model': { type: 'string' },
} as const satisfies Options;

export const PIPELINE_FLAGS_HELP = `  --markdown-max-chars N   Markdown sections are cut between paragraphs beyond N characters
  --code-window-lines N    code is cut into windows of N lines…
  --code-overlap-lines N   …overlapping by N lines
  --text-max-chars N       other text: paragraphs packed up to N characters
  --embedding-model ID     the embedding model
  --embedding-dims N       its vector size (default: read from the model's config.json)
  --embedding-dtype D      ${EMBEDDING_DTYPES.join(', ')}
  --k N, --mode M          retrieval depth and mode (hybrid, vector, lexical)
  --prompt-template ID     ${Object.keys(PROMPT_TEMPLATES).join(', ')}
  --generator-model NAME   the Ollama model that answers`;

/**
 * The pipeline configuration `base` becomes with the given flags applied. The embedding model's
 * vector size is part of the pipeline version: --embedding-dims, else read from the model's
 * config.json (in the model folder of loadEmbedder, else transformers.js's cache), else `base`'s
 * when the model is the same; a size the model's config.json contradicts is refused. Nothing is
 * written before this returns.
 * @throws EmbeddingDimensionsMismatchError, EmbeddingDimensionsUnknownError
 */
export function pipelineConfigFromFlags(args: ParsedArgs, base: PipelineConfig): PipelineConfig {
  const v = args.values;
  const model = (v['embedding-model'] as string | undefined) ?? base.embedder.model;
  const dtype = v['embedding-dtype'] ?? base.embedder.dtype;
  if (typeof dtype !== 'string' || !(EMBEDDING_DTYPES as readonly string[]).includes(dtype)) {
    throw new UsageError(`--embedding-dtype must be one of ${EMBEDDING_DTYPES.join(', ')}, got ${JSON.stringify(dtype)}`);
  }
  const template = (v['prompt-template'] as string | undefined) ?? base.prompt.template;
  if (!Object.prototype.hasOwnProperty.call(PROMPT_TEMPLATES, template)) {
    throw new UsageError(`--prompt-template must be one of ${Object.keys(PROMPT_TEMPLATES).join(', ')}, got ${JSON.stringify(template)}`);
  }
  const generator = (v['generator-model'] as string | undefined) ?? base.generator.model;
  if (generator.trim() === '') throw new UsageError('--generator-model needs a model name');
  const dims = intOption(v['embedding-dims'], 'embedding-dims', 1);
  const modelDir = modelDirFrom(args) ?? rememberedModelDir(args.store);
  const { dimensions: _unsettled, ...choice } = { ...base.embedder, model, dtype };
  const embedder = settleEmbedderDimensions({ ...choice, ...(dims !== undefined ? { dimensions: dims } : {}) }, { modelDir, known: base.embedder });
  return {
    chunker: {
      markdownMaxChars: intOption(v['markdown-max-chars'], 'markdown-max-chars', 1) ?? base.chunker.markdownMaxChars,
      codeWindowLines: intOption(v['code-window-lines'], 'code-window-lines', 1) ?? base.chunker.codeWindowLines,
      codeOverlapLines: intOption(v['code-overlap-lines'], 'code-overlap-lines', 0) ?? base.chunker.codeOverlapLines,
      textMaxChars: intOption(v['text-max-chars'], 'text-max-chars', 1) ?? base.chunker.textMaxChars,
    },
    embedder,
    retrieval: { k: intOption(v.k, 'k', 1) ?? base.retrieval.k, mode: retrievalModeOption(v.mode) ?? base.retrieval.mode },
    prompt: { template },
    generator: { model: generator },
  };
}

/** The active version's configuration, else the default one. */
export async function activeConfig(ledger: Ledger): Promise<{ version: string | undefined; config: PipelineConfig }> {
  await ledger.runner.catchUp();
  const version = ledger.readModels.activePipeline();
  const record = version === undefined ? undefined : ledger.readModels.pipeline(version);
  return { version, config: record ? (record.config as unknown as PipelineConfig) : DEFAULT_PIPELINE };
}
