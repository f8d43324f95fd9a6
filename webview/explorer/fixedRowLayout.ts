// A layout for @lit-labs/virtualizer whose rows all have one fixed height. The default flow layout
// measures every row it renders and keeps each measurement by index (memory that grows as a long
// log is scrolled); rows of a fixed height need no measuring: positions are index × height.
import type { LitVirtualizer } from '@lit-labs/virtualizer/LitVirtualizer.js';
import { ROW_HEIGHT } from './rowWindow.js';

type LayoutSpecifier = Extract<LitVirtualizer['layout'], { type: unknown }>;
type LayoutConstructor = LayoutSpecifier['type'];
type Layout = InstanceType<LayoutConstructor>;
type Sink = ConstructorParameters<LayoutConstructor>[0];
type Pin = NonNullable<Layout['pin']>;
type Size = Layout['viewportSize'];
type Positions = Layout['viewportScroll'];

/** Pixels rendered beyond the viewport on each side. */
const OVERHANG = 8 * ROW_HEIGHT;
/** Rows in the DOM at most, however tall the viewport. */
export const MAX_RENDERED_ROWS = 280;

/** Fixed-height rows, no measuring, at most MAX_RENDERED_ROWS in the DOM. */
export class FixedRowLayout implements Layout {
  readonly measureChildren = false;
  direction: Layout['direction'] = 'vertical';
  totalScrollSize: Size = { width: 0, height: 0 };
  offsetWithinScroller: Positions = { left: 0, top: 0 };
  private list: unknown[] = [];
  private view: Size = { width: 0, height: 0 };
  private scroll: Positions = { left: 0, top: 0 };
  private pinned: Pin | null = null;
  private dirty = true;
  private first = -1;
  private last = -1;
  private firstVisible = -1;
  private lastVisible = -1;

  constructor(private readonly sink: Sink) {}

  set config(_config: object) {}

  get items(): unknown[] {
    return this.list;
  }

  set items(items: unknown[]) {
    if (items === this.list) return;
    this.list = items;
    this.dirty = true;
  }

  get viewportSize(): Size {
    return this.view;
  }

  set viewportSize(size: Size) {
    if (size.height !== this.view.height || size.width !== this.view.width) this.dirty = true;
    this.view = { width: size.width, height: size.height };
  }

  get viewportScroll(): Positions {
    return this.scroll;
  }

  set viewportScroll(coords: Positions) {
    this.scroll = { left: coords.left, top: coords.top };
    const [first, last] = this.visibleRange();
    const slack = OVERHANG / ROW_HEIGHT / 2;
    const n = this.list.length;
    if (this.first < 0 || (first - this.first < slack && this.first > 0) || (this.last - last < slack && this.last < n - 1) || last > this.last || first < this.first) {
      this.dirty = true;
    } else if (first !== this.firstVisible || last !== this.lastVisible) {
      this.firstVisible = first;
      this.lastVisible = last;
      this.sink({ type: 'visibilityChanged', firstVisible: first, lastVisible: last });
    }
  }

  get pin(): Pin | null {
    return this.pinned;
  }

  set pin(options: Pin | null) {
    this.pinned = options;
    this.dirty = true;
    void Promise.resolve().then(() => this.reflowIfNeeded());
  }

  unpin(): void {
    if (this.pinned === null) return;
    this.pinned = null;
    this.sink({ type: 'unpinned' });
  }

  getScrollIntoViewCoordinates(options: Pin): { top: number } {
    const n = this.list.length;
    const index = Math.max(0, Math.min(n - 1, options.index));
    const top = index * ROW_HEIGHT;
    const h = this.view.height;
    const max = Math.max(0, n * ROW_HEIGHT - h);
    let y = top;
    if (options.block === 'center') y = top - h / 2 + ROW_HEIGHT / 2;
    else if (options.block === 'end') y = top + ROW_HEIGHT - h;
    else if (options.block === 'nearest') y = top < this.scroll.top ? top : top + ROW_HEIGHT > this.scroll.top + h ? top + ROW_HEIGHT - h : this.scroll.top;
    return { top: Math.max(0, Math.min(max, y)) + this.offsetWithinScroller.top };
  }

  reflowIfNeeded(force = false): void {
    if (!force && !this.dirty) return;
    this.dirty = false;
    const n = this.list.length;
    let scrollError: { top: number; left: number } | undefined;
    if (this.pinned !== null) {
      const target = this.getScrollIntoViewCoordinates(this.pinned).top - this.offsetWithinScroller.top;
      scrollError = { top: this.scroll.top - target, left: 0 };
      this.scroll = { left: this.scroll.left, top: target };
    }
    const [firstVisible, lastVisible] = this.visibleRange();
    let first = Math.max(0, Math.floor((this.scroll.top - OVERHANG) / ROW_HEIGHT));
    let last = Math.min(n - 1, Math.ceil((this.scroll.top + this.view.height + OVERHANG) / ROW_HEIGHT) - 1);
    if (last - first + 1 > MAX_RENDERED_ROWS) {
      first = Math.max(0, Math.min(firstVisible, n - MAX_RENDERED_ROWS));
      last = Math.min(n - 1, first + MAX_RENDERED_ROWS - 1);
    }
    if (n === 0) first = last = -1;
    this.first = first;
    this.last = last;
    this.firstVisible = n === 0 ? -1 : firstVisible;
    this.lastVisible = n === 0 ? -1 : lastVisible;
    const childPositions = new Map<number, { top: number; left: number }>();
    for (let i = first; i >= 0 && i <= last; i++) childPositions.set(i, { top: i * ROW_HEIGHT, left: 0 });
    this.sink({
      type: 'stateChanged',
      scrollSize: { height: Math.max(1, n * ROW_HEIGHT), width: 0 },
      range: { first, last, firstVisible: this.firstVisible, lastVisible: this.lastVisible },
      childPositions,
      ...(scrollError ? { scrollError } : {}),
    });
  }

  private visibleRange(): [number, number] {
    const n = this.list.length;
    const first = Math.max(0, Math.min(n - 1, Math.floor(this.scroll.top / ROW_HEIGHT)));
    const last = Math.max(first, Math.min(n - 1, Math.ceil((this.scroll.top + this.view.height) / ROW_HEIGHT) - 1));
    return [first, last];
  }
}

/** The `layout` of a `<lit-virtualizer>` whose rows are ROW_HEIGHT pixels high. */
export const fixedRows: LayoutSpecifier = { type: FixedRowLayout };
