import { assertIndexPresent, openLedger, openVectorIndex } from '../../adapters/ledger.js';
import { RetrievalService } from '../../app/retrieval/retrievalService.js';
import type { Command } from '../cliSupport.js';
import { UsageError, intOption, warnIfDamaged, teamOptions } from '../cliSupport.js';
import type { Embedder } from '../../app/embedding/embedder.js';
import { loadEmbedder, pipelineToQuery, retrievalModeOption } from '../modelFlags.js';


export const searchCommand: Command = {
  name: 'search',
  summary: 'retrieve the chunks most relevant to a question (nothing is recorded)',
  usage: `rag-ledger search "QUESTION" [--k N] [--mode hybrid|vector|lexical] [--pipeline VERSION]
                        [--model-dir DIR] [--json]

  Runs retrieval against a pipeline version's index (default: the active one): hybrid fuses the
  vector and the full-text rankings by reciprocal rank fusion. Without a loadable embedding
  model, retrieval is lexical and says so. Prints rank, score, path:lines and the chunk's start.`,
  options: { k: { type: 'string' }, mode: { type: 'string' }, pipeline: { type: 'string' }, 'model-dir': { type: 'string' } },
  allowPositionals: 1,
  async run(args, io) {
    const query = args.positionals[0];
    if (query === undefined || query.trim() === '') throw new UsageError('search needs the question, in quotes');
    const requestedMode = retrievalModeOption(args.values.mode);
    const requestedK = intOption(args.values.k, 'k', 1);
    const ledger = await openLedger(args.store, { mode: 'read', ...teamOptions(args) });
    warnIfDamaged(io, ledger.events);
    let embedder: Embedder | null = null;
    try {
      const { version, config } = await pipelineToQuery(ledger, args.values.pipeline as string | undefined);
      const mode = requestedMode ?? config.retrieval.mode;
      const k = requestedK ?? config.retrieval.k;
      embedder = mode === 'lexical' ? null : await loadEmbedder(args, io, 'search', config.embedder);
      const index = await openVectorIndex(args.store);
      try {
        await assertIndexPresent(ledger, index, version);
        const result = await new RetrievalService(index).retrieve(version, query, { k, mode, embedder });
        if (args.json) {
          io.out(`${JSON.stringify({ pipelineVersion: version, ...result })}\n`);
          return;
        }
        if (result.mode !== result.requestedMode) io.out(`note: ${result.requestedMode} retrieval needs the embedding model; this is ${result.mode} only\n`);
        if (result.chunks.length === 0) io.out('no matching chunks\n');
        for (const c of result.chunks) {
          io.out(`[${c.rank}] ${c.path}:${c.startLine}-${c.endLine}  score ${c.score.toFixed(4)}\n    ${c.text.replace(/\s+/g, ' ').slice(0, 160)}\n`);
        }
      } finally {
        await index.close();
      }
    } finally {
      await embedder?.close();
      await ledger.close();
    }
  },
};
