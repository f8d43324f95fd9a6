import { CancelledError } from '../../core/errors.js';
import type { ContextDiff } from '../../core/retrieval/contextDiff.js';
import { diffContexts } from '../../core/retrieval/contextDiff.js';
import type { GoldenItem, QueryScores } from '../../core/retrieval/evaluation.js';
import { scoreRetrieval } from '../../core/retrieval/evaluation.js';
import type { RetrievalMode } from '../../core/retrieval/fusion.js';
import type { CompareReport, CompareRow, GoldenScores, PipelineSummary } from '../../shared/explorerModel.js';
import type { Embedder } from '../embedding/embedder.js';
import type { VectorIndex } from '../indexing/vectorIndex.js';
import type { Retrieval } from '../retrieval/retrievalService.js';
import { RetrievalService } from '../retrieval/retrievalService.js';

/** One side of a comparison: a pipeline version and how to query it. */
export interface CompareSide {
  readonly summary: PipelineSummary;
  readonly mode: RetrievalMode;
  readonly embedder: Embedder | null;
  /** Prompt template and generator model: with the same context, the same prompt goes to the same model. */
  readonly answering: string;
}

export interface CompareQuestion {
  readonly query: string;
  /** The recorded question (absent for a golden set). */
  readonly queryId?: string;
  /** Golden targets, when comparing over a golden set. */
  readonly relevant?: readonly string[];
}

export interface CompareOptions {
  readonly k: number;
  readonly signal?: AbortSignal;
  readonly onProgress?: (p: { readonly done: number; readonly total: number }) => void;
  /** The similarity of a recorded re-answer of this question from the target version, if one exists. */
  readonly reanswered?: (queryId: string) => Promise<number | null>;
  /** Why retrieval falls back to full text on a side, for the report. */
  readonly notice?: string;
}

/** A compared question, with the nDCG of each side (only the means are reported). */
interface RowWork {
  readonly row: CompareRow;
  readonly ndcg: readonly [number, number] | null;
}

/** Questions retrieved at once (LanceDB answers concurrently; the embedding model queues). */
const CONCURRENCY = 4;

/**
 * Compares two pipeline versions over a set of questions (the recorded ones, or a golden set):
 * retrieves each question from both and reports how the contexts differ, most changed first; with
 * golden targets, scores both. Read-only: nothing is appended.
 */
export class CompareService {
  private readonly retrieval: RetrievalService;

  constructor(index: VectorIndex) {
    this.retrieval = new RetrievalService(index);
  }

  async compare(from: CompareSide, to: CompareSide, questions: readonly CompareQuestion[], options: CompareOptions): Promise<CompareReport> {
    // A question is embedded once when both sides share the embedder.
    const shared = new Map<Embedder, Embedder>();
    const memo = (e: Embedder | null): Embedder | null => (e === null ? null : (shared.get(e) ?? shared.set(e, memoised(e)).get(e)!));
    const sides = [{ ...from, embedder: memo(from.embedder) }, { ...to, embedder: memo(to.embedder) }] as const;
    const work: RowWork[] = new Array<RowWork>(questions.length);
    let next = 0;
    let done = 0;
    const worker = async (): Promise<void> => {
      while (next < questions.length) {
        const i = next++;
        if (options.signal?.aborted) throw new CancelledError('the comparison');
        work[i] = await this.row(questions[i]!, sides[0], sides[1], options);
        options.onProgress?.({ done: ++done, total: questions.length });
      }
    };
    await Promise.all(Array.from({ length: Math.min(CONCURRENCY, questions.length) }, worker));
    const rows = work.map((w) => w.row);
    const n = rows.length;
    const meanOf = <T>(list: readonly T[], f: (r: T) => number | null): number | null => {
      const values = list.map(f).filter((v): v is number => v !== null);
      return values.length === 0 ? null : values.reduce((s, v) => s + v, 0) / values.length;
    };
    const mean = (f: (r: CompareRow) => number | null): number | null => meanOf(rows, f);
    const histogram = new Array<number>(10).fill(0);
    for (const r of rows) histogram[Math.min(9, Math.floor(r.metrics.overlapAtK * 10))]!++;
    const goldenMeans = (side: 'from' | 'to'): GoldenScores => ({
      recall: mean((r) => (r.golden ? (side === 'from' ? r.golden.fromRecall : r.golden.toRecall) : null)) ?? 0,
      mrr: mean((r) => (r.golden ? (side === 'from' ? r.golden.fromReciprocalRank : r.golden.toReciprocalRank) : null)) ?? 0,
      ndcg: meanOf(work, (w) => w.ndcg?.[side === 'from' ? 0 : 1] ?? null) ?? 0,
    });
    const golden = n > 0 && rows.every((r) => r.golden !== undefined);
    return {
      from: { ...from.summary, mode: from.mode },
      to: { ...to.summary, mode: to.mode },
      k: options.k,
      source: golden ? 'golden' : 'recorded',
      questions: n,
      unchanged: rows.filter((r) => r.added === 0 && r.removed === 0 && r.moved === 0).length,
      means: {
        overlapAtK: mean((r) => r.metrics.overlapAtK) ?? 1,
        jaccard: mean((r) => r.metrics.jaccard) ?? 1,
        rbo: mean((r) => r.metrics.rbo) ?? 1,
        meanRankShift: mean((r) => r.metrics.meanRankShift),
        documentOverlapAtK: mean((r) => r.documentOverlapAtK) ?? 1,
      },
      overlapHistogram: histogram,
      ...(golden ? { golden: { from: goldenMeans('from'), to: goldenMeans('to') } } : {}),
      rows: [...rows].sort((x, y) => x.metrics.rbo - y.metrics.rbo || x.documentOverlapAtK - y.documentOverlapAtK),
      ...(options.notice ? { notice: options.notice } : {}),
    };
  }

