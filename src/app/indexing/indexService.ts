import { CancelledError, ValidationError } from '../../core/errors.js';
import type { NewEvent } from '../../core/eventStore.js';
import type { EmbedderInfo } from '../../core/pipeline/pipelineConfig.js';
import { embedderKey } from '../../core/pipeline/pipelineConfig.js';
import type { DocumentStatus } from '../../core/projections/documentStatus.js';
import type { IndexedChunk, VectorIndex } from './vectorIndex.js';
import { digestOf } from '../../core/ids.js';
import type { EngineDeps } from '../engineDeps.js';
import { WriteBatch } from '../writeBatch.js';

export interface IndexDeps extends EngineDeps {
  readonly index: VectorIndex;
}

/** Documents per LanceDB commit: every commit is a table version, so fewer, larger commits. */
const DOCS_PER_COMMIT = 500;

export interface SyncOptions {
  readonly signal?: AbortSignal;
  readonly onProgress?: (p: { readonly done: number; readonly total: number }) => void;
}

export interface SyncReport {
  readonly documents: number;
  readonly upserted: number;
  readonly removedDocuments: number;
}

/**
 * The indexer: keeps a pipeline version's LanceDB table equal to what the log says, i.e. the
 * latest chunking of every live document, each chunk with its vector under the pipeline's
 * embedder (or none: lexical retrieval still finds it). Rows of deleted, rejected or superseded
 * versions leave the table. ChunkIndexed is appended once per chunk and pipeline version.
 */
export class IndexService {
  constructor(private readonly deps: IndexDeps) {}

  async sync(pipelineVersion: string, options: SyncOptions = {}): Promise<SyncReport> {
    const { readModels } = this.deps;
    await this.deps.runner.catchUp(options.signal ? { signal: options.signal } : {});
    this.embedderOf(pipelineVersion);
    const lexicalOnly = await this.docsWithoutVectors(pipelineVersion);
    // The table is disposable and may hold fewer rows than the log says were indexed: none (the
    // folder deleted, a rebuild killed after its drop: rebuilt from the log), or some documents'
    // (a rebuild cut off; another member of a team ledger indexed them: only those are written,
    // their vectors from the log).
    let expected = 0;
    for (const d of readModels.eachDocument()) expected += d.state === 'deleted' || d.state === 'rejected' ? 0 : (d.pipelines[pipelineVersion]?.indexed ?? 0);
    const stats = await this.deps.index.stats(pipelineVersion);
    if (stats.rows === 0 && expected > 0) return this.rebuild(pipelineVersion, options);
    const held = stats.rows < expected ? await this.deps.index.documentRowCounts(pipelineVersion) : null;
    const work: DocumentStatus[] = [];
    const gone: string[] = [];
    for (const doc of readModels.eachDocument()) {
      if (doc.state === 'deleted' || doc.state === 'rejected') {
        gone.push(doc.document_id);
        continue;
      }
      const counts = doc.pipelines[pipelineVersion];
      // A version with no chunks (an emptied file) still has to remove the previous version's rows.
      const short = held !== null && counts !== undefined && counts.chunks > 0 && (held.get(doc.document_id) ?? 0) < counts.chunks;
      if (counts && (counts.chunks === 0 || counts.indexed < counts.chunks || short || (counts.embedded > 0 && lexicalOnly.has(doc.document_id)))) work.push(doc);
    }
    const upserted = await this.write(pipelineVersion, work, options);
    for (let i = 0; i < gone.length; i += DOCS_PER_COMMIT) await this.deps.index.replaceDocuments(pipelineVersion, 0, gone.slice(i, i + DOCS_PER_COMMIT), []);
    // An index build cut off by its deadline (IndexBuildTimeoutError) left rows without a full-text index: build it now.
    if (work.length > 0 || gone.length > 0 || (stats.rows > 0 && !stats.textIndex)) await this.deps.index.optimize(pipelineVersion);
    return { documents: work.length, upserted, removedDocuments: gone.length };
  }

  /** Drops the table and rebuilds it from the log alone: nothing is embedded or read from disk. */
  async rebuild(pipelineVersion: string, options: SyncOptions = {}): Promise<SyncReport> {
    this.embedderOf(pipelineVersion); // refuse an unknown version before dropping anything
    await this.deps.index.drop(pipelineVersion);
    await this.deps.runner.catchUp();
    // The documents are walked one commit at a time, not listed: 100k of them held ~70 MB.
    const total = this.deps.readModels.documentTotals().pipelines[pipelineVersion]?.documents ?? 0;
    let documents = 0;
    let upserted = 0;
    let batch: DocumentStatus[] = [];
    const commit = async (): Promise<void> => {
      upserted += await this.write(pipelineVersion, batch, options.signal ? { signal: options.signal } : {}, undefined, true);
      batch = [];
      options.onProgress?.({ done: documents, total: Math.max(total, documents) });
    };
    for (const doc of this.deps.readModels.eachDocument()) {
      if (doc.state === 'deleted' || doc.state === 'rejected' || !doc.pipelines[pipelineVersion]) continue;
      batch.push(doc);
      documents++;
      if (batch.length >= DOCS_PER_COMMIT) await commit();
    }
    if (batch.length > 0) await commit();
    await this.deps.index.optimize(pipelineVersion);
    return { documents, upserted, removedDocuments: 0 };
  }

