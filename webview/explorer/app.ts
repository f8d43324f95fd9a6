// The explorer's shell: four views behind tabs (Timeline, Replay, Compare, Document history), the
// state a window reload restores, and the host's navigation pushes.
import { LitElement, css, html, nothing } from 'lit';
import { customElement, state } from 'lit/decorators.js';
import type { ExplorerInit, ExplorerState, ExplorerTarget } from '../../src/shared/explorerProtocol.js';
import type { CodiconName } from './icons.js';
import { icon } from './icons.js';
import { RequestError, rpc } from './rpc.js';
import { baseStyles } from './styles.js';

type View = ExplorerTarget['view'];
const VIEWS: readonly { readonly view: View; readonly label: string; readonly icon: CodiconName }[] = [
  { view: 'timeline', label: 'Timeline', icon: 'list-flat' },
  { view: 'replay', label: 'Replay', icon: 'history' },
  { view: 'compare', label: 'Compare', icon: 'diff' },
  { view: 'document', label: 'Document', icon: 'file' },
];

const INITIAL: ExplorerState = { target: { view: 'timeline' }, filter: {}, topPosition: null, selected: null, follow: false, detailOpen: false };

@customElement('rl-explorer')
export class ExplorerApp extends LitElement {
  static override styles = [
    baseStyles,
    css`
      :host { display: flex; flex-direction: column; height: 100vh; overflow: hidden; }
      [role='tablist'] { display: flex; gap: 2px; border-bottom: 1px solid var(--vscode-panel-border, var(--vscode-contrastBorder, transparent)); padding: 0 8px; flex: none; }
      [role='tab'] { background: none; border: none; border-bottom: 1px solid transparent; color: var(--vscode-panelTitle-inactiveForeground, var(--vscode-descriptionForeground)); padding: 6px 10px 5px; cursor: pointer; font: inherit; display: inline-flex; gap: 6px; align-items: center; text-transform: uppercase; font-size: 11px; letter-spacing: 0.04em; }
      [role='tab'][aria-selected='true'] { color: var(--vscode-panelTitle-activeForeground, var(--vscode-foreground)); border-bottom-color: var(--vscode-panelTitle-activeBorder, var(--vscode-focusBorder)); }
      [role='tab']:hover { color: var(--vscode-panelTitle-activeForeground, var(--vscode-foreground)); }
      [role='tabpanel'] { flex: 1; min-height: 0; display: flex; flex-direction: column; }
      .fatal { padding: 16px; }
    `,
  ];

  @state() private accessor init: ExplorerInit | null = null;
  @state() private accessor error: RequestError | null = null;
  @state() private accessor saved: ExplorerState = rpc.state ?? INITIAL;
  /** Whether the current target was navigated to in this page (not restored from a reload). */
  private navigated = false;

  override connectedCallback(): void {
    super.connectedCallback();
    this.addEventListener('rl-navigate', (e) => this.show(e.detail));
    this.addEventListener('rl-state', (e) => this.remember(e.detail));
    rpc.onPush((push) => {
      if (push.type === 'navigate') this.show(push.target);
      if (push.type === 'pipelines' && this.init) this.init = { ...this.init, pipelines: push.pipelines, activePipeline: push.active };
    });
    // A new page keeps state at once: reloaded later (hidden, then shown), it is not new any more, and
    // the answers its page carried are as old as the panel.
    if (rpc.state === undefined) rpc.saveState(this.saved);
    void this.load();
    rpc.notify({ kind: 'ready' });
  }

  private async load(): Promise<void> {
    try {
      this.init = await rpc.request('init', {});
      this.error = null;
    } catch (err) {
      this.error = err instanceof RequestError ? err : new RequestError(String(err), undefined, false);
    }
  }

