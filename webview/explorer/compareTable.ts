import { virtualize } from '@lit-labs/virtualizer/virtualize.js';
import { LitElement, css, html, nothing } from 'lit';
import type { TemplateResult } from 'lit';
import { customElement, property, query } from 'lit/decorators.js';
import { styleProps } from './styleProps.js';
import type { CompareRow } from '../../src/shared/explorerModel.js';
import type { SortKey, SortState } from './compareModel.js';
import { answerLabel } from './compareModel.js';
import { formatRatio } from './format.js';
import { GridFocus } from './gridFocus.js';
import { icon } from './icons.js';
import { baseStyles } from './styles.js';
import { viewStyles } from './viewStyles.js';

/** Above this many rows the grid renders only what is visible. */
const VIRTUAL_FROM = 150;
const ROW_H = 24;

interface Column {
  readonly key: SortKey | 'recall';
  readonly label: string;
  readonly width: string;
  readonly num: boolean;
  readonly cell: (row: CompareRow) => TemplateResult | string;
}

/**
 * The per-question table of a comparison as a grid: sortable headers (with aria-sort), one focusable
 * cell moved by the arrow keys, rows virtualized when there are many. Enter or a click on a row raises
 * `rl-open-row` (its replay); a header raises `rl-sort`.
 */
@customElement('rl-compare-table')
export class CompareTable extends LitElement {
  static override styles = [
    baseStyles,
    viewStyles,
    css`
      :host { display: block; }
      .wrap { overflow-x: auto; }
      .wrap .grid { min-width: 760px; }
      .body { max-height: min(62vh, 720px); overflow-y: auto; overflow-x: hidden; position: relative; }
      .body.virtual { height: min(62vh, 720px); }
      .body [role='row'] { width: 100%; height: ${ROW_H}px; }
      .q { unicode-bidi: plaintext; }
      .unknown { cursor: default; }
      .dim { color: var(--vscode-descriptionForeground); }
    `,
  ];

  @property({ attribute: false }) accessor rows: readonly CompareRow[] = [];
  @property({ type: Number }) accessor k = 0;
  @property({ type: Boolean }) accessor golden = false;
  @property({ attribute: false }) accessor sort: SortState | null = null;
  /** The row focused when the table was last left (restored on return). */
  @property({ type: Number }) accessor initialRow = 0;
  @query('.body') private accessor body!: HTMLElement;

  private readonly grid = new GridFocus(this, {
    rows: () => this.rows.length,
    cols: () => this.columns().length,
    page: () => Math.max(1, Math.floor((this.body?.clientHeight ?? 240) / ROW_H) - 1),
    onActivate: (row) => this.open(row),
    reveal: (row) => this.reveal(row),
  });

  override willUpdate(changed: Map<PropertyKey, unknown>): void {
    if (changed.has('initialRow')) this.grid.row = this.initialRow;
    if (changed.has('rows') && this.grid.row >= this.rows.length) this.grid.row = Math.max(0, this.rows.length - 1);
  }

  override updated(changed: Map<PropertyKey, unknown>): void {
    if (changed.has('initialRow') && this.initialRow > 0) void this.reveal(this.initialRow);
  }

  /** The row whose cell is in the tab order. */
  get focusedRow(): number {
    return this.grid.row;
  }

