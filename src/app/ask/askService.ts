import { EXTRACTIVE_MODEL, extractiveAnswer } from '../../core/answer/extractive.js';
import type { ContextChunk, Prompt } from '../../core/answer/prompt.js';
import { DEFAULT_CONTEXT_TOKENS, buildPrompt, promptText, sourcesBlock } from '../../core/answer/prompt.js';
import { unmatchedCitations } from '../../core/answer/citations.js';
import { CancelledError } from '../../core/errors.js';
import type { Hasher } from '../../core/eventLog.js';
import type { EventMetadata, EventStore, NewEvent } from '../../core/eventStore.js';
import type { RetrievalMode } from '../../core/retrieval/fusion.js';
import type { Embedder } from '../embedding/embedder.js';
import type { RetrievalService } from '../retrieval/retrievalService.js';
import type { GenerationFailure, Generator } from './generator.js';
import { DEFAULT_MAX_ANSWER_CHARS, GenerationError, clipRecordedText } from './generator.js';

export interface AskDeps {
  readonly events: EventStore;
  readonly retrieval: RetrievalService;
  readonly hasher: Hasher;
  readonly clock: () => string;
  readonly newId: () => string;
  readonly actor: string;
}

export interface AskOptions {
  readonly pipelineVersion: string;
  readonly k: number;
  readonly mode: RetrievalMode;
  readonly promptTemplate: string;
  /** null: retrieval is lexical. */
  readonly embedder: Embedder | null;
  /** null: answer extractively without trying a model. */
  readonly generator: Generator | null;
  readonly userId: string;
  readonly signal?: AbortSignal;
  /** Streams the answer as it is generated (the model's text, then the sources block). */
  readonly onText?: (text: string) => void;
  /** Told when the model failed, before the extractive answer streams. */
  readonly onFailure?: (failure: NonNullable<AskResult['failure']>) => void;
}

export interface AskResult {
  readonly queryId: string;
  readonly answer: string;
  /** The model that produced `answer`: the generator's, or `extractive`. */
  readonly modelId: string;
  readonly mode: RetrievalMode;
  /** The passages the prompt held, as sent (a passage clipped to fit the context has its shortened text). */
  readonly context: readonly ContextChunk[];
  /** Retrieved chunks left out of the prompt, or clipped, to fit the generator's context. */
  readonly omittedChunkIds: readonly string[];
  readonly clippedChunkIds: readonly string[];
  /** Citation numbers in the answer that match no passage of the prompt (e.g. [42] with 8 passages). */
  readonly unmatchedCitations: readonly number[];
  /** Set when the language model failed (the answer is then extractive or partial). */
  readonly failure?: { readonly reason: GenerationFailure; readonly message: string; readonly hint: string; readonly limit?: 'answer_timeout' | 'max_answer_chars' };
}

/**
 * Ask: QueryReceived → ContextRetrieved → InferenceRequested → InferenceCompleted | InferenceFailed,
 * all in the stream `query-<id>`. The prompt is stored in full, so any answer can be audited and
 * re-run. When the model is unreachable or missing, the failure is recorded and an extractive
 * answer (model id `extractive`) follows, so the user always gets cited passages.
 */
export class AskService {
  constructor(private readonly deps: AskDeps) {}

