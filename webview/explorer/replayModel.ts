// What the Replay view derives from a ReplayReport: which list row belongs to which aligned pair,
// the lines of the slope chart, a summary in words, and the default pipeline to replay against.
// Pure functions (unit-tested).
import type { AlignedPair, AlignmentKind, ContextChunkView, PipelineSummary, ReplayReport } from '../../src/shared/explorerModel.js';

/** The direction of a pair's line in the slope chart. */
export type SlopeDirection = 'up' | 'down' | 'level';

/** A line of the slope chart, between list rows (0-based); `from` is null for new chunks, `to` for dropped ones. */
export interface SlopeLine {
  readonly pair: number;
  readonly kind: AlignmentKind;
  readonly direction: SlopeDirection;
  readonly from: number | null;
  readonly to: number | null;
}

/** For each row of the original and the replayed list, the index of its pair (-1 when none). */
export interface RowPairs {
  readonly original: readonly number[];
  readonly replayed: readonly number[];
}

const same = (a: ContextChunkView, b: ContextChunkView): boolean => a === b || (a.chunkId === b.chunkId && a.rank === b.rank);

function rowOf(list: readonly ContextChunkView[], chunk: ContextChunkView | null): number | null {
  if (!chunk) return null;
  const i = list.findIndex((c) => same(c, chunk));
  return i < 0 ? null : i;
}

/** Maps the rows of both lists to their pairs. */
export function rowPairs(report: ReplayReport): RowPairs {
  const original = report.original.chunks.map(() => -1);
  const replayed = report.replayed.chunks.map(() => -1);
  report.pairs.forEach((p, i) => {
    const o = rowOf(report.original.chunks, p.original);
    const r = rowOf(report.replayed.chunks, p.replayed);
    if (o !== null) original[o] = i;
    if (r !== null) replayed[r] = i;
  });
  return { original, replayed };
}

/** The slope chart's lines, one per pair that has a row on at least one side. */
export function slopeLines(report: ReplayReport): SlopeLine[] {
  const lines: SlopeLine[] = [];
  report.pairs.forEach((p, pair) => {
    const from = rowOf(report.original.chunks, p.original);
    const to = rowOf(report.replayed.chunks, p.replayed);
    if (from === null && to === null) return;
    const direction: SlopeDirection = from === null || to === null ? 'level' : to < from ? 'up' : to > from ? 'down' : 'level';
    lines.push({ pair, kind: p.kind, direction, from, to });
  });
  return lines;
}

/** The CSS class of a move marker (the colour; the text says the same). */
export function moveClass(pair: Pick<AlignedPair, 'kind' | 'move'>): string {
  if (pair.kind === 'new') return 'move-new';
  if (pair.kind === 'dropped') return 'move-dropped';
  const m = pair.move ?? 0;
  return m > 0 ? 'move-up' : m < 0 ? 'move-down' : 'move-same';
}

/** How the pairs moved, in words: "3 at the same rank, 1 up, 2 dropped, …". */
export function pairsSummary(pairs: readonly AlignedPair[]): string {
  let sameRank = 0;
  let up = 0;
  let down = 0;
  let rechunked = 0;
  let dropped = 0;
  let added = 0;
  for (const p of pairs) {
    if (p.kind === 'dropped') dropped++;
    else if (p.kind === 'new') added++;
    else {
      if (p.kind === 'rechunked') rechunked++;
      const m = p.move ?? 0;
      if (m > 0) up++;
      else if (m < 0) down++;
      else sameRank++;
    }
  }
  const parts = [`${sameRank} at the same rank`, `${up} moved up`, `${down} moved down`];
  if (rechunked > 0) parts.push(`${rechunked} re-chunked`);
  parts.push(`${dropped} dropped`, `${added} new`);
  return parts.join(', ');
}

/** `path:12-30` (or the path alone when the lines are unknown). */
export function chunkLocation(c: Pick<ContextChunkView, 'path' | 'startLine' | 'endLine'>): string {
  if (c.startLine === null) return c.path;
  return `${c.path}:${c.startLine}${c.endLine !== null && c.endLine !== c.startLine ? `-${c.endLine}` : ''}`;
}

/** What to replay against when nothing was asked: a built shadow version, else any other, else the active one. */
export function defaultPipeline(pipelines: readonly PipelineSummary[], active: string | null): string | null {
  const others = pipelines.filter((p) => p.version !== active && !p.active);
  return (others.find((p) => p.built) ?? others[0] ?? pipelines.find((p) => p.active) ?? pipelines[0])?.version ?? null;
}

/** A pipeline as a picker lists it: "v3 · hybrid, k=8 (active)", "(not built)" for unbuilt ones. */
export function pipelineLabel(p: PipelineSummary): string {
  const flags = [p.active ? 'active' : null, p.built ? null : 'not built'].filter((x) => x !== null);
  return `${p.label}${flags.length > 0 ? ` (${flags.join(', ')})` : ''}`;
}
