/**
 * What the explorer's index records of one stored event: the columns its filters use, the words
 * its full-text search matches, the label it gives the event's stream, and the chunks a retrieval
 * cites. Pure function of the stored event; bounded output whatever the event's size.
 */
import type { RawEvent } from '../eventStore.js';
import { decodeEvent } from '../events/eventCodec.js';
import { isEventType } from '../events/eventCatalog.js';
import type { DomainEvent } from '../events/eventCatalog.js';
import { isFailure } from './eventGroups.js';
import { oneLine } from './summary.js';
import { searchWords } from './timelineFilter.js';

export interface IndexEntry {
  readonly position: number;
  readonly type: string;
  readonly streamId: string;
  /** recorded_at in ms since the epoch. */
  readonly time: number;
  readonly correlation: string | null;
  readonly pipeline: string | null;
  readonly failed: boolean;
  /** The event's distinct searchable words, space-separated (null: nothing to search). */
  readonly words: string | null;
  /** What the event's stream stands for, when this event says it: a document path, a question, a pipeline label. */
  readonly label: string | null;
  /** Chunk ids a retrieval or replay cited, best first. */
  readonly cites: readonly string[];
}

/** Text read from one event for the search index; more is ignored (a document is at most a few MB). */
export const MAX_INDEXED_CHARS = 4 * 1024 * 1024;
/** Distinct words kept per event. */
export const MAX_INDEXED_WORDS = 50_000;

/** Types whose data the index needs to read (the rest are indexed from the envelope alone). */
const NEEDS_DATA = new Set([
  'DocumentSubmitted',
  'DocumentRejected',
  'DocumentChunked',
  'DocumentDeleted',
  'DocumentForgotten',
  'ChunkEmbeddingFailed',
  'QueryReceived',
  'ContextRetrieved',
  'InferenceCompleted',
  'InferenceFailed',
  'ContextReplayed',
  'ReplayAnswered',
  'PipelineVersionDefined',
  'PipelineVersionActivated',
]);

function metadataOf(json: string): Record<string, unknown> {
  try {
    const m: unknown = JSON.parse(json);
    return typeof m === 'object' && m !== null && !Array.isArray(m) ? (m as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

const str = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);

function words(parts: readonly string[]): string | null {
  let budget = MAX_INDEXED_CHARS;
  const found = new Set<string>();
  for (const part of parts) {
    if (budget <= 0) break;
    const text = part.length > budget ? part.slice(0, budget) : part;
    budget -= text.length;
    for (const w of searchWords(text)) {
      if (found.size >= MAX_INDEXED_WORDS) break;
      found.add(w);
    }
  }
  return found.size === 0 ? null : [...found].join(' ');
}

/** The searchable text, stream label and citations of a decoded event. */
function fromData(e: DomainEvent): { words: string | null; label: string | null; cites: readonly string[] } {
  switch (e.type) {
    case 'DocumentSubmitted':
      return { words: words([e.data.source]), label: oneLine(e.data.source), cites: [] };
    case 'DocumentRejected':
      return { words: words([e.data.reason, e.data.detail]), label: null, cites: [] };
    case 'DocumentChunked':
      return { words: words(e.data.chunks.map((c) => c.text)), label: null, cites: [] };
    case 'DocumentDeleted':
      return { words: words([e.data.reason]), label: null, cites: [] };
    case 'DocumentForgotten':
      return { words: words([e.data.source, e.data.reason, e.data.actor]), label: null, cites: [] };
    case 'ChunkEmbeddingFailed':
      return { words: words([e.data.embedding_model, e.data.reason]), label: null, cites: [] };
    case 'QueryReceived':
      return { words: words([e.data.query_text]), label: oneLine(e.data.query_text), cites: [] };
    case 'ContextRetrieved':
    case 'ContextReplayed':
      return { words: null, label: null, cites: e.data.chunk_ids };
    case 'InferenceCompleted':
      return { words: words([e.data.response_text]), label: null, cites: [] };
    case 'InferenceFailed':
      return { words: words([e.data.model_id, e.data.reason, e.data.detail, e.data.partial_text ?? '']), label: null, cites: [] };
    case 'ReplayAnswered':
      return { words: words([e.data.response_text, e.data.generation_failure ?? '']), label: null, cites: [] };
    case 'PipelineVersionDefined':
      return { words: words([e.data.pipeline_version, e.data.label]), label: oneLine(`${e.data.pipeline_version} “${e.data.label}”`), cites: [] };
    default:
      return { words: null, label: null, cites: [] };
  }
}

/** The index entry of a stored event. An event that cannot be decoded is still indexed by its envelope. */
export function indexEntryOf(raw: RawEvent, chunkSource: string | null = null): IndexEntry {
  const meta = metadataOf(raw.metadataJson);
  let data: unknown = null;
  let extra: { words: string | null; label: string | null; cites: readonly string[] } = { words: null, label: null, cites: [] };
  if (NEEDS_DATA.has(raw.type) && isEventType(raw.type)) {
    try {
      const e = decodeEvent(raw.type, raw.schemaVersion, raw.dataJson, raw.attachment, { chunkSource });
      data = e.data;
      extra = fromData(e);
    } catch {
      // Undecodable (a newer schema, damage): the envelope is still worth finding; verify reports the damage.
    }
  }
  const time = Date.parse(raw.recordedAt);
  return {
    position: raw.position,
    type: raw.type,
    streamId: raw.streamId,
    time: Number.isFinite(time) ? time : 0,
    correlation: str(meta.correlation_id),
    pipeline: str(meta.pipeline_version) ?? (raw.type === 'PipelineVersionDefined' || raw.type === 'PipelineVersionActivated' ? str((data as { pipeline_version?: unknown } | null)?.pipeline_version) : null),
    failed: isFailure(raw.type, data),
    words: extra.words,
    label: extra.label,
    cites: extra.cites,
  };
}
