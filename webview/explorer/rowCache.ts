// The timeline's rows in memory: a bounded LRU of fixed-size pages read under one filter, and which
// pages a visible range still needs. Pure (no DOM, no lit), so Node's test runner imports it.
import type { TimelineRow } from '../../src/shared/explorerModel.js';
import { TIMELINE_PAGE_ROWS } from '../../src/shared/explorerProtocol.js';

/** Rows per page request. */
export const PAGE_SIZE = TIMELINE_PAGE_ROWS;
/** Pages kept: 3,000 rows, whatever the log's size. */
export const MAX_PAGES = 30;

/**
 * Pages of one filtered timeline, least recently used evicted first. Every page holds rows
 * [page × pageSize, page × pageSize + rows.length); only the timeline's last page may be short.
 */
export class RowCache {
  private readonly pages = new Map<number, readonly TimelineRow[]>();
  private key = '';

  constructor(
    readonly pageSize = PAGE_SIZE,
    readonly maxPages = MAX_PAGES,
  ) {}

  /** The filter (its key) the cached rows were read under. */
  get filterKey(): string {
    return this.key;
  }

  get size(): number {
    return this.pages.size;
  }

  /** Forgets every row when the filter changes; returns whether it did. */
  reset(filterKey: string): boolean {
    if (filterKey === this.key) return false;
    this.key = filterKey;
    this.pages.clear();
    return true;
  }

  clear(): void {
    this.pages.clear();
  }

  /**
   * Stores a page read at `start` under `filterKey`. Rows of another filter (a stale answer) and
   * starts that are not on a page boundary are ignored; returns whether the rows were kept.
   */
  put(filterKey: string, start: number, rows: readonly TimelineRow[]): boolean {
    if (filterKey !== this.key || start < 0 || start % this.pageSize !== 0) return false;
    const page = start / this.pageSize;
    this.pages.delete(page);
    this.pages.set(page, rows.length > this.pageSize ? rows.slice(0, this.pageSize) : rows);
    while (this.pages.size > this.maxPages) {
      const oldest = this.pages.keys().next().value as number;
      this.pages.delete(oldest);
    }
    return true;
  }

  /** The row at `index` of the filtered timeline, if its page is loaded. */
  row(index: number): TimelineRow | undefined {
    return this.pages.get(Math.floor(index / this.pageSize))?.[index % this.pageSize];
  }

  hasPage(page: number): boolean {
    return this.pages.has(page);
  }

  /** Marks the pages of rows [first, last] as just used, so scrolling elsewhere evicts others first. */
  touch(first: number, last: number): void {
    for (let p = Math.floor(Math.max(0, first) / this.pageSize); p <= Math.floor(last / this.pageSize); p++) {
      const rows = this.pages.get(p);
      if (rows === undefined) continue;
      this.pages.delete(p);
      this.pages.set(p, rows);
    }
  }

  /**
   * The pages to fetch so rows [first, last] and `margin` rows either side are loaded, given the
   * timeline's `total`: missing pages and a last page shorter than the timeline now is, minus
   * `loading`. Visible pages come first, in order, then margin pages nearest first; never more
   * than half the cache, so a fetch never evicts what it is for.
   */
  missing(first: number, last: number, total: number, margin: number, loading: ReadonlySet<number> = new Set()): number[] {
    if (total <= 0 || last < first) return [];
    const size = this.pageSize;
    const clampRow = (i: number): number => Math.max(0, Math.min(total - 1, i));
    const visFirst = Math.floor(clampRow(first) / size);
    const visLast = Math.floor(clampRow(last) / size);
    const lo = Math.floor(clampRow(first - margin) / size);
    const hi = Math.floor(clampRow(last + margin) / size);
    const needs = (p: number): boolean => {
      if (loading.has(p)) return false;
      const rows = this.pages.get(p);
      return rows === undefined || (rows.length < size && p * size + rows.length < total);
    };
    const out: number[] = [];
    for (let p = visFirst; p <= visLast; p++) if (needs(p)) out.push(p);
    for (let d = 1; visFirst - d >= lo || visLast + d <= hi; d++) {
      if (visLast + d <= hi && needs(visLast + d)) out.push(visLast + d);
      if (visFirst - d >= lo && needs(visFirst - d)) out.push(visFirst - d);
    }
    return out.slice(0, Math.max(1, Math.floor(this.maxPages / 2)));
  }
}
