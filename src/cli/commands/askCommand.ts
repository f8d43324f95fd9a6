import { randomUUID } from 'node:crypto';
import { userInfo } from 'node:os';
import { assertIndexPresent, openLedger, openVectorIndex } from '../../adapters/ledger.js';
import { sha256 } from '../../adapters/node/sha256.js';
import { OllamaGenerator } from '../../adapters/ollama/ollamaGenerator.js';
import { AskService } from '../../app/ask/askService.js';
import { MAX_ANSWER_CHARS_LIMIT } from '../../app/ask/generator.js';
import { RetrievalService } from '../../app/retrieval/retrievalService.js';
import type { Command } from '../cliSupport.js';
import { UsageError, intOption } from '../cliSupport.js';
import type { Embedder } from '../../app/embedding/embedder.js';
import { answerNotes } from '../render.js';
import { DEFAULT_CONTEXT_TOKENS } from '../../core/answer/prompt.js';
import { RagLedgerError } from '../../core/errors.js';
import { loadEmbedder, pipelineToQuery, retrievalModeOption } from '../modelFlags.js';


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
    const ledger = await openLedger(args.store, { mode: 'write', create: false, owner: 'the rag-ledger CLI (ask)' });
    const controller = new AbortController();
    const onSigint = (): void => controller.abort();
    process.once('SIGINT', onSigint);
    let embedder: Embedder | null = null;
    let stopped: { readonly message: string; readonly hint: string } | undefined;
    try {
      const { version, config } = await pipelineToQuery(ledger, undefined);
      const retrievalMode = mode ?? config.retrieval.mode;
      embedder = retrievalMode === 'lexical' ? null : await loadEmbedder(args, io, 'ask', config.embedder);
      const index = await openVectorIndex(args.store);
      try {
        await assertIndexPresent(ledger, index, version);
        const generator =
          v.extractive === true
            ? null
            : new OllamaGenerator({ model: (v.model as string | undefined) ?? config.generator.model, ...(v['ollama-host'] ? { host: v['ollama-host'] as string } : {}), ...(timeout ? { idleTimeoutMs: timeout * 1000 } : {}), ...(answerTimeout ? { answerTimeoutMs: answerTimeout * 1000 } : {}), ...(maxAnswerChars ? { maxAnswerChars } : {}), contextTokens });
        const service = new AskService({ events: ledger.events, retrieval: new RetrievalService(index), hasher: sha256, clock: () => new Date().toISOString(), newId: randomUUID, actor: 'cli' });
        let streamed = false;
        const result = await service.ask(question, {
          pipelineVersion: version,
          k: intOption(v.k, 'k', 1) ?? config.retrieval.k,
          mode: retrievalMode,
          promptTemplate: config.prompt.template,
          embedder,
          generator,
          userId: (v.user as string | undefined) ?? userInfo().username,
          signal: controller.signal,
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
        });
        if (args.json) io.out(`${JSON.stringify({ pipelineVersion: version, ...result })}\n`);
        else io.out(`${streamed ? '\n' : ''}${answerNotes(result)}\n(question ${result.queryId}; its provenance: rag-ledger show ${result.queryId})\n`);
        if (result.failure?.limit) stopped = result.failure;
      } finally {
        await index.close();
      }
      await ledger.projections.flush();
    } finally {
      await embedder?.close();
      process.removeListener('SIGINT', onSigint);
      await ledger.close();
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
