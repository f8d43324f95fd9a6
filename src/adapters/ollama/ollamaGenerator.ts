import { Ollama } from 'ollama';
import type { Generation, GenerateOptions, Generator } from '../../app/ask/generator.js';
import { DEFAULT_ANSWER_TIMEOUT_MS, DEFAULT_MAX_ANSWER_CHARS, GenerationError, MAX_ANSWER_CHARS_LIMIT, NotOllamaError, clipRecordedText } from '../../app/ask/generator.js';
import type { Prompt } from '../../core/answer/prompt.js';
import { DEFAULT_CONTEXT_TOKENS } from '../../core/answer/prompt.js';
import { ValidationError } from '../../core/errors.js';

export const DEFAULT_OLLAMA_HOST = 'http://127.0.0.1:11434';

export interface OllamaGeneratorOptions {
  readonly model: string;
  /** Default: $OLLAMA_HOST, else http://127.0.0.1:11434 (as Ollama's own tools do). */
  readonly host?: string;
  /** Give up when no text has arrived for this long (first token included). Default 120 s. */
  readonly idleTimeoutMs?: number;
  /** The model's context size in tokens (Ollama's num_ctx), prompt and answer together. Default DEFAULT_CONTEXT_TOKENS. */
  readonly contextTokens?: number;
  /** Give up when the whole answer has taken this long, however steadily it streams. Default DEFAULT_ANSWER_TIMEOUT_MS. */
  readonly answerTimeoutMs?: number;
  /** Give up when the answer grows past this many characters (a model that never stops). Default DEFAULT_MAX_ANSWER_CHARS. */
  readonly maxAnswerChars?: number;
}

/**
 * Normalises OLLAMA_HOST as Ollama's clients do: no scheme means http and port 11434
 * ("0.0.0.0:8080", "gpu-box"); an explicit scheme keeps its default port ("https://ollama.internal").
 * 0.0.0.0 (a listen address) is reached as 127.0.0.1.
 */
export function ollamaHost(value: string | undefined): string {
  let raw = (value ?? '').trim();
  if (raw === '') return DEFAULT_OLLAMA_HOST;
  if (raw.startsWith(':')) raw = `127.0.0.1${raw}`;
  const explicit = /^[a-z][a-z0-9+.-]*:\/\//i.test(raw);
  let url: URL;
  try {
    url = new URL(explicit ? raw : `http://${raw}`);
  } catch {
    throw new ValidationError(`OLLAMA_HOST / --ollama-host ${JSON.stringify(value)} is not a valid address`, [], 'Use host, host:port or a URL such as http://127.0.0.1:11434.');
  }
  if (url.hostname === '0.0.0.0') url.hostname = '127.0.0.1';
  if (!explicit && url.port === '') url.port = '11434';
  // Keep credentials and a path prefix (a reverse proxy at /ollama), without a trailing slash.
  return url.href.replace(/\/+$/, '');
}

/** Wraps an error thrown by the caller's onText, so it is not mistaken for a server failure. */
class CallbackError extends Error {
  constructor(override readonly cause: unknown) {
    super('onText failed');
  }
}

/** Answers through a local Ollama server with the official client, streaming. */
export class OllamaGenerator implements Generator {
  readonly host: string;
  readonly model: string;
  readonly contextTokens: number;
  private readonly idleTimeoutMs: number;
  private readonly answerTimeoutMs: number;
  readonly maxAnswerChars: number;

