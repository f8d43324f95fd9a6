import type { SqlValue } from 'sql.js';
import type { IndexSelection } from '../../app/explorer/eventIndex.js';
import type { Where } from './sqljsEventIndex.js';

/** Every STRIDE-th matching row's position is remembered, so row i is at most STRIDE rows from a known one. */
const STRIDE = 512;

/** What a selection needs of the index: its checkpoint and a way to run a one-column query. */
export interface SelectionSource {
  readonly checkpoint: number;
  column(sql: string, params: readonly SqlValue[]): number[];
}

/** A selection held as the list of its positions (small: a text search's matches, or nothing). */
export class ListSelection implements IndexSelection {
  constructor(private readonly list: readonly number[]) {}

  async total(): Promise<number> {
    return this.list.length;
  }

  async positions(start: number, limit: number): Promise<number[]> {
    return this.list.slice(start, start + limit);
  }

  async locate(position: number): Promise<number> {
    return lowerBound(this.list, position);
  }
}

/**
 * A selection read from the table: counted, then paged through positions remembered every STRIDE
 * rows (found by skipping STRIDE matching rows at a time in SQLite), so any row is one short query
 * away. New rows past the last count are counted when the selection is next used.
 */
export class ScanSelection implements IndexSelection {
  private readonly anchors: number[] = [];
  private counted = 0;
  private count = 0;

  constructor(
    private readonly index: SelectionSource,
    private readonly where: Where,
  ) {}

  async total(): Promise<number> {
    const head = this.index.checkpoint;
    if (head > this.counted) {
      this.count += this.index.column(`SELECT count(*) FROM ev WHERE ${this.where.sql} AND position > ? AND position <= ?`, [...this.where.params, this.counted, head])[0] ?? 0;
      this.counted = head;
    }
    return this.count;
  }

  private anchor(j: number): number | undefined {
    while (this.anchors.length <= j) {
      const previous = this.anchors[this.anchors.length - 1];
      const next =
        previous === undefined
          ? this.index.column(`SELECT position FROM ev WHERE ${this.where.sql} ORDER BY position LIMIT 1`, this.where.params)[0]
          : this.index.column(`SELECT position FROM ev WHERE ${this.where.sql} AND position > ? ORDER BY position LIMIT 1 OFFSET ?`, [...this.where.params, previous, STRIDE - 1])[0];
      if (next === undefined) return undefined;
      this.anchors.push(next);
    }
    return this.anchors[j];
  }

  async positions(start: number, limit: number): Promise<number[]> {
    const total = await this.total();
    if (start >= total || limit <= 0) return [];
    const j = Math.floor(start / STRIDE);
    const from = this.anchor(j);
    if (from === undefined) return [];
    return this.index.column(`SELECT position FROM ev WHERE ${this.where.sql} AND position >= ? AND position <= ? ORDER BY position LIMIT ? OFFSET ?`, [
      ...this.where.params,
      from,
      this.counted,
      Math.min(limit, total - start),
      start - j * STRIDE,
    ]);
  }

  async locate(position: number): Promise<number> {
    await this.total();
    return this.index.column(`SELECT count(*) FROM ev WHERE ${this.where.sql} AND position < ? AND position <= ?`, [...this.where.params, position, this.counted])[0] ?? 0;
  }
}

export function candidateKey(candidates: readonly number[]): string {
  return `${candidates.length}:${candidates[0] ?? 0}:${candidates[candidates.length - 1] ?? 0}:${candidates[candidates.length >> 1] ?? 0}`;
}

/** The first index whose value is >= x. */
export function lowerBound(list: readonly number[], x: number): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (list[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The first index whose value is > x. */
export function upperBound(list: readonly number[], x: number): number {
  return lowerBound(list, x + 1);
}
