import { CancelledError, ValidationError } from '../../core/errors.js';
import { decodeRaw } from '../../core/eventLog.js';
import type { EventStore, RawEvent, RecordedEvent } from '../../core/eventStore.js';
import { groupOf, isFailure } from '../../core/explorer/eventGroups.js';
import type { IndexEntry } from '../../core/explorer/indexEntry.js';
import { indexEntryOf } from '../../core/explorer/indexEntry.js';
import { chunkSources, lookupVia } from '../../core/chunkTexts.js';
import { oneLine, summarize } from '../../core/explorer/summary.js';
import { filterKey, isEmptyFilter, searchWords } from '../../core/explorer/timelineFilter.js';
import type { Density, EventGroup, IndexProgress, TimelineFilter, TimelinePage, TimelineRow } from '../../shared/explorerModel.js';
import type { EventIndex, IndexFilter, TextIndex } from './eventIndex.js';

/** Rows one page may hold. */
export const PAGE_MAX = 300;
/** Matches a text search keeps (more are reported as truncated). */
export const SEARCH_MAX = 200_000;
/** Events read and indexed per batch while catching up. */
const BATCH = 2_000;
/**
 * Rows a long catch-up adds to the text index before folding them in. Folding a million rows at once
 * (a build from scratch) held ~200 MB more than folding them 300k at a time.
 */
const TEXT_FOLD_DURING_CATCH_UP = 300_000;
/** A catch-up longer than this many events reports progress (pages show "indexing…"). */
const PROGRESS_FROM = 5_000;
/**
 * A query this few events behind the log indexes them first (a question just asked), so filters and
 * the chart are current; a larger backlog is left to catchUp, which the caller runs with progress.
 */
const CATCH_UP_INLINE = 5_000;

export interface TimelineDeps {
  readonly events: EventStore;
  readonly index: EventIndex;
  /** Full-text search on disk; null searches by reading the events. */
  readonly text: TextIndex | null;
  /** A stream's label when the index has none yet (the read models know document paths). */
  readonly fallbackLabel?: (streamId: string) => string | null;
}

export interface CatchUpOptions {
  readonly signal?: AbortSignal;
  readonly onProgress?: (p: IndexProgress) => void;
}

/**
 * The timeline of the log as the explorer and `rag-ledger log` show it: the explorer's index kept up
 * with the log, pages of rows for any filter, positions and times located, density over time.
 * The unfiltered timeline needs no index (positions are gapless: row i is position i + 1), so the
 * first rows show while a large log is still being indexed.
 */
export class TimelineService {
  private running: Promise<void> | null = null;
  private progress: IndexProgress | undefined;
  private verified = false;
  /** Positions at or below this are in the text index (read-only processes search the rest by reading). */
  private textCoverage: number;
  private searchCache: { key: string; result: { positions: number[]; truncated: boolean } } | null = null;

  constructor(private readonly deps: TimelineDeps) {
    this.textCoverage = deps.text ? deps.index.checkpoint : 0;
  }

  /** Set while a long catch-up runs. */
  get indexing(): IndexProgress | undefined {
    return this.progress;
  }

  get checkpoint(): number {
    return this.deps.index.checkpoint;
  }

  /**
   * Brings the index up to the log's head. Concurrent calls share one run. An index whose last
   * event no longer matches the log (a recovered or replaced store) is rebuilt from scratch.
   */
  catchUp(options: CatchUpOptions = {}): Promise<void> {
    this.running ??= this.run(options).finally(() => {
      this.running = null;
      this.progress = undefined;
    });
    return this.running;
  }

  /** Drops both indexes and indexes the whole log again (after the previous catch-up has finished). */
  async rebuild(options: CatchUpOptions = {}): Promise<void> {
    await this.running?.catch(() => undefined);
    this.deps.index.reset();
    if (this.deps.index.writable) await this.deps.text?.reset();
    this.textCoverage = 0;
    this.searchCache = null;
    this.verified = true;
    await this.catchUp(options);
    await this.deps.index.flush();
  }

