import { openLedger, openVectorIndex } from '../../adapters/ledger.js';
import { RetrievalService } from '../../app/retrieval/retrievalService.js';
import type { EmbedderInfo } from '../../core/pipeline/pipelineConfig.js';
import type { RetrievalMode } from '../../core/retrieval/fusion.js';
import type { Command } from '../cliSupport.js';
import { CheckFailed, UsageError, intOption } from '../cliSupport.js';
import { loadEmbedder } from '../modelFlags.js';

const MODES: readonly RetrievalMode[] = ['hybrid', 'vector', 'lexical'];

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
    const mode = (args.values.mode as string | undefined) ?? 'hybrid';
    if (!MODES.includes(mode as RetrievalMode)) throw new UsageError(`--mode must be one of ${MODES.join(', ')}, got ${JSON.stringify(mode)}`);
    const k = intOption(args.values.k, 'k', 1) ?? 8;
    const ledger = await openLedger(args.store, { mode: 'read' });
    try {
      await ledger.runner.catchUp();
      const version = (args.values.pipeline as string | undefined) ?? ledger.readModels.activePipeline();
      if (version === undefined) throw new CheckFailed('this store has no active pipeline version yet; run rag-ledger ingest DIR first');
      const record = ledger.readModels.pipeline(version);
      if (!record) throw new CheckFailed(`pipeline version ${version} is not defined; run rag-ledger pipelines to list them`);
      const info = (record.config as unknown as { embedder: EmbedderInfo }).embedder;
      const embedder = mode === 'lexical' ? null : await loadEmbedder(args, io, 'search', info);
      const index = await openVectorIndex(args.store);
      try {
        const result = await new RetrievalService(index).retrieve(version, query, { k, mode: mode as RetrievalMode, embedder });
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
        await embedder?.close();
      }
    } finally {
      await ledger.close();
    }
  },
};