  private columns(): Column[] {
    const k = this.k;
    const cols: Column[] = [
      { key: 'question', label: 'Question', width: 'minmax(200px, 1fr)', num: false, cell: (r) => html`<span class="q">${r.question}</span>` },
      { key: 'overlap', label: `overlap@${k}`, width: '88px', num: true, cell: (r) => formatRatio(r.metrics.overlapAtK) },
      { key: 'rbo', label: 'RBO', width: '64px', num: true, cell: (r) => formatRatio(r.metrics.rbo) },
      { key: 'shift', label: 'Rank shift', width: '80px', num: true, cell: (r) => (r.metrics.meanRankShift === null ? '–' : r.metrics.meanRankShift.toFixed(2)) },
      { key: 'added', label: 'Added', width: '60px', num: true, cell: (r) => (r.added > 0 ? html`<span class="move-new">+${r.added}</span>` : '0') },
      { key: 'removed', label: 'Removed', width: '68px', num: true, cell: (r) => (r.removed > 0 ? html`<span class="move-down">−${r.removed}</span>` : '0') },
      { key: 'answer', label: 'Answer', width: '130px', num: false, cell: (r) => html`<span class=${r.answer.kind === 'unknown' ? 'dim' : ''}>${answerLabel(r)}</span>` },
    ];
    if (this.golden) cols.push({ key: 'recall', label: `recall@${k}`, width: '104px', num: true, cell: (r) => (r.golden ? `${r.golden.fromRecall.toFixed(2)} → ${r.golden.toRecall.toFixed(2)}` : '–') });
    return cols;
  }

  override render() {
    const cols = this.columns();
    const vars = { '--cols': cols.map((c) => c.width).join(' ') };
    const virtual = this.rows.length > VIRTUAL_FROM;
    const renderRow = (row: CompareRow, i: number): TemplateResult => this.renderRow(row, i, cols);
    return html`<div class="wrap"><div class="grid" role="grid" aria-label="Questions compared" aria-rowcount=${this.rows.length + 1} aria-colcount=${cols.length} ${styleProps(vars)} @keydown=${this.grid.onKeyDown}>
      <div role="rowgroup"><div class="head" role="row" aria-rowindex="1">${cols.map((c) => this.renderHeader(c))}</div></div>
      <div class="body ${virtual ? 'virtual' : ''}" role="rowgroup">
        ${this.rows.length === 0 ? html`<div class="none" role="row"><span role="gridcell">No question to show.</span></div>` : virtual ? virtualize({ items: this.rows as CompareRow[], renderItem: renderRow, scroller: true }) : this.rows.map(renderRow)}
      </div>
    </div></div>`;
  }

  private renderHeader(c: Column) {
    const sortable = c.key !== 'recall';
    const sorted = this.sort?.key === c.key ? this.sort.dir : null;
    return html`<div role="columnheader" class=${c.num ? 'num' : ''} aria-sort=${sorted ?? 'none'}>
      ${sortable
        ? html`<button title="Sort by ${c.label}" @click=${() => this.dispatchEvent(new CustomEvent<SortKey>('rl-sort', { detail: c.key as SortKey }))}>${c.label}${sorted ? icon(sorted === 'ascending' ? 'arrow-up' : 'arrow-down') : nothing}</button>`
        : c.label}
    </div>`;
  }

  private renderRow(row: CompareRow, r: number, cols: readonly Column[]) {
    return html`<div role="row" aria-rowindex=${r + 2} class=${row.queryId ? '' : 'unknown'} @click=${() => this.open(r)}>
      ${cols.map(
        (c, ci) => html`<div role="gridcell" class=${c.num ? 'num' : ''} data-r=${r} data-c=${ci} tabindex=${this.grid.tabIndex(r, ci)}
          title=${ci === 0 ? row.question : ''} @focus=${() => this.grid.focused(r, ci)}>${c.cell(row)}</div>`,
      )}
    </div>`;
  }

  private open(r: number): void {
    const row = this.rows[r];
    if (!row) return;
    this.grid.row = r;
    this.dispatchEvent(new CustomEvent<CompareRow>('rl-open-row', { detail: row }));
  }

  /** Scrolls a row into view (rows have a fixed height, so its place is known before it is rendered). */
  private async reveal(row: number): Promise<void> {
    await this.updateComplete;
    const body = this.body;
    if (!body) return;
    const top = row * ROW_H;
    if (top < body.scrollTop) body.scrollTop = top;
    else if (top + ROW_H > body.scrollTop + body.clientHeight) body.scrollTop = top + ROW_H - body.clientHeight;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'rl-compare-table': CompareTable;
  }
  interface HTMLElementEventMap {
    'rl-sort': CustomEvent<SortKey>;
    'rl-open-row': CustomEvent<CompareRow>;
  }
}
