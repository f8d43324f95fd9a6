// Events over time above the timeline: bars stacked by group (plain SVG). Click a bar to scroll
// there; drag across bars to filter to that time range. From the keyboard: ←/→ move a cursor bar,
// Enter scrolls there, Shift+←/→ selects a range and Enter applies it, Esc clears.
import { LitElement, css, html, nothing, svg } from 'lit';
import { customElement, property, query, state } from 'lit/decorators.js';
import type { Density, TimelineFilter } from '../../src/shared/explorerModel.js';
import { bucketAt, bucketRange, bucketsFor, describeBuckets, describeDensity, roundedRange, stackedPaths } from './densityModel.js';
import { filterKey, shortTime } from './filterModel.js';
import { GROUP_LABELS, GROUP_ORDER, formatCount } from './format.js';
import { groupStyles } from './groupStyles.js';
import { RequestError, rpc } from './rpc.js';
import { baseStyles } from './styles.js';
import { emit } from './timelineEvents.js';

const HEIGHT = 36;

@customElement('rl-density')
export class DensityChart extends LitElement {
  static override styles = [
    baseStyles,
    groupStyles,
    css`
      :host { display: block; padding: 4px 10px 2px; }
      .chart { position: relative; height: ${HEIGHT}px; cursor: crosshair; touch-action: none; border-bottom: 1px solid var(--vscode-editorWidget-border, var(--vscode-panel-border, transparent)); }
      .chart:focus { outline: none; }
      .chart:focus-visible { outline: 1px solid var(--vscode-focusBorder); outline-offset: 1px; }
      svg { display: block; overflow: visible; }
      rect.selection { fill: var(--vscode-editor-selectionBackground, var(--vscode-focusBorder)); fill-opacity: 0.45; stroke: var(--vscode-focusBorder); stroke-width: 1; }
      rect.cursor { fill: none; stroke: var(--vscode-focusBorder); stroke-width: 1.5; }
      rect.hover { fill: var(--vscode-list-hoverBackground, transparent); }
      .axis { display: flex; gap: 12px; justify-content: space-between; align-items: baseline; font-size: 11px; color: var(--vscode-descriptionForeground); min-height: 18px; line-height: 18px; white-space: nowrap; overflow: hidden; }
      .axis .mid { flex: 1; min-width: 0; text-align: center; overflow: hidden; text-overflow: ellipsis; color: var(--vscode-foreground); }
      .legend { display: inline-flex; gap: 8px; }
      .legend span { display: inline-flex; align-items: center; gap: 3px; }
      .swatch { display: inline-block; width: 8px; height: 8px; border-radius: 1px; background: currentColor; }
      .empty { height: ${HEIGHT}px; display: flex; align-items: center; font-size: 11px; }
    `,
  ];

  @property({ attribute: false }) accessor filter: TimelineFilter = {};
  /** Changed to read the chart again (the log grew, the index finished). */
  @property({ attribute: false }) accessor revision = 0;

  @state() private accessor density: Density | null = null;
  @state() private accessor width = 0;
  @state() private accessor cursor = -1;
  @state() private accessor anchor = -1;
  @state() private accessor hover = -1;
  @state() private accessor drag: { a: number; b: number; x: number } | null = null;
  @state() private accessor error: string | null = null;
  @state() private accessor focused = false;

  @query('.chart') private accessor chartEl!: HTMLElement | null;

  private readonly resize = new ResizeObserver((entries) => {
    const w = Math.floor(entries[0]?.contentRect.width ?? 0);
    if (w !== this.width) this.width = w;
  });
  private timer: ReturnType<typeof setTimeout> | undefined;
  private generation = 0;
  private loadedFor = '';

  override connectedCallback(): void {
    super.connectedCallback();
    this.resize.observe(this);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.resize.disconnect();
    clearTimeout(this.timer);
  }

