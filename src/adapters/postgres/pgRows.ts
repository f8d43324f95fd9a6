import type { QueryResultRow } from 'pg';
import type { RawEvent } from '../../core/eventStore.js';

/** The columns of an event row, as RawEvent reads them. */
export const COLUMNS = 'position::int8 AS position, event_id, stream_id, stream_version, type, schema_version, data, metadata, attachment, recorded_at, prev_hash, hash';

export interface EventRow extends QueryResultRow {
  position: string;
  event_id: string;
  stream_id: string;
  stream_version: number;
  type: string;
  schema_version: number;
  data: string;
  metadata: string;
  attachment: Buffer | null;
  recorded_at: string;
  prev_hash: string;
  hash: string;
}

export function toRaw(r: EventRow): RawEvent {
  return {
    position: Number(r.position),
    eventId: r.event_id,
    streamId: r.stream_id,
    streamVersion: r.stream_version,
    type: r.type,
    schemaVersion: r.schema_version,
    dataJson: r.data,
    metadataJson: r.metadata,
    attachment: r.attachment === null ? null : Uint8Array.from(r.attachment),
    recordedAt: r.recorded_at,
    prevHash: r.prev_hash,
    hash: r.hash,
  };
}

export function correlationOf(metadataJson: string): string | null {
  const id = (JSON.parse(metadataJson) as { correlation_id?: unknown }).correlation_id;
  return typeof id === 'string' ? id : null;
}
