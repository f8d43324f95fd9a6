// The Timeline view: filter bar, density chart, the virtualized event list and the event detail
// pane beside it (or below it when the panel is narrow). It owns nothing the shell does not keep:
// filter, selection, follow and the open detail go through rememberState and come back as properties.
import './density.js';
import './eventDetail.js';
import './filterBar.js';
import './timelineGrid.js';
import { LitElement, css, html, nothing } from 'lit';
import type { PropertyValues } from 'lit';
import { customElement, property, query, state } from 'lit/decorators.js';
import type { IndexProgress, TimelineFilter } from '../../src/shared/explorerModel.js';
import type { ExplorerInit, ExplorerPush } from '../../src/shared/explorerProtocol.js';
import type { FilterBar } from './filterBar.js';
import { rememberState } from './events.js';
import { filterKey, normalizeFilter } from './filterModel.js';
import { icon } from './icons.js';
import { rpc } from './rpc.js';
import { styleProps } from './styleProps.js';
import { baseStyles } from './styles.js';
import type { JumpDetail, PageInfo } from './timelineEvents.js';
import type { TimelineGrid } from './timelineGrid.js';

/** Below this width the detail pane goes under the list. */
const NARROW_PX = 760;
const MIN_PANE_PX = 200;
/** Head pushes are handled at most this often; the density chart is read again at most every few seconds. */
const HEAD_THROTTLE_MS = 300;
const DENSITY_REFRESH_MS = 5_000;

const isEditable = (el: EventTarget | undefined): boolean =>
  el instanceof HTMLInputElement || el instanceof HTMLTextAreaElement || (el instanceof HTMLElement && el.isContentEditable);

@customElement('rl-timeline')
export class TimelineView extends LitElement {
  static override styles = [
    baseStyles,
    css`
      :host { display: flex; flex-direction: column; flex: 1; min-height: 0; overflow: hidden; }
      .banner { display: flex; align-items: center; gap: 6px; margin: 2px 10px 0; padding: 2px 8px; font-size: 12px; }
      .banner.notice { margin: 2px 10px 0; }
      .split { display: flex; flex: 1; min-height: 0; border-top: 1px solid var(--vscode-panel-border, var(--vscode-contrastBorder, transparent)); }
      .split.below { flex-direction: column; }
      .list { flex: 1; min-width: 0; min-height: 0; display: flex; flex-direction: column; }
      rl-event-detail { flex: 0 0 var(--detail-size, 420px); }
      .sash { flex: none; position: relative; background: var(--vscode-panel-border, var(--vscode-contrastBorder, transparent)); outline: none; z-index: 1; }
      .beside .sash { width: 1px; cursor: ew-resize; }
      .below .sash { height: 1px; cursor: ns-resize; }
      .sash::after { content: ''; position: absolute; inset: -3px; }
      .beside .sash::after { inset: 0 -3px; }
      .below .sash::after { inset: -3px 0; }
      .sash:hover, .sash:focus-visible, .sash.dragging { background: var(--vscode-sash-hoverBorder, var(--vscode-focusBorder)); }
      .beside .sash:hover, .beside .sash:focus-visible, .beside .sash.dragging { box-shadow: 0 0 0 1px var(--vscode-sash-hoverBorder, var(--vscode-focusBorder)); }
      .below .sash:hover, .below .sash:focus-visible, .below .sash.dragging { box-shadow: 0 0 0 1px var(--vscode-sash-hoverBorder, var(--vscode-focusBorder)); }
    `,
  ];

  @property({ attribute: false }) accessor init!: ExplorerInit;
  @property({ attribute: false }) accessor filter: TimelineFilter = {};
  @property({ attribute: false }) accessor selected: number | null = null;
  @property({ attribute: false }) accessor topPosition: number | null = null;
  @property({ type: Boolean }) accessor follow = false;
  @property({ type: Boolean }) accessor detailOpen = false;

