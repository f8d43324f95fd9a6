// A question's chain in the event detail: the original ask and each replay as groups of steps
// (received → retrieved → prompted → answered) with the time between them; each step selects its event.
import { css, html, nothing } from 'lit';
import type { TemplateResult } from 'lit';
import type { QuestionChain } from '../../src/shared/explorerModel.js';
import { formatCount, formatDuration, iconFor } from './format.js';
import { icon } from './icons.js';

export interface ChainHandlers {
  /** The group (for its colour) of an event type. */
  readonly groupOf: (type: string) => string;
  readonly select: (position: number) => void;
}

/** The chain, the step at `current` marked as the one shown. */
export function renderChain(chain: QuestionChain, current: number, on: ChainHandlers): TemplateResult {
  return html`<div class="chain">
    <p class="question" dir="auto">${chain.question}</p>
    ${chain.groups.map(
      (g) => html`<section class="chain-group" aria-label=${g.label}>
        <div class="chain-head"><span class="chain-label">${g.label}</span><span class="muted">${g.totalMs !== null ? `total ${formatDuration(g.totalMs)}` : ''}</span></div>
        <ol class="steps">
          ${g.steps.map(
            (s) => html`<li>
              <button class="step${s.position === current ? ' current' : ''}${s.failed ? ' failed' : ''}" aria-current=${s.position === current ? 'true' : nothing} title=${`${s.type} at position ${formatCount(s.position)}`} @click=${() => on.select(s.position)}>
                ${s.failed ? icon('error', 'failed-icon') : icon(iconFor(s.type), `g-${on.groupOf(s.type)}`)}
                <span class="step-type">${s.type}${s.failed ? html`<span class="sr-only"> (failed)</span>` : nothing}</span>
                <span class="step-summary" dir="auto">${s.summary}</span>
                <span class="step-time">${s.sincePrevMs !== null ? `+${formatDuration(s.sincePrevMs)}` : ''}</span>
              </button>
            </li>`,
          )}
        </ol>
      </section>`,
    )}
  </div>`;
}

export const chainStyles = css`
  .question { margin: 0 0 6px; overflow-wrap: anywhere; unicode-bidi: plaintext; max-height: 6.5em; overflow: auto; }
  .chain-group { margin: 0 0 6px; }
  .chain-head { display: flex; justify-content: space-between; gap: 8px; padding: 2px 0; font-weight: 600; }
  .steps { list-style: none; margin: 0; padding: 0 0 0 6px; border-left: 1px solid var(--vscode-tree-indentGuidesStroke, var(--vscode-panel-border, transparent)); }
  .step { display: flex; align-items: center; gap: 6px; width: 100%; height: 22px; padding: 0 6px; border: none; background: none; color: inherit; font: inherit; text-align: left; cursor: pointer; border-radius: 2px; }
  .step:hover { background: var(--vscode-list-hoverBackground); }
  .step.current { background: var(--vscode-list-inactiveSelectionBackground); color: var(--vscode-list-inactiveSelectionForeground, inherit); }
  .step.failed .failed-icon, .step.failed .step-type { color: var(--vscode-errorForeground); }
  .step-type { flex: none; }
  .step-summary { flex: 1; min-width: 0; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; color: var(--vscode-descriptionForeground); unicode-bidi: isolate; }
  .step-time { flex: none; font-variant-numeric: tabular-nums; color: var(--vscode-descriptionForeground); }
`;