  constructor(options: OllamaGeneratorOptions) {
    this.model = options.model;
    this.contextTokens = options.contextTokens ?? DEFAULT_CONTEXT_TOKENS;
    if (!Number.isSafeInteger(this.contextTokens) || this.contextTokens < 512) {
      throw new ValidationError(`the context size ${String(options.contextTokens)} is too small or not a whole number`, [], 'Set ragLedger.ollama.contextTokens (CLI: --context-tokens) to the model\'s context size, at least 512 tokens (default 4096).');
    }
    this.host = ollamaHost(options.host ?? process.env.OLLAMA_HOST);
    this.idleTimeoutMs = options.idleTimeoutMs ?? 120_000;
    this.answerTimeoutMs = options.answerTimeoutMs ?? DEFAULT_ANSWER_TIMEOUT_MS;
    this.maxAnswerChars = options.maxAnswerChars ?? DEFAULT_MAX_ANSWER_CHARS;
    if (!(this.answerTimeoutMs > 0) || !Number.isSafeInteger(this.maxAnswerChars) || this.maxAnswerChars < 100 || this.maxAnswerChars > MAX_ANSWER_CHARS_LIMIT) {
      throw new ValidationError(`the answer limits (${String(options.answerTimeoutMs)} ms, ${String(options.maxAnswerChars)} characters) are out of range`, [], `Set ragLedger.ollama.answerTimeoutSeconds (CLI: --answer-timeout) to a positive number and ragLedger.ollama.maxAnswerChars (CLI: --max-answer-chars) between 100 and ${MAX_ANSWER_CHARS_LIMIT}.`);
    }
  }

