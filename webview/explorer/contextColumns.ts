import { LitElement, css, html, nothing } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import { styleProps } from './styleProps.js';
import type { ContextChunkView, ReplayReport } from '../../src/shared/explorerModel.js';
import { formatRatio, moveLabel, moveWords } from './format.js';
import { listMove } from './gridNav.js';
import { chunkLocation, moveClass, rowPairs } from './replayModel.js';
import { rpc } from './rpc.js';
import { SLOPE_HEAD_H, SLOPE_ROW_H } from './slopeChart.js';
import './slopeChart.js';
import { baseStyles } from './styles.js';

type Side = 'original' | 'replayed';

/**
 * The original context (left) and the replayed one (right), each in rank order, with the slope chart
 * between them. Each list is one tab stop: arrow keys move between its chunks, focusing a chunk
 * selects its pair, Enter (or a click on the path) opens the chunk's source at the event of its side.
 */
@customElement('rl-context-columns')
export class ContextColumns extends LitElement {
  static override styles = [
    baseStyles,
    css`
      :host { display: block; }
      .cols { display: flex; align-items: flex-start; gap: 0; min-width: 0; }
      .side { flex: 1 1 0; min-width: 0; }
      .items { margin: 0; padding: 0; list-style: none; }
      .title { height: var(--head-h); display: flex; align-items: center; gap: 6px; font-weight: 600; border-bottom: 1px solid var(--vscode-panel-border, var(--vscode-contrastBorder, transparent)); padding: 0 6px; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
      .title .muted { font-weight: normal; overflow: hidden; text-overflow: ellipsis; }
      .row { height: var(--row-h); display: grid; grid-template-columns: auto auto minmax(0, 1fr) auto; grid-template-rows: 1fr 1fr; column-gap: 8px; align-items: center; padding: 0 6px; border-bottom: 1px solid var(--vscode-tree-tableColumnsBorder, transparent); cursor: pointer; }
      .row:hover { background: var(--vscode-list-hoverBackground); }
      .row.on { background: var(--vscode-list-inactiveSelectionBackground); outline: 1px dotted var(--vscode-contrastActiveBorder, transparent); outline-offset: -1px; }
      .row.selected { background: var(--vscode-list-activeSelectionBackground); color: var(--vscode-list-activeSelectionForeground, inherit); outline: 1px solid var(--vscode-contrastActiveBorder, transparent); outline-offset: -1px; }
      .row.selected .muted { color: inherit; opacity: 0.85; }
      .rank { font-weight: 600; font-variant-numeric: tabular-nums; }
      .score { font-variant-numeric: tabular-nums; }
      .move { grid-column: 4; grid-row: 1; font-variant-numeric: tabular-nums; white-space: nowrap; font-size: 0.92em; }
      .path { grid-column: 1 / 4; grid-row: 2; min-width: 0; display: flex; }
      .path button { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; unicode-bidi: isolate; max-width: 100%; }
      .row.selected .path button { color: inherit; text-decoration: underline; }
      .ver { grid-column: 4; grid-row: 2; font-size: 0.92em; }
      .move-same { color: var(--vscode-descriptionForeground); }
      .row.selected .move-up, .row.selected .move-down, .row.selected .move-new, .row.selected .move-dropped { color: inherit; }
      .none { padding: 8px 6px; color: var(--vscode-descriptionForeground); }
      @media (forced-colors: active) { .row.selected { outline: 2px solid Highlight; } }
    `,
  ];

  @property({ attribute: false }) accessor report: ReplayReport | null = null;
  @property({ type: Number }) accessor selected = -1;
  @property({ type: Number }) accessor hovered = -1;
  @state() private accessor active: Record<Side, number> = { original: 0, replayed: 0 };

  override render() {
    const r = this.report;
    if (!r) return nothing;
    const rows = rowPairs(r);
    const vars = { '--head-h': `${SLOPE_HEAD_H}px`, '--row-h': `${SLOPE_ROW_H}px` };
    return html`<div class="cols" ${styleProps(vars)}>
      ${this.renderList('original', r.original.chunks, rows.original, `Original context`, r.original.pipelineVersion ?? 'unknown version')}
      <rl-slope-chart .report=${r} .selected=${this.selected} .hovered=${this.hovered}></rl-slope-chart>
      ${this.renderList('replayed', r.replayed.chunks, rows.replayed, `Replayed context`, r.replayed.pipelineVersion)}
    </div>`;
  }

