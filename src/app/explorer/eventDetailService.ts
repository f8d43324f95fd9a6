import { ValidationError } from '../../core/errors.js';
import { decodeWithTexts } from '../../core/chunkTexts.js';
import type { EventStore, RecordedEvent } from '../../core/eventStore.js';
import { isFailure } from '../../core/explorer/eventGroups.js';
import { fieldText, toPayloadNode } from '../../core/explorer/payloadView.js';
import { oneLine, summarize } from '../../core/explorer/summary.js';
import type { ChainStep, ChunkRef, EventDetail, QuestionChain } from '../../shared/explorerModel.js';
import type { ReadModels } from '../readModels.js';
import { ChunkLocator } from './chunkLocator.js';
import type { EventIndex } from './eventIndex.js';
import { rowOf } from './timelineService.js';

/** Events of one question's stream read for its chain (asks and replays). */
const CHAIN_MAX = 2_000;
/** Chunk references listed for one event. */
const CHUNKS_MAX = 500;

export interface EventDetailDeps {
  readonly events: EventStore;
  readonly index: EventIndex;
  readonly readModels: ReadModels;
  readonly fallbackLabel?: (streamId: string) => string | null;
}

/** One event in full for the detail pane: metadata, payload tree, its question's chain, the chunks it carries or cites. */
export class EventDetailService {
  private readonly chunks: ChunkLocator;

  constructor(private readonly deps: EventDetailDeps) {
    this.chunks = new ChunkLocator(deps);
  }

  private async read(position: number): Promise<{ raw: Awaited<ReturnType<EventStore['readPositions']>>[number]; event: RecordedEvent }> {
    if (!Number.isSafeInteger(position) || position < 1) throw new ValidationError(`${String(position)} is not a log position`);
    const [raw] = await this.deps.events.readPositions([position]);
    if (!raw) throw new ValidationError(`the log has no event at position ${position}`, [], 'Refresh the timeline: the log may have been replaced.');
    const event = await decodeWithTexts(this.deps.events, raw).catch((err: unknown) => (err instanceof Error ? err : new Error(String(err))));
    if (event instanceof Error) throw new ValidationError(`the event at position ${position} cannot be read: ${event.message}`, [], 'Run `rag-ledger verify` to check the log.');
    return { raw, event };
  }

  async detail(position: number): Promise<EventDetail> {
    const { raw, event } = await this.read(position);
    const label = this.deps.index.labels([raw.streamId]).get(raw.streamId) ?? this.deps.fallbackLabel?.(raw.streamId) ?? null;
    const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
    return {
      row: rowOf(raw, event, label),
      eventId: raw.eventId,
      streamVersion: raw.streamVersion,
      schemaVersion: event.schemaVersion,
      upcastFrom: event.storedSchemaVersion < event.schemaVersion ? event.storedSchemaVersion : null,
      prevHash: raw.prevHash,
      hash: raw.hash,
      data: toPayloadNode(event.data),
      metadata: toPayloadNode(event.metadata),
      correlationId: str(event.metadata.correlation_id),
      causationId: str(event.metadata.causation_id),
      pipelineVersion: str(event.metadata.pipeline_version),
      actor: str(event.metadata.actor),
      documentId: raw.streamId.startsWith('document-') ? raw.streamId.slice('document-'.length) : null,
      chain: raw.streamId.startsWith('query-') ? await this.chain(raw.streamId.slice('query-'.length)) : null,
      chunks: await this.chunkRefs(event),
    };
  }

  /** The whole of one (clipped) field of an event's payload. */
  async field(position: number, path: readonly (string | number)[]): Promise<{ text: string; clipped: boolean }> {
    const { event } = await this.read(position);
    return fieldText(event.data, path);
  }

