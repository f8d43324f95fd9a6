// The timeline's list: every event of the filtered log in global order, virtualized (a bounded number
// of rows in the DOM), paged from the host on demand, and driven from the keyboard like a VS Code
// list. The grid keeps focus and points at the active row with aria-activedescendant, because the
// virtualizer recycles row elements.
import '@lit-labs/virtualizer';
import type { LitVirtualizer, VisibilityChangedEvent } from '@lit-labs/virtualizer';
import { LitElement, html, nothing } from 'lit';
import type { PropertyValues } from 'lit';
import { customElement, property, query, state } from 'lit/decorators.js';
import type { TimelineFilter, TimelinePage } from '../../src/shared/explorerModel.js';
import { rememberState } from './events.js';
import { filterKey, isEmptyFilter } from './filterModel.js';
import { fixedRows } from './fixedRowLayout.js';
import { formatCount } from './format.js';
import { groupStyles } from './groupStyles.js';
import { listMove } from './gridNav.js';
import { icon } from './icons.js';
import { PageLoader } from './pageLoader.js';
import { PAGE_SIZE, RowCache } from './rowCache.js';
import { ROW_HEIGHT, WINDOW_SIZE, slideWindow, windowHolding, windowLength } from './rowWindow.js';
import { RequestError, rpc } from './rpc.js';
import { styleProps } from './styleProps.js';
import { baseStyles } from './styles.js';
import { emit } from './timelineEvents.js';
import { gridStyles, renderHeader, renderRow, rowId, rowStyles } from './timelineRow.js';

type Block = 'start' | 'center' | 'end' | 'nearest';

const nextFrame = (): Promise<void> => new Promise((resolve) => requestAnimationFrame(() => resolve()));

@customElement('rl-timeline-grid')
export class TimelineGrid extends LitElement {
  static override styles = [baseStyles, groupStyles, rowStyles, gridStyles];

  @property({ attribute: false }) accessor filter: TimelineFilter = {};
  @property({ type: Boolean }) accessor follow = false;
  /** The selected event's log position. */
  @property({ attribute: false }) accessor selected: number | null = null;
  /** The log position to show at the top on the first load: a reload restores the scroll. */
  @property({ attribute: false }) accessor initialTop: number | null = null;
  /** The log's head as last known. */
  @property({ attribute: false }) accessor head = 0;

  @state() private accessor total = -1;
  @state() private accessor windowStart = 0;
  @state() private accessor active = -1;
  @state() private accessor fresh = 0;
  @state() private accessor error: RequestError | null = null;
  /** Pages received: a change re-renders the rows on screen. */
  @state() private accessor pages = 0;

  @query('lit-virtualizer') private accessor scroller!: LitVirtualizer | null;
  @query('.grid') private accessor gridEl!: HTMLElement | null;

  private readonly cache = new RowCache();
  private readonly loader = new PageLoader(this.cache, { onPage: (p) => this.onPage(p), onError: (e) => this.fail(e) });
  private items: unknown[] = [];
  private generation = 0;
  /**
   * Counts moves made since (keys, jumps, the end): a place looked up for an earlier move (the
   * selected event after a filter change, say) is not applied over a later one.
   */
  private moves = 0;
  private key: string | null = null;
  private restored = false;
  /** The last selection this grid made (a different `selected` came from elsewhere: reveal it). */
  private own: number | null = null;
  private pendingSelect: { index: number; open: boolean } | null = null;
  private visible = { first: 0, last: -1 };
  private sliding = false;
  private topTimer: ReturnType<typeof setTimeout> | undefined;
  private userScroll = false;

  /** Focuses the grid (the active row stays as it was). */
  focusGrid(): void {
    this.gridEl?.focus();
  }

  /** Scrolls to the event at `position` (or the next one the filter keeps) and makes it active. */
  async revealPosition(position: number, select: boolean): Promise<void> {
    const generation = this.generation;
    const move = ++this.moves;
    try {
      const r = await rpc.request('locate', { filter: this.filter, position });
      if (generation !== this.generation || move !== this.moves) return;
      this.setTotal(r.total);
      if (r.total === 0) return;
      const index = Math.min(r.index, r.total - 1);
      this.active = index;
      await this.revealIndex(index, 'center');
      if (select) this.selectIndex(index, false);
    } catch (err) {
      if (generation === this.generation) this.fail(err);
    }
  }

