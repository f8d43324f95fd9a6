// What the Compare view derives from a CompareReport: row order and filters, the words of the
// activation summary, signed deltas and the histogram's summary. Pure functions (unit-tested).
import type { CompareReport, CompareRow } from '../../src/shared/explorerModel.js';

/** The sortable columns of the per-question table. */
export type SortKey = 'question' | 'overlap' | 'rbo' | 'shift' | 'added' | 'removed' | 'answer';

export interface SortState {
  readonly key: SortKey;
  readonly dir: 'ascending' | 'descending';
}

/** How the table is ordered and filtered: "worst first" is the report's own order (lowest RBO first). */
export interface RowView {
  readonly worstFirst: boolean;
  readonly changedOnly: boolean;
  readonly sort: SortState | null;
}

/** A question whose context differs from the original in any way (chunks added, removed or moved). */
export function isChanged(row: CompareRow): boolean {
  return row.added > 0 || row.removed > 0 || row.moved > 0 || row.metrics.rbo < 1 - 1e-9;
}

/** Sort value of the answer column: unknown first, then by similarity, same context last. */
function answerRank(row: CompareRow): number {
  switch (row.answer.kind) {
    case 'unknown':
      return -1;
    case 'reanswered':
      return row.answer.similarity;
    case 'same-context':
      return 2;
  }
}

function value(row: CompareRow, key: SortKey): number | string {
  switch (key) {
    case 'question':
      return row.question.toLocaleLowerCase();
    case 'overlap':
      return row.metrics.overlapAtK;
    case 'rbo':
      return row.metrics.rbo;
    case 'shift':
      return row.metrics.meanRankShift ?? -1;
    case 'added':
      return row.added;
    case 'removed':
      return row.removed;
    case 'answer':
      return answerRank(row);
  }
}

/** The rows the table shows, in the order it shows them (stable: ties keep the report's order). */
export function visibleRows(rows: readonly CompareRow[], view: RowView): readonly CompareRow[] {
  const kept = view.changedOnly ? rows.filter(isChanged) : rows;
  if (view.worstFirst || !view.sort) return kept;
  const { key, dir } = view.sort;
  const sign = dir === 'ascending' ? 1 : -1;
  return kept
    .map((row, i) => ({ row, i, v: value(row, key) }))
    .sort((a, b) => {
      const c = typeof a.v === 'string' && typeof b.v === 'string' ? a.v.localeCompare(b.v) : (a.v as number) - (b.v as number);
      return c !== 0 ? sign * c : a.i - b.i;
    })
    .map((x) => x.row);
}

/** The next sort after clicking a column header: ascending first, then toggling. */
export function nextSort(current: SortState | null, key: SortKey): SortState {
  if (current?.key === key) return { key, dir: current.dir === 'ascending' ? 'descending' : 'ascending' };
  return { key, dir: key === 'added' || key === 'removed' || key === 'shift' ? 'descending' : 'ascending' };
}

/** "same context", "re-answered 0.83" or "—". */
export function answerLabel(row: CompareRow): string {
  switch (row.answer.kind) {
    case 'same-context':
      return 'same context';
    case 'reanswered':
      return `re-answered ${row.answer.similarity.toFixed(2)}`;
    case 'unknown':
      return '—';
  }
}

const f2 = (x: number): string => (Number.isFinite(x) ? x.toFixed(2) : '–');

/** A difference with its sign: "+0.050", "−0.020", "±0.000". */
export function signedDelta(from: number, to: number, digits = 3): string {
  const d = to - from;
  const s = Math.abs(d).toFixed(digits);
  if (Number(s) === 0) return `±${s}`;
  return d > 0 ? `+${s}` : `−${s}`;
}

/** The words the host's confirmation states before activating the comparison's target version. */
export function activationSummary(report: CompareReport): string {
  const k = report.k;
  const what = report.source === 'golden' ? 'golden-set questions' : 'recorded questions';
  let s = `Over ${report.questions} ${what} (${report.from.label} → ${report.to.label}): mean overlap@${k} ${f2(report.means.overlapAtK)}, RBO ${f2(report.means.rbo)}, ${report.unchanged} unchanged`;
  const g = report.golden;
  if (g) s += `; recall@${k} ${f2(g.from.recall)} → ${f2(g.to.recall)}, MRR ${f2(g.from.mrr)} → ${f2(g.to.mrr)}, nDCG ${f2(g.from.ndcg)} → ${f2(g.to.ndcg)}`;
  return s;
}

/** The label of histogram bin i of 10: "0.0–0.1", …, "0.9–1.0". */
export function binLabel(i: number): string {
  return `${(i / 10).toFixed(1)}–${((i + 1) / 10).toFixed(1)}`;
}

/** A sentence a screen reader (and a glance) gets from the overlap histogram. */
export function histogramSummary(bins: readonly number[], k: number): string {
  const total = bins.reduce((a, b) => a + b, 0);
  if (total === 0) return 'No questions were compared.';
  const top = bins[9] ?? 0;
  const lowHalf = bins.slice(0, 5).reduce((a, b) => a + b, 0);
  let peak = 0;
  for (let i = 1; i < bins.length; i++) if ((bins[i] ?? 0) > (bins[peak] ?? 0)) peak = i;
  const pct = (n: number): string => `${Math.round((100 * n) / total)}%`;
  return (
    `${total} questions. ${top} (${pct(top)}) keep 0.9 or more of their context at k=${k}; ` +
    `${lowHalf} (${pct(lowHalf)}) keep less than half. Most questions fall in ${binLabel(peak)} (${bins[peak] ?? 0}).`
  );
}
