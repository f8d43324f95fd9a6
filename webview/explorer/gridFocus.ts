import type { ReactiveController, ReactiveControllerHost } from 'lit';
import { gridMove } from './gridNav.js';

/** What a grid tells its focus controller. */
export interface GridFocusOptions {
  readonly rows: () => number;
  readonly cols: () => number;
  /** Rows a PageUp/PageDown moves (about what is visible). */
  readonly page?: () => number;
  /** Called when the focused row changes (selection follows focus). */
  readonly onRow?: (row: number) => void;
  /** Enter or Space on a cell. */
  readonly onActivate?: (row: number, col: number) => void;
  /** Makes a row that may not be rendered (a virtualized grid) present before it is focused. */
  readonly reveal?: (row: number) => Promise<void>;
}

/**
 * The ARIA grid pattern's roving focus: one cell of the grid is in the tab order (`tabIndex(r, c)`),
 * arrow keys, Home/End and PageUp/PageDown move it, Enter or Space activates. Cells carry
 * `data-r`/`data-c` so the controller can find and focus them after a render.
 */
export class GridFocus implements ReactiveController {
  row = 0;
  col = 0;

  constructor(
    private readonly host: ReactiveControllerHost & HTMLElement,
    private readonly options: GridFocusOptions,
  ) {
    host.addController(this);
  }

  hostConnected(): void {}

  /** 0 for the cell that is in the tab order, -1 for the others. */
  tabIndex(row: number, col: number): 0 | -1 {
    const rows = this.options.rows();
    const r = Math.min(this.row, Math.max(0, rows - 1));
    return row === r && col === this.col ? 0 : -1;
  }

  /** Keeps the position in step when a cell gets focus by a click. */
  focused(row: number, col: number): void {
    if (row === this.row && col === this.col) return;
    const rowChanged = row !== this.row;
    this.row = row;
    this.col = col;
    this.host.requestUpdate();
    if (rowChanged) this.options.onRow?.(row);
  }

  /** Moves to a cell and focuses it (after the host has rendered it). */
  async moveTo(row: number, col = this.col): Promise<void> {
    const rowChanged = row !== this.row;
    this.row = row;
    this.col = col;
    this.host.requestUpdate();
    if (rowChanged) this.options.onRow?.(row);
    await this.options.reveal?.(row);
    await this.host.updateComplete;
    const root = this.host.shadowRoot ?? this.host;
    // A virtualized row appears a frame or two after its scroll.
    for (let frame = 0; frame < 30; frame++) {
      if (this.row !== row || this.col !== col) return;
      const cell = root.querySelector<HTMLElement>(`[data-r="${row}"][data-c="${col}"]`);
      if (cell) {
        cell.focus({ preventScroll: false });
        return;
      }
      await new Promise((resolve) => requestAnimationFrame(resolve));
    }
  }

  readonly onKeyDown = (e: KeyboardEvent): void => {
    if (e.target instanceof HTMLElement && !e.target.matches('[data-r]')) return;
    if (e.key === 'Enter' || e.key === ' ') {
      e.preventDefault();
      this.options.onActivate?.(this.row, this.col);
      return;
    }
    const next = gridMove(e.key, e.ctrlKey || e.metaKey, { row: this.row, col: this.col }, { rows: this.options.rows(), cols: this.options.cols(), page: this.options.page?.() ?? 10 });
    if (!next) return;
    e.preventDefault();
    void this.moveTo(next.row, next.col);
  };
}
