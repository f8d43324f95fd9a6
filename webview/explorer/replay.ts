import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-progress-bar/index.js';
import '@vscode-elements/elements/dist/vscode-radio-group/index.js';
import '@vscode-elements/elements/dist/vscode-radio/index.js';
import { LitElement, css, html, nothing } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import type { ReplayReport } from '../../src/shared/explorerModel.js';
import type { ExplorerInit } from '../../src/shared/explorerProtocol.js';
import './contextColumns.js';
import { navigate, rememberState } from './events.js';
import { formatTime } from './format.js';
import { icon } from './icons.js';
import { metricCard, metricGroup, rankingCards } from './metricCards.js';
import './pairDetail.js';
import './pairsGrid.js';
import { pipelineSelect } from './pipelineSelect.js';
import './questionPicker.js';
import './reanswer.js';
import { defaultPipeline, pairsSummary } from './replayModel.js';
import { rpc } from './rpc.js';
import { RunController } from './runController.js';
import { cachedReplay, compareSession, keepReplay } from './session.js';
import { baseStyles } from './styles.js';
import { pageHost, viewStyles } from './viewStyles.js';

type AsOf = 'now' | 'asked';

/**
 * The Replay view: a past question run again against any pipeline version (now, or as of when it was
 * asked), and how its retrieved context moved: metrics, both rankings side by side with a slope chart,
 * every aligned pair as a grid, the text (or the word diff) of the selected pair, and a re-answer from
 * the replayed context. A replay is recorded in the log; it never changes the active pipeline.
 */
@customElement('rl-replay')
export class ReplayView extends LitElement {
  static override styles = [
    baseStyles,
    pageHost,
    viewStyles,
    css`
      .metrics { display: flex; flex-wrap: wrap; gap: 6px 24px; margin: 8px 0; }
      .metrics .cards { margin: 0; }
      .nav { display: flex; flex-wrap: wrap; gap: 4px 16px; align-items: center; margin-top: 4px; }
      .nav button.link { display: inline-flex; gap: 4px; align-items: center; }
      h1.question { white-space: pre-wrap; overflow-wrap: anywhere; unicode-bidi: plaintext; max-height: 6.5em; overflow: auto; }
      .meta { display: flex; flex-wrap: wrap; gap: 2px 14px; }
      .versus { display: grid; grid-template-columns: auto auto minmax(0, 1fr); gap: 2px 10px; align-items: baseline; margin: 8px 0; }
      .versus .side { font-weight: 600; }
      .versus .v { overflow-wrap: anywhere; }
      .ctx { display: grid; grid-template-columns: minmax(0, 1fr); gap: 12px; align-items: start; }
      @container (min-width: 1180px) {
        .ctx { grid-template-columns: minmax(0, 3fr) minmax(340px, 2fr); }
        .ctx rl-pair-detail { position: sticky; top: 8px; }
      }
      .legend { display: flex; flex-wrap: wrap; gap: 4px 14px; font-size: 0.92em; margin: 6px 0 0; }
      .legend span { display: inline-flex; gap: 4px; align-items: center; white-space: nowrap; }
      .legend svg { flex: none; }
      .legend .up { stroke: var(--vscode-charts-green); }
      .legend .down { stroke: var(--vscode-charts-red); }
      .legend .same { stroke: var(--vscode-charts-foreground); }
      .legend .rechunked { stroke: var(--vscode-charts-purple); stroke-dasharray: 6 3; }
      .legend .dropped { stroke: var(--vscode-descriptionForeground); stroke-dasharray: 2 3; }
      .legend .new { stroke: var(--vscode-charts-blue); stroke-dasharray: 2 3; }
      vscode-radio-group { display: inline-flex; }
    `,
  ];

  @property({ attribute: false }) accessor init!: ExplorerInit;
  @property() accessor queryId = '';
  @property({ attribute: false }) accessor pipelineVersion: string | null = null;
  /**
   * Run the replay for queryId and pipelineVersion at once: set for a navigation (a row of a
   * comparison, a command), not for a view restored after a reload, which must not record the
   * replay again.
   */
  @property({ attribute: false }) accessor autorun = false;

  @state() private accessor version: string | null = null;
  @state() private accessor asOf: AsOf = 'now';
  @state() private accessor report: ReplayReport | null = null;
  @state() private accessor question: string | null = null;
  @state() private accessor selected = -1;
  @state() private accessor hovered = -1;
  private readonly run = new RunController<ReplayReport>(this);
  /** The replay last started for the current target, so the target's own update does not start it again. */
  private started = '';