  private show(target: ExplorerTarget): void {
    this.navigated = true;
    const filter = target.view === 'timeline' && target.filter ? target.filter : this.saved.filter;
    const selected = target.view === 'timeline' && target.position !== undefined ? target.position : this.saved.selected;
    this.remember({ target, filter, selected, ...(target.view === 'timeline' && target.position !== undefined ? { detailOpen: true } : {}) });
  }

  private remember(patch: Partial<ExplorerState>): void {
    this.saved = { ...this.saved, ...patch };
    rpc.saveState(this.saved);
    rpc.notify({ kind: 'title', text: titleOf(this.saved.target) });
  }

  private onTabKey(e: KeyboardEvent): void {
    const i = VIEWS.findIndex((v) => v.view === this.saved.target.view);
    const next = e.key === 'ArrowRight' ? (i + 1) % VIEWS.length : e.key === 'ArrowLeft' ? (i + VIEWS.length - 1) % VIEWS.length : e.key === 'Home' ? 0 : e.key === 'End' ? VIEWS.length - 1 : -1;
    if (next < 0) return;
    e.preventDefault();
    this.selectTab(VIEWS[next]!.view);
    void this.updateComplete.then(() => this.renderRoot.querySelector<HTMLElement>('[role="tab"][aria-selected="true"]')?.focus());
  }

  private selectTab(view: View): void {
    if (view === this.saved.target.view) return;
    const last = this.saved.target;
    // A tab remembers what it last showed only while it is the current target; otherwise it opens empty.
    const target: ExplorerTarget = view === 'timeline' ? { view } : view === 'replay' ? { view, queryId: last.view === 'replay' ? last.queryId : '' } : view === 'compare' ? { view } : { view, documentId: last.view === 'document' ? last.documentId : '' };
    this.show(target);
  }

  override render() {
    if (this.error) return html`<div class="fatal notice error" role="alert">${this.error.message}${this.error.hint ? html`<br /><span class="muted">${this.error.hint}</span>` : nothing}<br /><button class="link" @click=${() => void this.load()}>Try again</button></div>`;
    if (!this.init) return html`<div class="fatal muted" role="status">Opening the event log…</div>`;
    const t = this.saved.target;
    return html`
      <div role="tablist" aria-label="Explorer views" @keydown=${(e: KeyboardEvent) => this.onTabKey(e)}>
        ${VIEWS.map(
          (v) => html`<button role="tab" id="tab-${v.view}" aria-controls="panel" aria-selected=${t.view === v.view ? 'true' : 'false'} tabindex=${t.view === v.view ? 0 : -1} @click=${() => this.selectTab(v.view)}>
            ${icon(v.icon)}${v.label}
          </button>`,
        )}
      </div>
      <div role="tabpanel" id="panel" aria-labelledby="tab-${t.view}">${this.renderView(t)}</div>
    `;
  }

  private renderView(t: ExplorerTarget) {
    const init = this.init!;
    switch (t.view) {
      case 'timeline':
        return html`<rl-timeline .init=${init} .filter=${this.saved.filter} .selected=${this.saved.selected} .topPosition=${this.saved.topPosition} .follow=${this.saved.follow} .detailOpen=${this.saved.detailOpen}></rl-timeline>`;
      case 'replay':
        return html`<rl-replay .init=${init} .queryId=${t.queryId} .pipelineVersion=${t.pipelineVersion ?? null} .autorun=${this.navigated}></rl-replay>`;
      case 'compare':
        return html`<rl-compare .init=${init} .from=${t.from ?? null} .to=${t.to ?? null}></rl-compare>`;
      case 'document':
        return html`<rl-document-history .documentId=${t.documentId}></rl-document-history>`;
    }
  }
}

function titleOf(t: ExplorerTarget): string {
  switch (t.view) {
    case 'timeline':
      return 'RAG Ledger: Event Log';
    case 'replay':
      return 'RAG Ledger: Replay';
    case 'compare':
      return 'RAG Ledger: Compare Pipelines';
    case 'document':
      return 'RAG Ledger: Document History';
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'rl-explorer': ExplorerApp;
  }
}