  private async row(q: CompareQuestion, from: CompareSide, to: CompareSide, options: CompareOptions): Promise<RowWork> {
    const a = await this.retrieve(from, q.query, options);
    const b = await this.retrieve(to, q.query, options);
    const ranked = (r: Retrieval): { chunkId: string; path: string; score: number }[] => r.chunks.map((c) => ({ chunkId: c.chunkId, path: c.path, score: c.score }));
    const diff: ContextDiff = diffContexts(ranked(a), ranked(b));
    const sameContext = diff.added.length === 0 && diff.removed.length === 0 && diff.moved === 0 && from.answering === to.answering;
    const similarity = !sameContext && q.queryId && options.reanswered ? await options.reanswered(q.queryId) : null;
    let golden: { scores: [QueryScores, QueryScores] } | null = null;
    if (q.relevant) golden = { scores: [scoreRetrieval(q as GoldenItem, a.chunks), scoreRetrieval(q as GoldenItem, b.chunks)] };
    const row: CompareRow = {
      queryId: q.queryId ?? null,
      question: q.query,
      metrics: { k: diff.k, overlapAtK: diff.overlapAtK, jaccard: diff.jaccard, rbo: diff.rbo, meanRankShift: diff.meanRankShift },
      added: diff.added.length,
      removed: diff.removed.length,
      moved: diff.moved,
      documentOverlapAtK: diff.documents.overlapAtK,
      answer: sameContext ? { kind: 'same-context' } : similarity !== null ? { kind: 'reanswered', similarity } : { kind: 'unknown' },
      ...(golden ? { golden: { fromRecall: golden.scores[0].recall, toRecall: golden.scores[1].recall, fromReciprocalRank: golden.scores[0].reciprocalRank, toReciprocalRank: golden.scores[1].reciprocalRank } } : {}),
    };
    return { row, ndcg: golden ? [golden.scores[0].ndcg, golden.scores[1].ndcg] : null };
  }

  private retrieve(side: CompareSide, query: string, options: CompareOptions): Promise<Retrieval> {
    return this.retrieval.retrieve(side.summary.version, query, { k: options.k, mode: side.mode, embedder: side.embedder, ...(options.signal ? { signal: options.signal } : {}) });
  }
}

/** An embedder that remembers its last few single-text results (both sides of a comparison embed the same question). */
function memoised(inner: Embedder): Embedder {
  const recent = new Map<string, Float32Array>();
  return {
    info: inner.info,
    async embed(texts, signal) {
      if (texts.length !== 1) return inner.embed(texts, signal);
      const text = texts[0]!;
      const hit = recent.get(text);
      if (hit) return [hit];
      const [vector] = await inner.embed(texts, signal);
      recent.set(text, vector!);
      if (recent.size > 16) recent.delete(recent.keys().next().value!);
      return [vector!];
    },
    close: () => inner.close(),
  };
}
