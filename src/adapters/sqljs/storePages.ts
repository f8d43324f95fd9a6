import type { Located } from './logIndex.js';

/**
 * Free pages kept at the end of a saved index, for the rows the next openers add while catching up
 * with the journal: sql.js keeps the file in a buffer that it copies into a larger one whenever the
 * file grows, so an image without room would briefly cost twice its size in memory on every open.
 * About what the events until the next save take (an eighth of the log at ~100 bytes each).
 */
export function slackBytes(events: number): number {
  return Math.min(32 << 20, Math.ceil(events / 8) * 100);
}

/** A page holds at most this many bytes of events (and at least one event), whatever their sizes. */
export const PAGE_BYTES = 16 << 20;

/** The first rows of a page whose events add up to at most PAGE_BYTES (at least one). */
export function byteBounded(located: readonly Located[]): readonly Located[] {
  let bytes = 0;
  for (let i = 0; i < located.length; i++) {
    bytes += located[i]!.len;
    if (bytes > PAGE_BYTES && i > 0) return located.slice(0, i);
  }
  return located;
}