  override willUpdate(changed: Map<PropertyKey, unknown>): void {
    if (changed.has('queryId')) {
      this.report = null;
      this.question = null;
      this.selected = -1;
      this.run.clear();
      if (this.queryId) void this.lookUpQuestion(this.queryId);
    }
    if (changed.has('pipelineVersion') && this.pipelineVersion) this.version = this.pipelineVersion;
    if (changed.has('init') || changed.has('pipelineVersion') || this.version === null) {
      const known = this.init.pipelines.some((p) => p.version === this.version);
      if (!known) this.version = defaultPipeline(this.init.pipelines, this.init.activePipeline);
    }
  }

  override updated(changed: Map<PropertyKey, unknown>): void {
    if (!(changed.has('queryId') || changed.has('pipelineVersion')) || !this.queryId || !this.pipelineVersion) return;
    const key = `${this.queryId}\u0000${this.pipelineVersion}`;
    if (key === this.started) return;
    this.started = key;
    const cached = cachedReplay(this.queryId, this.pipelineVersion, this.asOf);
    if (cached) this.show(cached);
    else if (this.autorun) void this.start();
  }

  private async lookUpQuestion(queryId: string): Promise<void> {
    try {
      const qs = await rpc.request('questions', { limit: 200 });
      if (this.queryId === queryId && !this.report) this.question = qs.find((q) => q.queryId === queryId)?.question ?? null;
    } catch {
      // The header shows the question's id instead.
    }
  }

  private onRunClick(): void {
    if (!this.version) return;
    this.started = `${this.queryId}\u0000${this.version}`;
    rememberState(this, { target: { view: 'replay', queryId: this.queryId, pipelineVersion: this.version } });
    void this.start();
  }

  private async start(): Promise<void> {
    const version = this.version;
    if (!version || !this.queryId || this.run.running) return;
    const queryId = this.queryId;
    const asOf = this.asOf;
    const out = await this.run.run(rpc.call('replay', { queryId, pipelineVersion: version, asOf }));
    if (!out || out.queryId !== queryId || this.queryId !== queryId) return;
    keepReplay(asOf, out);
    this.show(out);
  }

  private show(report: ReplayReport): void {
    this.report = report;
    this.question = report.question;
    const interesting = report.pairs.findIndex((p) => p.kind === 'rechunked');
    const moved = report.pairs.findIndex((p) => p.kind !== 'same' || (p.move ?? 0) !== 0);
    this.selected = interesting >= 0 ? interesting : moved >= 0 ? moved : report.pairs.length > 0 ? 0 : -1;
  }

