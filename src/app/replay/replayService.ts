import { EXTRACTIVE_MODEL, extractiveAnswer } from '../../core/answer/extractive.js';
import type { ContextChunk } from '../../core/answer/prompt.js';
import { DEFAULT_CONTEXT_TOKENS, buildPrompt, promptText, sourcesBlock } from '../../core/answer/prompt.js';
import { CancelledError, ValidationError } from '../../core/errors.js';
import type { JsonValue } from '../../core/events/eventCatalog.js';
import type { NewEvent, RecordedEvent, RecordedEventOf } from '../../core/eventStore.js';
import type { PipelineConfig } from '../../core/pipeline/pipelineConfig.js';
import type { AlignableChunk } from '../../core/retrieval/alignment.js';
import { alignContexts } from '../../core/retrieval/alignment.js';
import type { ContextDiff } from '../../core/retrieval/contextDiff.js';
import { diffContexts, diffText, rankingSimilarity } from '../../core/retrieval/contextDiff.js';
import type { RetrievalMode } from '../../core/retrieval/fusion.js';
import type { AlignedPair, ContextChunkView, RankingMetrics, ReanswerReport, ReplayReport } from '../../shared/explorerModel.js';
import type { GenerationFailure, Generator } from '../ask/generator.js';
import { DEFAULT_MAX_ANSWER_CHARS, GenerationError, clipRecordedText } from '../ask/generator.js';
import type { Embedder } from '../embedding/embedder.js';
import type { EngineDeps } from '../engineDeps.js';
import { ChunkLocator } from '../explorer/chunkLocator.js';
import type { LocatedChunk } from '../explorer/chunkLocator.js';
import type { VectorIndex } from '../indexing/vectorIndex.js';
import { materializeAsOf } from '../retrieval/pointInTime.js';
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
  /** Why retrieval is lexical although the version's mode is not (its model cannot be loaded). */
  readonly notice?: string;
  readonly signal?: AbortSignal;
}

export interface ReanswerOptions {
  /** null: answer extractively. */
  readonly generator: Generator | null;
  readonly onText?: (text: string) => void;
  readonly onFailure?: (failure: { readonly reason: GenerationFailure; readonly message: string; readonly hint: string }) => void;
  readonly signal?: AbortSignal;
}

/** Chunk texts in a report are clipped to this many characters (the log has them whole). */
const TEXT_MAX = 4_000;

/**
 * Replays a recorded question against a pipeline version (optionally as of a log position): retrieves
 * again, appends ContextReplayed to the question's stream with the diff against the original context,
 * and reports both contexts aligned chunk by chunk. `reanswer` then answers from a recorded replay's
 * context (ReplayAnswered) and diffs the text against the original answer. The original events are
 * never touched and the active pipeline never changes.
 */
export class ReplayService {
  private readonly chunks: ChunkLocator;

  constructor(private readonly deps: ReplayDeps) {
    this.chunks = new ChunkLocator(deps);
  }

  private async question(queryId: string): Promise<{ events: RecordedEvent[]; received: RecordedEventOf<'QueryReceived'>; retrieved: RecordedEventOf<'ContextRetrieved'> }> {
    const events: RecordedEvent[] = [];
    for await (const e of this.deps.events.readStream(`query-${queryId}`)) events.push(e);
    if (events.length === 0) throw new ValidationError(`no question ${queryId} in this store`, [], 'List questions with `rag-ledger log --type QueryReceived`.');
    const received = events.find((e): e is RecordedEventOf<'QueryReceived'> => e.type === 'QueryReceived');
    const retrieved = events.find((e): e is RecordedEventOf<'ContextRetrieved'> => e.type === 'ContextRetrieved');
    if (!received) throw new ValidationError(`question ${queryId} has no QueryReceived event`, [], 'Replay a question that ask recorded.');
    if (!retrieved) throw new ValidationError(`question ${queryId} never retrieved a context, so there is nothing to compare with`, [], 'Ask it again instead.');
    return { events, received, retrieved };
  }

