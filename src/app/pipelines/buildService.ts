import { ValidationError } from '../../core/errors.js';
import type { PipelineConfig } from '../../core/pipeline/pipelineConfig.js';
import type { Embedder } from '../embedding/embedder.js';
import type { EmbedReport } from '../embedding/embedService.js';
import { EmbedService } from '../embedding/embedService.js';
import type { EngineDeps } from '../engineDeps.js';
import type { SyncReport } from '../indexing/indexService.js';
import { IndexService } from '../indexing/indexService.js';
import type { VectorIndex } from '../indexing/vectorIndex.js';
import { IngestService } from '../ingest/ingestService.js';

export interface BuildDeps extends EngineDeps {
  readonly index: VectorIndex;
}

export type BuildPhase = 'chunk' | 'embed' | 'index';

export interface BuildOptions {
  /** The version's embedder; null builds a lexical-only table (the vectors follow in a later build). */
  readonly embedder: Embedder | null;
  readonly signal?: AbortSignal;
  readonly onProgress?: (p: { readonly phase: BuildPhase; readonly done: number; readonly total: number }) => void;
}

export interface BuildReport {
  readonly pipelineVersion: string;
  readonly chunked: { readonly documents: number; readonly chunks: number };
  /** null when no embedder was given. */
  readonly embedding: EmbedReport | null;
  readonly indexing: SyncReport;
  /** The version after the build: its chunks, and how many have a vector (computed now or reused). */
  readonly totals: { readonly chunks: number; readonly withVectors: number; readonly indexed: number };
}

/**
 * Builds a pipeline version from the log alone: chunk every live document's latest submitted
 * content (DocumentSubmitted carries it, so no source file is read), embed what has no vector
 * under the version's embedder (vectors already stored under the same embedder are reused), and
 * index into the version's own table. The active version's table is never touched, so questions
 * keep being answered from it while a new version is built in its shadow; `activate` cuts over.
 * Every step is idempotent: a cancelled or crashed build resumes where it stopped.
 */
export class PipelineBuildService {
  constructor(private readonly deps: BuildDeps) {}

  async build(pipelineVersion: string, options: BuildOptions): Promise<BuildReport> {
    await this.deps.runner.catchUp(options.signal ? { signal: options.signal } : {});
    const config = this.configOf(pipelineVersion);
    const signal = options.signal ? { signal: options.signal } : {};
    const progress = (phase: BuildPhase) => (options.onProgress ? { onProgress: (p: { done: number; total?: number }) => options.onProgress!({ phase, done: p.done, total: p.total ?? p.done }) } : {});
    const chunked = await new IngestService(this.deps).chunkPending({ chunker: config.chunker, pipelineVersion, ...signal, ...progress('chunk') });
    const embedding = options.embedder ? await new EmbedService(this.deps).embedPending({ pipelineVersion, embedder: options.embedder, ...signal, ...progress('embed') }) : null;
    const indexing = await new IndexService(this.deps).sync(pipelineVersion, { ...signal, ...progress('index') });
    await this.deps.runner.catchUp();
    const p = this.deps.readModels.pipelineProgress(pipelineVersion);
    return { pipelineVersion, chunked, embedding, indexing, totals: { chunks: p.chunks, withVectors: p.embedded, indexed: p.indexed } };
  }

  private configOf(pipelineVersion: string): PipelineConfig {
    const record = this.deps.readModels.pipeline(pipelineVersion);
    if (!record) throw new ValidationError(`pipeline version ${pipelineVersion} is not defined`, [], 'Run `rag-ledger pipelines` to list the defined versions.');
    return record.config as unknown as PipelineConfig;
  }
}
