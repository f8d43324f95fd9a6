import type { Prompt } from '../../core/answer/prompt.js';

/** The longest a whole answer may take (ragLedger.ollama.answerTimeoutSeconds, CLI --answer-timeout). */
export const DEFAULT_ANSWER_TIMEOUT_MS = 300_000;
/** The longest answer kept (ragLedger.ollama.maxAnswerChars, CLI --max-answer-chars). */
export const DEFAULT_MAX_ANSWER_CHARS = 20_000;
/** The highest maxAnswerChars may be set (the log refuses longer model texts). */
export const MAX_ANSWER_CHARS_LIMIT = 1_000_000;
/** Appended to a recorded text that was cut to its limit, so the log says it is not whole. */
export const TRUNCATED_MARKER = '\n[truncated]';

/**
 * Cuts a text to be recorded to at most `max` characters (marker included), without splitting a
 * surrogate pair, and marks the cut. Every model text that reaches the log goes through it.
 */
export function clipRecordedText(text: string, max: number = DEFAULT_MAX_ANSWER_CHARS): string {
  if (text.length <= max) return text;
  let end = Math.max(0, max - TRUNCATED_MARKER.length);
  const code = text.charCodeAt(end - 1);
  if (code >= 0xd800 && code <= 0xdbff) end -= 1;
  return `${text.slice(0, end)}${TRUNCATED_MARKER}`;
}

export type GenerationFailure = 'unreachable' | 'model_missing' | 'timeout' | 'cut_off' | 'cancelled' | 'other';

/** Why a generation failed, with whatever text had already streamed. */
export class GenerationError extends Error {
  constructor(
    readonly reason: GenerationFailure,
    message: string,
    /** What to do about it, in one sentence. */
    readonly hint: string,
    readonly partialText: string = '',
    /** Set when the answer was stopped by a limit on the whole answer: its total time or its size. */
    readonly limit?: 'answer_timeout' | 'max_answer_chars',
  ) {
    super(message);
    this.name = 'GenerationError';
  }
}

/**
 * The server at the configured address answered, but not like Ollama (an HTML page, another API):
 * usually the address points at the wrong service or port.
 */
export class NotOllamaError extends GenerationError {
  constructor(
    readonly host: string,
    /** What came back instead, e.g. "HTTP 404, text/html". */
    readonly got: string,
  ) {
    super(
      'other',
      `the server at ${host} does not answer like Ollama (${got})`,
      'Check the Ollama address: the ragLedger.ollama.host setting (CLI: --ollama-host or OLLAMA_HOST); Ollama listens on http://127.0.0.1:11434 by default.',
    );
    this.name = 'NotOllamaError';
  }
}

export interface Generation {
  readonly text: string;
  readonly promptTokens: number;
  readonly completionTokens: number;
  readonly durationMs: number;
}

export interface GenerateOptions {
  readonly signal?: AbortSignal;
  /** Called with each piece of text as it streams. */
  readonly onText?: (text: string) => void;
}

/** The port answers are generated through (a local Ollama server in production). */
export interface Generator {
  /** The model id recorded in InferenceRequested. */
  readonly model: string;
  /** Where it runs, for messages and the record (e.g. http://127.0.0.1:11434). */
  readonly host: string;
  /** The longest answer it keeps (characters); a longer one fails with its first part as partial text. Default DEFAULT_MAX_ANSWER_CHARS. */
  readonly maxAnswerChars?: number;
  /** Tokens the model's context holds (prompt and answer); prompts are fitted into it. Default DEFAULT_CONTEXT_TOKENS. */
  readonly contextTokens?: number;
  /** Streams an answer; rejects with GenerationError. */
  generate(prompt: Prompt, options?: GenerateOptions): Promise<Generation>;
}
