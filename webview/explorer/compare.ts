import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-checkbox/index.js';
import '@vscode-elements/elements/dist/vscode-progress-bar/index.js';
import { LitElement, css, html, nothing } from 'lit';
import { customElement, property, query, state } from 'lit/decorators.js';
import type { CompareReport, CompareRow } from '../../src/shared/explorerModel.js';
import type { ExplorerInit } from '../../src/shared/explorerProtocol.js';
import type { RowView, SortKey } from './compareModel.js';
import { activationSummary, isChanged, nextSort, visibleRows } from './compareModel.js';
import type { CompareTable } from './compareTable.js';
import './compareTable.js';
import { navigate } from './events.js';
import { formatRatio } from './format.js';
import './histogram.js';
import { icon } from './icons.js';
import { METRIC_HELP, deltaCard, metricCard, metricGroup } from './metricCards.js';
import { pipelineSelect } from './pipelineSelect.js';
import { RequestError, rpc } from './rpc.js';
import { RunController } from './runController.js';
import type { CompareSession } from './session.js';
import { compareSession, startCompare } from './session.js';
import { baseStyles } from './styles.js';
import { pageHost, viewStyles } from './viewStyles.js';

const DEFAULT_VIEW: RowView = { worstFirst: true, changedOnly: false, sort: null };

/**
 * The Compare view: two pipeline versions over every recorded question (or the golden set). Shows
 * the aggregate figures, a histogram of overlap@k and a sortable, filterable per-question grid whose
 * rows open their replay; and "Activate this version", which states the figures for the host's
 * confirmation.
 */
@customElement('rl-compare')
export class CompareView extends LitElement {
  static override styles = [
    baseStyles,
    pageHost,
    viewStyles,
    css`
      .summary { display: grid; grid-template-columns: minmax(0, 1fr); gap: 12px 24px; align-items: start; }
      @container (min-width: 980px) { .summary { grid-template-columns: minmax(0, 1fr) auto; } }
      .activate { display: flex; flex-wrap: wrap; gap: 8px; align-items: center; margin: 12px 0 4px; padding: 8px 10px; border: 1px solid var(--vscode-panel-border, var(--vscode-contrastBorder, transparent)); }
      .activate .words { flex: 1 1 320px; min-width: 0; overflow-wrap: anywhere; }
      .heading { overflow-wrap: anywhere; }
      h2.title { text-transform: none; letter-spacing: normal; font-size: 1.1em; margin-top: 16px; }
    `,
  ];

  @property({ attribute: false }) accessor init!: ExplorerInit;
  @property({ attribute: false }) accessor from: string | null = null;
  @property({ attribute: false }) accessor to: string | null = null;

  @state() private accessor fromVersion: string | null = null;
  @state() private accessor toVersion: string | null = null;
  @state() private accessor golden = false;
  @state() private accessor session: CompareSession | null = null;
  @state() private accessor view: RowView = DEFAULT_VIEW;
  @state() private accessor activating = false;
  @state() private accessor activateError: RequestError | null = null;
  @query('rl-compare-table') private accessor table!: CompareTable | null;
  private readonly run = new RunController<CompareReport>(this);

  override connectedCallback(): void {
    super.connectedCallback();
    const s = compareSession();
    if (s && (this.from === null || this.from === s.params.from) && (this.to === null || this.to === s.params.to)) this.adopt(s);
  }

  override willUpdate(changed: Map<PropertyKey, unknown>): void {
    if ((changed.has('from') && this.from) || (changed.has('to') && this.to)) {
      const s = this.session;
      if (s && ((this.from && this.from !== s.params.from) || (this.to && this.to !== s.params.to))) this.session = null;
      if (!this.session) {
        if (this.from) this.fromVersion = this.from;
        if (this.to) this.toVersion = this.to;
      }
    }
    const versions = this.init.pipelines.map((p) => p.version);
    if (!this.fromVersion || !versions.includes(this.fromVersion)) this.fromVersion = this.init.activePipeline ?? versions[0] ?? null;
    if (!this.toVersion || !versions.includes(this.toVersion)) this.toVersion = versions.find((v) => v !== this.fromVersion) ?? this.fromVersion;
    if (!this.init.goldenSet) this.golden = false;
  }

  private adopt(s: CompareSession): void {
    this.session = s;
    this.fromVersion = s.params.from;
    this.toVersion = s.params.to;
    this.golden = s.params.golden;
    this.view = s.view;
    if (s.call) void this.follow(s);
  }