  async generate(prompt: Prompt, options: GenerateOptions = {}): Promise<Generation> {
    const started = Date.now();
    let text = '';
    let timedOut = false;
    let overDeadline = false;
    let tooLong = false;
    let lineTooLong = false;
    // One streamed part is a small JSON object; its text is at most the whole answer (4 bytes a character in UTF-8).
    const maxLineBytes = 65_536 + 4 * this.maxAnswerChars;
    let timer: NodeJS.Timeout | undefined;
    // One controller per answer covers the whole request: the client's own abort() only reaches
    // streams whose headers have arrived, and a busy server may send none for a long time.
    const controller = new AbortController();
    const client = new Ollama({
      host: this.host,
      fetch: async (input, init) => {
        const response = await fetch(input, { ...init, signal: init?.signal ? AbortSignal.any([init.signal, controller.signal]) : controller.signal });
        // Ollama answers in JSON (errors) or JSON lines (streams); anything else is some other server.
        const type = response.headers.get('content-type') ?? '';
        if (!/json/i.test(type)) {
          await response.body?.cancel().catch(() => undefined);
          throw new NotOllamaError(this.host, `HTTP ${response.status}${type ? `, ${type.split(';')[0]!.trim()}` : ', no content type'}`);
        }
        // The client gathers a JSON line whole before parsing it: a line that never ends would fill memory.
        if (!response.body) return response;
        let sinceNewline = 0;
        const bounded = response.body.pipeThrough(
          new TransformStream<Uint8Array, Uint8Array>({
            transform: (chunk, out) => {
              const last = chunk.lastIndexOf(10);
              sinceNewline = last === -1 ? sinceNewline + chunk.length : chunk.length - last - 1;
              if (sinceNewline > maxLineBytes) {
                lineTooLong = true;
                controller.abort();
                out.error(new Error('line too long'));
                return;
              }
              out.enqueue(chunk);
            },
          }),
        );
        return new Response(bounded, { status: response.status, statusText: response.statusText, headers: response.headers });
      },
    });
    const arm = (): void => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        timedOut = true;
        controller.abort();
      }, this.idleTimeoutMs);
    };
    const onAbort = (): void => controller.abort();
    if (options.signal?.aborted) controller.abort();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    // The idle timer restarts with every token; this one does not: a model trickling a token now and
    // then, forever, still ends here.
    const deadline = setTimeout(() => {
      overDeadline = true;
      controller.abort();
    }, this.answerTimeoutMs);
    try {
      arm();
      const stream = await client.chat({
        model: this.model,
        stream: true,
        // Without it Ollama uses its own default context and silently drops the start of a longer prompt.
        options: { num_ctx: this.contextTokens },
        messages: [
          { role: 'system', content: prompt.system },
          { role: 'user', content: prompt.user },
        ],
      });
      let done = false;
      let promptTokens = 0;
      let completionTokens = 0;
      for await (const part of stream) {
        arm();
        const piece = part.message?.content ?? '';
        if (piece) {
          if (text.length + piece.length > this.maxAnswerChars) {
            // Keep what fits and stop the server: a model that never stops must not fill memory or the log.
            text = clipRecordedText(text + piece.slice(0, this.maxAnswerChars - text.length + 1), this.maxAnswerChars);
            tooLong = true;
            controller.abort();
            break;
          }
          text += piece;
          try {
            options.onText?.(piece);
          } catch (err) {
            throw new CallbackError(err);
          }
        }
        if (part.done) {
          done = true;
          promptTokens = part.prompt_eval_count ?? 0;
          completionTokens = part.eval_count ?? 0;
        }
      }
      // An aborted stream ends quietly: a timeout or a cancel explains an unfinished answer first.
      if (!done && (timedOut || overDeadline || tooLong || lineTooLong || options.signal?.aborted)) throw new Error('aborted');
      if (!done) throw new GenerationError('cut_off', `the answer from ${this.model} stopped before it was complete`, 'Ask again; if it keeps happening, check the Ollama server log.', text);
      return { text, promptTokens, completionTokens, durationMs: Date.now() - started };
    } catch (err) {
      if (err instanceof CallbackError) throw err.cause; // the caller's own failure (e.g. stdout closed)
      throw this.classify(err, text, timedOut, options.signal?.aborted === true, overDeadline, tooLong || lineTooLong);
    } finally {
      clearTimeout(timer);
      clearTimeout(deadline);
      options.signal?.removeEventListener('abort', onAbort);
      controller.abort(); // whatever ended the answer, the server must stop generating it
    }
  }

  private classify(err: unknown, partial: string, timedOut: boolean, cancelled: boolean, overDeadline: boolean, tooLong: boolean): GenerationError {
    if (err instanceof GenerationError) return err;
    const e = err as { name?: string; message?: string; status_code?: number; cause?: { code?: string } };
    if (cancelled) return new GenerationError('cancelled', 'the answer was cancelled', 'Ask again when you are ready.', partial);
    if (tooLong) {
      // Recorded as "other": old readers of InferenceFailed know no other reason; the detail says which limit.
      return new GenerationError('other', `the answer from ${this.model} grew past ${this.maxAnswerChars} characters and was stopped`, 'The model may be looping; try again, or raise ragLedger.ollama.maxAnswerChars (CLI: --max-answer-chars).', partial, 'max_answer_chars');
    }
    if (overDeadline) {
      return new GenerationError('timeout', `the answer from ${this.model} at ${this.host} took longer than ${seconds(this.answerTimeoutMs)} s in all and was stopped`, 'The model may be looping or the machine is busy; try again, or raise ragLedger.ollama.answerTimeoutSeconds (CLI: --answer-timeout).', partial, 'answer_timeout');
    }
    if (timedOut) {
      return new GenerationError('timeout', `${this.model} at ${this.host} sent nothing for ${seconds(this.idleTimeoutMs)} s`, 'The model may still be loading or the machine is busy; try again, or raise the timeout.', partial);
    }
    if (e.status_code === 404) {
      return new GenerationError('model_missing', `the model "${this.model}" is not available on the Ollama server at ${this.host}`, `Run \`ollama pull ${this.model}\`, or choose a model you have (\`ollama list\`).`, partial);
    }
    const code = e.cause?.code;
    if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'EHOSTUNREACH' || /fetch failed/i.test(e.message ?? '')) {
      return new GenerationError('unreachable', `no Ollama server answered at ${this.host}${code ? ` (${code})` : ''}`, 'Start Ollama (`ollama serve`) or set OLLAMA_HOST to where it runs; an extractive answer is given meanwhile.', partial);
    }
    if (partial.length > 0 || e.name === 'AbortError' || /did not receive done|terminated|socket/i.test(e.message ?? '')) {
      return new GenerationError('cut_off', `the answer from ${this.model} was cut off: ${e.message ?? String(err)}`, 'Ask again; if it keeps happening, check the Ollama server log.', partial);
    }
    return new GenerationError('other', `Ollama at ${this.host} failed: ${e.message ?? String(err)}`, 'Check the Ollama server log.', partial);
  }
}

function seconds(ms: number): string {
  return (ms / 1000).toFixed(ms < 10_000 ? 1 : 0);
}
