import { ValidationError } from '../../core/errors.js';
import type { EventStore } from '../../core/eventStore.js';
import type { PipelineConfig } from '../../core/pipeline/pipelineConfig.js';
import type { RetrievalMode } from '../../core/retrieval/fusion.js';
import type { CompareReport } from '../../shared/explorerModel.js';
import type { Embedder } from '../embedding/embedder.js';
import { pipelineSummaries } from '../explorer/pipelineSummaries.js';
import type { VectorIndex } from '../indexing/vectorIndex.js';
import type { ReadModels } from '../readModels.js';
import type { CompareQuestion, CompareSide } from './compareService.js';
import { CompareService } from './compareService.js';

export interface ComparePipelinesOptions {
  /** The embedder of a version (null: lexical), and why it is not available when it is not. */
  readonly embedderFor: (config: PipelineConfig) => Promise<{ readonly embedder: Embedder | null; readonly notice?: string }>;
  /** A golden set; without it, every recorded question (each distinct text once, its latest asking). */
  readonly golden?: readonly CompareQuestion[];
  readonly k?: number;
  /** Overrides both versions' retrieval modes. */
  readonly mode?: RetrievalMode;
  readonly signal?: AbortSignal;
  readonly onProgress?: (p: { readonly done: number; readonly total: number }) => void;
}

/**
 * Compares two pipeline versions as the explorer and `rag-ledger compare` show it: each version with
 * its own embedder and retrieval mode, over the recorded questions or a golden set, with whether
 * each answer would change (same context and prompt) or was answered again.
 */
export async function comparePipelines(deps: { readonly events: EventStore; readonly readModels: ReadModels; readonly index: VectorIndex }, from: string, to: string, options: ComparePipelinesOptions): Promise<CompareReport> {
  const { pipelines } = pipelineSummaries(deps.readModels);
  const notices: string[] = [];
  const side = async (version: string): Promise<{ side: CompareSide; k: number }> => {
    const summary = pipelines.find((p) => p.version === version);
    const record = deps.readModels.pipeline(version);
    if (!summary || !record) throw new ValidationError(`pipeline version ${version} is not defined`, [], 'List the versions with `rag-ledger pipelines` or in the Pipelines view.');
    const config = record.config as unknown as PipelineConfig;
    const wanted = options.mode ?? config.retrieval.mode;
    const loaded = wanted === 'lexical' ? { embedder: null } : await options.embedderFor(config);
    if (loaded.notice) notices.push(`${version}: ${loaded.notice}`);
    return { side: { summary, mode: loaded.embedder ? wanted : 'lexical', embedder: loaded.embedder, answering: `${config.prompt.template}|${config.generator.model}` }, k: config.retrieval.k };
  };
  const a = await side(from);
  const b = await side(to);
  let questions: readonly CompareQuestion[];
  // A question asked several times is compared once (its latest asking); a re-answer of any asking counts.
  const askings = new Map<string, string[]>();
  if (options.golden) questions = options.golden;
  else {
    const byText = new Map<string, CompareQuestion>();
    for (const q of deps.readModels.queries(Number.MAX_SAFE_INTEGER)) {
      const first = byText.get(q.query_text);
      if (!first) byText.set(q.query_text, { query: q.query_text, queryId: q.query_id });
      const latest = first?.queryId ?? q.query_id;
      askings.set(latest, [...(askings.get(latest) ?? []), q.query_id]);
    }
    questions = [...byText.values()];
  }
  if (questions.length === 0) throw new ValidationError('there are no recorded questions to compare on', [], 'Ask a few questions first, or compare over a golden set.');
  return new CompareService(deps.index).compare(a.side, b.side, questions, {
    k: options.k ?? Math.max(a.k, b.k),
    reanswered: async (queryId) => {
      for (const id of askings.get(queryId) ?? [queryId]) {
        const similarity = await reansweredSimilarity(deps.events, id, to);
        if (similarity !== null) return similarity;
      }
      return null;
    },
    ...(notices.length > 0 ? { notice: notices.join(' ') } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
  });
}

/** The similarity of the latest recorded re-answer of a question from a context replayed against `version`. */
async function reansweredSimilarity(events: EventStore, queryId: string, version: string): Promise<number | null> {
  const replays = new Set<string>();
  let similarity: number | null = null;
  for await (const e of events.readStream(`query-${queryId}`)) {
    if (e.type === 'ContextReplayed' && e.data.pipeline_version === version) replays.add(e.data.replay_id);
    if (e.type === 'ReplayAnswered' && replays.has(e.data.replay_id) && e.data.similarity !== undefined) similarity = e.data.similarity;
  }
  return similarity;
}
