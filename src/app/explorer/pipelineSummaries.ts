import type { PipelineConfig } from '../../core/pipeline/pipelineConfig.js';
import type { PipelineSummary } from '../../shared/explorerModel.js';
import type { ReadModels } from '../readModels.js';

/** What sets a version apart, in a few words: chunk sizes, model, retrieval, generator. */
export function describePipeline(config: PipelineConfig): string {
  const c = config.chunker;
  const model = config.embedder.model.split('/').pop() ?? config.embedder.model;
  return `chunks md ${c.markdownMaxChars} · code ${c.codeWindowLines}/${c.codeOverlapLines} lines · text ${c.textMaxChars} · ${model} ${config.embedder.dimensions}d ${config.embedder.dtype} · k ${config.retrieval.k} ${config.retrieval.mode} · ${config.generator.model}`;
}

/** Every defined version, the active one first, then the newest. */
export function pipelineSummaries(readModels: ReadModels): { pipelines: PipelineSummary[]; active: string | null } {
  const active = readModels.activePipeline() ?? null;
  const records = readModels.pipelines();
  const progress = readModels.pipelinesProgress(records.map((p) => p.pipeline_version));
  const pipelines = records
    .map((p) => ({
      version: p.pipeline_version,
      label: p.label,
      active: p.pipeline_version === active,
      built: progress.get(p.pipeline_version)?.complete ?? false,
      definedAt: p.defined_at,
      description: describePipeline(p.config as unknown as PipelineConfig),
    }))
    .sort((a, b) => Number(b.active) - Number(a.active) || b.definedAt.localeCompare(a.definedAt));
  return { pipelines, active };
}
