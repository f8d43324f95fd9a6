import type { NewEvent } from '../../src/core/eventStore.js';

const at = '2026-01-02T03:04:05.000Z';

/** A valid DocumentSubmitted event for document `id`. */
export function submitted(id: string, content = `content of ${id}`, eventId?: string): NewEvent {
  return { type: 'DocumentSubmitted', data: { document_id: id, source: `docs/${id}.md`, raw_content: content, submitted_at: at }, ...(eventId ? { eventId } : {}) };
}

/** A valid ChunkEmbedded event with a vector. */
export function embedded(chunkId: string, vector: number[] = [0.25, -1.5, 3]): NewEvent {
  return { type: 'ChunkEmbedded', data: { chunk_id: chunkId, embedding_model: 'test-model', dimensions: vector.length, vector: Float32Array.from(vector), embedded_at: at } };
}

/** A valid QueryReceived event. */
export function queried(queryId: string, text = 'what is ownership?'): NewEvent {
  return { type: 'QueryReceived', data: { query_id: queryId, query_text: text, user_id: 'tester', received_at: at } };
}
