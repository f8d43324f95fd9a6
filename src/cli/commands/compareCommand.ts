import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { openLedger, openVectorIndex } from '../../adapters/ledger.js';
import { comparePipelines } from '../../app/compare/comparePipelines.js';
import type { CompareQuestion } from '../../app/compare/compareService.js';
import type { Embedder } from '../../app/embedding/embedder.js';
import { embedderKey } from '../../core/pipeline/pipelineConfig.js';
import { parseGolden } from '../../core/retrieval/evaluation.js';
import type { Command } from '../cliSupport.js';
import { UsageError, intOption, progressReporter, teamOptions } from '../cliSupport.js';
import { renderCompare } from '../explorerRender.js';
import { loadEmbedder, pipelineToQuery, retrievalModeOption } from '../modelFlags.js';

export const compareCommand: Command = {
  name: 'compare',
  summary: 'compare two pipeline versions over the recorded questions (or a golden set)',
  usage: `rag-ledger compare --from VERSION --to VERSION [--golden FILE] [--k N] [--mode M] [--top N]
                         [--model-dir DIR] [--json]

  Retrieves every recorded question (or every question of a golden JSON Lines file, as for eval)
  from both versions and summarises how the contexts differ: mean overlap@k, Jaccard, rank-biased
  overlap and rank shift over chunks, mean overlap over documents, how many questions kept exactly
  the same context, a histogram of overlap@k, then the --top N (default 5) questions that changed
  most, each with whether its answer would change (same context and prompt, or a recorded
  re-answer). With --golden, also recall@k, MRR and nDCG@k of both versions. Each version uses its
  own embedder and retrieval mode (--mode overrides both). Nothing is appended to the log. --json
  prints the report the event-log explorer shows, with its first --top rows (all with --top 0).`,
  options: { from: { type: 'string' }, to: { type: 'string' }, golden: { type: 'string' }, k: { type: 'string' }, mode: { type: 'string' }, top: { type: 'string' }, 'model-dir': { type: 'string' } },
  allowPositionals: 0,
  async run(args, io) {
    const v = args.values;
    if (v.from === undefined || v.to === undefined) throw new UsageError('compare needs --from VERSION and --to VERSION (rag-ledger pipelines lists them)');
    const mode = retrievalModeOption(v.mode);
    const top = intOption(v.top, 'top', 0) ?? 5;
    const k = intOption(v.k, 'k', 1);
    let golden: CompareQuestion[] | null = null;
    if (v.golden !== undefined) {
      try {
        golden = parseGolden(readFileSync(resolve(io.cwd, v.golden as string), 'utf8'));
      } catch (err) {
        throw new UsageError(`${v.golden as string}: ${(err as Error).message}`);
      }
    }
    const ledger = await openLedger(args.store, { mode: 'read', ...teamOptions(args) });
    const embedders = new Map<string, Embedder | null>();
    try {
      await pipelineToQuery(ledger, v.from as string);
      await pipelineToQuery(ledger, v.to as string);
      const index = await openVectorIndex(args.store);
      const progress = progressReporter(io, 'compare (questions)');
      try {
        const c = await comparePipelines({ events: ledger.events, readModels: ledger.readModels, index }, v.from as string, v.to as string, {
          embedderFor: async (config) => {
            const key = embedderKey(config.embedder);
            if (!embedders.has(key)) embedders.set(key, await loadEmbedder(args, io, 'compare', config.embedder));
            const embedder = embedders.get(key) ?? null;
            return embedder ? { embedder } : { embedder: null, notice: 'its embedding model cannot be loaded: retrieval is full-text only' };
          },
          ...(golden ? { golden } : {}),
          ...(k !== undefined ? { k } : {}),
          ...(mode ? { mode } : {}),
          onProgress: (p) => progress.update(p.done, p.total),
        });
        progress.done();
        if (args.json) io.out(`${JSON.stringify({ ...c, rows: top === 0 ? c.rows : c.rows.slice(0, top) })}\n`);
        else io.out(renderCompare(c, top === 0 ? c.rows.length : top));
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
