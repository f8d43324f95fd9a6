// Styles shared by the Replay, Compare and Document history views: toolbars, sections, grids and
// text from the log (which may be huge, right-to-left or hostile, and must never break the layout).
import { css } from 'lit';

/** The host of a whole view: fills the tab panel and scrolls. */
export const pageHost = css`
  :host { display: block; flex: 1; min-height: 0; overflow: auto; container-type: inline-size; }
`;

export const viewStyles = css`
  .page { padding: 8px 16px 24px; max-width: 1600px; }
  h1 { font-size: 1.25em; font-weight: 600; margin: 4px 0 2px; line-height: 1.35; }
  h2 { font-size: 11px; font-weight: 700; text-transform: uppercase; letter-spacing: 0.04em; margin: 18px 0 6px; color: var(--vscode-foreground); display: flex; gap: 8px; align-items: baseline; }
  h2 .muted, h3 .muted { text-transform: none; letter-spacing: normal; font-weight: normal; }
  h3 { font-size: 1em; font-weight: 600; margin: 12px 0 4px; }
  p { margin: 4px 0; }
  .toolbar { display: flex; flex-wrap: wrap; gap: 6px 12px; align-items: center; margin: 8px 0; }
  .toolbar .field { display: inline-flex; gap: 6px; align-items: center; }
  .toolbar vscode-single-select { min-width: 180px; max-width: 320px; }
  .spacer { flex: 1; }
  .cards { display: flex; flex-wrap: wrap; gap: 6px; margin: 4px 0; align-items: stretch; }
  .metric-group { margin: 4px 0 8px; }
  .metric-group .group-label { color: var(--vscode-descriptionForeground); font-size: 11px; margin: 0 0 2px; }
  .metric .value { font-variant-numeric: tabular-nums; }
  .metric .delta { font-size: 0.9em; font-variant-numeric: tabular-nums; }
  .status { min-height: 1.4em; display: flex; gap: 8px; align-items: center; }
  .status vscode-progress-bar { flex: 1; max-width: 320px; }
  .quiet { color: var(--vscode-descriptionForeground); font-size: 0.92em; }
  .quiet .codicon { font-size: 14px; margin-right: 4px; vertical-align: -2px; }
  /* Text from the log: wrapped anywhere (a 10 kB word stays in its box), isolated for bidi marks. */
  .text { white-space: pre-wrap; overflow-wrap: anywhere; unicode-bidi: plaintext; }
  .clip { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; min-width: 0; unicode-bidi: isolate; }
  bdi { unicode-bidi: isolate; }
  .num { font-variant-numeric: tabular-nums; text-align: right; }
  .badge { display: inline-block; padding: 0 6px; border-radius: 8px; font-size: 11px; line-height: 16px; border: 1px solid var(--vscode-contrastBorder, transparent); background: var(--vscode-badge-background); color: var(--vscode-badge-foreground); white-space: nowrap; }
  .badge.outline { background: transparent; color: var(--vscode-descriptionForeground); border-color: var(--vscode-descriptionForeground); }
  .empty { padding: 24px 16px; max-width: 640px; }
  .empty h1 { margin-bottom: 8px; }
  button.link { display: inline; text-align: start; }
  button.link:focus-visible { outline: 1px solid var(--vscode-focusBorder); outline-offset: 1px; }

  /* Grids (role=grid): VS Code list look, one focusable cell at a time. */
  .grid { border: 1px solid var(--vscode-panel-border, var(--vscode-contrastBorder, transparent)); font-variant-numeric: tabular-nums; }
  .grid [role='row'] { display: grid; grid-template-columns: var(--cols); align-items: center; min-height: 24px; border-bottom: 1px solid var(--vscode-tree-tableColumnsBorder, transparent); }
  .grid .head { background: var(--vscode-keybindingTable-headerBackground, var(--vscode-editorWidget-background)); font-weight: 600; position: sticky; top: 0; z-index: 1; }
  .grid [role='gridcell'], .grid [role='columnheader'] { padding: 2px 8px; min-width: 0; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
  .grid [role='columnheader'] button { all: unset; cursor: pointer; display: inline-flex; gap: 2px; align-items: center; max-width: 100%; }
  .grid [role='columnheader'][aria-sort='ascending'], .grid [role='columnheader'][aria-sort='descending'] { color: var(--vscode-textLink-foreground); }
  .grid .body [role='row'] { cursor: pointer; }
  .grid .body [role='row']:hover { background: var(--vscode-list-hoverBackground); color: var(--vscode-list-hoverForeground, inherit); }
  .grid .body [role='row'][aria-selected='true'] { background: var(--vscode-list-inactiveSelectionBackground); color: var(--vscode-list-inactiveSelectionForeground, inherit); outline: 1px dotted var(--vscode-contrastActiveBorder, transparent); outline-offset: -1px; }
  .grid .body [role='row']:focus-within { background: var(--vscode-list-inactiveSelectionBackground); }
  .grid:focus-within .body [role='row'][aria-selected='true'] { background: var(--vscode-list-activeSelectionBackground); color: var(--vscode-list-activeSelectionForeground, inherit); }
  .grid [role='gridcell']:focus, .grid [role='columnheader']:focus { outline: 1px solid var(--vscode-list-focusOutline, var(--vscode-focusBorder)); outline-offset: -1px; }
  .grid [role='gridcell'].num, .grid [role='columnheader'].num { text-align: right; justify-content: flex-end; }
  .grid .none { padding: 8px; color: var(--vscode-descriptionForeground); }

  @media (forced-colors: active) {
    .grid .body [role='row'][aria-selected='true'] { outline: 2px solid Highlight; }
  }
`;
