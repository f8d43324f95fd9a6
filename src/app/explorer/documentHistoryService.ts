import { ValidationError } from '../../core/errors.js';
import type { EventStore, RecordedEvent, RecordedEventOf } from '../../core/eventStore.js';
import { oneLine } from '../../core/explorer/summary.js';
import { diffTextLines } from '../../core/retrieval/contextDiff.js';
import type { DocumentDiff, DocumentHistory, DocumentVersionView } from '../../shared/explorerModel.js';
import type { EventIndex } from './eventIndex.js';

/** Chunks listed per chunking (the rest are counted). */
const CHUNKS_SHOWN = 200;
/** Questions listed per document version. */
const CITED_SHOWN = 100;
/** Characters of a chunk's preview. */
const PREVIEW = 160;

type Version = {
  submitted: RecordedEventOf<'DocumentSubmitted'>;
  state: DocumentVersionView['state'];
  chunkings: RecordedEventOf<'DocumentChunked'>[];
};

/**
 * A document's history from its stream: every version (submission) with its validation, each
 * pipeline version's chunking of it with the chunks' embeddings, the questions whose context cited
 * it, and a line diff between any two versions.
 */
export class DocumentHistoryService {
  constructor(private readonly deps: { readonly events: EventStore; readonly index: EventIndex }) {}

  private async stream(documentId: string): Promise<RecordedEvent[]> {
    if (typeof documentId !== 'string' || !/^[A-Za-z0-9_.:-]{1,200}$/.test(documentId)) throw new ValidationError(`${JSON.stringify(String(documentId).slice(0, 64))} is not a document id`, [], 'Open the history from the Documents view or from a document event.');
    const events: RecordedEvent[] = [];
    for await (const e of this.deps.events.readStream(`document-${documentId}`)) events.push(e);
    if (events.length === 0) throw new ValidationError(`no document ${documentId} in this store`, [], 'Ingest the workspace, or open the history from the Documents view.');
    return events;
  }

  async history(documentId: string): Promise<DocumentHistory> {
    const events = await this.stream(documentId);
    const versions: Version[] = [];
    const embeddings = new Map<string, { model: string; dimensions: number; position: number }[]>();
    let deleted: DocumentHistory['deleted'] = null;
    for (const e of events) {
      const current = versions[versions.length - 1];
      switch (e.type) {
        case 'DocumentSubmitted':
          versions.push({ submitted: e, state: { kind: 'pending' }, chunkings: [] });
          deleted = null;
          break;
        case 'DocumentValidated':
          if (current) current.state = { kind: 'validated', format: e.data.format };
          break;
        case 'DocumentRejected':
          if (current) current.state = { kind: 'rejected', reason: e.data.reason, detail: oneLine(e.data.detail, 500) };
          break;
        case 'DocumentChunked':
          current?.chunkings.push(e);
          break;
        case 'ChunkEmbedded': {
          const list = embeddings.get(e.data.chunk_id) ?? [];
          list.push({ model: e.data.embedding_model, dimensions: e.data.dimensions, position: e.position });
          embeddings.set(e.data.chunk_id, list);
          break;
        }
        case 'DocumentDeleted':
          deleted = { position: e.position, reason: e.data.reason, deletedAt: e.data.deleted_at };
          break;
        default:
          break;
      }
    }
    const first = versions[0];
    if (!first) throw new ValidationError(`document ${documentId} has no submitted version`, [], 'Ingest the workspace again.');
    return {
      documentId,
      path: first.submitted.data.source,
      streamId: `document-${documentId}`,
      versions: await Promise.all(versions.map((v, i) => this.version(v, i + 1, embeddings))),
      deleted,
    };
  }

  private async version(v: Version, ordinal: number, embeddings: ReadonlyMap<string, readonly { model: string; dimensions: number; position: number }[]>): Promise<DocumentVersionView> {
    const chunkIds = [...new Set(v.chunkings.flatMap((c) => c.data.chunks.map((x) => x.chunk_id)))];
    const citations = this.deps.index.citations(chunkIds, CITED_SHOWN);
    const positions = [...new Set(citations.map((c) => c.position))];
    const labels = new Map<number, { queryId: string; question: string }>();
    for (let i = 0; i < positions.length; i += 500) {
      const raws = await this.deps.events.readPositions(positions.slice(i, i + 500));
      const names = this.deps.index.labels(raws.map((r) => r.streamId));
      for (const r of raws) labels.set(r.position, { queryId: r.streamId.replace(/^query-/, ''), question: names.get(r.streamId) ?? r.streamId });
    }
    return {
      ordinal,
      position: v.submitted.position,
      eventId: v.submitted.eventId,
      submittedAt: v.submitted.data.submitted_at,
      contentHash: v.submitted.data.content_hash ?? null,
      bytes: new TextEncoder().encode(v.submitted.data.raw_content).length,
      state: v.state,
      chunkings: v.chunkings.map((c) => ({
        pipelineVersion: typeof c.metadata.pipeline_version === 'string' ? c.metadata.pipeline_version : '?',
        position: c.position,
        chunks: c.data.chunks.slice(0, CHUNKS_SHOWN).map((x) => ({
          chunkId: x.chunk_id,
          index: x.position.index,
          startLine: x.position.start_line,
          endLine: x.position.end_line,
          preview: oneLine(x.text, PREVIEW),
          embeddings: embeddings.get(x.chunk_id) ?? [],
        })),
        more: Math.max(0, c.data.chunks.length - CHUNKS_SHOWN),
      })),
      citedBy: citedOnce(citations, labels),
    };
  }

  /** A line diff between two versions of a document, given by their DocumentSubmitted positions. */
  async diff(documentId: string, from: number, to: number): Promise<DocumentDiff> {
    const events = await this.stream(documentId);
    const at = (position: number): string => {
      const e = events.find((x) => x.position === position);
      if (e?.type !== 'DocumentSubmitted') throw new ValidationError(`position ${position} is not a version of document ${documentId}`, [], 'Pick two versions from the document history.');
      return e.data.raw_content;
    };
    const d = diffTextLines(at(from), at(to));
    return { from, to, parts: d.parts, added: d.added, removed: d.removed, ...(d.approximate ? { note: 'The versions differ too much for a line-by-line diff: both are shown whole.' } : {}) };
  }
}

/**
 * Each question once: where it cited the version first (when it was asked, before any replay) and
 * the best rank it gave any of the version's chunks there.
 */
function citedOnce(citations: readonly { position: number; rank: number }[], labels: ReadonlyMap<number, { queryId: string; question: string }>): DocumentVersionView['citedBy'] {
  const byQuestion = new Map<string, { queryId: string; question: string; position: number; rank: number }>();
  for (const c of citations) {
    const q = labels.get(c.position);
    if (!q) continue;
    const seen = byQuestion.get(q.queryId);
    if (!seen || c.position < seen.position || (c.position === seen.position && c.rank < seen.rank)) byQuestion.set(q.queryId, { queryId: q.queryId, question: oneLine(q.question, 300), position: c.position, rank: c.rank });
  }
  return [...byQuestion.values()].sort((a, b) => b.position - a.position);
}
