import { LitElement, css, html, svg } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import type { ReplayReport } from '../../src/shared/explorerModel.js';
import { moveWords } from './format.js';
import type { SlopeLine } from './replayModel.js';
import { chunkLocation, pairsSummary, slopeLines } from './replayModel.js';

/** Height of the lists' header and of each of their rows: the chart's rows line up with them. */
export const SLOPE_HEAD_H = 28;
export const SLOPE_ROW_H = 44;
const WIDTH = 150;
const X0 = 10;
const X1 = WIDTH - 10;
const MID = WIDTH / 2;

const rowY = (row: number): number => SLOPE_HEAD_H + row * SLOPE_ROW_H + SLOPE_ROW_H / 2;

/** An arrowhead at (x, y) pointing along (dx, dy). */
function arrowHead(x: number, y: number, dx: number, dy: number): string {
  const len = Math.hypot(dx, dy) || 1;
  const ux = dx / len;
  const uy = dy / len;
  const size = 7;
  const bx = x - ux * size;
  const by = y - uy * size;
  const px = -uy * (size / 2);
  const py = ux * (size / 2);
  return `${x},${y} ${bx + px},${by + py} ${bx - px},${by - py}`;
}

/**
 * The slope chart between the original and the replayed ranking: each aligned pair is a line from
 * its original row to its replayed row. Up and down moves end in an arrow, re-chunked pairs are
 * dashed, a dropped chunk's line stops at a cross, a new chunk's starts at a plus; so the kinds
 * differ by shape, not by colour alone. Hovering or clicking a line raises `rl-pair-hover` /
 * `rl-pair-select` with the pair's index; the aligned-pairs grid is the keyboard route.
 */
@customElement('rl-slope-chart')
export class SlopeChart extends LitElement {
  static override styles = css`
    :host { display: block; width: ${WIDTH}px; flex: none; }
    svg { display: block; overflow: visible; }
    .axis { fill: var(--vscode-descriptionForeground); font-size: 10px; font-family: var(--vscode-font-family); }
    .grid { stroke: var(--vscode-panel-border, var(--vscode-contrastBorder, transparent)); stroke-width: 1; stroke-dasharray: 1 3; }
    .line { fill: none; stroke-width: 1.75; stroke-linecap: round; }
    .head { stroke: none; }
    .up { stroke: var(--vscode-charts-green); fill: var(--vscode-charts-green); }
    .down { stroke: var(--vscode-charts-red); fill: var(--vscode-charts-red); }
    .level { stroke: var(--vscode-charts-foreground); fill: var(--vscode-charts-foreground); }
    .rechunked { stroke-dasharray: 6 3; }
    .rechunked.level { stroke: var(--vscode-charts-purple); fill: var(--vscode-charts-purple); }
    .dropped { stroke: var(--vscode-descriptionForeground); fill: var(--vscode-descriptionForeground); stroke-dasharray: 2 3; }
    .new { stroke: var(--vscode-charts-blue); fill: var(--vscode-charts-blue); stroke-dasharray: 2 3; }
    .dot { stroke: none; }
    svg .glyph { stroke-dasharray: none; stroke-width: 2; }
    .hit { stroke: transparent; stroke-width: 12; fill: none; pointer-events: stroke; cursor: pointer; }
    g.pair { transition: opacity 80ms; }
    g.overlay { pointer-events: none; }
    svg.focused g.pair { opacity: 0.4; }
    svg.focused g.pair.on { opacity: 1; }
    g.pair.on .line { stroke-width: 3; }
    g.pair.selected .line { stroke-width: 3.5; }
    @media (forced-colors: active) {
      .line, .head, .dot { stroke: CanvasText; fill: CanvasText; }
      .line { fill: none; }
    }
  `;

  @property({ attribute: false }) accessor report: ReplayReport | null = null;
  @property({ type: Number }) accessor selected = -1;
  @property({ type: Number }) accessor hovered = -1;

