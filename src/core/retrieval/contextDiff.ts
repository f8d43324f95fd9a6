/**
 * Diffs of retrieved contexts and of answers: what a replay against another pipeline version (or
 * another point in time) changed. Pure functions over ranked lists.
 */

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

/** overlap@k, Jaccard and RBO of two rankings (duplicates after the first are ignored). */
export function rankingSimilarity(a: readonly string[], b: readonly string[]): RankingSimilarity {
  const ua = unique(a);
  const ub = unique(b);
  const k = Math.max(ua.length, ub.length);
  if (k === 0) return { overlapAtK: 1, jaccard: 1, rbo: 1 };
  const setB = new Set(ub);
  const shared = ua.filter((x) => setB.has(x)).length;
  return { overlapAtK: shared / k, jaccard: shared / (ua.length + ub.length - shared), rbo: rankBiasedOverlap(ua, ub) };
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
  /** 2·LCS / (words before + words after): 1 for equal texts, 0 for nothing in common. */
  readonly similarity: number;
  readonly parts: readonly TextDiffPart[];
}

/** Above this many cells the word diff falls back to lines (answers are far smaller). */
const MAX_DIFF_CELLS = 4_000_000;

/** A word-level diff (longest common subsequence); whitespace stays attached to the words. */
export function diffText(before: string, after: string): TextDiff {
  let a = tokens(before);
  let b = tokens(after);
  if (a.length * b.length > MAX_DIFF_CELLS) {
    a = before.split(/(?<=\n)/);
    b = after.split(/(?<=\n)/);
  }
  // Trim the common prefix and suffix, then run the LCS table on what is left.
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) start++;
  let endA = a.length;
  let endB = b.length;
  while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) {
    endA--;
    endB--;
  }
  const n = endA - start;
  const m = endB - start;
  const table = new Uint32Array((n + 1) * (m + 1));
  const at = (i: number, j: number): number => i * (m + 1) + j;
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      table[at(i, j)] = a[start + i] === b[start + j] ? table[at(i + 1, j + 1)]! + 1 : Math.max(table[at(i + 1, j)]!, table[at(i, j + 1)]!);
    }
  }
  const parts: TextDiffPart[] = [];
  const push = (op: TextDiffPart['op'], text: string): void => {
    const last = parts[parts.length - 1];
    if (last && last.op === op) parts[parts.length - 1] = { op, text: last.text + text };
    else if (text !== '') parts.push({ op, text });
  };
  push('=', a.slice(0, start).join(''));
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[start + i] === b[start + j]) {
      push('=', a[start + i]!);
      i++;
      j++;
    } else if (i < n && (j === m || table[at(i + 1, j)]! >= table[at(i, j + 1)]!)) {
      push('-', a[start + i]!);
      i++;
    } else {
      push('+', b[start + j]!);
      j++;
    }
  }
  push('=', a.slice(endA).join(''));
  const common = start + (a.length - endA) + table[at(0, 0)]!;
  const total = a.length + b.length;
  return { similarity: total === 0 ? 1 : (2 * common) / total, parts };
}

function tokens(text: string): string[] {
  return text.match(/\S+\s*|\s+/g) ?? [];
}

/** A diff as text: [-deleted-]{+inserted+}, the wdiff convention. */
export function renderTextDiff(diff: TextDiff): string {
  return diff.parts.map((p) => (p.op === '=' ? p.text : p.op === '+' ? `{+${p.text}+}` : `[-${p.text}-]`)).join('');
}
