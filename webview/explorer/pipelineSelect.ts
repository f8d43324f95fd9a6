import '@vscode-elements/elements/dist/vscode-option/index.js';
import '@vscode-elements/elements/dist/vscode-single-select/index.js';
import { html } from 'lit';
import type { TemplateResult } from 'lit';
import type { PipelineSummary } from '../../src/shared/explorerModel.js';
import { pipelineLabel } from './replayModel.js';

/**
 * A drop-down of pipeline versions, each marked active or not built, with what differs as the
 * option's description. `id` lets a `<label for>` name it. Never disabled: vscode-single-select
 * leaves itself out of the tab order once re-enabled (2.5.1); a running request keeps its parameters.
 */
export function pipelineSelect(id: string, pipelines: readonly PipelineSummary[], value: string | null, onChange: (version: string) => void): TemplateResult {
  return html`<vscode-single-select id=${id} .value=${value ?? ''}
    @change=${(e: Event) => onChange((e.target as HTMLSelectElement).value)}>
    ${pipelines.map((p) => html`<vscode-option value=${p.version} description=${p.description} ?selected=${p.version === value}>${pipelineLabel(p)}</vscode-option>`)}
  </vscode-single-select>`;
}