  override render() {
    const report = this.report;
    if (!report) return html``;
    const rows = Math.max(report.original.chunks.length, report.replayed.chunks.length, 1);
    const height = SLOPE_HEAD_H + rows * SLOPE_ROW_H;
    const lines = slopeLines(report);
    const focus = this.hovered >= 0 ? this.hovered : this.selected;
    // The focused pair is drawn again on top (a copy the pointer ignores, so hovering stays stable).
    const top = lines.find((l) => l.pair === focus);
    const label = `Slope chart of ${report.original.chunks.length} original and ${report.replayed.chunks.length} replayed chunks: ${pairsSummary(report.pairs)}.`;
    return html`<svg width=${WIDTH} height=${height} viewBox="0 0 ${WIDTH} ${height}" role="img" aria-label=${label} class=${focus >= 0 ? 'focused' : ''}>
      <text class="axis" x=${X0} y="16">original</text>
      <text class="axis" x=${X1} y="16" text-anchor="end">replayed</text>
      ${Array.from({ length: rows }, (_, r) => svg`<line class="grid" x1=${X0} x2=${X1} y1=${rowY(r)} y2=${rowY(r)}></line>`)}
      ${lines.map((l) => this.renderLine(l, report, l.pair === focus, false))}
      ${top ? this.renderLine(top, report, true, true) : null}
    </svg>`;
  }

  private renderLine(l: SlopeLine, report: ReplayReport, on: boolean, overlay: boolean) {
    const pair = report.pairs[l.pair]!;
    const chunk = pair.replayed ?? pair.original;
    const title = `${l.from !== null ? `#${l.from + 1}` : 'new'} → ${l.to !== null ? `#${l.to + 1}` : 'dropped'}: ${moveWords(pair.kind, pair.move)}${chunk ? `, ${chunkLocation(chunk)}` : ''}`;
    const cls = `line ${l.kind === 'same' || l.kind === 'rechunked' ? l.direction : ''} ${l.kind}`;
    const headCls = `head ${l.kind === 'same' || l.kind === 'rechunked' ? l.direction : ''} ${l.kind}`;
    let shape;
    let hit: string;
    if (l.from !== null && l.to !== null) {
      const y0 = rowY(l.from);
      const y1 = rowY(l.to);
      const ex = X1 - 2;
      hit = `M${X0},${y0} L${ex},${y1}`;
      shape = svg`<circle class="dot ${headCls}" cx=${X0} cy=${y0} r="3"></circle>
        <path class=${cls} d="M${X0},${y0} L${ex - 5},${y1 - ((y1 - y0) * 5) / (ex - X0)}"></path>
        <polygon class=${headCls} points=${arrowHead(ex, y1, ex - X0, y1 - y0)}></polygon>`;
    } else if (l.from !== null) {
      const y = rowY(l.from);
      hit = `M${X0},${y} L${MID - 2},${y}`;
      shape = svg`<circle class="dot ${headCls}" cx=${X0} cy=${y} r="3"></circle>
        <path class=${cls} d="M${X0},${y} L${MID - 13},${y}"></path>
        <path class="${cls} glyph" d="M${MID - 12},${y - 4} l8,8 M${MID - 4},${y - 4} l-8,8"></path>`;
    } else {
      const y = rowY(l.to!);
      const ex = X1 - 2;
      hit = `M${MID + 2},${y} L${ex},${y}`;
      shape = svg`<path class="${cls} glyph" d="M${MID + 4},${y} h9 M${MID + 8.5},${y - 4.5} v9"></path>
        <path class=${cls} d="M${MID + 14},${y} L${ex - 6},${y}"></path>
        <polygon class=${headCls} points=${arrowHead(ex, y, 1, 0)}></polygon>`;
    }
    if (overlay) return svg`<g class="pair on overlay ${l.pair === this.selected ? 'selected' : ''}">${shape}</g>`;
    return svg`<g class="pair ${on ? 'on' : ''} ${l.pair === this.selected ? 'selected' : ''}"
      @mouseenter=${() => this.emit('rl-pair-hover', l.pair)} @mouseleave=${() => this.emit('rl-pair-hover', -1)} @click=${() => this.emit('rl-pair-select', l.pair)}>
      <title>${title}</title>${shape}<path class="hit" d=${hit}></path>
    </g>`;
  }

  private emit(type: 'rl-pair-hover' | 'rl-pair-select', pair: number): void {
    this.dispatchEvent(new CustomEvent<number>(type, { detail: pair, bubbles: true, composed: true }));
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'rl-slope-chart': SlopeChart;
  }
  interface HTMLElementEventMap {
    'rl-pair-hover': CustomEvent<number>;
    'rl-pair-select': CustomEvent<number>;
  }
}