  private async run(options: CatchUpOptions): Promise<void> {
    const { events, index, text } = this.deps;
    const head = (await events.head()).position;
    if (!this.verified) {
      await this.checkIndexMatchesLog(head);
      this.verified = true;
    }
    if (index.checkpoint >= head) return;
    const from = index.checkpoint + 1;
    let raws: RawEvent[] = [];
    let lastHash = '';
    const commit = async (): Promise<void> => {
      if (raws.length === 0) return;
      // A chunking's words are its chunk texts, read from its submission (in the batch, or looked up).
      const sourceOf = await chunkSources(raws, lookupVia(events));
      const batch: IndexEntry[] = raws.map((raw) => indexEntryOf(raw, sourceOf(raw)));
      raws = [];
      if (text && index.writable) await text.add(batch.filter((e) => e.words !== null).map((e) => ({ position: e.position, words: e.words! })));
      index.apply(batch, lastHash);
      if (text && index.writable) {
        this.textCoverage = index.checkpoint;
        // Folding is optional here (rows not folded in yet are searched too): a failure leaves it to the end of the run.
        await text.maintain(TEXT_FOLD_DURING_CATCH_UP).catch(() => undefined);
      }
      if (head - from >= PROGRESS_FROM) {
        this.progress = { indexed: index.checkpoint, head: Math.max(head, index.checkpoint) };
        options.onProgress?.(this.progress);
      }
      if (options.signal?.aborted) throw new CancelledError('indexing the log');
    };
    for await (const raw of events.readRaw(from)) {
      raws.push(raw);
      lastHash = raw.hash;
      if (raws.length >= BATCH) await commit();
    }
    await commit();
    if (text && index.writable) await text.maintain();
  }

  private async checkIndexMatchesLog(head: number): Promise<void> {
    const { events, index, text } = this.deps;
    const at = index.checkpoint;
    let matches = at === 0 || at <= head;
    if (matches && at > 0) {
      const [raw] = await events.readPositions([at]);
      matches = raw !== undefined && raw.hash === index.checkpointHash;
    }
    if (!index.writable) {
      if (!matches) {
        index.reset();
        this.textCoverage = 0;
      }
      return;
    }
    if (!matches) {
      index.reset();
      await text?.reset();
    } else {
      // Rows the text index received after the index file was last written are added again.
      await text?.deleteAfter(index.checkpoint);
    }
    this.textCoverage = text ? index.checkpoint : 0;
  }

  /** Indexes the last few events before a query (see CATCH_UP_INLINE); returns the log's head. */
  private async current(): Promise<number> {
    const head = (await this.deps.events.head()).position;
    if (!this.running && head > this.deps.index.checkpoint && head - this.deps.index.checkpoint <= CATCH_UP_INLINE) await this.catchUp();
    return head;
  }

  /** Rows [start, start + limit) of the filtered timeline. */
  async page(filter: TimelineFilter, start: number, limit: number): Promise<TimelinePage> {
    checkPage(start, limit);
    const head = await this.current();
    const status = { head, ...(this.progress ? { indexing: this.progress } : {}) };
    if (isEmptyFilter(filter)) return { start, rows: await this.rows(logPositions(head, start, limit)), total: head, ...status };
    const { selection, truncated } = await this.selection(filter);
    const total = await selection.total();
    const positions = await selection.positions(start, limit);
    return { start, rows: await this.rows(positions), total, ...status, ...(truncated ? { truncated } : {}) };
  }

  /** The row index of the first row at or after a position (or a time), and the filtered total. */
  async locate(filter: TimelineFilter, at: { readonly position?: number; readonly time?: string }): Promise<{ index: number; total: number }> {
    let position = at.position;
    if (position === undefined && at.time !== undefined) position = await this.positionAtTime(Date.parse(at.time));
    if (position === undefined || !Number.isFinite(position)) throw new ValidationError('locate needs a position or a time');
    await this.current();
    if (isEmptyFilter(filter)) {
      const head = (await this.deps.events.head()).position;
      return { index: Math.max(0, Math.min(head, Math.floor(position) - 1)), total: head };
    }
    const { selection } = await this.selection(filter);
    return { index: await selection.locate(position), total: await selection.total() };
  }

