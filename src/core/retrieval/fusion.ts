/** How retrieval ranks chunks. */
export type RetrievalMode = 'vector' | 'lexical' | 'hybrid';

/** One candidate from one ranking, best first. */
export interface Ranked {
  readonly chunkId: string;
  readonly score: number;
}

export interface Fused {
  readonly chunkId: string;
  /** The fused score (for hybrid: the reciprocal-rank-fusion sum). */
  readonly score: number;
  /** 1-based rank in the vector ranking, if it was there. */
  readonly vectorRank: number | null;
  /** 1-based rank in the lexical ranking, if it was there. */
  readonly lexicalRank: number | null;
}

/** The constant of reciprocal rank fusion (Cormack et al.): 60 works well across collections. */
export const RRF_K = 60;

/**
 * Reciprocal rank fusion of a vector and a lexical ranking: score = Σ 1 / (k + rank). Ties break
 * by chunk id, so the same inputs always give the same order. Either ranking may be empty.
 */
export function fuseRankings(vector: readonly Ranked[], lexical: readonly Ranked[], limit: number, k = RRF_K): Fused[] {
  const byId = new Map<string, { score: number; vectorRank: number | null; lexicalRank: number | null }>();
  const add = (list: readonly Ranked[], field: 'vectorRank' | 'lexicalRank'): void => {
    list.forEach((r, i) => {
      const entry = byId.get(r.chunkId) ?? { score: 0, vectorRank: null, lexicalRank: null };
      if (entry[field] !== null) return; // a chunk counts once per ranking
      entry[field] = i + 1;
      entry.score += 1 / (k + i + 1);
      byId.set(r.chunkId, entry);
    });
  };
  add(vector, 'vectorRank');
  add(lexical, 'lexicalRank');
  return [...byId.entries()]
    .map(([chunkId, e]) => ({ chunkId, ...e }))
    .sort((a, b) => b.score - a.score || (a.chunkId < b.chunkId ? -1 : a.chunkId > b.chunkId ? 1 : 0))
    .slice(0, limit);
}