  private async start(): Promise<void> {
    const from = this.fromVersion;
    const to = this.toVersion;
    if (!from || !to || this.run.running) return;
    const params = { from, to, golden: this.golden };
    this.activateError = null;
    const s = startCompare(params, rpc.call('compare', params), this.view);
    this.session = s;
    await this.follow(s);
  }

  private async follow(s: CompareSession): Promise<void> {
    await this.run.run(s.call!, s.progress);
    this.requestUpdate();
    if (s.report && this.session === s) void this.updateComplete.then(() => this.renderRoot.querySelector<HTMLElement>('h2#results')?.focus());
  }

  private setView(patch: Partial<RowView>): void {
    this.view = { ...this.view, ...patch };
    if (this.session) this.session.view = this.view;
  }

  private onSort(key: SortKey): void {
    this.setView({ worstFirst: false, sort: nextSort(this.view.worstFirst ? null : this.view.sort, key) });
  }

  private openRow(row: CompareRow, report: CompareReport): void {
    if (!row.queryId) return;
    if (this.session) this.session.focusRow = this.table?.focusedRow ?? 0;
    navigate(this, { view: 'replay', queryId: row.queryId, pipelineVersion: report.to.version });
  }

  private async activate(report: CompareReport): Promise<void> {
    const s = this.session;
    if (!s || this.activating) return;
    this.activating = true;
    this.activateError = null;
    try {
      const out = await rpc.request('activate', { version: report.to.version, summary: activationSummary(report) });
      s.activated = out.activated;
    } catch (err) {
      this.activateError = err instanceof RequestError ? err : new RequestError(String(err), undefined, false);
    } finally {
      this.activating = false;
    }
  }

  override render() {
    const report = this.session?.report ?? null;
    return html`<div class="page">
      <h1>Compare pipeline versions</h1>
      <p class="muted">Retrieves every recorded question${this.init.goldenSet ? ' (or the golden set)' : ''} with both versions and measures how the contexts differ. Nothing is recorded and nothing changes until you activate a version.</p>
      ${this.renderControls()}
      ${report ? this.renderReport(report) : nothing}
    </div>`;
  }

  private renderControls() {
    const running = this.run.running;
    const p = this.run.progress;
    const same = this.fromVersion !== null && this.fromVersion === this.toVersion;
    return html`
      <div class="toolbar" role="group" aria-label="Comparison settings">
        <span class="field"><label for="from">From</label>${pipelineSelect('from', this.init.pipelines, this.fromVersion, (v) => (this.fromVersion = v))}</span>
        <span class="field"><label for="to">To</label>${pipelineSelect('to', this.init.pipelines, this.toVersion, (v) => (this.toVersion = v))}</span>
        ${this.init.goldenSet
          ? html`<vscode-checkbox label="Golden set" title=${this.init.goldenSet} ?checked=${this.golden} @change=${(e: Event) => (this.golden = (e.target as HTMLInputElement).checked)}></vscode-checkbox>`
          : nothing}
        <vscode-button icon="play" ?disabled=${running || same || !this.fromVersion} @click=${() => void this.start()}>Compare</vscode-button>
        ${running ? html`<vscode-button secondary icon="debug-stop" ?disabled=${this.run.cancelling} @click=${() => this.run.cancel()}>Cancel</vscode-button>` : nothing}
      </div>
      <div class="status" role="status" aria-live="polite">
        ${running
          ? html`<vscode-progress-bar aria-label="Comparing" .value=${p && p.total > 0 ? p.done : undefined} .max=${p && p.total > 0 ? p.total : 100}></vscode-progress-bar>
              <span>${this.run.cancelling ? 'Cancelling…' : p ? `${p.done} of ${p.total}${p.label ? `: ${p.label}` : ''}` : 'Starting…'} (Esc cancels)</span>`
          : same ? 'Pick two different versions.' : this.run.cancelled ? 'Comparison cancelled.' : this.session?.report ? `Compared ${this.session.report.questions} questions.` : ''}
      </div>
      ${this.run.error ? html`<div class="notice error" role="alert">${this.run.error.message}${this.run.error.hint ? html`<br /><span class="muted">${this.run.error.hint}</span>` : nothing}</div>` : nothing}
    `;
  }

