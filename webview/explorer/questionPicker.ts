import '@vscode-elements/elements/dist/vscode-textfield/index.js';
import { LitElement, css, html, nothing } from 'lit';
import { customElement, state } from 'lit/decorators.js';
import type { QuestionSummary } from '../../src/shared/explorerModel.js';
import { formatTime } from './format.js';
import { listMove } from './gridNav.js';
import { icon } from './icons.js';
import { RequestError, rpc } from './rpc.js';
import { baseStyles } from './styles.js';
import { viewStyles } from './viewStyles.js';

const LIMIT = 200;

/**
 * Picks a recorded question to replay: a search field over the questions (most recent first) and a
 * listbox of them. Arrow keys move from the field into the list; Enter or a click raises `rl-pick`
 * with the question's id.
 */
@customElement('rl-question-picker')
export class QuestionPicker extends LitElement {
  static override styles = [
    baseStyles,
    viewStyles,
    css`
      :host { display: block; }
      vscode-textfield { width: min(520px, 100%); }
      [role='listbox'] { margin: 8px 0 0; padding: 0; list-style: none; border: 1px solid var(--vscode-panel-border, var(--vscode-contrastBorder, transparent)); max-width: 960px; }
      [role='option'] { padding: 4px 10px; cursor: pointer; border-bottom: 1px solid var(--vscode-tree-tableColumnsBorder, transparent); display: grid; grid-template-columns: minmax(0, 1fr); gap: 1px; }
      [role='option']:hover { background: var(--vscode-list-hoverBackground); }
      [role='option']:focus { outline: 1px solid var(--vscode-list-focusOutline, var(--vscode-focusBorder)); outline-offset: -1px; background: var(--vscode-list-activeSelectionBackground); color: var(--vscode-list-activeSelectionForeground, inherit); }
      [role='option']:focus .muted { color: inherit; opacity: 0.85; }
      .q { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; unicode-bidi: plaintext; }
      .meta { display: flex; flex-wrap: wrap; gap: 2px 12px; font-size: 0.92em; }
      .meta > span { white-space: nowrap; overflow: hidden; text-overflow: ellipsis; max-width: 40ch; unicode-bidi: isolate; }
    `,
  ];

  @state() private accessor search = '';
  @state() private accessor questions: readonly QuestionSummary[] | null = null;
  @state() private accessor error: RequestError | null = null;
  @state() private accessor active = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private seq = 0;

  override connectedCallback(): void {
    super.connectedCallback();
    void this.load();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    clearTimeout(this.timer);
  }

  private async load(): Promise<void> {
    const seq = ++this.seq;
    const search = this.search.trim();
    try {
      const questions = await rpc.request('questions', { ...(search ? { search } : {}), limit: LIMIT });
      if (seq !== this.seq) return;
      this.questions = questions;
      this.error = null;
      this.active = 0;
    } catch (err) {
      if (seq !== this.seq) return;
      this.error = err instanceof RequestError ? err : new RequestError(String(err), undefined, false);
    }
  }

  private onInput(e: Event): void {
    this.search = (e.target as HTMLInputElement).value;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.load(), 200);
  }

  override render() {
    const qs = this.questions;
    return html`
      <div class="toolbar">
        <vscode-textfield type="search" placeholder="Search the recorded questions" aria-label="Search the recorded questions" .value=${this.search}
          @input=${(e: Event) => this.onInput(e)} @keydown=${(e: KeyboardEvent) => this.onFieldKey(e)}>
          <span slot="content-before" class="codicon-slot">${icon('search')}</span>
        </vscode-textfield>
      </div>
      <div role="status" class="muted" aria-live="polite">${this.error ? nothing : qs === null ? 'Loading the questions…' : qs.length === 0 ? (this.search.trim() ? 'No question matches.' : 'No question has been asked yet: ask one (RAG Ledger: Ask a Question), then replay it here.') : qs.length >= LIMIT ? `The ${LIMIT} most recent questions; search to find older ones.` : `${qs.length} ${qs.length === 1 ? 'question' : 'questions'}, most recent first.`}</div>
      ${this.error ? html`<div class="notice error" role="alert">${this.error.message}${this.error.hint ? html`<br /><span class="muted">${this.error.hint}</span>` : nothing}</div>` : nothing}
      ${qs && qs.length > 0 ? this.renderList(qs) : nothing}
    `;
  }

  private renderList(qs: readonly QuestionSummary[]) {
    return html`<ul role="listbox" aria-label="Recorded questions" @keydown=${(e: KeyboardEvent) => this.onListKey(e, qs)}>
      ${qs.map(
        (q, i) => html`<li role="option" id="q-${i}" data-i=${i} tabindex=${i === this.active ? 0 : -1} aria-selected=${i === this.active ? 'true' : 'false'}
          @click=${() => this.pick(q)} @focus=${() => (this.active = i)}>
          <span class="q">${q.question}</span>
          <span class="meta muted">
            <span title=${q.askedAt}>${formatTime(q.askedAt)}</span>
            ${q.pipelineVersion ? html`<span>pipeline <bdi>${q.pipelineVersion}</bdi></span>` : nothing}
            ${q.modelId ? html`<span>model <bdi>${q.modelId}</bdi></span>` : nothing}
            <span>${q.state}</span>
            <span>event #${q.position}</span>
          </span>
        </li>`,
      )}
    </ul>`;
  }

  private onFieldKey(e: KeyboardEvent): void {
    if (e.key !== 'ArrowDown' || !this.questions?.length) return;
    e.preventDefault();
    this.focusOption(this.active);
  }

  private onListKey(e: KeyboardEvent, qs: readonly QuestionSummary[]): void {
    if (e.key === 'Enter' || e.key === ' ') {
      e.preventDefault();
      const q = qs[this.active];
      if (q) this.pick(q);
      return;
    }
    const next = listMove(e.key, this.active, qs.length);
    if (next === null) return;
    e.preventDefault();
    this.focusOption(next);
  }

  private focusOption(i: number): void {
    this.active = i;
    void this.updateComplete.then(() => this.renderRoot.querySelector<HTMLElement>(`[data-i="${i}"]`)?.focus());
  }

  private pick(q: QuestionSummary): void {
    this.dispatchEvent(new CustomEvent<string>('rl-pick', { detail: q.queryId, bubbles: true, composed: true }));
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'rl-question-picker': QuestionPicker;
  }
  interface HTMLElementEventMap {
    'rl-pick': CustomEvent<string>;
  }
}
