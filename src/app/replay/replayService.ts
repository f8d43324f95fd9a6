import { EXTRACTIVE_MODEL, extractiveAnswer } from '../../core/answer/extractive.js';
import type { ContextChunk } from '../../core/answer/prompt.js';
import { buildPrompt, promptText, sourcesBlock } from '../../core/answer/prompt.js';
import { CancelledError, ValidationError } from '../../core/errors.js';
import type { JsonValue } from '../../core/events/eventCatalog.js';
import type { NewEvent } from '../../core/eventStore.js';
import type { PipelineConfig } from '../../core/pipeline/pipelineConfig.js';
import type { ContextDiff, RankedItem, TextDiff } from '../../core/retrieval/contextDiff.js';
import { diffContexts, diffText } from '../../core/retrieval/contextDiff.js';
import type { RetrievalMode } from '../../core/retrieval/fusion.js';
import type { GenerationFailure, Generator } from '../ask/generator.js';
import { GenerationError } from '../ask/generator.js';
import type { Embedder } from '../embedding/embedder.js';
import type { EngineDeps } from '../engineDeps.js';
import type { VectorIndex } from '../indexing/vectorIndex.js';
import { ProvenanceService } from '../provenance/provenanceService.js';
import { materializeAsOf } from '../retrieval/pointInTime.js';
import type { RetrievedChunk } from '../retrieval/retrievalService.js';
import { RetrievalService } from '../retrieval/retrievalService.js';

export interface ReplayDeps extends EngineDeps {
  readonly index: VectorIndex;
  readonly newId: () => string;
}

export interface ReplayOptions {
  /** The version to retrieve with. */
  readonly pipelineVersion: string;
  /** Default: the original retrieval's k (its number of chunks), else the version's k. */
  readonly k?: number;
  /** Default: the version's retrieval mode. */
  readonly mode?: RetrievalMode;
  /** The version's embedder; null retrieves lexically. */
  readonly embedder: Embedder | null;
  /** Retrieve from the table as it was at this log position (point in time). */
  readonly asOfPosition?: number;
  /** Also answer from the replayed context and diff the text against the original answer. */
  readonly regenerate?: {
    /** null: answer extractively. */
    readonly generator: Generator | null;
    readonly onText?: (text: string) => void;
    readonly onFailure?: (failure: { readonly reason: GenerationFailure; readonly message: string; readonly hint: string }) => void;
  };
  readonly signal?: AbortSignal;
}

export interface ReplayedContext {
  readonly pipelineVersion: string | null;
  readonly mode: string | null;
  readonly chunks: readonly (RankedItem & { readonly rank: number; readonly lines: string | null })[];
}

export interface ReplayResult {
  readonly replayId: string;
  readonly queryId: string;
  readonly question: string;
  readonly original: ReplayedContext;
  readonly replayed: ReplayedContext & { readonly k: number; readonly asOfPosition: number | null };
  readonly diff: ContextDiff;
  readonly answer?: { readonly modelId: string; readonly text: string; readonly originalText: string | null; readonly textDiff: TextDiff | null; readonly failure?: string };
}

/**
 * Replays a recorded question against a pipeline version (optionally as of a log position):
 * retrieves again, appends ContextReplayed to the question's stream with the diff against the
 * original context, and, when asked, answers again (ReplayAnswered) and diffs the answer text.
 * The original events are never touched.
 */
export class ReplayService {
  constructor(private readonly deps: ReplayDeps) {}

