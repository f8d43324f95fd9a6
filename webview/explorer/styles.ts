// Styles shared by the explorer's components. Colours come only from VS Code's theme variables, so
// light, dark and both high-contrast themes work; focus is always visible (focusBorder).
import { css } from 'lit';

export const baseStyles = css`
  :host {
    color: var(--vscode-foreground);
    font-family: var(--vscode-font-family);
    font-size: var(--vscode-font-size);
    box-sizing: border-box;
  }
  *, *::before, *::after { box-sizing: inherit; }
  :focus-visible { outline: 1px solid var(--vscode-focusBorder); outline-offset: -1px; }
  .mono { font-family: var(--vscode-editor-font-family); font-size: var(--vscode-editor-font-size, 12px); }
  .muted { color: var(--vscode-descriptionForeground); }
  .error { color: var(--vscode-errorForeground); }
  .codicon { font: normal normal normal 16px/1 codicon; display: inline-block; text-decoration: none; text-rendering: auto; text-align: center; -webkit-font-smoothing: antialiased; user-select: none; vertical-align: text-bottom; }
  a, .link { color: var(--vscode-textLink-foreground); cursor: pointer; text-decoration: none; background: none; border: none; padding: 0; font: inherit; }
  a:hover, .link:hover { color: var(--vscode-textLink-activeForeground); text-decoration: underline; }
  .notice { padding: 6px 10px; border-left: 3px solid var(--vscode-editorInfo-foreground); background: var(--vscode-textBlockQuote-background); margin: 8px 0; }
  .notice.warning { border-left-color: var(--vscode-editorWarning-foreground); }
  .notice.error { border-left-color: var(--vscode-editorError-foreground); color: var(--vscode-foreground); }
  .diff-add { background: var(--vscode-diffEditor-insertedTextBackground); color: var(--vscode-foreground); text-decoration: none; }
  .diff-del { background: var(--vscode-diffEditor-removedTextBackground); color: var(--vscode-foreground); text-decoration: line-through; }
  .move-up { color: var(--vscode-charts-green); }
  .move-down { color: var(--vscode-charts-red); }
  .move-new { color: var(--vscode-charts-blue); }
  .move-dropped { color: var(--vscode-descriptionForeground); }
  .sr-only { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
  .metric { display: inline-flex; flex-direction: column; padding: 6px 12px; border: 1px solid var(--vscode-panel-border, var(--vscode-contrastBorder, transparent)); border-radius: 2px; min-width: 96px; }
  .metric .value { font-size: 1.4em; font-weight: 600; }
  .metric .label { color: var(--vscode-descriptionForeground); font-size: 0.9em; }
`;
