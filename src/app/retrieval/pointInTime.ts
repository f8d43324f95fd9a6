import { ValidationError } from '../../core/errors.js';
import type { EventStore } from '../../core/eventStore.js';
import type { EmbedderInfo } from '../../core/pipeline/pipelineConfig.js';
import { embedderKey } from '../../core/pipeline/pipelineConfig.js';
import type { IndexedChunk, VectorIndex } from '../indexing/vectorIndex.js';
import { SCRATCH_PREFIX } from '../indexing/vectorIndex.js';

/** Rows per LanceDB commit when materialising (bounds what is held at once: ~10k vectors and texts). */
const ROWS_PER_COMMIT = 10_000;

interface DocAt {
  source: string;
  version: number;
  live: boolean;
  chunks: readonly { readonly chunk_id: string; readonly text: string; readonly position: { readonly start_line: number; readonly end_line: number } }[];
  indexed: Set<string>;
}

/**
 * The rows a pipeline version's table held at a log position, reconstructed from the log: for
 * every document live at that position, the chunks of its latest version's chunking that were
 * indexed by then, each with the vector stored by then (or none). Chunks of versions superseded
 * or deleted by that position are left out, even if a later sync had not yet removed them.
 */
export async function chunksAsOf(events: EventStore, pipelineVersion: string, embedder: EmbedderInfo, position: number): Promise<Map<string, IndexedChunk[]>> {
  const key = embedderKey(embedder);
  const docs = new Map<string, DocAt>();
  const vectors = new Map<string, Float32Array>();
  // Forgotten content is never returned, not even as of a position before it was forgotten: the
  // versions it emptied (by position) are left out.
  const forgotten = new Set<number>();
  for await (const e of events.readAll({ category: 'document', types: ['DocumentForgotten'] })) {
    if (e.type === 'DocumentForgotten') for (const x of e.data.emptied) if (x.type === 'DocumentChunked') forgotten.add(x.position);
  }
  const reading = events.readAll({ category: 'document', types: ['DocumentSubmitted', 'DocumentValidated', 'DocumentRejected', 'DocumentDeleted', 'DocumentChunked', 'ChunkEmbedded', 'ChunkIndexed'] });
  for await (const e of reading) {
    if (e.position > position) break;
    switch (e.type) {
      case 'DocumentSubmitted': {
        const prev = docs.get(e.data.document_id);
        docs.set(e.data.document_id, { source: e.data.source, version: (prev?.version ?? 0) + 1, live: false, chunks: [], indexed: new Set() });
        break;
      }
      case 'DocumentValidated':
        mark(docs, e.data.document_id, true);
        break;
      case 'DocumentRejected':
      case 'DocumentDeleted':
        mark(docs, e.data.document_id, false);
        break;
      case 'DocumentChunked': {
        const d = docs.get(e.data.document_id);
        if (d && e.metadata.pipeline_version === pipelineVersion) {
          d.chunks = forgotten.has(e.position) ? [] : e.data.chunks;
          d.indexed = new Set();
        }
        break;
      }
      case 'ChunkEmbedded':
        if (e.data.embedding_model === key) vectors.set(e.data.chunk_id, e.data.vector);
        break;
      case 'ChunkIndexed':
        if (e.data.index_name === pipelineVersion) {
          const d = docs.get(e.streamId.slice('document-'.length));
          d?.indexed.add(e.data.chunk_id);
        }
        break;
      default:
        break;
    }
  }
  const out = new Map<string, IndexedChunk[]>();
  for (const [documentId, d] of docs) {
    if (!d.live) continue;
    const rows = d.chunks
      .filter((c) => d.indexed.has(c.chunk_id))
      .map((c) => ({
        chunkId: c.chunk_id,
        documentId,
        documentVersion: d.version,
        path: d.source,
        startLine: c.position.start_line,
        endLine: c.position.end_line,
        text: c.text,
        vector: vectors.get(c.chunk_id) ?? null,
      }));
    if (rows.length > 0) out.set(documentId, rows);
  }
  return out;
}

function mark(docs: Map<string, DocAt>, documentId: string, live: boolean): void {
  const d = docs.get(documentId);
  if (!d) return;
  d.live = live;
  if (!live) {
    d.chunks = [];
    d.indexed = new Set();
  }
}

/** A table materialised for point-in-time retrieval: search it under `tableKey`, then release it. */
export interface PointInTimeTable {
  /** Pass as the pipeline version to RetrievalService / VectorIndex searches. */
  readonly tableKey: string;
  readonly position: number;
  readonly rows: number;
  release(): Promise<void>;
}

/**
 * Point-in-time retrieval: rebuilds, from the log, the table a pipeline version had at a log
 * position, in a scratch table of the vector index. Nothing is embedded (vectors come from the
 * log). The scratch table is a projection of an immutable prefix of the log; it is dropped on
 * release.
 */
export async function materializeAsOf(events: EventStore, index: VectorIndex, pipelineVersion: string, embedder: EmbedderInfo, position: number): Promise<PointInTimeTable> {
  const head = (await events.head()).position;
  if (!Number.isSafeInteger(position) || position < 0 || position > head) {
    throw new ValidationError(`log position ${position} is outside the log (1 to ${head})`, [], 'Give a position from rag-ledger log, a time, or "asked".');
  }
  const tableKey = `${SCRATCH_PREFIX}${pipelineVersion}-${position}`;
  await index.drop(tableKey); // a scratch table left by an interrupted run
  let rows = 0;
  try {
    // The table was just dropped: plain appends (no merge with rows that cannot exist), a few large commits.
    let batch: IndexedChunk[] = [];
    for (const docRows of (await chunksAsOf(events, pipelineVersion, embedder, position)).values()) {
      batch.push(...docRows);
      if (batch.length >= ROWS_PER_COMMIT) {
        await index.addDocuments(tableKey, embedder.dimensions, batch);
        rows += batch.length;
        batch = [];
      }
    }
    await index.addDocuments(tableKey, embedder.dimensions, batch);
    rows += batch.length;
    // Searched once or twice, then dropped: exact search, no ANN index to train.
    await index.optimize(tableKey, { scratch: true });
  } catch (err) {
    // Never leave a half-built scratch table behind (a build past its deadline, a full disk).
    await index.drop(tableKey).catch(() => undefined);
    throw err;
  }
  return { tableKey, position, rows, release: () => index.drop(tableKey) };
}

/**
 * Resolves `--as-of`: a log position, an ISO time (the last position recorded before it), or
 * "asked" with the position the question was asked at.
 */
export async function resolveAsOf(events: EventStore, spec: string, askedAt?: number): Promise<number> {
  const trimmed = spec.trim();
  if (trimmed === 'asked') {
    if (askedAt === undefined) throw new ValidationError('"asked" needs a recorded question', [], 'Give a log position or a time instead.');
    return askedAt;
  }
  if (/^\d+$/.test(trimmed)) return Number(trimmed);
  const time = Date.parse(trimmed);
  if (Number.isNaN(time)) throw new ValidationError(`cannot read ${JSON.stringify(spec)} as a log position or a time`, [], 'Give a log position (a number), an ISO time such as 2026-11-28T09:00:00Z, or "asked".');
  const iso = new Date(time).toISOString();
  for await (const e of events.readAll({ since: iso, limit: 1 })) return e.position - 1;
  return (await events.head()).position;
}
