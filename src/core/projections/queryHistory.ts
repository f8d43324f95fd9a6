import type { JsonValue } from '../events/eventCatalog.js';
import type { Projection, ProjectionView } from './projection.js';

export type QueryState = 'received' | 'retrieved' | 'requested' | 'answered' | 'failed';

/** One question and what became of it. */
export interface QueryRecord {
  readonly query_id: string;
  readonly query_text: string;
  readonly user_id: string;
  readonly received_at: string;
  readonly state: QueryState;
  readonly chunk_ids: readonly string[];
  readonly model_id: string | null;
  readonly answer_preview: string | null;
  readonly tokens_used: number | null;
  readonly error: string | null;
  readonly completed_at: string | null;
  /** Set when a document it cited was forgotten: its prompt and answer were emptied. */
  readonly source_forgotten?: boolean;
  /** Global position of the QueryReceived event: orders the history. */
  readonly position: number;
}

const key = (id: string): string => `query:${id}`;

function update(view: ProjectionView, queryId: string, patch: Partial<QueryRecord>): void {
  const q = view.get(key(queryId)) as unknown as QueryRecord | undefined;
  if (q) view.put(key(queryId), { ...q, ...patch });
}

/** How many questions were asked (a small document: counting them needs no pass over the records). */
export const COUNT_KEY = 'count';

/** Query history read model: `query:<id>` holds a QueryRecord; `count` how many there are. */
export const queryHistoryProjection: Projection = {
  name: 'query-history',
  // 3: the count of questions.
  version: 3,
  eventTypes: ['QueryReceived', 'ContextRetrieved', 'InferenceRequested', 'InferenceCompleted', 'InferenceFailed', 'DocumentForgotten'],
  handle(e, view) {
    switch (e.type) {
      case 'QueryReceived': {
        const record: QueryRecord = {
          query_id: e.data.query_id,
          query_text: e.data.query_text,
          user_id: e.data.user_id,
          received_at: e.data.received_at,
          state: 'received',
          chunk_ids: [],
          model_id: null,
          answer_preview: null,
          tokens_used: null,
          error: null,
          completed_at: null,
          position: e.position,
        };
        if (view.get(key(e.data.query_id)) === undefined) view.put(COUNT_KEY, ((view.get(COUNT_KEY) as number | undefined) ?? 0) + 1);
        view.put(key(e.data.query_id), record as unknown as JsonValue);
        return;
      }
      case 'ContextRetrieved':
        return update(view, e.data.query_id, { state: 'retrieved', chunk_ids: e.data.chunk_ids });
      case 'InferenceRequested':
        return update(view, e.data.query_id, { state: 'requested', model_id: e.data.model_id });
      case 'InferenceCompleted':
        return update(view, e.data.query_id, {
          state: 'answered',
          answer_preview: e.data.response_text.slice(0, 200),
          tokens_used: e.data.tokens_used,
          completed_at: e.data.completed_at,
        });
      case 'DocumentForgotten':
        // The answers of questions that cited a forgotten document were emptied in the log.
        for (const queryId of e.data.questions) update(view, queryId, { answer_preview: '', source_forgotten: true });
        return;
      case 'InferenceFailed':
        return update(view, e.data.query_id, { state: 'failed', error: `${e.data.reason}: ${e.data.detail}`, completed_at: e.data.failed_at });
      default:
        return;
    }
  },
};