  async ask(question: string, options: AskOptions): Promise<AskResult> {
    const queryId = `q-${this.deps.newId()}`;
    const stream = `query-${queryId}`;
    const meta: EventMetadata = { actor: this.deps.actor, correlation_id: queryId, pipeline_version: options.pipelineVersion };
    const append = (events: NewEvent[]): Promise<unknown> => this.deps.events.append(stream, events.map((e) => ({ ...e, metadata: meta })), { expectedVersion: 'any' });
    await append([{ type: 'QueryReceived', data: { query_id: queryId, query_text: question, user_id: options.userId, received_at: this.deps.clock() } }]);
    // Cancelled before the model was asked: the log says so too, like a cancel during generation.
    const cancelled = async (when: string): Promise<never> => {
      await append([{ type: 'InferenceFailed', data: { query_id: queryId, model_id: options.generator?.model ?? 'extractive', reason: 'cancelled', detail: `cancelled ${when}`, failed_at: this.deps.clock() } }]);
      throw new CancelledError('the question');
    };
    let retrieval: Awaited<ReturnType<AskDeps['retrieval']['retrieve']>>;
    try {
      retrieval = await this.deps.retrieval.retrieve(options.pipelineVersion, question, { k: options.k, mode: options.mode, embedder: options.embedder, ...(options.signal ? { signal: options.signal } : {}) });
    } catch (err) {
      if (options.signal?.aborted && (err instanceof CancelledError || (err as Error).name === 'AbortError')) return cancelled('while the context was retrieved');
      throw err;
    }
    const retrieved: ContextChunk[] = retrieval.chunks.map((c) => ({ n: c.rank, chunkId: c.chunkId, path: c.path, startLine: c.startLine, endLine: c.endLine, text: c.text }));
    await append([
      {
        type: 'ContextRetrieved',
        data: {
          query_id: queryId,
          chunk_ids: retrieval.chunks.map((c) => c.chunkId),
          scores: retrieval.chunks.map((c) => c.score),
          ranks: retrieval.chunks.map((c) => c.rank),
          mode: retrieval.mode,
          pipeline_version: options.pipelineVersion,
          retrieved_at: this.deps.clock(),
        },
      },
    ]);
    if (options.signal?.aborted) return cancelled('before the model was asked');
    const built = buildPrompt(options.promptTemplate, question, retrieved, options.generator?.contextTokens ?? DEFAULT_CONTEXT_TOKENS);
    const { prompt, included: context } = built;
    const promptHash = `sha256:${this.deps.hasher([promptText(prompt)])}`;
    // What did not fit the context is recorded with the prompt, so the log says what the model never saw.
    const fitted = { context_tokens: built.contextTokens, omitted_chunk_ids: [...built.omitted], clipped_chunk_ids: [...built.clipped] };
    const base = { queryId, mode: retrieval.mode, context, omittedChunkIds: built.omitted, clippedChunkIds: built.clipped };
    if (options.generator) {
      const g = options.generator;
      await append([{ type: 'InferenceRequested', data: { query_id: queryId, model_id: g.model, prompt_hash: promptHash, prompt: { ...prompt }, host: g.host, ...fitted, requested_at: this.deps.clock() } }]);
      try {
        const out = await g.generate(prompt, { ...(options.signal ? { signal: options.signal } : {}), ...(options.onText ? { onText: options.onText } : {}) });
        const sources = `\n\n${sourcesBlock(context)}`;
        options.onText?.(sources);
        const answer = `${clipRecordedText(out.text.trim(), g.maxAnswerChars ?? DEFAULT_MAX_ANSWER_CHARS)}${sources}`;
        const unmatched = unmatchedCitations(out.text, context);
        await append([
          {
            type: 'InferenceCompleted',
            data: {
              query_id: queryId,
              response_text: answer,
              tokens_used: out.promptTokens + out.completionTokens,
              model_id: g.model,
              prompt_tokens: out.promptTokens,
              completion_tokens: out.completionTokens,
              duration_ms: out.durationMs,
              unmatched_citations: unmatched,
              completed_at: this.deps.clock(),
            },
          },
        ]);
        return { ...base, answer, modelId: g.model, unmatchedCitations: unmatched };
      } catch (err) {
        if (!(err instanceof GenerationError)) throw err;
        await append([
          {
            type: 'InferenceFailed',
            data: { query_id: queryId, model_id: g.model, reason: err.reason, detail: clipRecordedText(err.message, 2000), ...(err.partialText ? { partial_text: clipRecordedText(err.partialText, g.maxAnswerChars ?? DEFAULT_MAX_ANSWER_CHARS) } : {}), failed_at: this.deps.clock() },
          },
        ]);
        if (err.reason === 'cancelled') throw new CancelledError('the question');
        const failure = { reason: err.reason, message: err.message, hint: err.hint, ...(err.limit ? { limit: err.limit } : {}) };
        options.onFailure?.(failure);
        return { ...(await this.extractive(queryId, question, prompt, promptHash, fitted, context, append, options)), ...base, failure, unmatchedCitations: [] };
      }
    }
    return { ...(await this.extractive(queryId, question, prompt, promptHash, fitted, context, append, options)), ...base, unmatchedCitations: [] };
  }

  private async extractive(
    queryId: string,
    question: string,
    prompt: Prompt,
    promptHash: string,
    fitted: { context_tokens: number; omitted_chunk_ids: string[]; clipped_chunk_ids: string[] },
    context: readonly ContextChunk[],
    append: (events: NewEvent[]) => Promise<unknown>,
    options: AskOptions,
  ): Promise<{ answer: string; modelId: string }> {
    const started = Date.now();
    const answer = extractiveAnswer(question, context);
    await append([
      { type: 'InferenceRequested', data: { query_id: queryId, model_id: EXTRACTIVE_MODEL, prompt_hash: promptHash, prompt: { ...prompt }, ...fitted, requested_at: this.deps.clock() } },
    ]);
    options.onText?.(answer);
    await append([
      {
        type: 'InferenceCompleted',
        data: { query_id: queryId, response_text: answer, tokens_used: 0, model_id: EXTRACTIVE_MODEL, duration_ms: Date.now() - started, unmatched_citations: [], completed_at: this.deps.clock() },
      },
    ]);
    return { answer, modelId: EXTRACTIVE_MODEL };
  }
}
