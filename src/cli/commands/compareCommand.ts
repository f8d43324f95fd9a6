import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { openLedger, openVectorIndex } from '../../adapters/ledger.js';
import type { CompareQuestion, CompareSide } from '../../app/compare/compareService.js';
import { CompareService } from '../../app/compare/compareService.js';
import type { Embedder } from '../../app/embedding/embedder.js';
import { embedderKey } from '../../core/pipeline/pipelineConfig.js';
import { parseGolden } from '../../core/retrieval/evaluation.js';
import type { Command } from '../cliSupport.js';
import { CheckFailed, UsageError, intOption, progressReporter } from '../cliSupport.js';
import { loadEmbedder, pipelineToQuery, retrievalModeOption } from '../modelFlags.js';
import { similarityLine } from './replayCommand.js';

const f3 = (n: number): string => n.toFixed(3);
const delta = (a: number, b: number): string => `${f3(a)} → ${f3(b)} (${b - a >= 0 ? '+' : ''}${f3(b - a)})`;

export const compareCommand: Command = {
  name: 'compare',
  summary: 'compare two pipeline versions over the recorded questions (or a golden set)',
  usage: `rag-ledger compare --from VERSION --to VERSION [--golden FILE] [--k N] [--mode M] [--top N]
                         [--model-dir DIR] [--json]

  Retrieves every recorded question (or every question of a golden JSON Lines file, as for eval)
  from both versions and summarises how the contexts differ: mean overlap@k, Jaccard and
  rank-biased overlap over chunks, mean overlap over documents, how many questions kept exactly the
  same context, then the --top N (default 5) questions that changed most. With --golden, also
  recall@k, MRR and nDCG@k of both versions. Each version uses its own embedder and retrieval mode
  (--mode overrides both). Nothing is appended to the log.`,
  options: { from: { type: 'string' }, to: { type: 'string' }, golden: { type: 'string' }, k: { type: 'string' }, mode: { type: 'string' }, top: { type: 'string' }, 'model-dir': { type: 'string' } },
  allowPositionals: 0,
  async run(args, io) {
    const v = args.values;
    if (v.from === undefined || v.to === undefined) throw new UsageError('compare needs --from VERSION and --to VERSION (rag-ledger pipelines lists them)');
    const mode = retrievalModeOption(v.mode);
    const top = intOption(v.top, 'top', 0) ?? 5;
    let golden: CompareQuestion[] | null = null;
    if (v.golden !== undefined) {
      try {
        golden = parseGolden(readFileSync(resolve(io.cwd, v.golden as string), 'utf8'));
      } catch (err) {
        throw new UsageError(`${v.golden as string}: ${(err as Error).message}`);
      }
    }
    const ledger = await openLedger(args.store, { mode: 'read' });
    const embedders = new Map<string, Embedder | null>();
    try {
      const from = await pipelineToQuery(ledger, v.from as string);
      const to = await pipelineToQuery(ledger, v.to as string);
      const k = intOption(v.k, 'k', 1) ?? Math.max(from.config.retrieval.k, to.config.retrieval.k);
      const questions: CompareQuestion[] = golden ?? [...new Map(ledger.readModels.queries(Number.MAX_SAFE_INTEGER).map((q) => [q.query_text, { query: q.query_text }])).values()];
      if (questions.length === 0) throw new CheckFailed('this store has no recorded questions to compare on; ask some first, or give --golden FILE');
      const side = async (p: typeof from): Promise<CompareSide> => {
        const m = mode ?? p.config.retrieval.mode;
        const key = embedderKey(p.config.embedder);
        if (m !== 'lexical' && !embedders.has(key)) embedders.set(key, await loadEmbedder(args, io, 'compare', p.config.embedder));
        return { pipelineVersion: p.version, mode: m, embedder: m === 'lexical' ? null : (embedders.get(key) ?? null) };
      };
      const sides = [await side(from), await side(to)] as const;
      const index = await openVectorIndex(args.store);
      const progress = progressReporter(io, 'compare (questions)');
      try {
        const c = await new CompareService(index).compare(sides[0], sides[1], questions, { k, onProgress: (p) => progress.update(p.done, p.total) });
        progress.done();
        if (args.json) {
          io.out(`${JSON.stringify({ ...c, perQuestion: c.perQuestion.slice(0, top) })}\n`);
          return;
        }
        const lines = [
          `${c.from} (${sides[0].mode}) → ${c.to} (${sides[1].mode}), k=${k}, over ${c.questions} ${golden ? 'golden' : 'recorded'} questions`,
          `  chunks:    mean overlap@${k} ${f3(c.means.overlapAtK)}, Jaccard ${f3(c.means.jaccard)}, RBO ${f3(c.means.rbo)}`,
          `  documents: mean overlap ${f3(c.means.documentOverlapAtK)}`,
          `  ${c.unchanged} of ${c.questions} questions retrieve exactly the same context`,
        ];
        if (c.golden) {
          lines.push(`  recall@${k} ${delta(c.golden.from.recall, c.golden.to.recall)}, MRR ${delta(c.golden.from.mrr, c.golden.to.mrr)}, nDCG@${k} ${delta(c.golden.from.ndcg, c.golden.to.ndcg)}`);
        }
        const changed = c.perQuestion.filter((q) => q.diff.rbo < 1).slice(0, top);
        if (changed.length > 0) lines.push('changed most:');
        for (const q of changed) {
          lines.push(`  "${q.query}"`);
          lines.push(`      ${similarityLine(q.diff)}; ${q.diff.added.length} added, ${q.diff.removed.length} removed, ${q.diff.moved} moved; documents +${q.diff.documents.added.length} -${q.diff.documents.removed.length}`);
          if (q.from && q.to) lines.push(`      recall ${delta(q.from.recall, q.to.recall)}`);
        }
        io.out(`${lines.join('\n')}\n`);
      } finally {
        progress.done();
        await index.close();
      }
    } finally {
      for (const e of embedders.values()) await e?.close();
      await ledger.close();
    }
  },
};