  override willUpdate(): void {
    if (this.width <= 0) return;
    const wanted = `${filterKey(this.filter)}|${bucketsFor(this.width - 20)}|${this.revision}`;
    if (wanted === this.loadedFor) return;
    this.loadedFor = wanted;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.load(), 200);
  }

  private async load(): Promise<void> {
    const generation = ++this.generation;
    try {
      const density = await rpc.request('density', { filter: this.filter, buckets: bucketsFor(this.width - 20) });
      if (generation !== this.generation) return;
      this.density = density;
      this.error = null;
      if (this.cursor >= density.buckets) this.cursor = density.buckets - 1;
      this.anchor = -1;
    } catch (err) {
      if (generation === this.generation) this.error = err instanceof RequestError ? err.message : String(err);
    }
  }

  private get chartWidth(): number {
    return Math.max(0, this.width - 20);
  }

  private xOf(e: PointerEvent): number {
    return e.clientX - (this.chartEl?.getBoundingClientRect().left ?? 0);
  }

  private readonly onPointerDown = (e: PointerEvent): void => {
    const d = this.density;
    if (!d || e.button !== 0) return;
    (e.currentTarget as HTMLElement).setPointerCapture(e.pointerId);
    const x = this.xOf(e);
    const b = bucketAt(d, x, this.chartWidth);
    this.drag = { a: b, b, x };
  };

  private readonly onPointerMove = (e: PointerEvent): void => {
    const d = this.density;
    if (!d) return;
    const b = bucketAt(d, this.xOf(e), this.chartWidth);
    this.hover = b;
    if (this.drag) this.drag = { ...this.drag, b };
  };

  private readonly onPointerUp = (e: PointerEvent): void => {
    const d = this.density;
    const drag = this.drag;
    this.drag = null;
    if (!d || !drag) return;
    if (Math.abs(this.xOf(e) - drag.x) < 4) {
      this.cursor = drag.a;
      this.anchor = -1;
      emit(this, 'rl-jump', { time: bucketRange(d, drag.a, drag.a).since });
    } else {
      this.applyRange(drag.a, drag.b);
    }
  };

  private applyRange(a: number, b: number): void {
    const d = this.density;
    if (!d) return;
    this.anchor = -1;
    emit(this, 'rl-filter', { ...this.filter, ...roundedRange(d, a, b) });
  }

  private readonly onKey = (e: KeyboardEvent): void => {
    const d = this.density;
    if (!d || d.buckets === 0) return;
    const last = d.buckets - 1;
    const from = this.cursor >= 0 ? this.cursor : last;
    let next: number | null = null;
    if (e.key === 'ArrowLeft') next = this.cursor >= 0 ? from - 1 : from;
    else if (e.key === 'ArrowRight') next = this.cursor >= 0 ? from + 1 : from;
    else if (e.key === 'Home') next = 0;
    else if (e.key === 'End') next = last;
    if (next !== null) {
      e.preventDefault();
      if (e.shiftKey) {
        if (this.anchor < 0) this.anchor = from;
      } else {
        this.anchor = -1;
      }
      this.cursor = Math.max(0, Math.min(last, next));
      return;
    }
    if (e.key === 'Enter' && this.cursor >= 0) {
      e.preventDefault();
      if (this.anchor >= 0 && this.anchor !== this.cursor) this.applyRange(this.anchor, this.cursor);
      else emit(this, 'rl-jump', { time: bucketRange(d, this.cursor, this.cursor).since });
    } else if (e.key === 'Escape' && (this.anchor >= 0 || this.cursor >= 0)) {
      e.preventDefault();
      e.stopPropagation();
      if (this.anchor >= 0) this.anchor = -1;
      else this.cursor = -1;
    }
  };

  override render() {
    const d = this.density;
    if (this.error) return html`<div class="empty error" role="alert">Could not read the event density: ${this.error}</div>`;
    if (!d) return html`<div class="empty muted" role="status">Reading the event density…</div>`;
    const w = this.chartWidth;
    const bw = d.buckets > 0 ? w / d.buckets : 0;
    const sel = this.drag ? [this.drag.a, this.drag.b] : this.anchor >= 0 && this.cursor >= 0 ? [this.anchor, this.cursor] : null;
    const lo = sel ? Math.min(sel[0]!, sel[1]!) : -1;
    const hi = sel ? Math.max(sel[0]!, sel[1]!) : -1;
    const cursor = this.focused ? this.cursor : -1;
    const focusBucket = this.drag ? this.drag.b : this.hover >= 0 ? this.hover : cursor;
    const status = sel ? describeBuckets(d, lo, hi) : focusBucket >= 0 ? describeBuckets(d, focusBucket) : '';
    const whole = d.buckets > 0 ? bucketRange(d, 0, d.buckets - 1) : null;
    const present = GROUP_ORDER.filter((g) => (d.counts[g] ?? []).some((c) => c > 0));
    return html`
      <div
        class="chart"
        tabindex="0"
        role="group"
        aria-roledescription="chart"
        aria-label=${describeDensity(d)}
        @keydown=${this.onKey}
        @pointerdown=${this.onPointerDown}
        @pointermove=${this.onPointerMove}
        @pointerup=${this.onPointerUp}
        @pointerleave=${() => (this.hover = -1)}
        @focus=${() => (this.focused = true)}
        @blur=${() => {
          this.focused = false;
          this.hover = -1;
        }}
      >
        <svg width=${w} height=${HEIGHT} viewBox="0 0 ${w} ${HEIGHT}" aria-hidden="true">
          ${this.hover >= 0 && !this.drag ? svg`<rect class="hover" x=${this.hover * bw} y="0" width=${bw} height=${HEIGHT}></rect>` : nothing}
          ${stackedPaths(d, w, HEIGHT).map((p) => svg`<path class="g-${p.group}" d=${p.d}></path>`)}
          ${sel ? svg`<rect class="selection" x=${lo * bw} y="0.5" width=${(hi - lo + 1) * bw} height=${HEIGHT - 1}></rect>` : nothing}
          ${cursor >= 0 ? svg`<rect class="cursor" x=${cursor * bw} y="0.75" width=${Math.max(2, bw)} height=${HEIGHT - 1.5}></rect>` : nothing}
        </svg>
      </div>
      <div class="axis">
        <span>${whole ? shortTime(whole.since) : ''}</span>
        <span class="mid" aria-live="polite">${status || `${formatCount(d.total)} events`}</span>
        <span class="legend" aria-hidden="true">${present.map((g) => html`<span><span class="swatch g-${g}"></span>${GROUP_LABELS[g]}</span>`)}</span>
        <span>${whole ? shortTime(whole.until) : ''}</span>
      </div>
    `;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'rl-density': DensityChart;
  }
}
