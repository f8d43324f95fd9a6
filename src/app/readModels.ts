import type { DocumentStatus, DocumentTotals } from '../core/projections/documentStatus.js';
import { EMPTY_PIPELINE_TOTALS, EMPTY_TOTALS, TOTALS_KEY, documentStatusProjection } from '../core/projections/documentStatus.js';
import type { ProjectionStore } from '../core/projections/projection.js';
import type { PipelineRecord } from '../core/projections/pipelines.js';
import { pipelinesProjection } from '../core/projections/pipelines.js';
import type { QueryRecord } from '../core/projections/queryHistory.js';
import { COUNT_KEY, queryHistoryProjection } from '../core/projections/queryHistory.js';
import type { RetrievalCount, RetrievalTotals } from '../core/projections/retrievalStats.js';
import { TOP_KEPT, retrievalStatsProjection } from '../core/projections/retrievalStats.js';

export interface PipelineProgress {
  readonly liveDocuments: number;
  /** Live documents chunked for the version. */
  readonly documents: number;
  readonly chunks: number;
  readonly embedded: number;
  readonly indexed: number;
  readonly complete: boolean;
}

/** Queries over the standard read models. Callers catch the projections up first. */
export class ReadModels {
  constructor(private readonly store: ProjectionStore) {}

  document(documentId: string): DocumentStatus | undefined {
    return this.store.get(documentStatusProjection.name, `doc:${documentId}`) as unknown as DocumentStatus | undefined;
  }

  documents(): DocumentStatus[] {
    return [...this.eachDocument()];
  }

  /** Every document, read one at a time: a walk over 100k documents never holds them all. */
  *eachDocument(): Iterable<DocumentStatus> {
    for (const [, d] of this.store.list(documentStatusProjection.name, 'doc:')) yield d as unknown as DocumentStatus;
  }

  /** The documents whose chunking for the pipeline version contains the chunk. */
  chunkOwners(pipelineVersion: string, chunkId: string): string[] {
    return (this.store.get(documentStatusProjection.name, `chunk:${pipelineVersion}:${chunkId}`) as string[] | undefined) ?? [];
  }

  /** Embedder keys the chunk has a stored vector under. */
  vectorKeys(chunkId: string): string[] {
    return (this.store.get(documentStatusProjection.name, `vec:${chunkId}`) as string[] | undefined) ?? [];
  }

  /** The log position of the latest ChunkEmbedded of this embedding text (by digest) under the embedder, if any. */
  embeddedText(embedderKey: string, textHash: string): number | undefined {
    const position = this.store.get(documentStatusProjection.name, `text:${embedderKey}:${textHash}`);
    return typeof position === 'number' ? position : undefined;
  }

  pipelines(): PipelineRecord[] {
    return [...this.store.list(pipelinesProjection.name, 'pipeline:')].map(([, p]) => p as unknown as PipelineRecord);
  }

  pipeline(version: string): PipelineRecord | undefined {
    return this.store.get(pipelinesProjection.name, `pipeline:${version}`) as unknown as PipelineRecord | undefined;
  }

  /**
   * How far a version is built over the live documents: documents chunked for it, and its chunks
   * embedded and indexed. Complete when every live document is chunked and every chunk indexed.
   */
  pipelineProgress(version: string): PipelineProgress {
    return this.pipelinesProgress([version]).get(version)!;
  }

  /** pipelineProgress of several versions (from the projection's running totals: one read). */
  pipelinesProgress(versions: readonly string[]): Map<string, PipelineProgress> {
    const totals = this.documentTotals();
    return new Map(
      versions.map((v) => {
        const p = totals.pipelines[v] ?? EMPTY_PIPELINE_TOTALS;
        return [v, { documents: p.documents, chunks: p.chunks, embedded: p.embedded, indexed: p.indexed, liveDocuments: totals.live, complete: p.documents === totals.live && p.indexed >= p.chunks }];
      }),
    );
  }

  /** Counts over every document: live and rejected ones, and per pipeline version its progress. */
  documentTotals(): DocumentTotals {
    return (this.store.get(documentStatusProjection.name, TOTALS_KEY) as unknown as DocumentTotals | undefined) ?? EMPTY_TOTALS;
  }

  /**
   * Versions being built in the shadow of the active one: never activated, and built at least in
   * part. Ingest keeps them up to date so that they can be compared and cut over to.
   */
  shadowPipelines(): string[] {
    const active = this.activePipeline();
    return this.pipelines()
      .filter((p) => p.pipeline_version !== active && p.activated_at === null && this.pipelineProgress(p.pipeline_version).documents > 0)
      .map((p) => p.pipeline_version);
  }

  /** The active pipeline version, if one was ever activated. */
  activePipeline(): string | undefined {
    return this.store.get(pipelinesProjection.name, 'active') as string | undefined;
  }

  /** Most recent first. */
  /** The latest questions, newest first (only `limit` of them are read). */
  queries(limit = 50): QueryRecord[] {
    return this.store.topBy(queryHistoryProjection.name, 'query:', 'position', limit).map(([, q]) => q as unknown as QueryRecord);
  }

  /** How many questions were asked. */
  queryCount(): number {
    return (this.store.get(queryHistoryProjection.name, COUNT_KEY) as number | undefined) ?? 0;
  }

  /** Documents by state (from the running totals: one read). */
  documentCountsByState(): Record<string, number> {
    return Object.fromEntries(Object.entries(this.documentTotals().states).filter(([, n]) => n !== undefined && n > 0).sort(([a], [b]) => (a < b ? -1 : 1)));
  }

  query(queryId: string): QueryRecord | undefined {
    return this.store.get(queryHistoryProjection.name, `query:${queryId}`) as unknown as QueryRecord | undefined;
  }

  topChunks(limit = 10): RetrievalCount[] {
    return this.top('chunk', limit);
  }

  topDocuments(limit = 10): RetrievalCount[] {
    return this.top('document', limit);
  }

  retrievalTotals(): RetrievalTotals {
    return (this.store.get(retrievalStatsProjection.name, 'totals') as unknown as RetrievalTotals | undefined) ?? { retrievals: 0, chunks_returned: 0 };
  }

  /** The most retrieved, from the projection's kept list when it is long enough (one small read). */
  private top(kind: 'chunk' | 'document', limit: number): RetrievalCount[] {
    if (limit <= TOP_KEPT) return ((this.store.get(retrievalStatsProjection.name, `top:${kind}`) as unknown as RetrievalCount[] | undefined) ?? []).slice(0, limit);
    return this.store.topBy(retrievalStatsProjection.name, `${kind}:`, 'retrievals', limit).map(([, c]) => c as unknown as RetrievalCount);
  }
}
