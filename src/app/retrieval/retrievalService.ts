import type { RetrievalMode } from '../../core/retrieval/fusion.js';
import { fuseRankings } from '../../core/retrieval/fusion.js';
import type { Embedder } from '../embedding/embedder.js';
import type { IndexHit, VectorIndex } from '../indexing/vectorIndex.js';

export interface RetrieveOptions {
  readonly k: number;
  readonly mode: RetrievalMode;
  /** Needed for vector and hybrid modes; without one, retrieval is lexical and says so. */
  readonly embedder: Embedder | null;
  readonly signal?: AbortSignal;
}

export interface RetrievedChunk extends IndexHit {
  /** 1-based. */
  readonly rank: number;
  readonly vectorRank: number | null;
  readonly lexicalRank: number | null;
}

export interface Retrieval {
  readonly requestedMode: RetrievalMode;
  /** What actually ran: lexical when no embedder was available. */
  readonly mode: RetrievalMode;
  readonly chunks: readonly RetrievedChunk[];
}

/** How many candidates each ranking contributes to the fusion, per result wanted. */
const CANDIDATES_PER_RESULT = 4;

/** Vector, lexical or hybrid (reciprocal rank fusion) retrieval over a pipeline version's index. */
export class RetrievalService {
  constructor(private readonly index: VectorIndex) {}

  async retrieve(pipelineVersion: string, query: string, options: RetrieveOptions): Promise<Retrieval> {
    const mode: RetrievalMode = options.embedder === null ? 'lexical' : options.mode;
    const pool = Math.max(options.k * CANDIDATES_PER_RESULT, 20);
    const wantVector = mode !== 'lexical';
    const wantLexical = mode !== 'vector';
    const vector = wantVector ? (await options.embedder!.embed([query], options.signal))[0]! : null;
    const [vectorHits, lexicalHits] = await Promise.all([
      vector ? this.index.vectorSearch(pipelineVersion, vector, mode === 'vector' ? options.k : pool) : Promise.resolve([]),
      wantLexical ? this.index.lexicalSearch(pipelineVersion, query, mode === 'lexical' ? options.k : pool) : Promise.resolve([]),
    ]);
    const byId = new Map<string, IndexHit>([...lexicalHits, ...vectorHits].map((h) => [h.chunkId, h]));
    if (mode !== 'hybrid') {
      const list = mode === 'vector' ? vectorHits : lexicalHits;
      return {
        requestedMode: options.mode,
        mode,
        chunks: list.slice(0, options.k).map((h, i) => ({ ...h, rank: i + 1, vectorRank: mode === 'vector' ? i + 1 : null, lexicalRank: mode === 'lexical' ? i + 1 : null })),
      };
    }
    const fused = fuseRankings(vectorHits, lexicalHits, options.k);
    return {
      requestedMode: options.mode,
      mode,
      chunks: fused.map((f, i) => ({ ...byId.get(f.chunkId)!, score: f.score, rank: i + 1, vectorRank: f.vectorRank, lexicalRank: f.lexicalRank })),
    };
  }
}
