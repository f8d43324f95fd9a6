import type { ChunkerConfig } from '../chunking/chunker.js';
import { DEFAULT_CHUNKER } from '../chunking/chunker.js';
import type { Hasher } from '../eventLog.js';
import { digestOf } from '../ids.js';

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

/** The key vectors are stored and reused under (ChunkEmbedded.embedding_model). */
export function embedderKey(info: EmbedderInfo): string {
  return `${info.model}@${info.revision}/${info.dtype}/${info.pooling}${info.normalize ? '/norm' : ''}/${info.dimensions}`;
}

/** Everything that changes what the pipeline produces. Its fingerprint is the pipeline version. */
export interface PipelineConfig {
  readonly chunker: ChunkerConfig;
  readonly embedder: EmbedderInfo;
  readonly retrieval: { readonly k: number; readonly mode: 'vector' | 'lexical' | 'hybrid' };
  readonly prompt: { readonly template: string };
  readonly generator: { readonly model: string };
}

export const DEFAULT_PIPELINE: PipelineConfig = {
  chunker: DEFAULT_CHUNKER,
  embedder: { model: 'Xenova/all-MiniLM-L6-v2', revision: 'main', dtype: 'q8', dimensions: 384, pooling: 'mean', normalize: true },
  retrieval: { k: 8, mode: 'hybrid' },
  prompt: { template: 'cited-answer-v1' },
  generator: { model: 'llama3.2' },
};

/** JSON with object keys sorted at every level, so equal configs always hash alike. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** The pipeline version of a configuration: `pv-` and 12 hex digits of its canonical JSON's hash. */
export function pipelineVersionOf(config: PipelineConfig, hasher: Hasher): string {
  return `pv-${digestOf(hasher, ['pipeline', canonicalJson(config)]).slice(0, 12)}`;
}