  @state() private accessor total = -1;
  @state() private accessor head = 0;
  @state() private accessor indexing: IndexProgress | undefined = undefined;
  @state() private accessor truncated: string | undefined = undefined;
  @state() private accessor narrow = false;
  @state() private accessor detailSize = 440;
  @state() private accessor dragging = false;
  @state() private accessor densityRevision = 0;

  @query('rl-timeline-grid') private accessor grid!: TimelineGrid | null;
  @query('rl-filter-bar') private accessor bar!: FilterBar | null;

  /** The scroll position to restore, as the shell had it when this view was created. */
  private initialTop: number | null = null;
  private unsubscribe: (() => void) | undefined;
  private headTimer: ReturnType<typeof setTimeout> | undefined;
  private pendingHead = 0;
  private lastDensityRefresh = 0;
  private readonly resize = new ResizeObserver((entries) => {
    const rect = entries[0]?.contentRect;
    if (rect) this.narrow = rect.width < NARROW_PX;
  });

  override connectedCallback(): void {
    super.connectedCallback();
    this.initialTop = this.topPosition;
    this.unsubscribe = rpc.onPush((push) => this.onPush(push));
    this.resize.observe(this);
    this.addEventListener('keydown', this.onKeydown);
    this.addEventListener('rl-filter', (e) => this.applyFilter(e.detail));
    this.addEventListener('rl-select', (e) => rememberState(this, { selected: e.detail.position, ...(e.detail.open ? { detailOpen: true } : {}) }));
    this.addEventListener('rl-jump', (e) => this.jump(e.detail));
    this.addEventListener('rl-follow', (e) => rememberState(this, { follow: e.detail }));
    this.addEventListener('rl-page-info', (e) => this.onPageInfo(e.detail));
    this.addEventListener('rl-close-detail', () => this.closeDetail());
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.unsubscribe?.();
    this.resize.disconnect();
    clearTimeout(this.headTimer);
    this.removeEventListener('keydown', this.onKeydown);
  }

