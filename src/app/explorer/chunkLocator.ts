import type { EventStore } from '../../core/eventStore.js';
import type { ReadModels } from '../readModels.js';

/** Where a chunk came from: its document, lines, text and the document version it was cut from. */
export interface LocatedChunk {
  readonly chunkId: string;
  readonly documentId: string;
  readonly path: string;
  readonly startLine: number;
  readonly endLine: number;
  readonly text: string;
  /** The DocumentChunked event that produced it. */
  readonly chunkedAt: number;
  /** vN of the document (its Nth submission), the submission's position and content hash. */
  readonly documentVersion: { readonly ordinal: number; readonly position: number; readonly contentHash: string | null };
}

/**
 * Finds chunks in the log: the document that owns each (from the document-status read model), then
 * the chunking of the pipeline version that produced it in that document's stream, as of a log
 * position (the latest chunking at or before it). One stream read per document.
 */
export class ChunkLocator {
  constructor(private readonly deps: { readonly events: EventStore; readonly readModels: ReadModels }) {}

  async locate(chunkIds: readonly string[], pipelineVersion: string | null, asOf = Number.MAX_SAFE_INTEGER, documentHint?: string): Promise<Map<string, LocatedChunk>> {
    const byDocument = new Map<string, Set<string>>();
    for (const id of chunkIds) {
      const owner = documentHint ?? (pipelineVersion === null ? undefined : this.deps.readModels.chunkOwners(pipelineVersion, id)[0]);
      if (owner === undefined) continue;
      let set = byDocument.get(owner);
      if (!set) byDocument.set(owner, (set = new Set()));
      set.add(id);
    }
    const found = new Map<string, LocatedChunk>();
    for (const [documentId, wanted] of byDocument) {
      let ordinal = 0;
      let submission: { position: number; contentHash: string | null; path: string } | null = null;
      for await (const e of this.deps.events.readStream(`document-${documentId}`)) {
        if (e.position > asOf) break;
        if (e.type === 'DocumentSubmitted') {
          ordinal++;
          submission = { position: e.position, contentHash: e.data.content_hash ?? null, path: e.data.source };
        } else if (e.type === 'DocumentChunked' && submission && (pipelineVersion === null || e.metadata.pipeline_version === pipelineVersion)) {
          for (const c of e.data.chunks) {
            if (!wanted.has(c.chunk_id)) continue;
            found.set(c.chunk_id, {
              chunkId: c.chunk_id,
              documentId,
              path: submission.path,
              startLine: c.position.start_line,
              endLine: c.position.end_line,
              text: c.text,
              chunkedAt: e.position,
              documentVersion: { ordinal, position: submission.position, contentHash: submission.contentHash },
            });
          }
        }
      }
    }
    return found;
  }
}
