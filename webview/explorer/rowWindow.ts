// The slice of the timeline the virtual list holds. Browsers (and the virtualizer) cap an element's
// height near 8.2 million pixels, about 370,000 rows, and logs hold millions of events: the list
// holds a window of rows and slides it, keeping the view still, when the viewport nears an edge.
// Pure (no DOM, no lit), so Node's test runner imports it.

/** Row height in pixels, as VS Code's lists. */
export const ROW_HEIGHT = 22;
/** Rows in the window: 4.4 million pixels, well under the cap. */
export const WINDOW_SIZE = 200_000;
/** The window slides when the viewport comes this close (rows) to one of its edges. */
export const WINDOW_EDGE = 20_000;

const clamp = (x: number, lo: number, hi: number): number => Math.max(lo, Math.min(hi, x));

/** Rows in the window starting at `start`. */
export const windowLength = (start: number, total: number, size = WINDOW_SIZE): number => Math.max(0, Math.min(size, total - start));

/** The window start that puts `index` in the middle, kept inside the timeline (a full window whenever the timeline fills one). */
export const centredWindow = (index: number, total: number, size = WINDOW_SIZE): number => clamp(Math.floor(index - size / 2), 0, Math.max(0, total - size));

/** A window start that holds `index`: `start` itself when it already does, else the centred one. */
export const windowHolding = (start: number, index: number, total: number, size = WINDOW_SIZE): number =>
  index >= start && index < start + windowLength(start, total, size) ? start : centredWindow(index, total, size);

/**
 * Where the window should slide to while rows [first, last] are visible: half a window back or
 * forward when they are within `edge` rows of an edge that is not the timeline's; null to stay.
 */
export function slideWindow(start: number, first: number, last: number, total: number, size = WINDOW_SIZE, edge = WINDOW_EDGE): number | null {
  const end = start + windowLength(start, total, size);
  if (first - start < edge && start > 0) return Math.max(0, start - size / 2);
  if (end - 1 - last < edge && end < total) return Math.min(start + size / 2, Math.max(0, total - size));
  return null;
}
