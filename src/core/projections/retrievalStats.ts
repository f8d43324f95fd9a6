import type { Projection, ProjectionView } from './projection.js';

/** How often a chunk or document was part of a retrieved context. */
export interface RetrievalCount {
  readonly id: string;
  readonly retrievals: number;
  /** Sum of scores, so that callers can show the mean. */
  readonly score_sum: number;
  readonly last_retrieved_at: string;
}

/** Totals over all retrievals. */
export interface RetrievalTotals {
  readonly retrievals: number;
  readonly chunks_returned: number;
}

/** How many of the most retrieved chunks and documents are kept in `top:chunk` and `top:document`. */
export const TOP_KEPT = 100;

/** Ranked like ProjectionStore.topBy: most retrievals first, then by id. */
const before = (a: RetrievalCount, b: RetrievalCount): boolean => a.retrievals > b.retrievals || (a.retrievals === b.retrievals && a.id < b.id);

/**
 * Keeps the most retrieved of a kind as one small document. Counts only grow, so an entry outside the
 * list can enter only when its own count grows: checking it then keeps the list exact.
 */
function rank(view: ProjectionView, kind: 'chunk' | 'document', next: RetrievalCount): void {
  const top = ((view.get(`top:${kind}`) as unknown as RetrievalCount[] | undefined) ?? []).filter((c) => c.id !== next.id);
  if (top.length >= TOP_KEPT && !before(next, top[top.length - 1]!)) return;
  const at = top.findIndex((c) => before(next, c));
  top.splice(at === -1 ? top.length : at, 0, next);
  view.put(`top:${kind}`, top.slice(0, TOP_KEPT) as never);
}

function bump(view: ProjectionView, kind: 'chunk' | 'document', id: string, score: number, at: string): void {
  const key = `${kind}:${id}`;
  const c = view.get(key) as unknown as RetrievalCount | undefined;
  const next: RetrievalCount = { id, retrievals: (c?.retrievals ?? 0) + 1, score_sum: (c?.score_sum ?? 0) + score, last_retrieved_at: at };
  view.put(key, next as never);
  rank(view, kind, next);
}

/**
 * Retrieval statistics: `chunk:<id>` and `document:<id>` hold RetrievalCounts, `totals` the
 * totals, `top:chunk` and `top:document` the most retrieved; `owner:<chunk id>` maps chunks to the
 * documents that contain them.
 */
export const retrievalStatsProjection: Projection = {
  name: 'retrieval-stats',
  // 2: the most retrieved chunks and documents kept in `top:*`.
  version: 2,
  eventTypes: ['DocumentChunked', 'ContextRetrieved'],
  handle(e, view) {
    switch (e.type) {
      case 'DocumentChunked':
        for (const c of e.data.chunks) {
          const owners = (view.get(`owner:${c.chunk_id}`) as string[] | undefined) ?? [];
          if (!owners.includes(e.data.document_id)) view.put(`owner:${c.chunk_id}`, [...owners, e.data.document_id]);
        }
        return;
      case 'ContextRetrieved': {
        const docs = new Map<string, number>();
        e.data.chunk_ids.forEach((chunkId, i) => {
          const score = e.data.scores[i] ?? 0;
          bump(view, 'chunk', chunkId, score, e.data.retrieved_at);
          for (const d of (view.get(`owner:${chunkId}`) as string[] | undefined) ?? []) docs.set(d, Math.max(docs.get(d) ?? -Infinity, score));
        });
        for (const [d, score] of docs) bump(view, 'document', d, score, e.data.retrieved_at);
        const t = view.get('totals') as unknown as RetrievalTotals | undefined;
        view.put('totals', { retrievals: (t?.retrievals ?? 0) + 1, chunks_returned: (t?.chunks_returned ?? 0) + e.data.chunk_ids.length });
        return;
      }
      default:
        return;
    }
  },
};
