/**
 * Aligns a replayed context with the original one, chunk by chunk, so the two can be shown side by
 * side. A new chunking changes every chunk id, so chunks are matched first by id, then by region:
 * the same document and overlapping lines ("re-chunked"), with a word diff of the two texts.
 * Pure function of its inputs.
 */
import type { TextDiff } from './contextDiff.js';
import { diffText } from './contextDiff.js';

/** What alignment needs of a chunk. Ranks are 1-based. */
export interface AlignableChunk {
  readonly chunkId: string;
  readonly path: string;
  readonly rank: number;
  readonly startLine: number | null;
  readonly endLine: number | null;
  readonly text: string | null;
}

export type AlignmentKind = 'same' | 'rechunked' | 'dropped' | 'new';

export interface Aligned<T extends AlignableChunk> {
  readonly kind: AlignmentKind;
  readonly original: T | null;
  readonly replayed: T | null;
  /** original rank − replayed rank (positive: moved up); null for dropped and new chunks. */
  readonly move: number | null;
  /** For re-chunked pairs with both texts: the word diff from the original text to the replayed one. */
  readonly textDiff: TextDiff | null;
}

/** Lines shared by two ranges over the lines either covers (intersection over union); 0 when apart. */
export function lineOverlap(a: AlignableChunk, b: AlignableChunk): number {
  if (a.startLine === null || a.endLine === null || b.startLine === null || b.endLine === null) return 0;
  const shared = Math.min(a.endLine, b.endLine) - Math.max(a.startLine, b.startLine) + 1;
  if (shared <= 0) return 0;
  const union = Math.max(a.endLine, b.endLine) - Math.min(a.startLine, b.startLine) + 1;
  return shared / union;
}

/**
 * Pairs every chunk of `original` with at most one of `replayed`: identical chunk ids first, then,
 * among the rest, chunks of the same document whose lines overlap, best overlap first (ties: the
 * higher-ranked pair). What is left is dropped (original only) or new (replayed only). Rows come in
 * the original's rank order, new chunks last in the replay's rank order.
 */
export function alignContexts<T extends AlignableChunk>(original: readonly T[], replayed: readonly T[]): Aligned<T>[] {
  const byId = new Map(replayed.map((r) => [r.chunkId, r]));
  const matched = new Map<T, Aligned<T>>();
  const usedReplayed = new Set<T>();
  for (const o of original) {
    const r = byId.get(o.chunkId);
    if (!r || usedReplayed.has(r)) continue;
    usedReplayed.add(r);
    matched.set(o, { kind: 'same', original: o, replayed: r, move: o.rank - r.rank, textDiff: null });
  }
  const candidates: { o: T; r: T; overlap: number }[] = [];
  for (const o of original) {
    if (matched.has(o)) continue;
    for (const r of replayed) {
      if (usedReplayed.has(r) || r.path !== o.path) continue;
      const overlap = lineOverlap(o, r);
      if (overlap > 0) candidates.push({ o, r, overlap });
    }
  }
  candidates.sort((x, y) => y.overlap - x.overlap || x.o.rank + x.r.rank - (y.o.rank + y.r.rank));
  for (const { o, r } of candidates) {
    if (matched.has(o) || usedReplayed.has(r)) continue;
    usedReplayed.add(r);
    const textDiff = o.text !== null && r.text !== null ? diffText(o.text, r.text) : null;
    matched.set(o, { kind: 'rechunked', original: o, replayed: r, move: o.rank - r.rank, textDiff });
  }
  const rows: Aligned<T>[] = [...original]
    .sort((a, b) => a.rank - b.rank)
    .map((o) => matched.get(o) ?? { kind: 'dropped', original: o, replayed: null, move: null, textDiff: null });
  const added = replayed.filter((r) => !usedReplayed.has(r)).sort((a, b) => a.rank - b.rank);
  for (const r of added) rows.push({ kind: 'new', original: null, replayed: r, move: null, textDiff: null });
  return rows;
}
