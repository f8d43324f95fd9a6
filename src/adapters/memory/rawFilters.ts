import type { RawEvent, ReadAllOptions, StoreStats } from '../../core/eventStore.js';
import { GENESIS_HASH } from '../../core/eventLog.js';
import { streamCategory } from '../../core/eventStore.js';

/** Whether a stored event passes readAll's filters. */
export function matchesFilter(raw: RawEvent, o: ReadAllOptions): boolean {
  if (o.types && !o.types.includes(raw.type as never)) return false;
  if (o.streamId !== undefined && raw.streamId !== o.streamId) return false;
  if (o.category !== undefined && streamCategory(raw.streamId) !== o.category) return false;
  if (o.since !== undefined && raw.recordedAt < o.since) return false;
  if (o.until !== undefined && raw.recordedAt >= o.until) return false;
  return true;
}

/** Store statistics computed from stored events. */
export function summarize(events: readonly RawEvent[], streams: number): Omit<StoreStats, 'location' | 'files'> {
  const byType: Record<string, number> = {};
  const byCategory: Record<string, number> = {};
  for (const e of events) {
    byType[e.type] = (byType[e.type] ?? 0) + 1;
    const c = streamCategory(e.streamId);
    byCategory[c] = (byCategory[c] ?? 0) + 1;
  }
  const last = events.at(-1);
  return {
    events: events.length,
    streams,
    headPosition: last?.position ?? 0,
    headHash: last?.hash ?? GENESIS_HASH,
    firstRecordedAt: events[0]?.recordedAt ?? null,
    lastRecordedAt: last?.recordedAt ?? null,
    byType,
    byCategory,
  };
}