  /** The first position recorded at or after a time (binary search over the log: times follow positions). */
  private async positionAtTime(time: number): Promise<number> {
    const head = (await this.deps.events.head()).position;
    let lo = 1;
    let hi = head;
    while (lo < hi) {
      const mid = Math.floor((lo + hi) / 2);
      const [raw] = await this.deps.events.readPositions([mid]);
      if (raw && Date.parse(raw.recordedAt) < time) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Events over the log's whole time span in `buckets` buckets, stacked by group. */
  async density(filter: TimelineFilter, buckets: number): Promise<Density> {
    await this.current();
    const { text, ...rest } = filter;
    const candidates = text === undefined ? undefined : (await this.search(text)).positions;
    const d = await this.deps.index.density(rest, buckets, candidates);
    const counts: Partial<Record<EventGroup, number[]>> = {};
    let total = 0;
    for (const [type, row] of d.byType) {
      const group = groupOf(type);
      const into = (counts[group] ??= new Array<number>(d.buckets).fill(0));
      for (const [i, n] of row.entries()) {
        into[i] = (into[i] ?? 0) + n;
        total += n;
      }
    }
    return { from: d.from, bucketMs: d.bucketMs, buckets: d.buckets, counts, total };
  }

  private async selection(filter: TimelineFilter): Promise<{ selection: Awaited<ReturnType<EventIndex['select']>>; truncated?: string }> {
    const { text, ...rest } = filter;
    const indexFilter: IndexFilter = rest;
    if (text === undefined) return { selection: await this.deps.index.select(indexFilter) };
    const found = await this.search(text);
    return {
      selection: await this.deps.index.select(indexFilter, found.positions),
      ...(found.truncated ? { truncated: `More than ${SEARCH_MAX.toLocaleString('en-US')} events contain these words; only that many are shown. Add words or filters to narrow it.` } : {}),
    };
  }

  /**
   * Positions of indexed events whose words include every word of `text`: from the text index up to
   * what it covers, and by reading the events past that (a read-only process, or no text index).
   */
  async search(text: string): Promise<{ positions: number[]; truncated: boolean }> {
    const words = searchWords(text);
    const key = JSON.stringify([words, this.deps.index.checkpoint, this.textCoverage]);
    if (this.searchCache?.key === key) return this.searchCache.result;
    const covered = Math.min(this.textCoverage, this.deps.index.checkpoint);
    const indexed = this.deps.text && covered > 0 ? await this.deps.text.search(words, covered, SEARCH_MAX) : { positions: [], truncated: false };
    const positions = [...indexed.positions];
    let truncated = indexed.truncated;
    if (this.deps.index.checkpoint > covered && !truncated) {
      for await (const raw of this.deps.events.readRaw(covered + 1)) {
        if (raw.position > this.deps.index.checkpoint) break;
        const have = indexEntryOf(raw, (await chunkSources([raw], lookupVia(this.deps.events)))(raw)).words;
        if (have === null) continue;
        const set = new Set(have.split(' '));
        if (words.every((w) => set.has(w))) positions.push(raw.position);
        if (positions.length > SEARCH_MAX) {
          truncated = true;
          positions.length = SEARCH_MAX;
          break;
        }
      }
    }
    const result = { positions, truncated };
    this.searchCache = { key, result };
    return result;
  }

  /** Timeline rows for these positions (read from the log, summarised). */
  async rows(positions: readonly number[]): Promise<TimelineRow[]> {
    if (positions.length === 0) return [];
    const raws = await this.deps.events.readPositions(positions);
    const labels = this.deps.index.labels(raws.map((r) => r.streamId));
    return raws.map((raw) => rowOf(raw, decodeSafely(raw), labels.get(raw.streamId) ?? this.deps.fallbackLabel?.(raw.streamId) ?? null));
  }

  /** The key callers use to tell whether two filters are the same. */
  static key(filter: TimelineFilter): string {
    return filterKey(filter);
  }
}

/** A page request's bounds, checked. */
export function checkPage(start: number, limit: number): void {
  if (!Number.isSafeInteger(start) || start < 0) throw new ValidationError(`start must be a row index >= 0, got ${String(start)}`);
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > PAGE_MAX) throw new ValidationError(`limit must be 1 to ${PAGE_MAX}, got ${String(limit)}`);
}

/** The positions of rows [start, start + limit) of the whole log: positions are gapless, row i is position i + 1. */
export function logPositions(head: number, start: number, limit: number): number[] {
  const first = start + 1;
  const last = Math.min(head, start + limit);
  return first > last ? [] : Array.from({ length: last - first + 1 }, (_, i) => first + i);
}

/**
 * Rows [start, start + limit) of the whole log without the explorer's index (the panel's first rows
 * while the index opens): the same rows, with stream labels from `label` instead of the index.
 */
export async function logPage(events: EventStore, label: (streamId: string) => string | null, start: number, limit: number): Promise<TimelinePage> {
  checkPage(start, limit);
  const head = (await events.head()).position;
  const raws = await events.readPositions(logPositions(head, start, limit));
  return { start, rows: raws.map((raw) => rowOf(raw, decodeSafely(raw), label(raw.streamId))), total: head, head };
}

/** The decoded event, or why it cannot be decoded (a newer schema, damage). */
export function decodeSafely(raw: RawEvent): RecordedEvent | Error {
  try {
    return decodeRaw(raw);
  } catch (err) {
    return err instanceof Error ? err : new Error(String(err));
  }
}

/** A timeline row: the event's summary, its group, and its stream's subject. */
export function rowOf(raw: Pick<RawEvent, 'position' | 'recordedAt' | 'type' | 'streamId'>, decoded: RecordedEvent | Error, subject: string | null): TimelineRow {
  const failed = decoded instanceof Error ? true : isFailure(decoded.type, decoded.data);
  return {
    position: raw.position,
    recordedAt: raw.recordedAt,
    type: raw.type,
    group: decoded instanceof Error ? 'other' : groupOf(raw.type),
    streamId: raw.streamId,
    subject: subject === null ? null : oneLine(subject),
    summary: decoded instanceof Error ? oneLine(`cannot be read: ${decoded.message}`) : summarize(decoded),
    failed,
  };
}