  async replay(queryId: string, options: ReplayOptions): Promise<ReplayResult> {
    const provenance = await new ProvenanceService(this.deps).show(queryId);
    const received = provenance.chain.find((e) => e.type === 'QueryReceived');
    const retrieved = provenance.chain.find((e) => e.type === 'ContextRetrieved');
    if (received?.type !== 'QueryReceived') throw new ValidationError(`question ${queryId} has no QueryReceived event`, [], 'Replay a question that ask recorded.');
    if (retrieved?.type !== 'ContextRetrieved') throw new ValidationError(`question ${queryId} never retrieved a context, so there is nothing to compare with`, [], 'Ask it again instead.');
    const record = this.deps.readModels.pipeline(options.pipelineVersion);
    if (!record) throw new ValidationError(`pipeline version ${options.pipelineVersion} is not defined`, [], 'Run `rag-ledger pipelines` to list the defined versions.');
    const config = record.config as unknown as PipelineConfig;
    const question = received.data.query_text;
    const k = options.k ?? (retrieved.data.chunk_ids.length > 0 ? retrieved.data.chunk_ids.length : config.retrieval.k);
    const mode = options.mode ?? config.retrieval.mode;

    let tableKey = options.pipelineVersion;
    let release: (() => Promise<void>) | null = null;
    if (options.asOfPosition !== undefined) {
      const pit = await materializeAsOf(this.deps.events, this.deps.index, options.pipelineVersion, config.embedder, options.asOfPosition);
      tableKey = pit.tableKey;
      release = () => pit.release();
    }
    let retrieval;
    try {
      retrieval = await new RetrievalService(this.deps.index).retrieve(tableKey, question, { k, mode, embedder: options.embedder, ...(options.signal ? { signal: options.signal } : {}) });
    } finally {
      await release?.();
    }
    if (options.signal?.aborted) throw new CancelledError('the replay');

    const original: ReplayedContext = {
      pipelineVersion: retrieved.data.pipeline_version ?? null,
      mode: retrieved.data.mode ?? null,
      chunks: provenance.chunks.map((c) => ({ chunkId: c.chunkId, path: c.path ?? `?${c.chunkId}`, score: c.score, rank: c.rank, lines: c.lines })),
    };
    const replayedChunks = retrieval.chunks.map((c: RetrievedChunk) => ({ chunkId: c.chunkId, path: c.path, score: c.score, rank: c.rank, lines: `${c.startLine}-${c.endLine}` }));
    const diff = diffContexts(original.chunks, replayedChunks);
    const replayId = `r-${this.deps.newId()}`;
    const meta = { actor: this.deps.actor, correlation_id: replayId, causation_id: retrieved.eventId, pipeline_version: options.pipelineVersion };
    const stream = `query-${queryId}`;
    const append = (events: NewEvent[]): Promise<unknown> => this.deps.events.append(stream, events.map((e) => ({ ...e, metadata: meta })), { expectedVersion: 'stream_exists' });
    await append([
      {
        type: 'ContextReplayed',
        data: {
          replay_id: replayId,
          query_id: queryId,
          pipeline_version: options.pipelineVersion,
          ...(original.pipelineVersion ? { original_pipeline_version: original.pipelineVersion } : {}),
          mode: retrieval.mode,
          k,
          chunk_ids: replayedChunks.map((c) => c.chunkId),
          scores: replayedChunks.map((c) => c.score),
          ranks: replayedChunks.map((c) => c.rank),
          ...(options.asOfPosition !== undefined ? { as_of_position: options.asOfPosition } : {}),
          diff: diffSummary(diff),
          replayed_at: this.deps.clock(),
        },
      },
    ]);
    const result: ReplayResult = {
      replayId,
      queryId,
      question,
      original,
      replayed: { pipelineVersion: options.pipelineVersion, mode: retrieval.mode, k, asOfPosition: options.asOfPosition ?? null, chunks: replayedChunks },
      diff,
    };
    if (!options.regenerate) return result;

    const context: ContextChunk[] = retrieval.chunks.map((c) => ({ n: c.rank, chunkId: c.chunkId, path: c.path, startLine: c.startLine, endLine: c.endLine, text: c.text }));
    const prompt = buildPrompt(config.prompt.template, question, context);
    const promptHash = `sha256:${this.deps.hasher([promptText(prompt)])}`;
    const { generator, onText, onFailure } = options.regenerate;
    let modelId = EXTRACTIVE_MODEL;
    let text: string | null = null;
    let failure: string | undefined;
    if (generator) {
      try {
        const out = await generator.generate(prompt, { ...(options.signal ? { signal: options.signal } : {}), ...(onText ? { onText } : {}) });
        const sources = `\n\n${sourcesBlock(context)}`;
        onText?.(sources);
        text = `${out.text.trim()}${sources}`;
        modelId = generator.model;
      } catch (err) {
        if (!(err instanceof GenerationError)) throw err;
        if (err.reason === 'cancelled') throw new CancelledError('the replay');
        failure = `${generator.model}: ${err.reason}: ${err.message}`;
        onFailure?.({ reason: err.reason, message: err.message, hint: err.hint });
      }
    }
    if (text === null) {
      text = extractiveAnswer(question, context);
      onText?.(text);
    }
    const originalText = lastAnswer(provenance.chain);
    const textDiff = originalText === null ? null : diffText(originalText, text);
    await append([
      {
        type: 'ReplayAnswered',
        data: {
          replay_id: replayId,
          query_id: queryId,
          model_id: modelId,
          prompt_hash: promptHash,
          prompt: { ...prompt },
          response_text: text,
          ...(failure ? { generation_failure: failure } : {}),
          ...(textDiff ? { similarity: textDiff.similarity } : {}),
          answered_at: this.deps.clock(),
        },
      },
    ]);
    return { ...result, answer: { modelId, text, originalText, textDiff, ...(failure ? { failure } : {}) } };
  }
}

function lastAnswer(chain: readonly { readonly type: string; readonly data: unknown }[]): string | null {
  let text: string | null = null;
  for (const e of chain) if (e.type === 'InferenceCompleted') text = (e.data as { response_text: string }).response_text;
  return text;
}

/** What ContextReplayed stores of a diff: the similarity figures and the changed chunk ids. */
export function diffSummary(diff: ContextDiff): JsonValue {
  return {
    overlap_at_k: diff.overlapAtK,
    jaccard: diff.jaccard,
    rbo: diff.rbo,
    added: diff.added.map((a) => a.chunkId),
    removed: diff.removed.map((r) => r.chunkId),
    kept: diff.kept.length,
    moved: diff.moved,
    documents: { overlap_at_k: diff.documents.overlapAtK, jaccard: diff.documents.jaccard, rbo: diff.documents.rbo, added: [...diff.documents.added], removed: [...diff.documents.removed] },
  };
}