  /**
   * Writes the given documents' rows again (their latest vectors: after a re-embed) and records
   * ChunkIndexed for them under the request id, so the log shows when the new vectors went in.
   */
  async reindex(pipelineVersion: string, documentIds: readonly string[], requestId: string, options: SyncOptions = {}): Promise<SyncReport> {
    await this.deps.runner.catchUp(options.signal ? { signal: options.signal } : {});
    const docs = documentIds.flatMap((id) => {
      const doc = this.deps.readModels.document(id);
      return doc && doc.state !== 'deleted' && doc.state !== 'rejected' && doc.pipelines[pipelineVersion] ? [doc] : [];
    });
    const upserted = await this.write(pipelineVersion, docs, options, requestId);
    if (docs.length > 0) await this.deps.index.optimize(pipelineVersion);
    return { documents: docs.length, upserted, removedDocuments: 0 };
  }

  /** Writes documents' rows in commits of DOCS_PER_COMMIT documents, then records ChunkIndexed. */
  /** `fresh`: the table was just dropped, so every document's rows are appended without a merge. */
  private async write(pipelineVersion: string, docs: readonly DocumentStatus[], options: SyncOptions, requestId?: string, fresh = false): Promise<number> {
    const embedder = this.embedderOf(pipelineVersion);
    let upserted = 0;
    for (let i = 0; i < docs.length; i += DOCS_PER_COMMIT) {
      if (options.signal?.aborted) throw new CancelledError('indexing');
      const batch = docs.slice(i, i + DOCS_PER_COMMIT);
      const byDoc = await Promise.all(batch.map((d) => this.rowsOf(d, pipelineVersion, embedder)));
      const rows = byDoc.flatMap((d) => d.rows);
      if (fresh) await this.deps.index.addDocuments(pipelineVersion, embedder.dimensions, rows);
      else await this.deps.index.replaceDocuments(pipelineVersion, embedder.dimensions, batch.map((d) => d.document_id), rows);
      // The rows are in the table before ChunkIndexed says so; all of a commit's in one durable write.
      const written = new WriteBatch(this.deps.events, { streams: DOCS_PER_COMMIT });
      for (const [j, doc] of batch.entries()) await this.recordIndexed(written, doc.document_id, pipelineVersion, byDoc[j]!.rows, byDoc[j]!.chunking, requestId);
      await written.flush();
      upserted += rows.length;
      options.onProgress?.({ done: Math.min(i + DOCS_PER_COMMIT, docs.length), total: docs.length });
    }
    return upserted;
  }

  private embedderOf(pipelineVersion: string): EmbedderInfo {
    const record = this.deps.readModels.pipeline(pipelineVersion);
    const config = record?.config as { embedder?: EmbedderInfo } | undefined;
    if (!config?.embedder) throw new ValidationError(`pipeline version ${pipelineVersion} is not defined`, [], 'Run `rag-ledger pipelines` to list the defined versions.');
    return config.embedder;
  }

  private async docsWithoutVectors(pipelineVersion: string): Promise<Set<string>> {
    const stats = await this.deps.index.stats(pipelineVersion);
    if (stats.rows === stats.withVectors) return new Set();
    // Rare: only after an ingest without a loadable model. A full pass finds which documents.
    const out = new Set<string>();
    for (const doc of this.deps.readModels.eachDocument()) {
      const c = doc.pipelines[pipelineVersion];
      if (c && c.embedded > 0) out.add(doc.document_id);
    }
    return out;
  }

  /** The document's latest chunking for the pipeline version, each chunk with its vector if the log has one. */
  /** The rows, and the id of the DocumentChunked they come from (ChunkIndexed ids derive from it). */
  private async rowsOf(doc: DocumentStatus, pipelineVersion: string, embedder: EmbedderInfo): Promise<{ rows: IndexedChunk[]; chunking: string }> {
    const key = embedderKey(embedder);
    let chunks: readonly { readonly chunk_id: string; readonly text: string; readonly position: { readonly start_line: number; readonly end_line: number } }[] = [];
    const vectors = new Map<string, Float32Array>();
    let chunking = '';
    for await (const e of this.deps.events.readStream(`document-${doc.document_id}`)) {
      if (e.type === 'DocumentSubmitted') chunks = [];
      else if (e.type === 'DocumentChunked' && e.metadata.pipeline_version === pipelineVersion) {
        chunks = e.data.chunks;
        chunking = e.eventId;
      }
      else if (e.type === 'ChunkEmbedded' && e.data.embedding_model === key) vectors.set(e.data.chunk_id, e.data.vector);
    }
    const rows = chunks.map((c) => ({
      chunkId: c.chunk_id,
      documentId: doc.document_id,
      documentVersion: doc.version,
      path: doc.source,
      startLine: c.position.start_line,
      endLine: c.position.end_line,
      text: c.text,
      vector: vectors.get(c.chunk_id) ?? null,
    }));
    return { rows, chunking };
  }

  private async recordIndexed(batch: WriteBatch, documentId: string, pipelineVersion: string, rows: readonly IndexedChunk[], chunking: string, requestId?: string): Promise<void> {
    if (rows.length === 0) return;
    const now = this.deps.clock();
    const events: NewEvent[] = rows.map((r) => ({
      type: 'ChunkIndexed',
      eventId: `idx-${digestOf(this.deps.hasher, requestId === undefined ? ['indexed', pipelineVersion, chunking, r.chunkId] : ['re-indexed', pipelineVersion, chunking, r.chunkId, requestId]).slice(0, 32)}`,
      data: { chunk_id: r.chunkId, index_name: pipelineVersion, indexed_at: now },
      metadata: { actor: this.deps.actor, pipeline_version: pipelineVersion, ...(requestId === undefined ? {} : { correlation_id: requestId }) },
    }));
    await batch.add({ streamId: `document-${documentId}`, events, expectedVersion: 'any' }, events.length * 200);
  }
}
