import { LitElement, css, html } from 'lit';
import type { TemplateResult } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import { styleProps } from './styleProps.js';
import type { DocumentVersionView } from '../../src/shared/explorerModel.js';
import { formatBytes, shortHash, stateLabel } from './documentModel.js';
import { formatTime } from './format.js';
import { GridFocus } from './gridFocus.js';
import { baseStyles } from './styles.js';
import { viewStyles } from './viewStyles.js';

interface Column {
  readonly label: string;
  readonly width: string;
  readonly num?: boolean;
  readonly cell: (v: DocumentVersionView) => TemplateResult | string;
  readonly title?: (v: DocumentVersionView) => string;
}

const COLUMNS: readonly Column[] = [
  { label: 'Version', width: '72px', cell: (v) => html`<strong>v${v.ordinal}</strong>` },
  { label: 'Submitted', width: '172px', cell: (v) => formatTime(v.submittedAt), title: (v) => v.submittedAt },
  { label: 'Content hash', width: '112px', cell: (v) => html`<span class="mono">${shortHash(v.contentHash)}</span>`, title: (v) => v.contentHash ?? '' },
  { label: 'Size', width: '76px', num: true, cell: (v) => formatBytes(v.bytes), title: (v) => `${v.bytes} bytes` },
  {
    label: 'State',
    width: 'minmax(160px, 1fr)',
    cell: (v) => html`<span class=${v.state.kind === 'rejected' ? 'error' : v.state.kind === 'pending' ? 'muted' : ''}>${stateLabel(v.state)}</span>`,
    title: (v) => (v.state.kind === 'rejected' ? `${v.state.reason}: ${v.state.detail}` : stateLabel(v.state)),
  },
  { label: 'Chunked by', width: '92px', num: true, cell: (v) => String(v.chunkings.length), title: (v) => v.chunkings.map((c) => c.pipelineVersion).join(', ') },
  { label: 'Cited by', width: '76px', num: true, cell: (v) => String(v.citedBy.length) },
  { label: 'Event', width: '72px', num: true, cell: (v) => `#${v.position}` },
];

/**
 * A document's versions as a grid, newest last; the focused row is the selected version
 * (raises `rl-version-select` with its ordinal).
 */
@customElement('rl-document-versions')
export class DocumentVersions extends LitElement {
  static override styles = [baseStyles, viewStyles, css`:host { display: block; } .grid { overflow-x: auto; }`];

  @property({ attribute: false }) accessor versions: readonly DocumentVersionView[] = [];
  @property({ type: Number }) accessor selected = -1;

  private readonly grid = new GridFocus(this, {
    rows: () => this.versions.length,
    cols: () => COLUMNS.length,
    onRow: (row) => this.emit(row),
    onActivate: (row) => this.emit(row),
  });

  override willUpdate(changed: Map<PropertyKey, unknown>): void {
    if (changed.has('selected')) {
      const row = this.versions.findIndex((v) => v.ordinal === this.selected);
      if (row >= 0) this.grid.row = row;
    }
  }

  override render() {
    return html`<div class="grid" role="grid" aria-label="Versions" aria-rowcount=${this.versions.length + 1} aria-colcount=${COLUMNS.length}
      ${styleProps({ '--cols': COLUMNS.map((c) => c.width).join(' ') })} @keydown=${this.grid.onKeyDown}>
      <div role="rowgroup"><div class="head" role="row" aria-rowindex="1">${COLUMNS.map((c) => html`<div role="columnheader" class=${c.num ? 'num' : ''}>${c.label}</div>`)}</div></div>
      <div class="body" role="rowgroup">
        ${this.versions.map(
          (v, r) => html`<div role="row" aria-rowindex=${r + 2} aria-selected=${v.ordinal === this.selected ? 'true' : 'false'} @click=${() => this.emit(r)}>
            ${COLUMNS.map((c, ci) => html`<div role="gridcell" class=${c.num ? 'num' : ''} data-r=${r} data-c=${ci} tabindex=${this.grid.tabIndex(r, ci)} title=${c.title?.(v) ?? ''} @focus=${() => this.grid.focused(r, ci)}>${c.cell(v)}</div>`)}
          </div>`,
        )}
      </div>
    </div>`;
  }

  private emit(row: number): void {
    const v = this.versions[row];
    if (!v || v.ordinal === this.selected) return;
    this.dispatchEvent(new CustomEvent<number>('rl-version-select', { detail: v.ordinal }));
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'rl-document-versions': DocumentVersions;
  }
  interface HTMLElementEventMap {
    'rl-version-select': CustomEvent<number>;
  }
}
