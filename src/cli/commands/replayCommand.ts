import { randomUUID } from 'node:crypto';
import { openLedger, openVectorIndex } from '../../adapters/ledger.js';
import { sha256 } from '../../adapters/node/sha256.js';
import { OllamaGenerator } from '../../adapters/ollama/ollamaGenerator.js';
import type { Embedder } from '../../app/embedding/embedder.js';
import { ReplayService } from '../../app/replay/replayService.js';
import { resolveAsOf } from '../../app/retrieval/pointInTime.js';
import type { Command } from '../cliSupport.js';
import { CheckFailed, UsageError, intOption, textOption, teamOptions } from '../cliSupport.js';
import { DEFAULT_CONTEXT_TOKENS } from '../../core/answer/prompt.js';
import { renderReanswer, renderReplay } from '../explorerRender.js';
import { loadEmbedder, pipelineToQuery, retrievalModeOption } from '../modelFlags.js';

export const replayCommand: Command = {
  name: 'replay',
  summary: "re-run a recorded question's retrieval against a pipeline version (or a point in time) and diff it",
  usage: `rag-ledger replay QUERY_ID [--pipeline VERSION] [--as-of POSITION|TIME|asked] [--k N] [--mode M]
                        [--regenerate [--model NAME] [--ollama-host URL] [--context-tokens N] [--extractive]] [--model-dir DIR] [--json]

  Retrieves the question's text again from --pipeline (default: the active version) and diffs the
  context against the one originally retrieved, aligned chunk by chunk: the same chunk (with its rank
  move and scores), a region chunked differently ("re-chunked": same document, overlapping lines,
  with a word diff of the two texts), dropped and new chunks; overlap@k, Jaccard, rank-biased overlap
  (RBO) and mean rank shift, for chunks and for the documents they come from. k defaults to the
  original context's size. Appends ContextReplayed to the question's stream; the original events are
  untouched. --json prints the same report the event-log explorer shows.

  --as-of retrieves from the table as it was at a log position, at a time (ISO 8601), or when the
  question was asked ("asked"): only chunks indexed by then and not superseded. Replaying with the
  question's own version --as-of asked reconstructs the original context.

  --regenerate also answers from the new context (Ollama, else extractively; ReplayAnswered) and
  diffs the answer against the original one word by word (--json: the report's "answer").`,
  options: {
    pipeline: { type: 'string' },
    'as-of': { type: 'string' },
    k: { type: 'string' },
    mode: { type: 'string' },
    regenerate: { type: 'boolean' },
    model: { type: 'string' },
    'ollama-host': { type: 'string' },
    'context-tokens': { type: 'string' },
    extractive: { type: 'boolean' },
    'model-dir': { type: 'string' },
  },
  allowPositionals: 1,
  async run(args, io) {
    const queryId = args.positionals[0];
    if (queryId === undefined) throw new UsageError('replay needs the question id (ask prints it; rag-ledger log --type QueryReceived lists them)');
    const v = args.values;
    const mode = retrievalModeOption(v.mode);
    const k = intOption(v.k, 'k', 1);
    const asOf = textOption(v['as-of'], 'as-of');
    if (v.regenerate !== true && (v.model !== undefined || v.extractive === true || v['ollama-host'] !== undefined || v['context-tokens'] !== undefined)) throw new UsageError('--model, --ollama-host, --context-tokens and --extractive go with --regenerate');
    const contextTokens = intOption(v['context-tokens'], 'context-tokens', 512) ?? DEFAULT_CONTEXT_TOKENS;
    const ledger = await openLedger(args.store, { mode: 'write', create: false, owner: 'the rag-ledger CLI (replay)', ...teamOptions(args) });
    const controller = new AbortController();
    const onSigint = (): void => controller.abort();
    process.once('SIGINT', onSigint);
    let embedder: Embedder | null = null;
    try {
      const { version, config } = await pipelineToQuery(ledger, v.pipeline as string | undefined);
      const asked = ledger.readModels.query(queryId);
      if (!asked) throw new CheckFailed(`no question ${queryId} in this store; list them with rag-ledger log --type QueryReceived`);
      const asOfPosition = asOf === undefined ? undefined : await resolveAsOf(ledger.events, asOf, asked.position);
      embedder = (mode ?? config.retrieval.mode) === 'lexical' ? null : await loadEmbedder(args, io, 'replay', config.embedder);
      // The replay holds the write lock: scratch tables left by a replay that died are its to sweep.
      const index = await openVectorIndex(args.store, { sweepScratch: true });
      try {
        const service = new ReplayService({ events: ledger.events, runner: ledger.runner, readModels: ledger.readModels, hasher: sha256, clock: () => new Date().toISOString(), actor: 'cli', index, newId: randomUUID });
        const report = await service.replay(queryId, {
          pipelineVersion: version,
          embedder,
          signal: controller.signal,
          ...(k !== undefined ? { k } : {}),
          ...(mode ? { mode } : {}),
          ...(asOfPosition !== undefined ? { asOfPosition } : {}),
        });
        let answer;
        if (v.regenerate === true) {
          const generator = v.extractive === true ? null : new OllamaGenerator({ model: (v.model as string | undefined) ?? config.generator.model, ...(v['ollama-host'] ? { host: v['ollama-host'] as string } : {}), contextTokens });
          answer = await service.reanswer(queryId, report.replayId, { generator, signal: controller.signal, onFailure: (f) => io.err(`rag-ledger replay: ${f.message}. ${f.hint}\n`) });
        }
        if (args.json) io.out(`${JSON.stringify(answer ? { ...report, answer } : report)}\n`);
        else io.out(renderReplay(report) + (answer ? renderReanswer(answer) : ''));
      } finally {
        await index.close();
      }
      await ledger.projections.flush();
    } finally {
      await embedder?.close();
      process.removeListener('SIGINT', onSigint);
      await ledger.close();
    }
  },
};
