import { MAX_ANSWER_CHARS_LIMIT } from '../../app/ask/generator.js';
import type { Command } from '../cliSupport.js';
import { UsageError, intOption, osUser } from '../cliSupport.js';
import { answerNotes } from '../render.js';
import { DEFAULT_CONTEXT_TOKENS } from '../../core/answer/prompt.js';
import { RagLedgerError } from '../../core/errors.js';
import { onSigint, openCliEngine } from '../cliEngine.js';
import { modelUnavailableLine, pipelineToQuery, retrievalModeOption } from '../modelFlags.js';

export const askCommand: Command = {
  name: 'ask',
  summary: 'answer a question from the workspace, recording the whole chain in the log',
  usage: `rag-ledger ask "QUESTION" [--k N] [--mode hybrid|vector|lexical] [--model NAME] [--ollama-host URL]
                     [--timeout SECONDS] [--answer-timeout SECONDS] [--max-answer-chars N]
                     [--context-tokens N] [--extractive] [--model-dir DIR] [--user NAME] [--json]

  Retrieves context from the active pipeline version, sends the prompt to a local Ollama model
  (--model, default the pipeline's generator model; host from --ollama-host, else $OLLAMA_HOST,
  else http://127.0.0.1:11434) and streams the answer, which cites its sources as [n] path:lines.
  Appends QueryReceived, ContextRetrieved, InferenceRequested (with the full prompt) and
  InferenceCompleted or InferenceFailed. When Ollama is not running or the model is not pulled,
  says so on stderr and answers extractively (model id "extractive"). --extractive skips Ollama.
  --context-tokens N (default 4096) is the model's context (Ollama num_ctx): the prompt is fitted into
  it at 3 characters per token, keeping a quarter for the answer; passages that do not fit are clipped
  or left out, and InferenceRequested records which. Citations that match no passage are flagged.
  --timeout is how long the model may send nothing (default 120 s); --answer-timeout (default 300 s) how
  long the whole answer may take and --max-answer-chars (default 20000) how long it may grow: past
  either, the answer is stopped, InferenceFailed records the reason with the text so far (capped), the
  extractive answer is printed and ask exits 1.
  Ctrl+C cancels, records the cancellation and exits 130. rag-ledger show <question id> shows its provenance:
  the prompt, the chunks and the document versions they came from.`,
  options: {
    k: { type: 'string' },
    mode: { type: 'string' },
    model: { type: 'string' },
    'ollama-host': { type: 'string' },
    timeout: { type: 'string' },
    'answer-timeout': { type: 'string' },
    'max-answer-chars': { type: 'string' },
    'context-tokens': { type: 'string' },
    extractive: { type: 'boolean' },
    'model-dir': { type: 'string' },
    user: { type: 'string' },
  },
  allowPositionals: 1,
  async run(args, io) {
    const question = args.positionals[0];
    if (question === undefined || question.trim() === '') throw new UsageError('ask needs the question, in quotes');
    const v = args.values;
    const mode = retrievalModeOption(v.mode);
    const timeout = intOption(v.timeout, 'timeout', 1);
    const answerTimeout = intOption(v['answer-timeout'], 'answer-timeout', 1);
    const maxAnswerChars = intOption(v['max-answer-chars'], 'max-answer-chars', 100);
    if (maxAnswerChars !== undefined && maxAnswerChars > MAX_ANSWER_CHARS_LIMIT) throw new UsageError(`--max-answer-chars must be at most ${MAX_ANSWER_CHARS_LIMIT}, got ${maxAnswerChars}`);
    const contextTokens = intOption(v['context-tokens'], 'context-tokens', 512) ?? DEFAULT_CONTEXT_TOKENS;
    const k = intOption(v.k, 'k', 1);
    // The engine the extension runs: the same retrieval, prompt, answer and recorded chain.
    const cli = await openCliEngine(args, io, 'ask', {
      ollama: {
        ...(v['ollama-host'] ? { host: v['ollama-host'] as string } : {}),
        ...(timeout ? { idleTimeoutMs: timeout * 1000 } : {}),
        ...(answerTimeout ? { answerTimeoutMs: answerTimeout * 1000 } : {}),
        ...(maxAnswerChars ? { maxAnswerChars } : {}),
        contextTokens,
      },
    }, { create: false });
    const { engine } = cli;
    let stopped: { readonly message: string; readonly hint: string } | undefined;
    try {
      // A store with no active version yet is not asked (asking would define one).
      await pipelineToQuery(engine.ledger, undefined);
      let streamed = false;
      const { pipelineVersion, ...result } = await onSigint((signal) =>
        engine.ask(question, {
          signal,
          userId: (v.user as string | undefined) ?? osUser(io.env),
          ...(k !== undefined ? { k } : {}),
          ...(mode ? { mode } : {}),
          ...(v.model ? { model: v.model as string } : {}),
          extractive: v.extractive === true,
          onRetrievalUnavailable: (_message, why) => io.err(modelUnavailableLine(cli.models, 'ask', why)),
          // A runaway answer stopped by a limit fails the command (one line, at the end); other failures only warn.
          onFailure: (f) => (f.limit ? undefined : io.err(`rag-ledger ask: ${f.message}. ${f.hint}\n`)),
          ...(args.json
            ? {}
            : {
                onText: (text: string) => {
                  streamed = true;
                  io.out(text);
                },
              }),
        }),
      );
      if (args.json) io.out(`${JSON.stringify({ pipelineVersion, ...result })}\n`);
      else if (result.offline !== undefined) io.out(`${streamed ? '\n' : ''}${answerNotes(result)}\n(answered offline from this member's projections, as of its last catch-up: not recorded in the team ledger, which cannot be reached: ${result.offline})\n`);
      else io.out(`${streamed ? '\n' : ''}${answerNotes(result)}\n(question ${result.queryId}; its provenance: rag-ledger show ${result.queryId})\n`);
      if (result.offline !== undefined && args.json) io.err(`rag-ledger ask: answered offline, not recorded: the team ledger cannot be reached (${result.offline})\n`);
      if (result.failure?.limit) stopped = result.failure;
    } finally {
      await engine.close();
    }
    // After the store is closed and its lock released: the answer was stopped (InferenceFailed is recorded).
    if (stopped) throw new AnswerStoppedError(stopped.message, stopped.hint);
  },
};

/** The model's answer was stopped by the total deadline or the size cap; the extractive answer was given instead. */
class AnswerStoppedError extends RagLedgerError {
  readonly code = 'answer_stopped';
  constructor(message: string, hint: string) {
    super(message, hint);
  }
}
