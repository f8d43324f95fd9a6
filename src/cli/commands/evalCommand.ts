import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { openLedger, openVectorIndex } from '../../adapters/ledger.js';
import { RetrievalService } from '../../app/retrieval/retrievalService.js';
import type { QueryScores } from '../../core/retrieval/evaluation.js';
import { parseGolden, scoreRetrieval } from '../../core/retrieval/evaluation.js';
import type { Command } from '../cliSupport.js';
import { CheckFailed, UsageError, intOption, teamOptions } from '../cliSupport.js';
import type { Embedder } from '../../app/embedding/embedder.js';
import { loadEmbedder, pipelineToQuery, retrievalModeOption } from '../modelFlags.js';

export const evalCommand: Command = {
  name: 'eval',
  summary: 'score retrieval against golden questions (recall@k, MRR, nDCG@k); fails below a threshold',
  usage: `rag-ledger eval --golden FILE [--pipeline VERSION] [--k K] [--mode M] [--min-recall R] [--model-dir DIR] [--json]

  FILE is JSON Lines: {"query": "...", "relevant": ["path", "path:start-end", ...]} per line. A path
  counts any chunk of that file; path:start-end counts chunks overlapping those lines. Prints recall@k,
  MRR and nDCG@k (means over the questions) and the questions that missed most. Exits 1 when the mean
  recall is below --min-recall, so CI can gate a pipeline change. Nothing is recorded in the log.`,
  options: { golden: { type: 'string' }, pipeline: { type: 'string' }, k: { type: 'string' }, mode: { type: 'string' }, 'min-recall': { type: 'string' }, 'model-dir': { type: 'string' } },
  allowPositionals: 0,
  async run(args, io) {
    const file = args.values.golden as string | undefined;
    if (file === undefined) throw new UsageError('eval needs --golden FILE');
    const minRaw = args.values['min-recall'] as string | undefined;
    const minRecall = minRaw === undefined ? null : Number(minRaw);
    if (minRecall !== null && !(minRecall >= 0 && minRecall <= 1)) throw new UsageError(`--min-recall must be a number from 0 to 1, got ${JSON.stringify(minRaw)}`);
    let golden;
    try {
      golden = parseGolden(readFileSync(resolve(io.cwd, file), 'utf8'));
    } catch (err) {
      throw new UsageError(`${file}: ${(err as Error).message}`);
    }
    const requestedMode = retrievalModeOption(args.values.mode);
    const requestedK = intOption(args.values.k, 'k', 1);
    const ledger = await openLedger(args.store, { mode: 'read', ...teamOptions(args) });
    let embedder: Embedder | null = null;
    try {
      const { version, config } = await pipelineToQuery(ledger, args.values.pipeline as string | undefined);
      const k = requestedK ?? config.retrieval.k;
      const mode = requestedMode ?? config.retrieval.mode;
      embedder = mode === 'lexical' ? null : await loadEmbedder(args, io, 'eval', config.embedder);
      const index = await openVectorIndex(args.store);
      try {
        const retrieval = new RetrievalService(index);
        const perQuery: (QueryScores & { query: string })[] = [];
        for (const item of golden) {
          const r = await retrieval.retrieve(version, item.query, { k, mode, embedder });
          perQuery.push({ query: item.query, ...scoreRetrieval(item, r.chunks) });
        }
        const mean = (f: (q: QueryScores) => number): number => perQuery.reduce((n, q) => n + f(q), 0) / perQuery.length;
        const summary = { pipelineVersion: version, k, mode: embedder === null ? 'lexical' : mode, questions: perQuery.length, recall: mean((q) => q.recall), mrr: mean((q) => q.reciprocalRank), ndcg: mean((q) => q.ndcg) };
        if (args.json) io.out(`${JSON.stringify({ ...summary, perQuery })}\n`);
        else {
          io.out(`${version} (${summary.mode}, k=${k}) over ${summary.questions} questions: recall@${k} ${summary.recall.toFixed(3)}, MRR ${summary.mrr.toFixed(3)}, nDCG@${k} ${summary.ndcg.toFixed(3)}\n`);
          for (const q of [...perQuery].sort((a, b) => a.recall - b.recall || a.reciprocalRank - b.reciprocalRank).slice(0, 5).filter((q) => q.recall < 1)) {
            io.out(`  missed: recall ${q.recall.toFixed(2)}, RR ${q.reciprocalRank.toFixed(2)}  "${q.query}"\n`);
          }
        }
        if (minRecall !== null && summary.recall < minRecall) throw new CheckFailed(`recall@${k} ${summary.recall.toFixed(3)} is below --min-recall ${minRecall}`);
      } finally {
        await index.close();
      }
    } finally {
      await embedder?.close();
      await ledger.close();
    }
  },
};