  private renderList(side: Side, chunks: readonly ContextChunkView[], pairs: readonly number[], title: string, version: string) {
    const r = this.report!;
    const focusRow = Math.min(this.active[side], Math.max(0, chunks.length - 1));
    return html`<div class="side">
      <div class="title" id="t-${side}">${title} <span class="muted">· <bdi>${version}</bdi> · ${chunks.length} chunks</span></div>
      ${chunks.length === 0 ? html`<div class="none">No chunks.</div>` : nothing}
      <ul class="items" role="list" aria-labelledby="t-${side}" @keydown=${(e: KeyboardEvent) => this.onKey(e, side, chunks, pairs)}>
        ${chunks.map((c, i) => {
          const pi = pairs[i] ?? -1;
          const pair = pi >= 0 ? r.pairs[pi] : undefined;
          const marker = !pair ? '' : side === 'original' ? (pair.kind === 'dropped' ? 'dropped' : pair.replayed ? `→ #${pair.replayed.rank}` : '') : moveLabel(pair.kind, pair.move);
          const markerWords = !pair ? '' : side === 'original' ? (pair.kind === 'dropped' ? 'dropped from the replay' : pair.replayed ? `now rank ${pair.replayed.rank}` : '') : moveWords(pair.kind, pair.move);
          const cls = `row ${pi >= 0 && pi === this.selected ? 'selected' : ''} ${pi >= 0 && pi === this.hovered ? 'on' : ''}`;
          return html`<li class=${cls} @mouseenter=${() => this.emit('rl-pair-hover', pi)} @mouseleave=${() => this.emit('rl-pair-hover', -1)} @click=${() => this.pick(side, i, pi)}>
            <span class="rank">#${c.rank}</span>
            <span class="score muted" title="score">${formatRatio(c.score)}</span>
            <span></span>
            <span class="move ${pair ? moveClass(pair) : ''}"><span aria-hidden="true">${marker}</span><span class="sr-only">${markerWords}</span></span>
            <span class="path"><button class="link" data-side=${side} data-row=${i} tabindex=${i === focusRow ? 0 : -1} title=${chunkLocation(c)}
              @focus=${() => this.pick(side, i, pi)} @click=${(e: Event) => { e.stopPropagation(); this.open(side, c); }}>${chunkLocation(c)}</button></span>
            <span class="ver muted" title=${c.documentVersion ? `document version ${c.documentVersion.ordinal}, event #${c.documentVersion.position}` : 'document version unknown'}>${c.documentVersion ? `v${c.documentVersion.ordinal}` : ''}</span>
          </li>`;
        })}
      </ul>
    </div>`;
  }

  private onKey(e: KeyboardEvent, side: Side, chunks: readonly ContextChunkView[], pairs: readonly number[]): void {
    const next = listMove(e.key, this.active[side], chunks.length);
    if (next === null) return;
    e.preventDefault();
    this.pick(side, next, pairs[next] ?? -1);
    void this.updateComplete.then(() => this.renderRoot.querySelector<HTMLElement>(`button[data-side="${side}"][data-row="${next}"]`)?.focus());
  }

  private pick(side: Side, row: number, pair: number): void {
    if (this.active[side] !== row) this.active = { ...this.active, [side]: row };
    if (pair >= 0 && pair !== this.selected) this.emit('rl-pair-select', pair);
  }

  private open(side: Side, c: ContextChunkView): void {
    const r = this.report!;
    rpc.notify({ kind: 'openChunk', position: side === 'original' ? r.original.position : r.replayed.position, chunkId: c.chunkId });
  }

  private emit(type: 'rl-pair-hover' | 'rl-pair-select', pair: number): void {
    this.dispatchEvent(new CustomEvent<number>(type, { detail: pair, bubbles: true, composed: true }));
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'rl-context-columns': ContextColumns;
  }
}
