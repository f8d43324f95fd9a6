import { randomUUID } from 'node:crypto';
import { openLedger, openVectorIndex } from '../../adapters/ledger.js';
import { sha256 } from '../../adapters/node/sha256.js';
import { OllamaGenerator } from '../../adapters/ollama/ollamaGenerator.js';
import type { Embedder } from '../../app/embedding/embedder.js';
import type { ReplayResult } from '../../app/replay/replayService.js';
import { ReplayService } from '../../app/replay/replayService.js';
import { resolveAsOf } from '../../app/retrieval/pointInTime.js';
import type { ContextDiff } from '../../core/retrieval/contextDiff.js';
import { renderTextDiff } from '../../core/retrieval/contextDiff.js';
import type { Command } from '../cliSupport.js';
import { CheckFailed, UsageError, intOption, textOption } from '../cliSupport.js';
import { loadEmbedder, pipelineToQuery, retrievalModeOption } from '../modelFlags.js';

const f3 = (n: number): string => n.toFixed(3);
const signed = (n: number, digits = 4): string => `${n >= 0 ? '+' : ''}${n.toFixed(digits)}`;

/** The similarity figures of a diff, on one line. */
export function similarityLine(d: Pick<ContextDiff, 'overlapAtK' | 'jaccard' | 'rbo' | 'k'>): string {
  return `overlap@${d.k} ${f3(d.overlapAtK)}, Jaccard ${f3(d.jaccard)}, RBO ${f3(d.rbo)}`;
}

function render(r: ReplayResult): string {
  const d = r.diff;
  const lines = [
    `replay ${r.replayId} of ${r.queryId}: "${r.question}"`,
    `  original: ${r.original.pipelineVersion ?? '?'} (${r.original.mode ?? '?'}), ${r.original.chunks.length} chunks`,
    `  replayed: ${r.replayed.pipelineVersion} (${r.replayed.mode}, k=${r.replayed.k})${r.replayed.asOfPosition !== null ? `, as of log position ${r.replayed.asOfPosition}` : ''}, ${r.replayed.chunks.length} chunks`,
    `chunks:    ${similarityLine(d)}; ${d.kept.length} kept (${d.moved} moved), ${d.added.length} added, ${d.removed.length} removed`,
    `documents: ${similarityLine({ ...d.documents, k: Math.max(d.documents.kept.length + d.documents.added.length, d.documents.kept.length + d.documents.removed.length) })}; ${d.documents.kept.length} kept, ${d.documents.added.length} added, ${d.documents.removed.length} removed`,
  ];
  const lineOf = new Map(r.replayed.chunks.map((c) => [c.chunkId, c.lines]));
  const origLineOf = new Map(r.original.chunks.map((c) => [c.chunkId, c.lines]));
  for (const k of [...d.kept].sort((a, b) => a.toRank - b.toRank)) {
    const move = k.rankMove === 0 ? '=' : k.rankMove > 0 ? `↑${k.rankMove}` : `↓${-k.rankMove}`;
    lines.push(`  kept    #${k.fromRank} → #${k.toRank} ${move.padEnd(3)} score ${signed(k.scoreDelta)}  ${k.path}:${lineOf.get(k.chunkId) ?? '?'}`);
  }
  for (const a of d.added) lines.push(`  added        #${a.rank}     score ${a.score.toFixed(4)}  ${a.path}:${lineOf.get(a.chunkId) ?? '?'}`);
  for (const x of d.removed) lines.push(`  removed #${x.rank}          score ${x.score.toFixed(4)}  ${x.path}:${origLineOf.get(x.chunkId) ?? '?'}`);
  if (r.answer) {
    lines.push(`answer by ${r.answer.modelId}${r.answer.failure ? ` (the model failed: ${r.answer.failure})` : ''}:`);
    if (r.answer.textDiff) {
      lines.push(`  similarity to the original answer ${f3(r.answer.textDiff.similarity)}; [-removed-] {+added+}:`);
      lines.push(...renderTextDiff(r.answer.textDiff).split('\n').map((l) => `    ${l}`));
    } else lines.push(...r.answer.text.split('\n').map((l) => `    ${l}`));
  }
  return `${lines.join('\n')}\n`;
}

export const replayCommand: Command = {
  name: 'replay',
  summary: "re-run a recorded question's retrieval against a pipeline version (or a point in time) and diff it",
  usage: `rag-ledger replay QUERY_ID [--pipeline VERSION] [--as-of POSITION|TIME|asked] [--k N] [--mode M]
                        [--regenerate [--model NAME] [--ollama-host URL] [--extractive]] [--model-dir DIR] [--json]

  Retrieves the question's text again from --pipeline (default: the active version) and diffs the
  context against the one originally retrieved: chunks added, removed and kept, rank moves, score
  deltas, overlap@k, Jaccard and rank-biased overlap (RBO), for chunks and for the documents they
  come from (a new chunking changes chunk ids, not documents). k defaults to the original context's
  size. Appends ContextReplayed to the question's stream; the original events are untouched.

  --as-of retrieves from the table as it was at a log position, at a time (ISO 8601), or when the
  question was asked ("asked"): only chunks indexed by then and not superseded. Replaying with the
  question's own version --as-of asked reconstructs the original context.

  --regenerate also answers from the new context (Ollama, else extractively; ReplayAnswered) and
  diffs the answer against the original one word by word.`,
  options: {
    pipeline: { type: 'string' },
    'as-of': { type: 'string' },
    k: { type: 'string' },
    mode: { type: 'string' },
    regenerate: { type: 'boolean' },
    model: { type: 'string' },
    'ollama-host': { type: 'string' },
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
    if (v.regenerate !== true && (v.model !== undefined || v.extractive === true || v['ollama-host'] !== undefined)) throw new UsageError('--model, --ollama-host and --extractive go with --regenerate');
    const ledger = await openLedger(args.store, { mode: 'write', create: false, owner: 'the rag-ledger CLI (replay)' });
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
      const index = await openVectorIndex(args.store);
      try {
        const generator = v.extractive === true ? null : new OllamaGenerator({ model: (v.model as string | undefined) ?? config.generator.model, ...(v['ollama-host'] ? { host: v['ollama-host'] as string } : {}) });
        const service = new ReplayService({ events: ledger.events, runner: ledger.runner, readModels: ledger.readModels, hasher: sha256, clock: () => new Date().toISOString(), actor: 'cli', index, newId: randomUUID });
        const result = await service.replay(queryId, {
          pipelineVersion: version,
          embedder,
          signal: controller.signal,
          ...(k !== undefined ? { k } : {}),
          ...(mode ? { mode } : {}),
          ...(asOfPosition !== undefined ? { asOfPosition } : {}),
          ...(v.regenerate === true ? { regenerate: { generator, onFailure: (f) => io.err(`rag-ledger replay: ${f.message}. ${f.hint}\n`) } } : {}),
        });
        io.out(args.json ? `${JSON.stringify(result)}\n` : render(result));
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
