import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-progress-ring/index.js';
import { LitElement, css, html, nothing } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import type { ReanswerReport, ReplayReport } from '../../src/shared/explorerModel.js';
import './diffView.js';
import { formatRatio } from './format.js';
import { metricCard } from './metricCards.js';
import { rpc } from './rpc.js';
import { RunController } from './runController.js';
import { cachedReanswer, keepReanswer } from './session.js';
import { baseStyles } from './styles.js';
import { wordCounts } from './textDiff.js';
import { viewStyles } from './viewStyles.js';

/**
 * "Re-answer with this context": asks the model again from the replayed context (the host records it
 * as ReplayAnswered), streams the new answer, then sets it beside the original with a word diff and
 * their similarity.
 */
@customElement('rl-reanswer')
export class Reanswer extends LitElement {
  static override styles = [
    baseStyles,
    viewStyles,
    css`
      :host { display: block; }
      .answers { display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); gap: 8px; }
      @container (max-width: 640px) { .answers { grid-template-columns: minmax(0, 1fr); } }
      .answer { font-family: inherit; white-space: pre-wrap; overflow-wrap: anywhere; unicode-bidi: plaintext; border: 1px solid var(--vscode-panel-border, var(--vscode-contrastBorder, transparent)); padding: 6px 10px; max-height: 360px; overflow: auto; margin: 0; line-height: 1.45; }
      .answer[aria-busy='true']::after { content: '▍'; animation: blink 1s steps(1) infinite; color: var(--vscode-editorCursor-foreground, var(--vscode-foreground)); }
      @keyframes blink { 50% { opacity: 0; } }
      @media (prefers-reduced-motion: reduce) { .answer[aria-busy='true']::after { animation: none; } }
      h3 { display: flex; gap: 8px; align-items: baseline; }
      rl-diff-view { margin-top: 4px; }
    `,
  ];

  @property({ attribute: false }) accessor report: ReplayReport | null = null;
  @state() private accessor streamed = '';
  @state() private accessor result: ReanswerReport | null = null;
  private readonly run = new RunController<ReanswerReport>(this, (text) => (this.streamed += text));

  override willUpdate(changed: Map<PropertyKey, unknown>): void {
    if (changed.has('report')) {
      this.result = this.report ? (cachedReanswer(this.report.replayId) ?? null) : null;
      this.streamed = '';
    }
  }

  private async start(): Promise<void> {
    const r = this.report;
    if (!r || this.run.running) return;
    this.streamed = '';
    this.result = null;
    const out = await this.run.run(rpc.call('reanswer', { queryId: r.queryId, replayId: r.replayId }));
    if (out && this.report?.replayId === out.replayId) {
      keepReanswer(out);
      this.result = out;
    }
  }

  override render() {
    const r = this.report;
    if (!r) return nothing;
    const running = this.run.running;
    return html`
      <div class="toolbar">
        <vscode-button icon="comment-discussion" ?disabled=${running} @click=${() => void this.start()}>${this.result ? 'Re-answer again' : 'Re-answer with this context'}</vscode-button>
        ${running ? html`<vscode-button secondary icon="debug-stop" ?disabled=${this.run.cancelling} @click=${() => this.run.cancel()}>Cancel</vscode-button>` : nothing}
        <span class="quiet">Asks the model again with the replayed context; the original answer stays as it was.</span>
      </div>
      <div class="status" role="status">
        ${running ? html`<vscode-progress-ring aria-label="Answering"></vscode-progress-ring>${this.run.cancelling ? 'Cancelling…' : `Answering… ${this.streamed.length} characters (Esc cancels)`}` : this.run.cancelled ? 'Re-answer cancelled.' : this.result ? 'Re-answered.' : ''}
      </div>
      ${this.run.error ? html`<div class="notice error" role="alert">${this.run.error.message}${this.run.error.hint ? html`<br /><span class="muted">${this.run.error.hint}</span>` : nothing}</div>` : nothing}
      ${running || (this.streamed && !this.result) ? html`<pre class="answer" aria-busy=${running ? 'true' : 'false'} aria-label="New answer, streaming" tabindex="0">${this.streamed}</pre>` : nothing}
      ${this.result ? this.renderResult(this.result, r) : nothing}
    `;
  }

  private renderResult(a: ReanswerReport, r: ReplayReport) {
    const original = a.originalText ?? r.originalAnswer?.text ?? null;
    const counts = a.diff ? wordCounts(a.diff) : null;
    return html`
      ${a.failure ? html`<div class="notice warning" role="alert">The model did not answer (<bdi>${a.failure}</bdi>): the new answer is extractive, built from the context itself.</div>` : nothing}
      <div class="cards">
        ${metricCard('similarity', formatRatio(a.similarity), 'How alike the two answers are (1: the same words)')}
        ${counts ? metricCard('words added / removed', `+${counts.added} / −${counts.removed}`, 'Words of the new answer not in the original, and the reverse') : nothing}
      </div>
      <div class="answers">
        <div>
          <h3>Original answer <span class="muted"><bdi>${r.originalAnswer?.modelId ?? ''}</bdi></span></h3>
          ${original === null ? html`<p class="muted">The question had no recorded answer.</p>` : html`<pre class="answer" tabindex="0">${original}</pre>`}
        </div>
        <div>
          <h3>New answer <span class="muted"><bdi>${a.modelId}</bdi></span></h3>
          <pre class="answer" tabindex="0">${a.text}</pre>
        </div>
      </div>
      ${a.diff ? html`<h3>Differences</h3><rl-diff-view mode="word" .parts=${a.diff} label="Changes from the original answer to the new one"></rl-diff-view>` : nothing}
    `;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'rl-reanswer': Reanswer;
  }
}
