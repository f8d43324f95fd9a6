// One row of the timeline grid as a plain template (no element per row: a million-event log scrolls
// through thousands of them), the header row, and the grid's styles. Everything from the log is a text
// binding; long or hostile text is clipped by the cell, never by the layout.
import { css, html, nothing } from 'lit';
import type { TemplateResult } from 'lit';
import type { TimelineRow } from '../../src/shared/explorerModel.js';
import { formatCount, formatTime, iconFor } from './format.js';
import { icon } from './icons.js';
import { ROW_HEIGHT } from './rowWindow.js';

/** The columns, shared by the header and the rows. */
export const COLUMNS = ['Position', 'Time', 'Type', 'Stream / subject', 'Summary'] as const;

/** Tooltips are capped: a 10 kB word in a title attribute helps nobody. */
const tip = (s: string): string => (s.length > 500 ? `${s.slice(0, 500)}…` : s);

export const rowId = (index: number): string => `row-${index}`;

/** The date part is hidden when the list is narrow; the tooltip keeps the recorded ISO time. */
function timeCell(iso: string): TemplateResult {
  const t = formatTime(iso);
  const space = t.indexOf(' ');
  return space < 0 ? html`${t}` : html`<span class="date">${t.slice(0, space + 1)}</span>${t.slice(space + 1)}`;
}

export function renderHeader(): TemplateResult {
  return html`<div class="row header" role="row" aria-rowindex="1">
    ${COLUMNS.map((c, i) => html`<div class="cell c${i}" role="columnheader">${c}</div>`)}
  </div>`;
}

/** Row `index` of the filtered timeline; `row` undefined while its page loads. */
export function renderRow(index: number, row: TimelineRow | undefined, active: boolean, selected: boolean): TemplateResult {
  const cls = `row${active ? ' active' : ''}${selected ? ' selected' : ''}`;
  if (!row) {
    return html`<div class="${cls} loading" role="row" id=${rowId(index)} aria-rowindex=${index + 2} data-i=${index}>
      <div class="cell c0" role="gridcell"></div>
      <div class="cell c1" role="gridcell"><span class="sr-only">Loading</span><span class="bar"></span></div>
      <div class="cell c2" role="gridcell"><span class="bar short"></span></div>
      <div class="cell c3" role="gridcell"></div>
      <div class="cell c4" role="gridcell"></div>
    </div>`;
  }
  const subject = row.subject ?? row.streamId;
  return html`<div class="${cls}${row.failed ? ' failed' : ''}" role="row" id=${rowId(index)} aria-rowindex=${index + 2} aria-selected=${selected ? 'true' : 'false'} data-i=${index}>
    <div class="cell c0" role="gridcell">${formatCount(row.position)}</div>
    <div class="cell c1" role="gridcell" title=${row.recordedAt}>${timeCell(row.recordedAt)}</div>
    <div class="cell c2" role="gridcell">${icon(iconFor(row.type), `g-${row.group}`)}<span class="text">${row.type}</span></div>
    <div class="cell c3" role="gridcell" title=${tip(row.subject === null ? row.streamId : `${row.subject}\n${row.streamId}`)}><span class="text" dir="auto">${subject}</span></div>
    <div class="cell c4" role="gridcell" title=${tip(row.summary)}>
      ${row.failed ? html`${icon('error', 'failed-icon')}<span class="sr-only">Failed: </span>` : nothing}<span class="text" dir="auto">${row.summary}</span>
    </div>
  </div>`;
}