  override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('init') && this.head === 0) {
      this.head = this.init.head;
      this.indexing = this.init.indexing;
    }
  }

  private applyFilter(next: TimelineFilter): void {
    const filter = normalizeFilter(next);
    if (filterKey(filter) !== filterKey(this.filter)) rememberState(this, { filter });
  }

  private jump(target: JumpDetail): void {
    const grid = this.grid;
    if (!grid) return;
    const done = 'position' in target ? grid.revealPosition(target.position, true) : grid.revealTime(target.time);
    void done.then(() => grid.focusGrid());
  }

  private closeDetail(): void {
    rememberState(this, { detailOpen: false });
    this.grid?.focusGrid();
  }

  private onPageInfo(info: PageInfo): void {
    this.total = info.total;
    this.truncated = info.truncated;
    this.setIndexing(info.indexing);
  }

  private setIndexing(indexing: IndexProgress | undefined): void {
    const finished = this.indexing !== undefined && indexing === undefined;
    this.indexing = indexing;
    if (!finished) return;
    this.grid?.reload();
    this.densityRevision++;
  }

  private onPush(push: ExplorerPush): void {
    if (push.type !== 'head') return;
    this.setIndexing(push.indexing);
    this.pendingHead = Math.max(this.pendingHead, push.head);
    if (this.headTimer !== undefined) return;
    this.headTimer = setTimeout(() => {
      this.headTimer = undefined;
      if (this.pendingHead <= this.head) return;
      this.grid?.onHead(this.pendingHead);
      this.head = this.pendingHead;
      const now = Date.now();
      if (now - this.lastDensityRefresh > DENSITY_REFRESH_MS) {
        this.lastDensityRefresh = now;
        this.densityRevision++;
      }
    }, HEAD_THROTTLE_MS);
  }

  private readonly onKeydown = (e: KeyboardEvent): void => {
    if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey) return;
    const path = e.composedPath();
    if (e.key === '/' && !isEditable(path[0])) {
      e.preventDefault();
      this.bar?.focusSearch();
    } else if (e.key === 'Escape' && this.detailOpen) {
      const dropdownOpen = path.some((el) => el instanceof HTMLElement && /^vscode-(multi|single)-select$/.test(el.localName) && (el as HTMLElement & { open?: boolean }).open === true);
      if (dropdownOpen) return;
      e.preventDefault();
      this.closeDetail();
    }
  };

  private paneLimit(): number {
    const r = this.getBoundingClientRect();
    return Math.max(MIN_PANE_PX, (this.narrow ? r.height - 160 : r.width) - MIN_PANE_PX);
  }

  private readonly onSashDown = (e: PointerEvent): void => {
    if (e.button !== 0) return;
    const sash = e.currentTarget as HTMLElement;
    sash.setPointerCapture(e.pointerId);
    this.dragging = true;
    const start = this.narrow ? e.clientY : e.clientX;
    const size = this.detailSize;
    const limit = this.paneLimit();
    const move = (ev: PointerEvent): void => {
      const delta = (this.narrow ? ev.clientY : ev.clientX) - start;
      this.detailSize = Math.max(MIN_PANE_PX, Math.min(limit, size - delta));
    };
    const up = (): void => {
      this.dragging = false;
      sash.removeEventListener('pointermove', move);
      sash.removeEventListener('pointerup', up);
      sash.removeEventListener('pointercancel', up);
    };
    sash.addEventListener('pointermove', move);
    sash.addEventListener('pointerup', up);
    sash.addEventListener('pointercancel', up);
  };

  private readonly onSashKey = (e: KeyboardEvent): void => {
    const grow = this.narrow ? 'ArrowUp' : 'ArrowLeft';
    const shrink = this.narrow ? 'ArrowDown' : 'ArrowRight';
    if (e.key !== grow && e.key !== shrink) return;
    e.preventDefault();
    const step = e.shiftKey ? 80 : 20;
    this.detailSize = Math.max(MIN_PANE_PX, Math.min(this.paneLimit(), this.detailSize + (e.key === grow ? step : -step)));
  };

  override render() {
    const showDetail = this.detailOpen && this.selected !== null;
    const indexing = this.indexing;
    const percent = indexing ? Math.floor((indexing.indexed / Math.max(1, indexing.head)) * 100) : 0;
    return html`
      <rl-filter-bar .init=${this.init} .filter=${this.filter} .follow=${this.follow} .total=${this.total} .indexing=${indexing}></rl-filter-bar>
      ${indexing
        ? html`<div class="banner muted" role="status">
            ${icon('sync')}<span>Indexing the log for filters and search… ${percent}%</span><span>· time, chain, pipeline, failure and text filters apply when it is done.</span>
          </div>`
        : nothing}
      ${this.truncated ? html`<div class="banner notice warning" role="status">${icon('warning')}<span>${this.truncated}</span></div>` : nothing}
      <rl-density .filter=${this.filter} .revision=${this.densityRevision}></rl-density>
      <div class="split ${this.narrow ? 'below' : 'beside'}" ${styleProps({ '--detail-size': `${this.detailSize}px` })}>
        <div class="list">
          <rl-timeline-grid .filter=${this.filter} .follow=${this.follow} .selected=${this.selected} .initialTop=${this.initialTop} .head=${this.head}></rl-timeline-grid>
        </div>
        ${showDetail
          ? html`<div
                class="sash${this.dragging ? ' dragging' : ''}"
                role="separator"
                tabindex="0"
                aria-label="Resize the event detail"
                aria-orientation=${this.narrow ? 'horizontal' : 'vertical'}
                aria-valuemin=${MIN_PANE_PX}
                aria-valuenow=${Math.round(this.detailSize)}
                @pointerdown=${this.onSashDown}
                @keydown=${this.onSashKey}
              ></div>
              <rl-event-detail .init=${this.init} .position=${this.selected} .filter=${this.filter}></rl-event-detail>`
          : nothing}
      </div>
    `;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'rl-timeline': TimelineView;
  }
}
