import { LitElement, css, html } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import { styleProps } from './styleProps.js';
import type { AlignedPair, AlignmentKind } from '../../src/shared/explorerModel.js';
import { formatRatio, moveLabel, moveWords } from './format.js';
import { GridFocus } from './gridFocus.js';
import { chunkLocation, moveClass } from './replayModel.js';
import { baseStyles } from './styles.js';
import { viewStyles } from './viewStyles.js';

const KIND_LABELS: Record<AlignmentKind, string> = { same: 'same chunk', rechunked: 're-chunked', dropped: 'dropped', new: 'new' };
const COLUMNS = ['Kind', 'Rank', 'Move', 'Location', 'Score before', 'Score after'] as const;

/**
 * Every aligned pair of a replay as a grid (the keyboard and screen-reader route to what the slope
 * chart draws): kind, original rank → replayed rank, move, location and both scores. Arrow keys move
 * between cells; the focused row is the selected pair (raises `rl-pair-select`).
 */
@customElement('rl-pairs-grid')
export class PairsGrid extends LitElement {
  static override styles = [
    baseStyles,
    viewStyles,
    css`
      :host { display: block; overflow-x: auto; }
      .move-same { color: var(--vscode-descriptionForeground); }
      [aria-selected='true'] .move-up, [aria-selected='true'] .move-down, [aria-selected='true'] .move-new, [aria-selected='true'] .move-dropped, [aria-selected='true'] .move-same { color: inherit; }
    `,
  ];

  @property({ attribute: false }) accessor pairs: readonly AlignedPair[] = [];
  @property({ type: Number }) accessor selected = -1;

  private readonly grid = new GridFocus(this, {
    rows: () => this.pairs.length,
    cols: () => COLUMNS.length,
    onRow: (row) => this.emit(row),
    onActivate: (row) => this.emit(row),
  });

  override willUpdate(changed: Map<PropertyKey, unknown>): void {
    if (changed.has('selected') && this.selected >= 0 && this.selected !== this.grid.row) this.grid.row = this.selected;
  }

  override render() {
    const cols = { '--cols': '96px 84px 120px minmax(160px, 1fr) 104px 96px' };
    return html`<div class="grid" role="grid" aria-label="Aligned pairs" aria-rowcount=${this.pairs.length + 1} aria-colcount=${COLUMNS.length} ${styleProps(cols)} @keydown=${this.grid.onKeyDown}>
      <div role="rowgroup"><div class="head" role="row" aria-rowindex="1">${COLUMNS.map((c, i) => html`<div role="columnheader" class=${i >= 4 ? 'num' : ''}>${c}</div>`)}</div></div>
      <div class="body" role="rowgroup">
        ${this.pairs.map((p, r) => {
          const loc = (p.replayed ?? p.original) ? chunkLocation((p.replayed ?? p.original)!) : '';
          const cell = (c: number, content: unknown, cls = '', title?: string) =>
            html`<div role="gridcell" class=${cls} data-r=${r} data-c=${c} tabindex=${this.grid.tabIndex(r, c)} title=${title ?? ''} @focus=${() => this.grid.focused(r, c)}>${content}</div>`;
          return html`<div role="row" aria-rowindex=${r + 2} aria-selected=${r === this.selected ? 'true' : 'false'} @click=${() => this.emit(r)}>
            ${cell(0, KIND_LABELS[p.kind])}
            ${cell(1, `${p.original ? `#${p.original.rank}` : '–'} → ${p.replayed ? `#${p.replayed.rank}` : '–'}`)}
            ${cell(2, html`<span class=${moveClass(p)} aria-hidden="true">${moveLabel(p.kind, p.move)}</span><span class="sr-only">${moveWords(p.kind, p.move)}</span>`)}
            ${cell(3, html`<bdi>${loc}</bdi>`, 'clip', loc)}
            ${cell(4, p.original ? formatRatio(p.original.score) : '–', 'num')}
            ${cell(5, p.replayed ? formatRatio(p.replayed.score) : '–', 'num')}
          </div>`;
        })}
      </div>
    </div>`;
  }

  private emit(pair: number): void {
    if (pair === this.selected) return;
    this.dispatchEvent(new CustomEvent<number>('rl-pair-select', { detail: pair, bubbles: true, composed: true }));
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'rl-pairs-grid': PairsGrid;
  }
}
