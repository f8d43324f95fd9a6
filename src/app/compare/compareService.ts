import { CancelledError } from '../../core/errors.js';
import type { ContextDiff } from '../../core/retrieval/contextDiff.js';
import { diffContexts } from '../../core/retrieval/contextDiff.js';
import type { GoldenItem, QueryScores } from '../../core/retrieval/evaluation.js';
import { scoreRetrieval } from '../../core/retrieval/evaluation.js';
import type { RetrievalMode } from '../../core/retrieval/fusion.js';
import type { Embedder } from '../embedding/embedder.js';
import type { VectorIndex } from '../indexing/vectorIndex.js';
import type { Retrieval } from '../retrieval/retrievalService.js';
import { RetrievalService } from '../retrieval/retrievalService.js';

/** One side of a comparison: a pipeline version and how to query it. */
export interface CompareSide {
  readonly pipelineVersion: string;
  readonly mode: RetrievalMode;
  readonly embedder: Embedder | null;
}

export interface CompareQuestion {
  readonly query: string;
  /** Golden targets, when comparing over a golden set. */
  readonly relevant?: readonly string[];
}

export interface CompareOptions {
  readonly k: number;
  readonly signal?: AbortSignal;
  readonly onProgress?: (p: { readonly done: number; readonly total: number }) => void;
}

export interface QuestionComparison {
  readonly query: string;
  readonly diff: ContextDiff;
  /** With golden targets: the scores of each side. */
  readonly from?: QueryScores;
  readonly to?: QueryScores;
}

export interface Means {
  readonly overlapAtK: number;
  readonly jaccard: number;
  readonly rbo: number;
  readonly documentOverlapAtK: number;
}

export interface Comparison {
  readonly from: string;
  readonly to: string;
  readonly k: number;
  readonly questions: number;
  /** Questions whose context is the same chunks in the same order. */
  readonly unchanged: number;
  readonly means: Means;
  /** With golden targets: recall@k, MRR and nDCG@k of each side. */
  readonly golden?: { readonly from: GoldenMeans; readonly to: GoldenMeans };
  /** All questions, most changed first (lowest RBO, then lowest document overlap). */
  readonly perQuestion: readonly QuestionComparison[];
}

export interface GoldenMeans {
  readonly recall: number;
  readonly mrr: number;
  readonly ndcg: number;
}

/**
 * Compares two pipeline versions over a set of questions (the recorded ones, or a golden set):
 * retrieves each question from both and summarises how the contexts differ; with golden targets,
 * scores both. Read-only: nothing is appended.
 */
export class CompareService {
  private readonly retrieval: RetrievalService;

  constructor(index: VectorIndex) {
    this.retrieval = new RetrievalService(index);
  }

  async compare(from: CompareSide, to: CompareSide, questions: readonly CompareQuestion[], options: CompareOptions): Promise<Comparison> {
    const perQuestion: QuestionComparison[] = [];
    for (const [i, q] of questions.entries()) {
      if (options.signal?.aborted) throw new CancelledError('the comparison');
      const a = await this.retrieve(from, q.query, options);
      const b = await this.retrieve(to, q.query, options);
      const ranked = (r: Retrieval): { chunkId: string; path: string; score: number }[] => r.chunks.map((c) => ({ chunkId: c.chunkId, path: c.path, score: c.score }));
      const scores = q.relevant ? { from: scoreRetrieval(q as GoldenItem, a.chunks), to: scoreRetrieval(q as GoldenItem, b.chunks) } : {};
      perQuestion.push({ query: q.query, diff: diffContexts(ranked(a), ranked(b)), ...scores });
      options.onProgress?.({ done: i + 1, total: questions.length });
    }
    const n = perQuestion.length;
    const mean = (f: (q: QuestionComparison) => number): number => (n === 0 ? 1 : perQuestion.reduce((s, q) => s + f(q), 0) / n);
    const goldenMeans = (side: 'from' | 'to'): GoldenMeans => ({
      recall: mean((q) => q[side]!.recall),
      mrr: mean((q) => q[side]!.reciprocalRank),
      ndcg: mean((q) => q[side]!.ndcg),
    });
    const golden = n > 0 && perQuestion.every((q) => q.from && q.to) ? { golden: { from: goldenMeans('from'), to: goldenMeans('to') } } : {};
    return {
      from: from.pipelineVersion,
      to: to.pipelineVersion,
      k: options.k,
      questions: n,
      unchanged: perQuestion.filter((q) => q.diff.added.length === 0 && q.diff.removed.length === 0 && q.diff.moved === 0).length,
      means: { overlapAtK: mean((q) => q.diff.overlapAtK), jaccard: mean((q) => q.diff.jaccard), rbo: mean((q) => q.diff.rbo), documentOverlapAtK: mean((q) => q.diff.documents.overlapAtK) },
      ...golden,
      perQuestion: [...perQuestion].sort((x, y) => x.diff.rbo - y.diff.rbo || x.diff.documents.overlapAtK - y.diff.documents.overlapAtK),
    };
  }

  private retrieve(side: CompareSide, query: string, options: CompareOptions): Promise<Retrieval> {
    return this.retrieval.retrieve(side.pipelineVersion, query, { k: options.k, mode: side.mode, embedder: side.embedder, ...(options.signal ? { signal: options.signal } : {}) });
  }
}
