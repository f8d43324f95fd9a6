import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-option/index.js';
import '@vscode-elements/elements/dist/vscode-progress-ring/index.js';
import '@vscode-elements/elements/dist/vscode-single-select/index.js';
import { LitElement, css, html, nothing } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import type { DocumentDiff, DocumentHistory, DocumentVersionView } from '../../src/shared/explorerModel.js';
import './diffView.js';
import { defaultDiffPair } from './documentModel.js';
import './documentVersion.js';
import './documentVersions.js';
import { navigate } from './events.js';
import { formatTime } from './format.js';
import { icon } from './icons.js';
import { RequestError, rpc } from './rpc.js';
import { baseStyles } from './styles.js';
import { pageHost, viewStyles } from './viewStyles.js';

const asError = (err: unknown): RequestError => (err instanceof RequestError ? err : new RequestError(String(err), undefined, false));

/**
 * The Document history view: every version of a document (submitted, hash, size, validated or
 * rejected, deleted), a line diff between any two of them, and for the selected version each
 * pipeline's chunks and the questions that cited it.
 */
@customElement('rl-document-history')
export class DocumentHistoryView extends LitElement {
  static override styles = [
    baseStyles,
    pageHost,
    viewStyles,
    css`
      h1 { overflow-wrap: anywhere; unicode-bidi: plaintext; }
      .meta { display: flex; flex-wrap: wrap; gap: 2px 14px; align-items: center; }
      .meta span { overflow-wrap: anywhere; }
      .meta button.link { display: inline-flex; gap: 4px; align-items: center; }
      .counts { display: inline-flex; gap: 10px; font-variant-numeric: tabular-nums; }
      .diffbar vscode-single-select { min-width: 120px; }
    `,
  ];

  @property() accessor documentId = '';
  @state() private accessor history: DocumentHistory | null = null;
  @state() private accessor error: RequestError | null = null;
  @state() private accessor loading = false;
  @state() private accessor selected = -1;
  @state() private accessor diffFrom = -1;
  @state() private accessor diffTo = -1;
  @state() private accessor diff: DocumentDiff | null = null;
  @state() private accessor diffLoading = false;
  @state() private accessor diffError: RequestError | null = null;
  private seq = 0;

  override willUpdate(changed: Map<PropertyKey, unknown>): void {
    if (changed.has('documentId')) {
      this.history = null;
      this.diff = null;
      this.error = null;
      this.diffError = null;
      if (this.documentId) void this.load(this.documentId);
    }
  }

  private async load(documentId: string): Promise<void> {
    const seq = ++this.seq;
    this.loading = true;
    try {
      const h = await rpc.request('documentHistory', { documentId });
      if (seq !== this.seq) return;
      this.history = h;
      this.error = null;
      const latest = h.versions.reduce<DocumentVersionView | null>((a, v) => (a === null || v.ordinal > a.ordinal ? v : a), null);
      this.selected = latest?.ordinal ?? -1;
      const pair = defaultDiffPair(h.versions);
      this.diffFrom = pair?.from ?? -1;
      this.diffTo = pair?.to ?? -1;
      if (pair) void this.loadDiff();
    } catch (err) {
      if (seq === this.seq) this.error = asError(err);
    } finally {
      if (seq === this.seq) this.loading = false;
    }
  }

  private async loadDiff(): Promise<void> {
    const h = this.history;
    if (!h || this.diffFrom < 0 || this.diffTo < 0) return;
    const seq = this.seq;
    const params = { documentId: h.documentId, from: this.diffFrom, to: this.diffTo };
    this.diffLoading = true;
    this.diffError = null;
    try {
      const d = await rpc.request('documentDiff', params);
      if (seq === this.seq && d.from === this.diffFrom && d.to === this.diffTo) this.diff = d;
    } catch (err) {
      if (seq === this.seq) this.diffError = asError(err);
    } finally {
      if (seq === this.seq) this.diffLoading = false;
    }
  }