  private config(version: string): PipelineConfig {
    const record = this.deps.readModels.pipeline(version);
    if (!record) throw new ValidationError(`pipeline version ${version} is not defined`, [], 'Run `rag-ledger pipelines` to list the defined versions.');
    return record.config as unknown as PipelineConfig;
  }

  async replay(queryId: string, options: ReplayOptions): Promise<ReplayReport> {
    const { events, received, retrieved } = await this.question(queryId);
    await this.deps.runner.catchUp();
    const config = this.config(options.pipelineVersion);
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

    const originalVersion = retrieved.data.pipeline_version ?? (typeof retrieved.metadata.pipeline_version === 'string' ? retrieved.metadata.pipeline_version : null);
    const originalFound = await this.chunks.locate(retrieved.data.chunk_ids, originalVersion, retrieved.position);
    const original = retrieved.data.chunk_ids.map((id, i) => view(id, retrieved.data.ranks?.[i] ?? i + 1, retrieved.data.scores[i] ?? 0, originalFound.get(id), null));
    const replayedFound = await this.chunks.locate(
      retrieval.chunks.map((c) => c.chunkId),
      options.pipelineVersion,
      options.asOfPosition ?? Number.MAX_SAFE_INTEGER,
    );
    const replayed = retrieval.chunks.map((c) => view(c.chunkId, c.rank, c.score, replayedFound.get(c.chunkId), { path: c.path, startLine: c.startLine, endLine: c.endLine, text: c.text }));

    const diff = diffContexts(
      original.map((c) => ({ chunkId: c.chunkId, path: c.path, score: c.score })),
      replayed.map((c) => ({ chunkId: c.chunkId, path: c.path, score: c.score })),
    );
    const replayId = `r-${this.deps.newId()}`;
    const appended = await this.deps.events.append(
      `query-${queryId}`,
      [
        {
          type: 'ContextReplayed',
          data: {
            replay_id: replayId,
            query_id: queryId,
            pipeline_version: options.pipelineVersion,
            ...(originalVersion ? { original_pipeline_version: originalVersion } : {}),
            mode: retrieval.mode,
            k,
            chunk_ids: replayed.map((c) => c.chunkId),
            scores: replayed.map((c) => c.score),
            ranks: replayed.map((c) => c.rank),
            ...(options.asOfPosition !== undefined ? { as_of_position: options.asOfPosition } : {}),
            diff: diffSummary(diff),
            replayed_at: this.deps.clock(),
          },
          metadata: { actor: this.deps.actor, correlation_id: replayId, causation_id: retrieved.eventId, pipeline_version: options.pipelineVersion },
        },
      ],
      { expectedVersion: 'stream_exists' },
    );

    const pairs = alignContexts<ContextChunkView & AlignableChunk>(original, replayed);
    const answered = lastAnswer(events);
    return {
      replayId,
      queryId,
      question,
      askedAt: received.recordedAt,
      askedPosition: received.position,
      original: { position: retrieved.position, pipelineVersion: originalVersion, mode: retrieved.data.mode ?? null, chunks: original },
      replayed: { position: appended.positions[0]!, pipelineVersion: options.pipelineVersion, mode: retrieval.mode, k, asOfPosition: options.asOfPosition ?? null, chunks: replayed },
      pairs: pairs.map((p): AlignedPair => ({ kind: p.kind, original: p.original, replayed: p.replayed, move: p.move, textDiff: p.textDiff ? p.textDiff.parts : null })),
      metrics: {
        chunks: metrics(original.map((c) => c.chunkId), replayed.map((c) => c.chunkId)),
        documents: metrics(unique(original.map((c) => c.path)), unique(replayed.map((c) => c.path))),
        aligned: pairs.filter((p) => p.kind === 'rechunked').length,
      },
      originalAnswer: answered,
      ...(options.notice ? { notice: options.notice } : {}),
    };
  }

