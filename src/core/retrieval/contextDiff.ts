/**
 * Diffs of retrieved contexts and of answers: what a replay against another pipeline version (or
 * another point in time) changed. Pure functions over ranked lists.
 */
import type { ChangeObject } from 'diff';
import { diffLines, diffWordsWithSpace } from 'diff';

/** One retrieved item as a diff sees it: best first. */
export interface RankedItem {
  readonly chunkId: string;
  /** The document's path: chunk ids change with the chunking, paths do not. */
  readonly path: string;
  readonly score: number;
}

export interface KeptItem {
  readonly chunkId: string;
  readonly path: string;
  /** 1-based ranks before and after. */
  readonly fromRank: number;
  readonly toRank: number;
  /** fromRank - toRank: positive when the chunk moved up. */
  readonly rankMove: number;
  /** Score after minus score before (meaningful when both retrievals used the same mode). */
  readonly scoreDelta: number;
}

export interface ChangedItem {
  readonly chunkId: string;
  readonly path: string;
  readonly rank: number;
  readonly score: number;
}

/** How similar two rankings are: 1 is identical, 0 is disjoint. */
export interface RankingSimilarity {
  /** |top-k(a) ∩ top-k(b)| / k, k the longer list's length. */
  readonly overlapAtK: number;
  /** |a ∩ b| / |a ∪ b| over the whole lists. */
  readonly jaccard: number;
  /** Rank-biased overlap (p = RBO_P), extrapolated: weights agreement at the top most. */
  readonly rbo: number;
  /** Mean |rank in a − rank in b| over the items both lists hold; null when they share none. */
  readonly meanRankShift: number | null;
}

export interface ContextDiff extends RankingSimilarity {
  readonly k: number;
  readonly added: readonly ChangedItem[];
  readonly removed: readonly ChangedItem[];
  readonly kept: readonly KeptItem[];
  /** Kept chunks whose rank changed. */
  readonly moved: number;
  /** The same comparison over the documents the contexts cite, in order of first appearance. */
  readonly documents: RankingSimilarity & { readonly added: readonly string[]; readonly removed: readonly string[]; readonly kept: readonly string[] };
}

/** RBO's persistence: the top 10 ranks carry about 86% of the weight. */
export const RBO_P = 0.9;

/**
 * Rank-biased overlap of two rankings (Webber, Moffat and Zobel, 2010), the extrapolated form
 * RBO_ext evaluated to the depth of the longer list (a missing position agrees with nothing).
 * Items must be unique within a list. Identical lists give 1, disjoint lists 0; two empty lists
 * count as identical.
 */
export function rankBiasedOverlap(a: readonly string[], b: readonly string[], p = RBO_P): number {
  const depth = Math.max(a.length, b.length);
  if (depth === 0) return 1;
  const seenA = new Set<string>();
  const seenB = new Set<string>();
  let overlap = 0;
  let sum = 0;
  let weight = 1;
  for (let d = 1; d <= depth; d++) {
    // X_d = X_(d-1) + [a_d in B_d] + [b_d in A_d] - [a_d = b_d], the prefixes including depth d.
    const x = a[d - 1];
    const y = b[d - 1];
    if (x !== undefined) seenA.add(x);
    if (y !== undefined) seenB.add(y);
    if (x !== undefined && seenB.has(x)) overlap++;
    if (y !== undefined && seenA.has(y)) overlap++;
    if (x !== undefined && x === y) overlap--;
    weight *= p;
    sum += (overlap / d) * weight;
  }
  return Math.min(1, (overlap / depth) * weight + ((1 - p) / p) * sum);
}

/** overlap@k, Jaccard, RBO and mean rank shift of two rankings (duplicates after the first are ignored). */
export function rankingSimilarity(a: readonly string[], b: readonly string[]): RankingSimilarity {
  const ua = unique(a);
  const ub = unique(b);
  const k = Math.max(ua.length, ub.length);
  if (k === 0) return { overlapAtK: 1, jaccard: 1, rbo: 1, meanRankShift: 0 };
  const rankInB = new Map(ub.map((x, i) => [x, i]));
  let shared = 0;
  let shift = 0;
  for (const [i, x] of ua.entries()) {
    const j = rankInB.get(x);
    if (j === undefined) continue;
    shared++;
    shift += Math.abs(i - j);
  }
  return { overlapAtK: shared / k, jaccard: shared / (ua.length + ub.length - shared), rbo: rankBiasedOverlap(ua, ub), meanRankShift: shared === 0 ? null : shift / shared };
}

function unique(items: readonly string[]): string[] {
  return [...new Set(items)];
}

/** Diffs a replayed context against the original one. */
export function diffContexts(original: readonly RankedItem[], replayed: readonly RankedItem[]): ContextDiff {
  const before = new Map(original.map((c, i) => [c.chunkId, { ...c, rank: i + 1 }]));
  const after = new Map(replayed.map((c, i) => [c.chunkId, { ...c, rank: i + 1 }]));
  const kept: KeptItem[] = [];
  const removed: ChangedItem[] = [];
  for (const [id, b] of before) {
    const a = after.get(id);
    if (a) kept.push({ chunkId: id, path: a.path, fromRank: b.rank, toRank: a.rank, rankMove: b.rank - a.rank, scoreDelta: a.score - b.score });
    else removed.push({ chunkId: id, path: b.path, rank: b.rank, score: b.score });
  }
  const added: ChangedItem[] = [...after.values()].filter((a) => !before.has(a.chunkId)).map((a) => ({ chunkId: a.chunkId, path: a.path, rank: a.rank, score: a.score }));
  const docsBefore = unique(original.map((c) => c.path));
  const docsAfter = unique(replayed.map((c) => c.path));
  const setBefore = new Set(docsBefore);
  const setAfter = new Set(docsAfter);
  return {
    k: Math.max(original.length, replayed.length),
    ...rankingSimilarity(
      original.map((c) => c.chunkId),
      replayed.map((c) => c.chunkId),
    ),
    added,
    removed,
    kept,
    moved: kept.filter((c) => c.rankMove !== 0).length,
    documents: {
      ...rankingSimilarity(docsBefore, docsAfter),
      added: docsAfter.filter((d) => !setBefore.has(d)),
      removed: docsBefore.filter((d) => !setAfter.has(d)),
      kept: docsAfter.filter((d) => setBefore.has(d)),
    },
  };
}

