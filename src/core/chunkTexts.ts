import { decodeRaw } from './eventLog.js';
import type { EventStore, RawEvent, RecordedEvent } from './eventStore.js';
import { TEXTLESS_CHUNKS_VERSION } from './events/eventCodec.js';
import { forgottenBy } from './forget.js';

/**
 * Chunk texts are stored once. A DocumentChunked of schema v2+ stores its chunks without their
 * text: each is the slice [start_char, end_char) of the raw_content of the DocumentSubmitted the
 * chunking was caused by (metadata.causation_id). Reading puts the texts back, so every reader
 * gets the event with its texts. A chunking whose submission is missing, or that was emptied by a
 * forget (as its submission was), reads with empty texts, as an emptied v1 chunking does.
 */

/** Stored events by id (those found; order free). */
export type RawLookup = (eventIds: readonly string[]) => Promise<readonly RawEvent[]>;

/** The id of the submission a stored chunking's texts come from, or null when it has none to restore. */
export function chunkSourceId(raw: RawEvent): string | null {
  if (raw.type !== 'DocumentChunked' || raw.schemaVersion < TEXTLESS_CHUNKS_VERSION || forgottenBy(raw) !== null) return null;
  try {
    const causation = (JSON.parse(raw.metadataJson) as Record<string, unknown>).causation_id;
    return typeof causation === 'string' && causation.length > 0 ? causation : null;
  } catch {
    return null;
  }
}

/** The raw_content of a stored DocumentSubmitted, or null (another type, emptied, unreadable). */
function contentOf(raw: RawEvent | undefined): string | null {
  if (!raw || raw.type !== 'DocumentSubmitted' || forgottenBy(raw) !== null) return null;
  try {
    const content = (JSON.parse(raw.dataJson) as Record<string, unknown>).raw_content;
    return typeof content === 'string' ? content : null;
  } catch {
    return null;
  }
}

/**
 * The submissions' contents the chunkings among `raws` need: taken from `raws` itself when there,
 * the rest looked up in one call. Returns each raw's chunk source (null for all other events).
 */
export async function chunkSources(raws: readonly RawEvent[], lookup: RawLookup): Promise<(raw: RawEvent) => string | null> {
  const sources = new Map<string, string | null>();
  const wanted = new Set<string>();
  const inPage = new Map(raws.filter((r) => r.type === 'DocumentSubmitted').map((r) => [r.eventId, r] as const));
  for (const raw of raws) {
    const id = chunkSourceId(raw);
    if (id === null || sources.has(id)) continue;
    const here = inPage.get(id);
    if (here) sources.set(id, contentOf(here));
    else wanted.add(id);
  }
  if (wanted.size > 0) {
    const found = new Map((await lookup([...wanted])).map((r) => [r.eventId, r] as const));
    for (const id of wanted) sources.set(id, contentOf(found.get(id)));
  }
  return (raw) => {
    const id = chunkSourceId(raw);
    return id === null ? null : (sources.get(id) ?? null);
  };
}

/** Decodes a page of stored events, restoring the chunk texts of the chunkings among them. */
export async function decodePage(raws: readonly RawEvent[], lookup: RawLookup): Promise<RecordedEvent[]> {
  const sourceOf = await chunkSources(raws, lookup);
  return raws.map((raw) => decodeRaw(raw, sourceOf(raw)));
}

/** Positions per readPositions call (it takes at most 1000). */
const LOOKUP_PAGE = 500;

/** A lookup through the EventStore interface (for readers outside a store). */
export function lookupVia(store: Pick<EventStore, 'positionOf' | 'readPositions'>): RawLookup {
  return async (ids) => {
    const positions: number[] = [];
    for (const id of ids) {
      const p = await store.positionOf(id);
      if (p !== null) positions.push(p);
    }
    const out: RawEvent[] = [];
    for (let i = 0; i < positions.length; i += LOOKUP_PAGE) out.push(...(await store.readPositions(positions.slice(i, i + LOOKUP_PAGE))));
    return out;
  };
}

/** One stored event decoded with its chunk texts (the explorer's detail, `log`). */
export async function decodeWithTexts(store: Pick<EventStore, 'positionOf' | 'readPositions'>, raw: RawEvent): Promise<RecordedEvent> {
  const [event] = await decodePage([raw], lookupVia(store));
  return event!;
}
