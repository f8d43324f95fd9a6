import { LitElement, css, html, svg } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import { binLabel, histogramSummary } from './compareModel.js';
import { baseStyles } from './styles.js';

const W = 420;
const H = 180;
const LEFT = 40;
const RIGHT = 8;
const TOP = 14;
const BOTTOM = 40;

/** A round axis maximum ≥ n with 2–5 ticks: 1, 2, 5 × 10^k steps. */
function niceMax(n: number): { max: number; step: number } {
  if (n <= 0) return { max: 1, step: 1 };
  const raw = n / 4;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  return { max: Math.ceil(n / step) * step, step };
}

/**
 * The distribution of overlap@k over the compared questions: ten bars from 0 to 1 with labelled
 * axes, each bar's count above it, and the same facts as a sentence and a table for screen readers.
 */
@customElement('rl-histogram')
export class Histogram extends LitElement {
  static override styles = [
    baseStyles,
    css`
      :host { display: block; }
      figure { margin: 0; }
      svg { display: block; max-width: 100%; height: auto; }
      .bar { fill: var(--vscode-charts-blue); }
      .bar.low { fill: var(--vscode-charts-orange); }
      .bar.zero { fill: none; }
      .axis { stroke: var(--vscode-charts-lines, var(--vscode-descriptionForeground)); stroke-width: 1; }
      .tick { stroke: var(--vscode-charts-lines, var(--vscode-panel-border, transparent)); stroke-dasharray: 2 3; stroke-width: 1; }
      text { fill: var(--vscode-foreground); font-size: 10px; font-family: var(--vscode-font-family); }
      text.muted { fill: var(--vscode-descriptionForeground); }
      text.count { font-size: 9.5px; }
      figcaption { color: var(--vscode-descriptionForeground); margin-top: 2px; max-width: ${W}px; font-size: 0.92em; }
      @media (forced-colors: active) { .bar { fill: CanvasText; } }
    `,
  ];

  @property({ attribute: false }) accessor bins: readonly number[] = [];
  @property({ type: Number }) accessor k = 0;

  override render() {
    const bins = Array.from({ length: 10 }, (_, i) => this.bins[i] ?? 0);
    const { max, step } = niceMax(Math.max(...bins));
    const plotW = W - LEFT - RIGHT;
    const plotH = H - TOP - BOTTOM;
    const bw = plotW / 10;
    const y = (n: number): number => TOP + plotH - (n / max) * plotH;
    const ticks = Array.from({ length: Math.round(max / step) + 1 }, (_, i) => i * step);
    const summary = histogramSummary(bins, this.k);
    return html`<figure>
      <svg width=${W} height=${H} viewBox="0 0 ${W} ${H}" role="img" aria-label="Histogram of overlap@${this.k} per question. ${summary}">
        ${ticks.map((t) => svg`<line class=${t === 0 ? 'axis' : 'tick'} x1=${LEFT} x2=${W - RIGHT} y1=${y(t)} y2=${y(t)}></line>
          <text class="muted" x=${LEFT - 4} y=${y(t) + 3} text-anchor="end">${t}</text>`)}
        <line class="axis" x1=${LEFT} x2=${LEFT} y1=${TOP} y2=${TOP + plotH}></line>
        ${bins.map((n, i) => {
          const x = LEFT + i * bw + 2;
          const h = TOP + plotH - y(n);
          return svg`<rect class="bar ${i < 5 ? 'low' : ''}" x=${x} y=${y(n)} width=${bw - 4} height=${Math.max(0, h)}><title>overlap ${binLabel(i)}: ${n} ${n === 1 ? 'question' : 'questions'}</title></rect>
            ${n > 0 ? svg`<text class="count" x=${x + (bw - 4) / 2} y=${y(n) - 3} text-anchor="middle">${n}</text>` : null}`;
        })}
        ${Array.from({ length: 11 }, (_, i) => svg`<text class="muted" x=${LEFT + i * bw} y=${TOP + plotH + 13} text-anchor="middle">${i === 0 ? '0' : i === 10 ? '1' : (i / 10).toFixed(1).replace(/^0/, '')}</text>`)}
        <text x=${LEFT + plotW / 2} y=${H - 6} text-anchor="middle">overlap@${this.k} (share of the original context kept)</text>
        <text x="10" y=${TOP + plotH / 2} text-anchor="middle" transform="rotate(-90 10 ${TOP + plotH / 2})">questions</text>
      </svg>
      <figcaption>${summary} <span class="sr-only">${bins.map((n, i) => `${binLabel(i)}: ${n}`).join('; ')}.</span></figcaption>
    </figure>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'rl-histogram': Histogram;
  }
}
