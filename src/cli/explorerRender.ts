/**
 * The CLI's renderings of what the explorer shows: log lines, replay and comparison reports. The
 * reports are the same objects the explorer webview renders (src/shared/explorerModel.ts); `--json`
 * prints them as they are.
 */
import { rowOf } from '../app/explorer/timelineService.js';
import type { RecordedEvent } from '../core/eventStore.js';
import { renderTextDiff } from '../core/retrieval/contextDiff.js';
import type { AlignedPair, CompareReport, ContextChunkView, RankingMetrics, ReanswerReport, ReplayReport } from '../shared/explorerModel.js';

const f3 = (n: number): string => n.toFixed(3);
const f4 = (n: number): string => n.toFixed(4);
const signed = (n: number): string => `${n >= 0 ? '+' : ''}${n.toFixed(3)}`;
const delta = (a: number, b: number): string => `${f3(a)} → ${f3(b)} (${signed(b - a)})`;

/** One line per event: position, time, type, stream and version, what happened. */
export function logLine(e: RecordedEvent): string {
  const row = rowOf(e, e, null);
  return `${String(e.position).padStart(7)}  ${e.recordedAt}  ${e.type.padEnd(24)} ${e.streamId}@${e.streamVersion}  ${row.failed ? '✗ ' : ''}${row.summary}`;
}

/** overlap@k, Jaccard, RBO and mean rank shift on one line. */
export function metricsLine(m: RankingMetrics): string {
  return `overlap@${m.k} ${f3(m.overlapAtK)}, Jaccard ${f3(m.jaccard)}, RBO ${f3(m.rbo)}, mean rank shift ${m.meanRankShift === null ? '–' : m.meanRankShift.toFixed(2)}`;
}

const where = (c: ContextChunkView): string => `${c.path}:${c.startLine ?? '?'}-${c.endLine ?? '?'}${c.documentVersion ? ` v${c.documentVersion.ordinal}` : ''}`;

function move(p: AlignedPair): string {
  if (p.kind === 'new') return 'new';
  if (p.kind === 'dropped') return 'dropped';
  const m = p.move ?? 0;
  return m > 0 ? `↑${m}` : m < 0 ? `↓${-m}` : '=';
}

function pairLine(p: AlignedPair): string {
  const from = p.original ? `#${p.original.rank}` : '';
  const to = p.replayed ? `#${p.replayed.rank}` : '';
  const scores = p.original && p.replayed ? `${f4(p.original.score)} → ${f4(p.replayed.score)}` : f4((p.original ?? p.replayed)!.score);
  const place = p.kind === 'rechunked' ? `${where(p.original!)} → ${p.replayed!.startLine ?? '?'}-${p.replayed!.endLine ?? '?'}` : where((p.replayed ?? p.original)!);
  return `  ${p.kind.padEnd(9)} ${from.padStart(3)} → ${to.padEnd(3)} ${move(p).padEnd(7)} score ${scores.padEnd(17)} ${place}`;
}

/** A replay, as `rag-ledger replay` prints it. */
export function renderReplay(r: ReplayReport): string {
  const count = (kind: AlignedPair['kind']): number => r.pairs.filter((p) => p.kind === kind).length;
  const moved = r.pairs.filter((p) => p.kind === 'same' && p.move !== 0).length;
  const lines = [
    `replay ${r.replayId} of ${r.queryId}: "${r.question}"`,
    `  original: ${r.original.pipelineVersion ?? '?'} (${r.original.mode ?? '?'}), ${r.original.chunks.length} chunks, asked ${r.askedAt} (log position ${r.askedPosition})`,
    `  replayed: ${r.replayed.pipelineVersion} (${r.replayed.mode}, k=${r.replayed.k})${r.replayed.asOfPosition !== null ? `, as of log position ${r.replayed.asOfPosition}` : ''}, ${r.replayed.chunks.length} chunks`,
    ...(r.notice ? [`  note: ${r.notice}`] : []),
    `chunks:    ${metricsLine(r.metrics.chunks)}; ${count('same')} kept (${moved} moved), ${count('rechunked')} re-chunked, ${count('new')} added, ${count('dropped')} removed`,
    `documents: ${metricsLine(r.metrics.documents)}`,
    ...r.pairs.map(pairLine),
  ];
  for (const p of r.pairs) {
    if (p.kind !== 'rechunked' || !p.textDiff) continue;
    lines.push(`  re-chunked ${p.original!.path}:${p.original!.startLine ?? '?'}-${p.original!.endLine ?? '?'}, [-only before-] {+only after+}:`);
    lines.push(...renderTextDiff({ similarity: 0, parts: p.textDiff }).split('\n').map((l) => `    ${l}`));
  }
  return `${lines.join('\n')}\n`;
}

/** A re-answer, after its replay. */
export function renderReanswer(a: ReanswerReport): string {
  const lines = [`answer by ${a.modelId}${a.failure ? ` (the model failed: ${a.failure})` : ''}:`];
  if (a.diff && a.similarity !== null) {
    lines.push(`  similarity to the original answer ${f3(a.similarity)}; [-removed-] {+added+}:`);
    lines.push(...renderTextDiff({ similarity: a.similarity, parts: a.diff }).split('\n').map((l) => `    ${l}`));
  } else lines.push(...a.text.split('\n').map((l) => `    ${l}`));
  return `${lines.join('\n')}\n`;
}

/** A comparison, as `rag-ledger compare` prints it: the aggregates, then the questions that changed most. */
export function renderCompare(c: CompareReport, top: number): string {
  const m = c.means;
  const lines = [
    `${c.from.version} (${c.from.mode}) → ${c.to.version} (${c.to.mode}), k=${c.k}, over ${c.questions} ${c.source} questions`,
    `  chunks:    mean overlap@${c.k} ${f3(m.overlapAtK)}, Jaccard ${f3(m.jaccard)}, RBO ${f3(m.rbo)}, mean rank shift ${m.meanRankShift === null ? '–' : m.meanRankShift.toFixed(2)}`,
    `  documents: mean overlap ${f3(m.documentOverlapAtK)}`,
    `  ${c.unchanged} of ${c.questions} questions retrieve exactly the same context`,
    `  overlap@${c.k}: ${c.overlapHistogram.map((n, i) => `${(i / 10).toFixed(1)}${i === 9 ? '–1.0' : ''} ${n}`).join(' · ')}`,
  ];
  if (c.golden) lines.push(`  recall@${c.k} ${delta(c.golden.from.recall, c.golden.to.recall)}, MRR ${delta(c.golden.from.mrr, c.golden.to.mrr)}, nDCG@${c.k} ${delta(c.golden.from.ndcg, c.golden.to.ndcg)}`);
  if (c.notice) lines.push(`  note: ${c.notice}`);
  const changed = c.rows.filter((r) => r.metrics.rbo < 1).slice(0, top);
  if (changed.length > 0) lines.push('changed most:');
  for (const r of changed) {
    const answer = r.answer.kind === 'same-context' ? 'same context and prompt' : r.answer.kind === 'reanswered' ? `answered again, similarity ${f3(r.answer.similarity)}` : 'not answered again';
    lines.push(`  "${r.question}"${r.queryId ? ` (${r.queryId})` : ''}`);
    lines.push(`      ${metricsLine(r.metrics)}; ${r.added} added, ${r.removed} removed, ${r.moved} moved; documents overlap ${f3(r.documentOverlapAtK)}; ${answer}`);
    if (r.golden) lines.push(`      recall ${delta(r.golden.fromRecall, r.golden.toRecall)}`);
  }
  return `${lines.join('\n')}\n`;
}
