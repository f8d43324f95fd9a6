/** A cell of a grid: row and column, both 0-based (the header row not counted). */
export interface GridPos {
  readonly row: number;
  readonly col: number;
}

/** How many rows and columns a grid has, and how many rows a page key moves. */
export interface GridSize {
  readonly rows: number;
  readonly cols: number;
  readonly page: number;
}

/**
 * Where a navigation key moves the focus in a grid (the ARIA grid pattern): arrows by one cell,
 * Home/End to the row's ends (with Ctrl: the grid's), PageUp/PageDown by a page. Null for any other
 * key, and for an empty grid.
 */
export function gridMove(key: string, ctrl: boolean, at: GridPos, size: GridSize): GridPos | null {
  if (size.rows <= 0 || size.cols <= 0) return null;
  const clampRow = (r: number): number => Math.max(0, Math.min(size.rows - 1, r));
  const clampCol = (c: number): number => Math.max(0, Math.min(size.cols - 1, c));
  const row = clampRow(at.row);
  const col = clampCol(at.col);
  const page = Math.max(1, size.page);
  switch (key) {
    case 'ArrowUp':
      return { row: clampRow(row - 1), col };
    case 'ArrowDown':
      return { row: clampRow(row + 1), col };
    case 'ArrowLeft':
      return { row, col: clampCol(col - 1) };
    case 'ArrowRight':
      return { row, col: clampCol(col + 1) };
    case 'Home':
      return ctrl ? { row: 0, col: 0 } : { row, col: 0 };
    case 'End':
      return ctrl ? { row: size.rows - 1, col: size.cols - 1 } : { row, col: size.cols - 1 };
    case 'PageUp':
      return { row: clampRow(row - page), col };
    case 'PageDown':
      return { row: clampRow(row + page), col };
    default:
      return null;
  }
}

/** The next index of a one-dimensional list for ArrowUp/ArrowDown/Home/End (null for other keys). */
export function listMove(key: string, at: number, length: number): number | null {
  if (length <= 0) return null;
  switch (key) {
    case 'ArrowUp':
      return Math.max(0, at - 1);
    case 'ArrowDown':
      return Math.min(length - 1, at + 1);
    case 'Home':
      return 0;
    case 'End':
      return length - 1;
    default:
      return null;
  }
}
