// Fetches the timeline's pages from the host as the view scrolls: only what the visible range needs,
// at most a few requests at a time, and answers read under an earlier filter thrown away.
// Pure (no DOM, no lit), so Node's test runner imports it.
import type { TimelinePage } from '../../src/shared/explorerModel.js';
import type { RowCache } from './rowCache.js';
import { PAGE_SIZE } from './rowCache.js';

/** Reads rows [start, start + limit) of the current filtered timeline. */
export type FetchPage = (start: number, limit: number) => Promise<TimelinePage>;

export interface PageLoaderOptions {
  /** A page arrived for the current filter (and is in the cache). */
  readonly onPage: (page: TimelinePage) => void;
  /** A request for the current filter failed. */
  readonly onError: (error: unknown) => void;
  /** Requests in flight at once, whatever their filter. */
  readonly maxInFlight?: number;
  /** Rows to load either side of the visible range. */
  readonly margin?: number;
}

export class PageLoader {
  private generation = 0;
  private inFlight = 0;
  private readonly loading = new Set<number>();
  private queue: number[] = [];
  private fetchPage: FetchPage | null = null;
  private readonly maxInFlight: number;
  private readonly margin: number;

  constructor(
    private readonly cache: RowCache,
    private readonly options: PageLoaderOptions,
  ) {
    this.maxInFlight = options.maxInFlight ?? 2;
    this.margin = options.margin ?? PAGE_SIZE;
  }

  /** Requests now in flight (answers to an earlier filter still count: the host is busy with them). */
  get pending(): number {
    return this.inFlight;
  }

  /**
   * Starts over: for a new filter (the cache is emptied when its key differs) or for the same one
   * whose rows changed (`clear`). Answers to requests made before are ignored.
   */
  restart(filterKey: string, fetchPage: FetchPage, clear = false): void {
    this.generation++;
    this.loading.clear();
    this.queue = [];
    this.fetchPage = fetchPage;
    if (!this.cache.reset(filterKey) && clear) this.cache.clear();
  }

  /** Loads what rows [first, last] (and the margin around them) lack, nearest first. */
  want(first: number, last: number, total: number): void {
    this.cache.touch(first, last);
    this.queue = this.cache.missing(first, last, total, this.margin, this.loading);
    this.pump();
  }

  /** Reads a page again even if it is cached (the timeline's tail, after the log grew). */
  refresh(page: number): void {
    if (this.loading.has(page)) return;
    this.queue = [page, ...this.queue.filter((p) => p !== page)];
    this.pump();
  }

  private pump(): void {
    while (this.inFlight < this.maxInFlight && this.queue.length > 0) this.start(this.queue.shift()!);
  }

  private start(page: number): void {
    const fetchPage = this.fetchPage;
    if (!fetchPage) return;
    const generation = this.generation;
    const key = this.cache.filterKey;
    const size = this.cache.pageSize;
    this.inFlight++;
    this.loading.add(page);
    const settle = (): void => {
      this.inFlight--;
      if (generation === this.generation) this.loading.delete(page);
      this.pump();
    };
    fetchPage(page * size, size).then(
      (result) => {
        const current = generation === this.generation;
        if (current) this.cache.put(key, result.start, result.rows);
        settle();
        if (current) this.options.onPage(result);
      },
      (error: unknown) => {
        const current = generation === this.generation;
        settle();
        if (current) this.options.onError(error);
      },
    );
  }
}
