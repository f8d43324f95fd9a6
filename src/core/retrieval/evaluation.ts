/** One golden question: what a good retrieval must find. */
export interface GoldenItem {
  readonly query: string;
  /** Relevant sources: a path (any chunk of it counts) or path:start-end (a chunk overlapping those lines counts). */
  readonly relevant: readonly string[];
}

export interface RetrievedRef {
  readonly path: string;
  readonly startLine: number;
  readonly endLine: number;
}

interface Target {
  readonly path: string;
  readonly start: number;
  readonly end: number;
}

/** Parses `path` or `path:start-end` (a path may itself contain ':'). */
export function parseTarget(ref: string): Target {
  const m = /^(.*):(\d+)-(\d+)$/.exec(ref);
  if (m) return { path: m[1]!, start: Number(m[2]), end: Number(m[3]) };
  return { path: ref, start: 1, end: Number.MAX_SAFE_INTEGER };
}

const matches = (t: Target, r: RetrievedRef): boolean => t.path === r.path && r.startLine <= t.end && r.endLine >= t.start;

export interface QueryScores {
  /** Share of the relevant targets found in the top k. */
  readonly recall: number;
  /** 1 / rank of the first relevant result (0 if none). */
  readonly reciprocalRank: number;
  /** Normalised discounted cumulative gain at k (binary relevance, each target counted once). */
  readonly ndcg: number;
}

/** Scores one retrieval (best first, already cut to k) against its golden targets. */
export function scoreRetrieval(item: GoldenItem, results: readonly RetrievedRef[]): QueryScores {
  const targets = item.relevant.map(parseTarget);
  if (targets.length === 0) return { recall: 1, reciprocalRank: 1, ndcg: 1 };
  const found = new Set<number>();
  let reciprocalRank = 0;
  let dcg = 0;
  results.forEach((r, i) => {
    const hit = targets.findIndex((t, ti) => !found.has(ti) && matches(t, r));
    if (hit < 0) return;
    found.add(hit);
    if (reciprocalRank === 0) reciprocalRank = 1 / (i + 1);
    dcg += 1 / Math.log2(i + 2);
  });
  let ideal = 0;
  for (let i = 0; i < Math.min(targets.length, results.length || targets.length); i++) ideal += 1 / Math.log2(i + 2);
  return { recall: found.size / targets.length, reciprocalRank, ndcg: ideal === 0 ? 0 : dcg / ideal };
}

/** Parses golden JSON Lines; errors name the line. */
export function parseGolden(text: string): GoldenItem[] {
  const items: GoldenItem[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    if (line.trim() === '') return;
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch (err) {
      throw new Error(`line ${i + 1}: not JSON (${(err as Error).message})`);
    }
    const o = v as { query?: unknown; relevant?: unknown };
    if (typeof o.query !== 'string' || o.query.trim() === '') throw new Error(`line ${i + 1}: "query" must be a non-empty string`);
    if (!Array.isArray(o.relevant) || !o.relevant.every((r) => typeof r === 'string' && r.length > 0)) throw new Error(`line ${i + 1}: "relevant" must be an array of "path" or "path:start-end" strings`);
    items.push({ query: o.query, relevant: o.relevant as string[] });
  });
  if (items.length === 0) throw new Error('the file holds no questions');
  return items;
}
