import type { PipelineSettings } from '../adapters/engineSettings.js';
import { DEFAULT_PIPELINE } from '../core/pipeline/pipelineConfig.js';

/** Reads one `ragLedger.*` setting (key without the prefix); `fallback` when it is not set. */
export type SettingReader = <T>(key: string, fallback: T) => T;

/**
 * `ragLedger.embedding.dimensions`: a positive integer overrides the model's size; unset (null,
 * the default) or anything else leaves it to the model's config.json.
 */
export function dimensionsSetting(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isSafeInteger(value) && value > 0 ? value : undefined;
}

/**
 * The pipeline the settings describe. The embedding dimensions are there only when the setting
 * gives them: the engine otherwise reads them from the model's config.json.
 */
export function pipelineFromConfiguration(get: SettingReader): PipelineSettings {
  const d = DEFAULT_PIPELINE;
  const { dimensions: _fromModel, ...embedder } = d.embedder;
  const dimensions = dimensionsSetting(get<unknown>('embedding.dimensions', null));
  return {
    chunker: {
      markdownMaxChars: get('chunking.markdownMaxChars', d.chunker.markdownMaxChars),
      codeWindowLines: get('chunking.codeWindowLines', d.chunker.codeWindowLines),
      codeOverlapLines: get('chunking.codeOverlapLines', d.chunker.codeOverlapLines),
      textMaxChars: get('chunking.textMaxChars', d.chunker.textMaxChars),
    },
    embedder: {
      ...embedder,
      model: get('embedding.model', d.embedder.model),
      ...(dimensions !== undefined ? { dimensions } : {}),
      dtype: get('embedding.dtype', d.embedder.dtype),
    },
    retrieval: { k: get('retrieval.k', d.retrieval.k), mode: get<'hybrid' | 'vector' | 'lexical'>('retrieval.mode', d.retrieval.mode) },
    prompt: d.prompt,
    generator: { model: get('ollama.model', d.generator.model) },
  };
}