export const rowStyles = css`
  .row {
    display: flex;
    align-items: center;
    gap: 10px;
    width: 100%;
    height: ${ROW_HEIGHT}px;
    line-height: ${ROW_HEIGHT}px;
    padding: 0 10px 0 8px;
    white-space: nowrap;
    cursor: pointer;
    user-select: none;
  }
  .row.header {
    cursor: default;
    flex: none;
    color: var(--vscode-descriptionForeground);
    font-size: 11px;
    border-bottom: 1px solid var(--vscode-tree-tableColumnsBorder, var(--vscode-editorGroup-border, transparent));
  }
  .cell { overflow: hidden; text-overflow: ellipsis; min-width: 0; }
  .cell .text { overflow: hidden; text-overflow: ellipsis; unicode-bidi: isolate; }
  .c0 { flex: 0 0 76px; text-align: right; font-variant-numeric: tabular-nums; color: var(--vscode-descriptionForeground); }
  .c1 { flex: 0 0 178px; font-variant-numeric: tabular-nums; }
  .c2 { flex: 0 0 180px; display: flex; align-items: center; gap: 6px; }
  .c3 { flex: 1 1 0; min-width: 60px; display: flex; }
  .c4 { flex: 2 1 0; min-width: 80px; display: flex; align-items: center; gap: 4px; }
  .header .cell { display: block; }
  @container (max-width: 780px) {
    .c1 { flex-basis: 88px; }
    .c1 .date { display: none; }
    .c2 { flex-basis: 150px; }
    .c0 { flex-basis: 60px; }
  }
  .row:not(.header):hover { background: var(--vscode-list-hoverBackground); color: var(--vscode-list-hoverForeground, inherit); }
  .row.selected { background: var(--vscode-list-inactiveSelectionBackground); color: var(--vscode-list-inactiveSelectionForeground, inherit); }
  .grid:focus .row.selected { background: var(--vscode-list-activeSelectionBackground); color: var(--vscode-list-activeSelectionForeground, inherit); }
  .grid:focus .row.active { outline: 1px solid var(--vscode-list-focusOutline, var(--vscode-focusBorder)); outline-offset: -1px; }
  .grid:focus .row.active:not(.selected) { background: var(--vscode-list-focusBackground, transparent); }
  .grid:focus .row.selected .c0 { color: inherit; }
  .row.failed .failed-icon { color: var(--vscode-errorForeground); }
  .row.failed:not(.selected) .c4 .text { color: var(--vscode-errorForeground); }
  .row.loading { cursor: default; }
  .row.loading .bar { display: inline-block; width: 120px; height: 6px; border-radius: 3px; vertical-align: middle; background: var(--vscode-editorWidget-border, var(--vscode-descriptionForeground)); opacity: 0.25; }
  .row.loading .bar.short { width: 90px; }
  :host-context(.vscode-high-contrast) .row:not(.header):hover,
  :host-context(.vscode-high-contrast-light) .row:not(.header):hover { outline: 1px dashed var(--vscode-contrastActiveBorder); outline-offset: -1px; }
  :host-context(.vscode-high-contrast) .row.selected,
  :host-context(.vscode-high-contrast-light) .row.selected { outline: 1px solid var(--vscode-contrastActiveBorder); outline-offset: -1px; }
`;

/** The grid around the rows: scroller, status lines, the "new events" pill. */
export const gridStyles = css`
  :host { display: flex; flex-direction: column; flex: 1; min-height: 0; min-width: 0; position: relative; container-type: inline-size; }
  .grid { display: flex; flex-direction: column; flex: 1; min-height: 0; outline: none; }
  .grid:focus-visible:not([aria-activedescendant]) { outline: 1px solid var(--vscode-focusBorder); outline-offset: -1px; }
  /* min-height is also set inline (timelineGrid): the virtualizer gives itself an inline 150px otherwise,
     which overflows a short list and paints its rows over the event detail below it. */
  lit-virtualizer { flex: 1; min-height: 0; outline: none; }
  .status { padding: 12px 16px; }
  .pill {
    position: absolute; bottom: 10px; left: 50%; transform: translateX(-50%);
    display: inline-flex; align-items: center; gap: 4px; padding: 2px 10px; border-radius: 11px; cursor: pointer;
    font: inherit; background: var(--vscode-button-background); color: var(--vscode-button-foreground);
    border: 1px solid var(--vscode-button-border, var(--vscode-contrastBorder, transparent));
    box-shadow: 0 1px 4px var(--vscode-widget-shadow, transparent);
  }
  .pill:hover { background: var(--vscode-button-hoverBackground); }
  .pill:focus-visible { outline: 1px solid var(--vscode-focusBorder); outline-offset: 2px; }
`;