  /** The chunks an event carries or cites, with where they are (for the detail pane and "open source"). */
  async chunkRefs(event: RecordedEvent): Promise<ChunkRef[]> {
    const located = async (ids: readonly string[], pv: string | null, asOf: number, hint?: string): Promise<ChunkRef[]> => {
      const found = await this.chunks.locate(ids.slice(0, CHUNKS_MAX), pv, asOf, hint);
      return ids.slice(0, CHUNKS_MAX).map((id) => {
        const c = found.get(id);
        return { chunkId: id, path: c?.path ?? null, startLine: c?.startLine ?? null, endLine: c?.endLine ?? null };
      });
    };
    const pv = typeof event.metadata.pipeline_version === 'string' ? event.metadata.pipeline_version : null;
    switch (event.type) {
      case 'DocumentChunked': {
        const path = this.deps.index.labels([event.streamId]).get(event.streamId) ?? this.deps.fallbackLabel?.(event.streamId) ?? null;
        return event.data.chunks.slice(0, CHUNKS_MAX).map((c) => ({ chunkId: c.chunk_id, path, startLine: c.position.start_line, endLine: c.position.end_line }));
      }
      case 'ChunkEmbedded':
      case 'ChunkIndexed':
      case 'ChunkEmbeddingFailed':
        return located([event.data.chunk_id], null, event.position, event.streamId.slice('document-'.length));
      case 'ContextRetrieved': {
        const refs = await located(event.data.chunk_ids, event.data.pipeline_version ?? pv, event.position);
        return refs.map((r, i) => ({ ...r, rank: event.data.ranks?.[i] ?? i + 1, score: event.data.scores[i] ?? 0 }));
      }
      case 'ContextReplayed': {
        const refs = await located(event.data.chunk_ids, event.data.pipeline_version, event.data.as_of_position ?? event.position);
        return refs.map((r, i) => ({ ...r, rank: event.data.ranks[i] ?? i + 1, score: event.data.scores[i] ?? 0 }));
      }
      default:
        return [];
    }
  }

  /** Resolves a chunk of the event at `position` to its source, for opening it (the path comes from the log). */
  async chunkSource(position: number, chunkId: string): Promise<ChunkRef | null> {
    const { event } = await this.read(position);
    return (await this.chunkRefs(event)).find((c) => c.chunkId === chunkId && c.path !== null) ?? null;
  }

  /** A question's chain: the original ask and each replay, as groups of steps with durations. */
  async chain(queryId: string): Promise<QuestionChain | null> {
    const events: RecordedEvent[] = [];
    for await (const e of this.deps.events.readStream(`query-${queryId}`, { limit: CHAIN_MAX })) events.push(e);
    const received = events.find((e) => e.type === 'QueryReceived');
    if (!received || received.type !== 'QueryReceived') return null;
    const groups = new Map<string, RecordedEvent[]>();
    for (const e of events) {
      const key = typeof e.metadata.correlation_id === 'string' ? e.metadata.correlation_id : queryId;
      const list = groups.get(key);
      if (list) list.push(e);
      else groups.set(key, [e]);
    }
    return {
      queryId,
      question: oneLine(received.data.query_text, 2_000),
      groups: [...groups].map(([correlationId, list]) => {
        const replay = list.find((e) => e.type === 'ContextReplayed');
        const answer = list.find((e) => e.type === 'InferenceCompleted');
        const label =
          replay?.type === 'ContextReplayed'
            ? `Replay against ${replay.data.pipeline_version}${replay.data.as_of_position !== undefined ? ` as of #${replay.data.as_of_position}` : ''}`
            : `Asked${answer?.type === 'InferenceCompleted' && answer.data.model_id ? `, answered by ${answer.data.model_id}` : ''}`;
        const steps: ChainStep[] = list.map((e, i) => ({
          position: e.position,
          type: e.type,
          recordedAt: e.recordedAt,
          sincePrevMs: i === 0 ? null : Date.parse(e.recordedAt) - Date.parse(list[i - 1]!.recordedAt),
          summary: summarize(e),
          failed: isFailure(e.type, e.data),
        }));
        const first = list[0]!;
        const last = list[list.length - 1]!;
        return { correlationId, label, totalMs: list.length > 1 ? Date.parse(last.recordedAt) - Date.parse(first.recordedAt) : null, steps };
      }),
    };
  }

  /** The position of an event id (causation links), or null. */
  findEvent(eventId: string): Promise<number | null> {
    if (typeof eventId !== 'string' || eventId === '' || eventId.length > 512) throw new ValidationError('an event id is a non-empty string of at most 512 characters');
    return this.deps.events.positionOf(eventId);
  }
}