  /** Scrolls to the first event at or after `time` (ISO) and makes it active. */
  async revealTime(time: string): Promise<void> {
    const generation = this.generation;
    const move = ++this.moves;
    try {
      const r = await rpc.request('locate', { filter: this.filter, time });
      if (generation !== this.generation || move !== this.moves) return;
      this.setTotal(r.total);
      if (r.total === 0) return;
      this.active = Math.min(r.index, r.total - 1);
      await this.revealIndex(this.active, 'start');
    } catch (err) {
      if (generation === this.generation) this.fail(err);
    }
  }

  /** Scrolls to the last event. */
  async revealEnd(): Promise<void> {
    this.moves++;
    this.fresh = 0;
    if (this.total > 0) await this.revealIndex(this.total - 1, 'end');
  }

  /** The log grew: reads the timeline's tail again (new rows, a new total). */
  onHead(head: number): void {
    if (this.total < 0 || head <= this.head) return;
    this.loader.refresh(Math.floor(this.total / PAGE_SIZE));
  }

  /** Reads everything again, keeping the place (the host's index finished: more filters apply). */
  reload(): void {
    this.restart(this.cache.row(this.visible.first)?.position ?? null);
  }

  override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('filter') && filterKey(this.filter) !== this.key) this.restart(this.restored ? null : this.initialTop);
    else if (changed.has('selected') && this.selected !== null && this.selected !== this.own) void this.revealPosition(this.selected, false);
    else if (changed.has('follow') && this.follow && changed.get('follow') === false) void this.revealEnd();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    clearTimeout(this.topTimer);
  }

  private restart(top: number | null): void {
    const generation = ++this.generation;
    const filter = this.filter;
    const clear = this.key === filterKey(filter);
    this.key = filterKey(filter);
    this.restored = true;
    this.loader.restart(this.key, (start, limit) => rpc.request('page', { filter, start, limit }), clear);
    this.error = null;
    this.fresh = 0;
    this.pendingSelect = null;
    if (!clear) {
      this.active = -1;
      this.total = -1;
      this.windowStart = 0;
      this.items = [];
    }
    void this.start(generation, filter, top);
  }

  private async start(generation: number, filter: TimelineFilter, top: number | null): Promise<void> {
    const move = this.moves;
    try {
      const locate = async (position: number): Promise<number | null> => {
        const r = await rpc.request('locate', { filter, position });
        if (generation !== this.generation) return null;
        this.setTotal(r.total);
        // Moved meanwhile (End pressed while the selected event was being found): that move stands.
        return move === this.moves ? Math.min(r.index, r.total - 1) : null;
      };
      const selected = this.selected;
      if (this.follow) {
        if ((await locate(Math.max(1, this.head))) !== null && this.total > 0) await this.revealIndex(this.total - 1, 'end');
        return;
      }
      if (top !== null || selected !== null) {
        const index = await locate(top ?? selected!);
        if (index === null || this.total === 0) return;
        const active = selected === null ? -1 : top === null || top === selected ? index : await locate(selected);
        if (active === null) return;
        this.active = active;
        await this.revealIndex(index, top !== null ? 'start' : 'center');
        return;
      }
      const sc = this.scroller;
      if (sc) sc.scrollTop = 0;
      this.loader.want(0, PAGE_SIZE - 1, Number.MAX_SAFE_INTEGER);
    } catch (err) {
      if (generation === this.generation) this.fail(err);
    }
  }

  private fail(err: unknown): void {
    this.error = err instanceof RequestError ? err : new RequestError(String(err), undefined, false);
  }

  private onPage(page: TimelinePage): void {
    this.setTotal(page.total);
    // The first rows' paint (the task after the frame that drew them), on the page's performance
    // timeline: the benchmark reads it.
    if (this.pages === 0 && performance.getEntriesByName('rl:rows-painted').length === 0) void this.updateComplete.then(() => requestAnimationFrame(() => setTimeout(() => performance.mark('rl:rows-painted'))));
    this.pages++;
    emit(this, 'rl-page-info', { total: page.total, head: page.head, ...(page.indexing ? { indexing: page.indexing } : {}), ...(page.truncated ? { truncated: page.truncated } : {}) });
    const pending = this.pendingSelect;
    if (pending && this.cache.row(pending.index)) this.selectIndex(pending.index, pending.open);
  }

  private setTotal(total: number): void {
    const old = this.total;
    if (total === old) return;
    this.total = total;
    const start = Math.min(this.windowStart, Math.max(0, total - WINDOW_SIZE));
    if (start !== this.windowStart || windowLength(start, total) !== this.items.length) this.setWindow(start);
    if (old >= 0 && total > old) {
      if (this.follow) void this.revealIndex(total - 1, 'end');
      else this.fresh += total - old;
    }
    if (this.active >= total) this.active = total - 1;
    this.requestRows();
  }

  private setWindow(start: number): void {
    this.windowStart = start;
    this.items = new Array<unknown>(windowLength(start, this.total));
  }

  /** Scrolls row `index` into view, moving the window first when it lies outside. */
  private async revealIndex(index: number, block: Block): Promise<void> {
    const total = this.total;
    if (total <= 0) return;
    const i = Math.max(0, Math.min(total - 1, index));
    const start = windowHolding(this.windowStart, i, total);
    if (start !== this.windowStart) this.setWindow(start);
    await this.updateComplete;
    const sc = this.scroller;
    if (!sc) return;
    await sc.updateComplete;
    const h = sc.clientHeight;
    const y = (i - start) * ROW_HEIGHT;
    const cur = sc.scrollTop;
    const top = block === 'start' ? y : block === 'center' ? y - h / 2 + ROW_HEIGHT / 2 : block === 'end' ? y + ROW_HEIGHT - h : y < cur ? y : y + ROW_HEIGHT > cur + h ? y + ROW_HEIGHT - h : cur;
    if (Math.abs(top - cur) >= 1) await this.scrollListTo(Math.max(0, top));
    this.requestRows();
  }

  private async scrollListTo(top: number): Promise<void> {
    const sc = this.scroller;
    if (!sc) return;
    sc.scrollTop = top;
    sc.dispatchEvent(new Event('scroll'));
    if (Math.abs(sc.scrollTop - top) < 1) return;
    // The virtualizer had not grown its scroll height yet (the window just got longer).
    await nextFrame();
    sc.scrollTop = top;
  }

  private requestRows(): void {
    const sc = this.scroller;
    if (!sc || this.total <= 0) return;
    const first = this.windowStart + Math.floor(sc.scrollTop / ROW_HEIGHT);
    const last = Math.min(this.total - 1, first + Math.ceil(sc.clientHeight / ROW_HEIGHT));
    this.loader.want(first, last, this.total);
  }

  private readonly onVisibility = (e: VisibilityChangedEvent): void => {
    const start = this.windowStart;
    const first = start + Math.max(0, e.first);
    const last = start + Math.max(0, e.last);
    this.visible = { first, last };
    this.loader.want(first, last, this.total);
    if (last >= this.total - 1) this.fresh = 0;
    if (this.follow && this.userScroll && last < this.total - 1) emit(this, 'rl-follow', false);
    this.userScroll = false;
    if (!this.sliding) {
      const next = slideWindow(start, first, last, this.total);
      if (next !== null) void this.slideTo(next);
    }
    clearTimeout(this.topTimer);
    this.topTimer = setTimeout(() => {
      const row = this.cache.row(this.visible.first);
      if (row) rememberState(this, { topPosition: row.position });
    }, 500);
  };

  /** Moves the window to `start`, scrolling by as much so the rows on screen stay where they are. */
  private async slideTo(start: number): Promise<void> {
    const sc = this.scroller;
    if (!sc) return;
    this.sliding = true;
    const top = sc.scrollTop + (this.windowStart - start) * ROW_HEIGHT;
    this.setWindow(start);
    await this.updateComplete;
    await sc.updateComplete;
    await this.scrollListTo(top);
    this.sliding = false;
  }

  private selectIndex(index: number, open: boolean): void {
    const row = this.cache.row(index);
    if (!row) {
      this.pendingSelect = { index, open };
      return;
    }
    this.pendingSelect = null;
    this.own = row.position;
    emit(this, 'rl-select', { position: row.position, open });
  }

  private moveTo(index: number, open = false): void {
    this.moves++;
    this.active = index;
    void this.revealIndex(index, 'nearest');
    this.selectIndex(index, open);
  }

  private readonly onKey = (e: KeyboardEvent): void => {
    const total = this.total;
    if (total <= 0 || e.altKey || e.metaKey) return;
    const from = this.active >= 0 ? this.active : this.visible.first;
    if (e.key === 'Enter' || e.key === ' ') {
      e.preventDefault();
      this.moveTo(from, e.key === 'Enter');
      return;
    }
    const page = Math.max(1, Math.floor((this.scroller?.clientHeight ?? ROW_HEIGHT) / ROW_HEIGHT) - 1);
    const next = e.key === 'PageDown' ? from + page : e.key === 'PageUp' ? from - page : this.active < 0 && e.key.startsWith('Arrow') ? from : listMove(e.key, from, total);
    if (next === null || e.key === 'ArrowLeft' || e.key === 'ArrowRight') return;
    e.preventDefault();
    if (this.follow && (e.key === 'ArrowUp' || e.key === 'PageUp' || e.key === 'Home')) emit(this, 'rl-follow', false);
    this.moveTo(Math.max(0, Math.min(total - 1, next)));
  };


  /** Like a VS Code list, focus lands on a row: the selected one when it is on screen, else the first visible. */
  private readonly onFocus = (): void => {
    if (this.active >= 0 || this.total <= 0) return;
    const { first, last } = this.visible;
    let active = first;
    for (let i = first; i <= last; i++) if (this.selected !== null && this.cache.row(i)?.position === this.selected) active = i;
    this.active = active;
  };

  private readonly onClick = (e: MouseEvent): void => {
    const rowEl = (e.target as Element).closest?.('[data-i]');
    const index = rowEl ? Number(rowEl.getAttribute('data-i')) : NaN;
    if (!Number.isInteger(index)) return;
    this.gridEl?.focus();
    this.active = index;
    this.selectIndex(index, true);
  };

  override render() {
    const total = this.total;
    const start = this.windowStart;
    const active = this.active;
    const selected = this.selected;
    const renderItem = (_item: unknown, i: number) => {
      const index = start + i;
      const row = this.cache.row(index);
      return renderRow(index, row, index === active, row !== undefined && row.position === selected);
    };
    const keyFunction = (_item: unknown, i: number) => start + i;
    const activeInDom = active >= start && active < start + this.items.length;
    return html`
      <div
        class="grid"
        role="grid"
        tabindex="0"
        aria-label="Events"
        aria-rowcount=${total < 0 ? -1 : total + 1}
        aria-colcount="5"
        aria-busy=${total < 0 ? 'true' : 'false'}
        aria-activedescendant=${activeInDom ? rowId(active) : nothing}
        @keydown=${this.onKey}
        @click=${this.onClick}
        @focus=${this.onFocus}
      >
        <div role="rowgroup">${renderHeader()}</div>
        ${this.error
          ? html`<div class="status notice error" role="alert">${this.error.message} <button class="link" @click=${() => this.restart(null)}>Try again</button></div>`
          : total < 0
            ? html`<div class="status muted" role="status">Loading events…</div>`
            : total === 0
              ? html`<div class="status muted" role="status">${isEmptyFilter(this.filter) ? 'The log has no events yet.' : 'No events match these filters.'}</div>`
              : html`<lit-virtualizer
                  role="rowgroup"
                  tabindex="-1"
                  scroller
                  ${styleProps({ 'min-height': '0' })}
                  .items=${this.items}
                  .layout=${fixedRows}
                  .renderItem=${renderItem}
                  .keyFunction=${keyFunction}
                  @visibilityChanged=${this.onVisibility}
                  @wheel=${(e: WheelEvent) => (this.userScroll = e.deltaY < 0)}
                  @pointerdown=${() => (this.userScroll = true)}
                ></lit-virtualizer>`}
      </div>
      ${this.fresh > 0 && !this.follow
        ? html`<div role="status"><button class="pill" @click=${() => void this.revealEnd().then(() => this.focusGrid())}>${icon('arrow-down')}${formatCount(this.fresh)} new ${this.fresh === 1 ? 'event' : 'events'}</button></div>`
        : nothing}
    `;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'rl-timeline-grid': TimelineGrid;
  }
}