  override render() {
    if (!this.queryId) {
      return html`<div class="page">
        <h1>Replay a question</h1>
        <p class="muted">Pick a recorded question, then run it against any pipeline version to see how its retrieved context moves: ranks up or down, chunks new or dropped, regions chunked differently.</p>
        <rl-question-picker @rl-pick=${(e: CustomEvent<string>) => navigate(this, { view: 'replay', queryId: e.detail })}></rl-question-picker>
      </div>`;
    }
    const r = this.report;
    const cmp = compareSession();
    return html`<div class="page">
      <div class="nav">
        <button class="link" @click=${() => navigate(this, { view: 'replay', queryId: '' })}>${icon('arrow-left')}Pick another question</button>
        ${cmp?.report ? html`<button class="link" @click=${() => navigate(this, { view: 'compare', from: cmp.params.from, to: cmp.params.to })}>${icon('git-compare')}Back to the comparison <bdi>${cmp.report.from.label}</bdi> → <bdi>${cmp.report.to.label}</bdi></button>` : nothing}
        <button class="link" @click=${() => navigate(this, { view: 'timeline', filter: { correlation: this.queryId } })}>${icon('list-flat')}Show in timeline</button>
      </div>
      <h1 class="question">${this.question ?? html`<span class="muted">Question <bdi>${this.queryId}</bdi></span>`}</h1>
      ${r ? html`<div class="meta muted"><span title=${r.askedAt}>Asked ${formatTime(r.askedAt)}</span><span>event #${r.askedPosition}</span></div>` : nothing}
      ${this.renderControls()}
      ${r ? this.renderReport(r) : nothing}
    </div>`;
  }

  private renderControls() {
    const running = this.run.running;
    const p = this.run.progress;
    return html`
      <div class="toolbar" role="group" aria-label="Replay settings">
        <span class="field"><label for="pipeline">Pipeline</label>
          ${pipelineSelect('pipeline', this.init.pipelines, this.version, (v) => (this.version = v))}
        </span>
        <span class="field" id="asof-label">Index</span>
        <vscode-radio-group aria-labelledby="asof-label" @change=${(e: Event) => (this.asOf = (e.target as HTMLInputElement).value === 'asked' ? 'asked' : 'now')}>
          <vscode-radio name="asof" value="now" label="as it is now" ?checked=${this.asOf === 'now'}></vscode-radio>
          <vscode-radio name="asof" value="asked" label="as when asked" ?checked=${this.asOf === 'asked'}></vscode-radio>
        </vscode-radio-group>
        <vscode-button icon="play" ?disabled=${running || !this.version} @click=${() => this.onRunClick()}>${this.report ? 'Replay again' : 'Replay'}</vscode-button>
        ${running ? html`<vscode-button secondary icon="debug-stop" ?disabled=${this.run.cancelling} @click=${() => this.run.cancel()}>Cancel</vscode-button>` : nothing}
      </div>
      <div class="status" role="status" aria-live="polite">
        ${running
          ? html`<vscode-progress-bar aria-label="Replaying" .value=${p && p.total > 0 ? p.done : undefined} .max=${p && p.total > 0 ? p.total : 100}></vscode-progress-bar>
              <span>${this.run.cancelling ? 'Cancelling…' : `${p?.label ?? 'Replaying the question'}… (Esc cancels)`}</span>`
          : this.run.cancelled ? 'Replay cancelled.' : this.report ? `Replayed against ${this.report.replayed.pipelineVersion}.` : ''}
      </div>
      ${this.run.error ? html`<div class="notice error" role="alert">${this.run.error.message}${this.run.error.hint ? html`<br /><span class="muted">${this.run.error.hint}</span>` : nothing}</div>` : nothing}
      <p class="quiet">${icon('info')}A replay is recorded in the log (ContextReplayed); it never changes the active pipeline.</p>
    `;
  }

  private renderReport(r: ReplayReport) {
    const asOf = r.replayed.asOfPosition === null ? 'index as it is now' : `index as of event #${r.replayed.asOfPosition}`;
    return html`<div aria-busy=${this.run.running ? 'true' : 'false'}>
      ${r.notice ? html`<div class="notice warning" role="note">${r.notice}</div>` : nothing}
      <div class="versus" role="group" aria-label="What was compared">
        <span class="side">Original</span><span class="muted">pipeline</span><span class="v"><bdi>${r.original.pipelineVersion ?? 'unknown'}</bdi> · ${r.original.mode ?? 'unknown mode'} · ${r.original.chunks.length} chunks</span>
        <span class="side">Replayed</span><span class="muted">pipeline</span><span class="v"><bdi>${r.replayed.pipelineVersion}</bdi> · ${r.replayed.mode} · k=${r.replayed.k} · ${asOf}</span>
      </div>
      <div class="metrics">
        ${rankingCards('Chunks', r.metrics.chunks)}
        ${rankingCards('Documents', r.metrics.documents)}
        ${metricGroup('Regions', metricCard('re-chunked', String(r.metrics.aligned), 'Regions of the same document cut into different chunks, aligned by their lines'))}
      </div>

      <h2>Context <span class="muted">${pairsSummary(r.pairs)}</span></h2>
      <div class="ctx" @rl-pair-select=${(e: CustomEvent<number>) => (this.selected = e.detail)} @rl-pair-hover=${(e: CustomEvent<number>) => (this.hovered = e.detail)}>
        <div>
          <rl-context-columns .report=${r} .selected=${this.selected} .hovered=${this.hovered}></rl-context-columns>
          ${this.renderLegend()}
        </div>
        <rl-pair-detail .report=${r} .pair=${this.selected}></rl-pair-detail>
      </div>

      <h2>Aligned pairs <span class="muted">${r.pairs.length}</span></h2>
      <rl-pairs-grid .pairs=${r.pairs} .selected=${this.selected} @rl-pair-select=${(e: CustomEvent<number>) => (this.selected = e.detail)}></rl-pairs-grid>

      <h2>Answer</h2>
      <rl-reanswer .report=${r}></rl-reanswer>
    </div>`;
  }

  private renderLegend() {
    const sample = (cls: string, label: string, glyph: string) =>
      html`<span><svg width="28" height="10" aria-hidden="true"><line class=${cls} x1="1" y1="5" x2="27" y2="5" stroke-width="2"></line></svg>${glyph} ${label}</span>`;
    return html`<div class="legend muted" aria-hidden="true">
      ${sample('up', 'moved up', '↑')}${sample('down', 'moved down', '↓')}${sample('same', 'same rank', '=')}${sample('rechunked', 're-chunked', '≈')}${sample('dropped', 'dropped', '✕')}${sample('new', 'new', '+')}
    </div>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'rl-replay': ReplayView;
  }
}