  /**
   * Answers a recorded question again from the context a replay retrieved (read back from the log),
   * records it as ReplayAnswered in the replay's correlation, and diffs it against the original answer.
   */
  async reanswer(queryId: string, replayId: string, options: ReanswerOptions): Promise<ReanswerReport> {
    const { events, received } = await this.question(queryId);
    const replayed = events.find((e): e is RecordedEventOf<'ContextReplayed'> => e.type === 'ContextReplayed' && e.data.replay_id === replayId);
    if (!replayed) throw new ValidationError(`question ${queryId} has no replay ${replayId}`, [], 'Replay the question first, then answer again from that replay.');
    await this.deps.runner.catchUp();
    const config = this.config(replayed.data.pipeline_version);
    const found = await this.chunks.locate(replayed.data.chunk_ids, replayed.data.pipeline_version, replayed.data.as_of_position ?? replayed.position);
    const retrieved: ContextChunk[] = replayed.data.chunk_ids.flatMap((id, i) => {
      const c = found.get(id);
      return c ? [{ n: replayed.data.ranks[i] ?? i + 1, chunkId: id, path: c.path, startLine: c.startLine, endLine: c.endLine, text: c.text }] : [];
    });
    const question = received.data.query_text;
    const { prompt, included: context } = buildPrompt(config.prompt.template, question, retrieved, options.generator?.contextTokens ?? DEFAULT_CONTEXT_TOKENS);
    const promptHash = `sha256:${this.deps.hasher([promptText(prompt)])}`;
    let modelId = EXTRACTIVE_MODEL;
    let text: string | null = null;
    let failure: string | undefined;
    if (options.generator) {
      try {
        const out = await options.generator.generate(prompt, { ...(options.signal ? { signal: options.signal } : {}), ...(options.onText ? { onText: options.onText } : {}) });
        const sources = `\n\n${sourcesBlock(context)}`;
        options.onText?.(sources);
        text = `${clipRecordedText(out.text.trim(), options.generator.maxAnswerChars ?? DEFAULT_MAX_ANSWER_CHARS)}${sources}`;
        modelId = options.generator.model;
      } catch (err) {
        if (!(err instanceof GenerationError)) throw err;
        if (err.reason === 'cancelled') throw new CancelledError('the answer');
        failure = clipRecordedText(`${options.generator.model}: ${err.reason}: ${err.message}`, 2000);
        options.onFailure?.({ reason: err.reason, message: err.message, hint: err.hint });
      }
    }
    if (text === null) {
      text = extractiveAnswer(question, context);
      options.onText?.(text);
    }
    const original = lastAnswer(events);
    const textDiff = original === null ? null : diffText(original.text, text);
    const event: NewEvent = {
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
      metadata: { actor: this.deps.actor, correlation_id: replayId, causation_id: replayed.eventId, pipeline_version: replayed.data.pipeline_version },
    };
    await this.deps.events.append(`query-${queryId}`, [event], { expectedVersion: 'stream_exists' });
    return { replayId, modelId, text, originalText: original?.text ?? null, diff: textDiff ? textDiff.parts : null, similarity: textDiff ? textDiff.similarity : null, ...(failure ? { failure } : {}) };
  }
}

function view(chunkId: string, rank: number, score: number, found: LocatedChunk | undefined, hit: { path: string; startLine: number; endLine: number; text: string } | null): ContextChunkView & AlignableChunk {
  const text = found?.text ?? hit?.text ?? null;
  return {
    rank,
    score,
    chunkId,
    path: found?.path ?? hit?.path ?? `?${chunkId}`,
    startLine: found?.startLine ?? hit?.startLine ?? null,
    endLine: found?.endLine ?? hit?.endLine ?? null,
    documentVersion: found ? found.documentVersion : null,
    text: text === null ? null : text.length > TEXT_MAX ? text.slice(0, TEXT_MAX) : text,
    textClipped: text !== null && text.length > TEXT_MAX,
  };
}

function metrics(a: readonly string[], b: readonly string[]): RankingMetrics {
  return { k: Math.max(a.length, b.length), ...rankingSimilarity(a, b) };
}

function unique(items: readonly string[]): string[] {
  return [...new Set(items)];
}

function lastAnswer(events: readonly RecordedEvent[]): { modelId: string; text: string } | null {
  let found: { modelId: string; text: string } | null = null;
  for (const e of events) if (e.type === 'InferenceCompleted') found = { modelId: e.data.model_id ?? 'unknown', text: e.data.response_text };
  return found;
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