  private renderReport(r: CompareReport) {
    const rows = visibleRows(r.rows, this.view);
    const changed = r.rows.filter(isChanged).length;
    const m = r.means;
    const isActive = this.init.activePipeline === r.to.version;
    const activated = this.session?.activated ?? null;
    return html`<section aria-busy=${this.run.running ? 'true' : 'false'}>
      ${r.notice ? html`<div class="notice warning" role="note">${r.notice}</div>` : nothing}
      <h2 id="results" tabindex="-1" class="heading title"><bdi>${r.from.label}</bdi> (${r.from.mode}) → <bdi>${r.to.label}</bdi> (${r.to.mode}) <span class="muted">k=${r.k}, ${r.questions} ${r.source === 'golden' ? 'golden-set' : 'recorded'} questions</span></h2>
      <div class="summary">
        <div>
          ${metricGroup(
            'Over all questions',
            html`${metricCard('questions', String(r.questions), 'Questions retrieved with both versions')}
            ${metricCard('unchanged', `${r.unchanged}`, 'Questions whose context is the same chunks in the same order', html`<span class="delta muted">${r.questions > 0 ? Math.round((100 * r.unchanged) / r.questions) : 0}%</span>`)}
            ${metricCard(`mean overlap@${r.k}`, formatRatio(m.overlapAtK), METRIC_HELP.overlap)}
            ${metricCard('mean Jaccard', formatRatio(m.jaccard), METRIC_HELP.jaccard)}
            ${metricCard('mean RBO', formatRatio(m.rbo), METRIC_HELP.rbo)}
            ${metricCard('mean rank shift', m.meanRankShift === null ? '–' : m.meanRankShift.toFixed(2), METRIC_HELP.shift)}
            ${metricCard(`document overlap@${r.k}`, formatRatio(m.documentOverlapAtK), 'overlap@k of the documents the chunks come from')}`,
          )}
          ${r.golden
            ? metricGroup(
                `Golden set, ${r.from.label} → ${r.to.label}`,
                html`${deltaCard(`recall@${r.k}`, r.golden.from.recall, r.golden.to.recall, METRIC_HELP.recall)}
                  ${deltaCard('MRR', r.golden.from.mrr, r.golden.to.mrr, METRIC_HELP.mrr)}
                  ${deltaCard(`nDCG@${r.k}`, r.golden.from.ndcg, r.golden.to.ndcg, METRIC_HELP.ndcg)}`,
              )
            : nothing}
          <div class="activate" role="group" aria-label="Activate">
            <span class="words">${activationSummary(r)}.</span>
            ${isActive
              ? html`<span class="badge">${icon('pass')} <bdi>${r.to.label}</bdi> is the active version</span>`
              : html`<vscode-button icon="rocket" ?disabled=${this.activating || this.run.running} @click=${() => void this.activate(r)}>${`Activate ${r.to.label}…`}</vscode-button>`}
            <span role="status">${this.activating ? 'Waiting for your confirmation…' : activated === true ? 'Activated: new questions use this version.' : activated === false ? 'Not activated.' : ''}</span>
          </div>
          ${this.activateError ? html`<div class="notice error" role="alert">${this.activateError.message}${this.activateError.hint ? html`<br /><span class="muted">${this.activateError.hint}</span>` : nothing}</div>` : nothing}
        </div>
        <rl-histogram .bins=${r.overlapHistogram} .k=${r.k}></rl-histogram>
      </div>

      <h2>Questions <span class="muted">${rows.length === r.rows.length ? `${r.rows.length}` : `${rows.length} of ${r.rows.length}`}, ${changed} changed</span></h2>
      <div class="toolbar" role="group" aria-label="Table filters">
        <vscode-checkbox label="Changed only" ?checked=${this.view.changedOnly} @change=${(e: Event) => this.setView({ changedOnly: (e.target as HTMLInputElement).checked })}></vscode-checkbox>
        <vscode-checkbox label="Worst first" ?checked=${this.view.worstFirst} @change=${(e: Event) => this.setView({ worstFirst: (e.target as HTMLInputElement).checked })}></vscode-checkbox>
        <span class="quiet">Enter or click opens a question's replay against <bdi>${r.to.label}</bdi>.</span>
      </div>
      <rl-compare-table .rows=${rows} .k=${r.k} ?golden=${r.golden !== undefined} .sort=${this.view.worstFirst ? null : this.view.sort} .initialRow=${this.session?.focusRow ?? 0}
        @rl-sort=${(e: CustomEvent<SortKey>) => this.onSort(e.detail)} @rl-open-row=${(e: CustomEvent<CompareRow>) => this.openRow(e.detail, r)}></rl-compare-table>
    </section>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'rl-compare': CompareView;
  }
}