  override render() {
    if (!this.documentId) {
      return html`<div class="page empty">
        <h1>Document history</h1>
        <p>Shows every version of a document: when it was submitted, its content hash, whether it was validated or rejected, how each pipeline chunked it, which questions cited it, and the changes between any two versions.</p>
        <p class="muted">To open one, right-click a document in the RAG Ledger <strong>Documents</strong> view and choose <strong>Show History</strong>, or select a document's event in the Timeline and open its document from the event's details.</p>
      </div>`;
    }
    const h = this.history;
    return html`<div class="page" aria-busy=${this.loading ? 'true' : 'false'}>
      ${this.error ? html`<div class="notice error" role="alert">${this.error.message}${this.error.hint ? html`<br /><span class="muted">${this.error.hint}</span>` : nothing}<br /><button class="link" @click=${() => void this.load(this.documentId)}>Try again</button></div>` : nothing}
      ${!h && !this.error ? html`<p class="muted" role="status">Reading the document's history…</p>` : nothing}
      ${h ? this.renderHistory(h) : nothing}
    </div>`;
  }

  private renderHistory(h: DocumentHistory) {
    const version = h.versions.find((v) => v.ordinal === this.selected) ?? null;
    return html`
      <h1><bdi>${h.path}</bdi></h1>
      <div class="meta muted">
        <span>${h.versions.length} ${h.versions.length === 1 ? 'version' : 'versions'}</span>
        <span>document <bdi class="mono">${h.documentId}</bdi></span>
        <button class="link" @click=${() => navigate(this, { view: 'timeline', filter: { stream: h.streamId } })}>${icon('list-flat')}Show in timeline</button>
      </div>
      ${h.deleted ? html`<div class="notice warning" role="note">${icon('trash')} Deleted ${formatTime(h.deleted.deletedAt)} (event #${h.deleted.position}): <bdi>${h.deleted.reason}</bdi>. Its versions stay in the log.</div>` : nothing}

      <h2>Versions</h2>
      ${h.versions.length === 0 ? html`<p class="muted">The log has no version of this document.</p>` : html`<rl-document-versions .versions=${h.versions} .selected=${this.selected} @rl-version-select=${(e: CustomEvent<number>) => (this.selected = e.detail)}></rl-document-versions>`}

      ${this.renderDiff(h)}

      ${version ? html`<h2>Version ${version.ordinal} <span class="muted">${formatTime(version.submittedAt)}</span></h2><rl-document-version .version=${version}></rl-document-version>` : nothing}
    `;
  }

  private renderDiff(h: DocumentHistory) {
    if (h.versions.length < 2) return html`<h2>Changes</h2><p class="muted">Only one version: nothing to compare yet.</p>`;
    const options = (value: number) => h.versions.map((v) => html`<vscode-option value=${String(v.ordinal)} ?selected=${v.ordinal === value}>v${v.ordinal}</vscode-option>`);
    const d = this.diff;
    return html`
      <h2>Changes</h2>
      <div class="toolbar diffbar" role="group" aria-label="Versions to compare">
        <span class="field"><label for="diff-from">From</label>
          <vscode-single-select id="diff-from" .value=${String(this.diffFrom)} @change=${(e: Event) => (this.diffFrom = Number((e.target as HTMLSelectElement).value))}>${options(this.diffFrom)}</vscode-single-select></span>
        <span class="field"><label for="diff-to">To</label>
          <vscode-single-select id="diff-to" .value=${String(this.diffTo)} @change=${(e: Event) => (this.diffTo = Number((e.target as HTMLSelectElement).value))}>${options(this.diffTo)}</vscode-single-select></span>
        <vscode-button secondary icon="diff" ?disabled=${this.diffLoading || this.diffFrom === this.diffTo} @click=${() => void this.loadDiff()}>Show changes</vscode-button>
        <span role="status" class="muted">${this.diffLoading ? 'Diffing…' : this.diffFrom === this.diffTo ? 'Pick two different versions.' : ''}</span>
      </div>
      ${this.diffError ? html`<div class="notice error" role="alert">${this.diffError.message}</div>` : nothing}
      ${d
        ? html`<p><strong>v${d.from} → v${d.to}</strong> <span class="counts"><span class="move-up">+${d.added} ${d.added === 1 ? 'line' : 'lines'}</span><span class="move-down">−${d.removed} ${d.removed === 1 ? 'line' : 'lines'}</span></span></p>
            ${d.note ? html`<div class="notice" role="note">${d.note}</div>` : nothing}
            <rl-diff-view mode="line" .parts=${d.parts} label="Changes from version ${d.from} to version ${d.to}"></rl-diff-view>`
        : nothing}
    `;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'rl-document-history': DocumentHistoryView;
  }
}
