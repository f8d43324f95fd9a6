import { randomUUID } from 'node:crypto';
import type { Ledger } from './ledger.js';
import type { LanceVectorIndex } from './lancedb/lanceVectorIndex.js';
import type { OllamaGenerator } from './ollama/ollamaGenerator.js';
import type { TransformersEmbedder } from './transformers/transformersEmbedder.js';
import type { EmbedderCache } from './engineEmbedders.js';
import { unavailableMessage } from './engineEmbedders.js';
import type { WorkOptions } from './engineSettings.js';
import type { EngineDeps } from '../app/engineDeps.js';
import type { CompareQuestion } from '../app/compare/compareService.js';
import { comparePipelines } from '../app/compare/comparePipelines.js';
import { ReplayService } from '../app/replay/replayService.js';
import { EmbeddingModelUnavailableError, ValidationError } from '../core/errors.js';
import type { PipelineConfig } from '../core/pipeline/pipelineConfig.js';
import { embedderKey } from '../core/pipeline/pipelineConfig.js';
import type { CompareReport, ReanswerReport, ReplayReport } from '../shared/explorerModel.js';

/**
 * What the event-log explorer asks of the engine beyond reading: replaying a recorded question,
 * answering it again from a replay, and comparing two versions over every question. The engine
 * runs each of these in its queue; they share its store, index, embedding model and generator.
 */
export interface ExplorerOpsContext {
  readonly ledger: Ledger;
  readonly index: LanceVectorIndex;
  readonly embedders: EmbedderCache;
  deps(): EngineDeps;
  generator(model: string): OllamaGenerator;
  /** The caller's signal, also aborted when the engine closes. */
  answerSignal(signal: AbortSignal | undefined): AbortSignal;
  configuredPipeline(): PipelineConfig;
  settingsGeneratorModel(): string;
}

export interface ReanswerOptions {
  readonly signal?: AbortSignal;
  readonly onText?: (text: string) => void;
  readonly onFailure?: (f: { reason: string; message: string; hint: string }) => void;
}

export async function replayQuestion(ctx: ExplorerOpsContext, queryId: string, version: string, options: { readonly asOf?: 'now' | 'asked' | number; readonly signal?: AbortSignal }): Promise<ReplayReport> {
  const record = ctx.ledger.readModels.pipeline(version);
  if (!record) throw new ValidationError(`pipeline version ${version} is not defined`, [], 'Pick one from the Pipelines view.');
  const config = record.config as unknown as PipelineConfig;
  let notice: string | undefined;
  const embedder = await ctx.embedders.retrievalEmbedder(config, config.retrieval.mode, (err) => (notice = `Full-text retrieval only: ${unavailableMessage(err)}`));
  const asked = ctx.ledger.readModels.query(queryId);
  if (!asked) throw new ValidationError(`no question ${queryId} in this store`, [], 'Pick a question from the Questions view.');
  const asOfPosition = options.asOf === 'asked' ? asked.position : typeof options.asOf === 'number' ? options.asOf : undefined;
  const report = await new ReplayService({ ...ctx.deps(), index: ctx.index, newId: randomUUID }).replay(queryId, {
    pipelineVersion: version,
    embedder,
    ...(asOfPosition !== undefined ? { asOfPosition } : {}),
    ...(notice ? { notice } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  });
  await ctx.ledger.projections.flush();
  return report;
}

export async function reanswerReplay(ctx: ExplorerOpsContext, queryId: string, replayId: string, options: ReanswerOptions): Promise<ReanswerReport> {
  const replayed = await replayVersion(ctx.ledger, queryId, replayId);
  const config = ctx.ledger.readModels.pipeline(replayed)?.config as unknown as PipelineConfig | undefined;
  const generator = ctx.generator(config?.generator.model ?? ctx.settingsGeneratorModel());
  const report = await new ReplayService({ ...ctx.deps(), index: ctx.index, newId: randomUUID }).reanswer(queryId, replayId, {
    generator,
    signal: ctx.answerSignal(options.signal),
    ...(options.onText ? { onText: options.onText } : {}),
    ...(options.onFailure ? { onFailure: options.onFailure } : {}),
  });
  await ctx.ledger.projections.flush();
  return report;
}

async function replayVersion(ledger: Ledger, queryId: string, replayId: string): Promise<string> {
  for await (const e of ledger.events.readStream(`query-${queryId}`)) if (e.type === 'ContextReplayed' && e.data.replay_id === replayId) return e.data.pipeline_version;
  throw new ValidationError(`question ${queryId} has no replay ${replayId}`, [], 'Replay the question first.');
}

export async function compareVersions(ctx: ExplorerOpsContext, from: string, to: string, options: WorkOptions & { readonly k?: number; readonly golden?: readonly CompareQuestion[] }): Promise<CompareReport> {
  const extra: TransformersEmbedder[] = [];
  // The settings' embedder, when its dimensions are known (else no version shares the window's model).
  let activeKey: string | undefined;
  try {
    activeKey = embedderKey(ctx.configuredPipeline().embedder);
  } catch {
    activeKey = undefined;
  }
  try {
    return await comparePipelines({ events: ctx.ledger.events, readModels: ctx.ledger.readModels, index: ctx.index }, from, to, {
      // The window's model serves the versions that share it; another is loaded for this comparison only.
      embedderFor: async (config) => {
        if (embedderKey(config.embedder) === activeKey || ctx.embedders.loadedKey === embedderKey(config.embedder)) {
          let notice: string | undefined;
          const embedder = await ctx.embedders.retrievalEmbedder(config, config.retrieval.mode, (err) => (notice = unavailableMessage(err)));
          return { embedder, ...(notice ? { notice } : {}) };
        }
        try {
          const embedder = await ctx.embedders.loadSeparately(config);
          extra.push(embedder);
          return { embedder };
        } catch (err) {
          if (!(err instanceof EmbeddingModelUnavailableError)) throw err;
          return { embedder: null, notice: `${err.message.replace(/\.$/, '')}; retrieval is full-text only` };
        }
      },
      ...(options.k !== undefined ? { k: options.k } : {}),
      ...(options.golden ? { golden: options.golden } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
      onProgress: (p) => options.onProgress?.({ phase: 'compare', done: p.done, total: p.total }),
    });
  } finally {
    for (const e of extra) await e.close();
  }
}