/** One run of a word diff: unchanged, inserted or deleted text. */
export interface TextDiffPart {
  readonly op: '=' | '+' | '-';
  readonly text: string;
}

export interface TextDiff {
  /** 2·shared words / (words before + words after): 1 for equal texts, 0 for nothing in common. */
  readonly similarity: number;
  readonly parts: readonly TextDiffPart[];
  /**
   * Set when the texts differ too much for an exact diff within its bounds: the parts are then a
   * line diff (or the whole of both texts) and the similarity counts shared words regardless of order.
   */
  readonly approximate?: boolean;
}

/** Word diffs give up beyond this many edits (answers and chunks are far smaller); lines are tried next. */
const MAX_WORD_EDITS = 1_500;
const MAX_LINE_EDITS = 2_000;

const WORD = /[\p{L}\p{N}_]+|[^\s\p{L}\p{N}_]/gu;
const countWords = (text: string): number => text.match(WORD)?.length ?? 0;

/**
 * A word-level diff (the `diff` package's Myers diff over words, punctuation and whitespace runs),
 * bounded: beyond MAX_WORD_EDITS edits it falls back to a line diff, then to replacing the whole
 * text, so two unrelated megabyte texts never stall the caller.
 */
export function diffText(before: string, after: string): TextDiff {
  if (before === after) return { similarity: 1, parts: before === '' ? [] : [{ op: '=', text: before }] };
  const words = diffWordsWithSpace(before, after, { maxEditLength: MAX_WORD_EDITS });
  if (words) return fromChanges(words, false);
  const lines = diffLines(before, after, { maxEditLength: MAX_LINE_EDITS });
  if (lines) return { ...fromChanges(lines, true), similarity: bagSimilarity(before, after) };
  return { similarity: bagSimilarity(before, after), approximate: true, parts: [{ op: '-', text: before }, { op: '+', text: after }].filter((p) => p.text !== '') as TextDiffPart[] };
}

function fromChanges(changes: readonly ChangeObject<string>[], approximate: boolean): TextDiff {
  const parts: TextDiffPart[] = [];
  let shared = 0;
  let total = 0;
  for (const c of changes) {
    const op = c.added ? '+' : c.removed ? '-' : '=';
    const n = countWords(c.value);
    total += op === '=' ? 2 * n : n;
    if (op === '=') shared += n;
    const last = parts[parts.length - 1];
    if (last && last.op === op) parts[parts.length - 1] = { op, text: last.text + c.value };
    else if (c.value !== '') parts.push({ op, text: c.value });
  }
  return { similarity: total === 0 ? 1 : (2 * shared) / total, parts, ...(approximate ? { approximate } : {}) };
}

/** 2·|shared words| / (|before| + |after|) over word multisets: order ignored, linear time. */
function bagSimilarity(before: string, after: string): number {
  const a = before.match(WORD) ?? [];
  const b = after.match(WORD) ?? [];
  if (a.length + b.length === 0) return 1;
  const counts = new Map<string, number>();
  for (const w of a) counts.set(w, (counts.get(w) ?? 0) + 1);
  let shared = 0;
  for (const w of b) {
    const n = counts.get(w) ?? 0;
    if (n > 0) {
      shared++;
      counts.set(w, n - 1);
    }
  }
  return (2 * shared) / (a.length + b.length);
}

/** A line diff with the numbers of lines added and removed. */
export interface LineDiff {
  readonly parts: readonly TextDiffPart[];
  readonly added: number;
  readonly removed: number;
  /** Set when the versions differ too much for an exact diff within its bounds: the parts are then the whole of both. */
  readonly approximate?: boolean;
}

const lineCount = (text: string): number => (text === '' ? 0 : text.split('\n').length - (text.endsWith('\n') ? 1 : 0));

/** A line diff (Myers), bounded like diffText: beyond MAX_LINE_EDITS it shows the whole of both texts. */
export function diffTextLines(before: string, after: string): LineDiff {
  if (before === after) return { parts: before === '' ? [] : [{ op: '=', text: before }], added: 0, removed: 0 };
  const changes = diffLines(before, after, { maxEditLength: MAX_LINE_EDITS });
  if (!changes) return { parts: [{ op: '-' as const, text: before }, { op: '+' as const, text: after }].filter((p) => p.text !== ''), added: lineCount(after), removed: lineCount(before), approximate: true };
  let added = 0;
  let removed = 0;
  const parts: TextDiffPart[] = [];
  for (const c of changes) {
    if (c.value === '') continue;
    const op = c.added ? '+' : c.removed ? '-' : '=';
    if (op === '+') added += c.count ?? lineCount(c.value);
    if (op === '-') removed += c.count ?? lineCount(c.value);
    parts.push({ op, text: c.value });
  }
  return { parts, added, removed };
}

/** A diff as text: [-deleted-]{+inserted+}, the wdiff convention. */
export function renderTextDiff(diff: TextDiff): string {
  return diff.parts.map((p) => (p.op === '=' ? p.text : p.op === '+' ? `{+${p.text}+}` : `[-${p.text}-]`)).join('');
}
