/**
 * How the explorer groups event types (row colour, density chart stacks) and which events are
 * failures. Pure: derived from the type and, for replays, the data.
 */
import type { EventGroup } from '../../shared/explorerModel.js';
import type { EventType } from '../events/eventCatalog.js';
import { eventTypes } from '../events/eventCatalog.js';

const GROUPS: Record<EventType, EventGroup> = {
  DocumentSubmitted: 'document',
  DocumentValidated: 'document',
  DocumentDeleted: 'document',
  DocumentForgotten: 'document',
  DocumentRejected: 'failure',
  DocumentChunked: 'chunk',
  ChunkEmbedded: 'chunk',
  ChunkIndexed: 'chunk',
  ChunkEmbeddingFailed: 'failure',
  QueryReceived: 'query',
  ContextRetrieved: 'query',
  InferenceRequested: 'query',
  InferenceCompleted: 'query',
  InferenceFailed: 'failure',
  ContextReplayed: 'replay',
  ReplayAnswered: 'replay',
  PipelineVersionDefined: 'pipeline',
  PipelineVersionActivated: 'pipeline',
  HeadSigned: 'pipeline',
};

/** The group of an event type; types this version does not know are "other". */
export function groupOf(type: string): EventGroup {
  return (GROUPS as Record<string, EventGroup | undefined>)[type] ?? 'other';
}

/** Event types that always record a failure. */
export const FAILURE_TYPES: readonly EventType[] = ['DocumentRejected', 'ChunkEmbeddingFailed', 'InferenceFailed'];

/** Whether an event records a failure: a failure type, or a re-answer whose model failed. */
export function isFailure(type: string, data: unknown): boolean {
  if ((FAILURE_TYPES as readonly string[]).includes(type)) return true;
  return type === 'ReplayAnswered' && typeof data === 'object' && data !== null && typeof (data as { generation_failure?: unknown }).generation_failure === 'string';
}

/** Every known type with its group, in catalog order (the explorer's type filter lists them). */
export function typeGroups(): { readonly type: EventType; readonly group: EventGroup }[] {
  return eventTypes.map((type) => ({ type, group: GROUPS[type] }));
}
