// The event detail pane: one event's metadata (ids, hashes, versions), links that move through the
// log (cause, correlation, stream, document), the question's chain, the chunks it carries or cites,
// and its payload and metadata as foldable trees.
import '@vscode-elements/elements/dist/vscode-button/index.js';
import './jsonTree.js';
import { LitElement, css, html, nothing } from 'lit';
import type { PropertyValues } from 'lit';
import { customElement, property, query, state } from 'lit/decorators.js';
import type { ChunkRef, EventDetail, TimelineFilter } from '../../src/shared/explorerModel.js';
import type { ExplorerInit } from '../../src/shared/explorerProtocol.js';
import { chainStyles, renderChain } from './chainView.js';
import { navigate } from './events.js';
import { normalizeFilter } from './filterModel.js';
import { formatCount, formatTime, iconFor } from './format.js';
import { groupStyles } from './groupStyles.js';
import { icon } from './icons.js';
import type { JsonTree } from './jsonTree.js';
import { RequestError, rpc } from './rpc.js';
import { baseStyles } from './styles.js';
import { emit } from './timelineEvents.js';

/** The payload's root, for `field` paths. */
const PAYLOAD_ROOT: readonly (string | number)[] = [];

const chunkLines = (c: ChunkRef): string => (c.startLine !== null ? `:${c.startLine}-${c.endLine ?? c.startLine}` : '');
const chunkLabel = (c: ChunkRef): string => `${c.path ?? c.chunkId}${chunkLines(c)}`;
const chunkScore = (c: ChunkRef): string => [c.rank !== undefined ? `rank ${c.rank}` : '', c.score !== undefined ? `score ${c.score.toFixed(3)}` : ''].filter(Boolean).join(', ');

@customElement('rl-event-detail')
export class EventDetailPane extends LitElement {
  static override styles = [
    baseStyles,
    groupStyles,
    chainStyles,
    css`
      :host { display: flex; flex-direction: column; min-width: 0; min-height: 0; overflow: hidden; background: var(--vscode-sideBar-background, var(--vscode-editor-background)); }
      .head { display: flex; align-items: center; gap: 6px; flex: none; height: 30px; padding: 0 4px 0 10px; border-bottom: 1px solid var(--vscode-sideBarSectionHeader-border, var(--vscode-panel-border, transparent)); }
      .head h2 { font-size: 13px; font-weight: 600; margin: 0; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
      .spacer { flex: 1; }
      .icon-btn { display: inline-flex; align-items: center; justify-content: center; width: 22px; height: 22px; padding: 0; border: none; border-radius: 3px; background: none; color: var(--vscode-icon-foreground, var(--vscode-foreground)); cursor: pointer; flex: none; }
      .icon-btn:hover { background: var(--vscode-toolbar-hoverBackground); }
      .body { flex: 1; min-height: 0; overflow: auto; padding: 6px 10px 16px; }
      .summary { margin: 2px 0 8px; overflow-wrap: anywhere; unicode-bidi: plaintext; max-height: 8em; overflow: auto; }
      .summary.failed { color: var(--vscode-errorForeground); display: flex; gap: 6px; align-items: flex-start; }
      h3 { display: flex; align-items: center; gap: 8px; margin: 12px 0 4px; font-size: 11px; font-weight: 700; text-transform: uppercase; letter-spacing: 0.04em; color: var(--vscode-sideBarSectionHeader-foreground, var(--vscode-foreground)); }
      h3 .link, h3 .icon-btn { text-transform: none; letter-spacing: normal; font-weight: normal; }
      dl { display: grid; grid-template-columns: max-content minmax(0, 1fr); gap: 3px 12px; margin: 0; }
      dt { color: var(--vscode-descriptionForeground); }
      dd { margin: 0; min-width: 0; display: flex; flex-wrap: wrap; align-items: center; gap: 2px 8px; }
      .value { overflow-wrap: anywhere; min-width: 0; unicode-bidi: isolate; }
      dd.nowrap { flex-wrap: nowrap; align-items: flex-start; }
      .hash { user-select: all; word-break: break-all; min-width: 0; }
      .copy { width: 18px; height: 18px; }
      .copy .codicon { font-size: 13px; }
      ul.chunks { list-style: none; margin: 0; padding: 0; }
      ul.chunks li { display: flex; gap: 8px; align-items: center; min-height: 22px; }
      ul.chunks .link { display: inline-flex; align-items: center; gap: 4px; min-width: 0; text-align: left; }
      ul.chunks .label { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
      ul.chunks .path { unicode-bidi: isolate; }
      ul.chunks .score { flex: none; white-space: nowrap; }
      .actions { margin: 6px 0 0; }
      .status { padding: 12px 10px; }
    `,
  ];

  @property({ attribute: false }) accessor init!: ExplorerInit;
  @property({ attribute: false }) accessor position: number | null = null;
  @property({ attribute: false }) accessor filter: TimelineFilter = {};

  @state() private accessor detail: EventDetail | null = null;
  @state() private accessor error: RequestError | null = null;
  @state() private accessor causeMissing = false;
  @state() private accessor announcement = '';

  @query('rl-json-tree.payload') private accessor payloadTree!: JsonTree | null;

  private generation = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;

  override willUpdate(changed: PropertyValues<this>): void {
    if (!changed.has('position')) return;
    clearTimeout(this.timer);
    this.causeMissing = false;
    const position = this.position;
    if (position === null) return;
    this.timer = setTimeout(() => void this.load(position), this.detail ? 60 : 0);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    clearTimeout(this.timer);
  }

  private async load(position: number): Promise<void> {
    const generation = ++this.generation;
    try {
      const detail = await rpc.request('event', { position });
      if (generation !== this.generation) return;
      this.detail = detail;
      this.error = null;
    } catch (err) {
      if (generation !== this.generation) return;
      this.error = err instanceof RequestError ? err : new RequestError(String(err), undefined, false);
    }
  }

  private groupOf = (type: string): string => this.init.eventTypes.find((t) => t.type === type)?.group ?? 'other';

  private select(position: number): void {
    emit(this, 'rl-select', { position, open: true });
  }

  private async goToCause(eventId: string): Promise<void> {
    try {
      const { position } = await rpc.request('findEvent', { eventId });
      this.causeMissing = position === null;
      if (position !== null) this.select(position);
    } catch (err) {
      this.error = err instanceof RequestError ? err : new RequestError(String(err), undefined, false);
    }
  }

  private copy(text: string, what: string): void {
    void navigator.clipboard.writeText(text).then(
      () => (this.announcement = `Copied ${what}.`),
      () => (this.announcement = `Could not copy ${what}.`),
    );
  }

  private copyButton(text: string, what: string) {
    return html`<button class="icon-btn copy" title="Copy ${what}" aria-label="Copy ${what}" @click=${() => this.copy(text, what)}>${icon('copy')}</button>`;
  }

  override render() {
    const d = this.detail;
    const close = html`<button class="icon-btn" title="Close (Esc)" aria-label="Close the event detail" @click=${() => emit(this, 'rl-close-detail', null)}>${icon('close')}</button>`;
    if (this.error && (!d || d.row.position !== this.position)) {
      return html`<div class="head"><h2>Event ${formatCount(this.position ?? 0)}</h2><span class="spacer"></span>${close}</div>
        <div class="status notice error" role="alert">${this.error.message}${this.error.hint ? html`<br /><span class="muted">${this.error.hint}</span>` : nothing}</div>`;
    }
    if (!d) return html`<div class="head"><h2>Event</h2><span class="spacer"></span>${close}</div><div class="status muted" role="status">Reading the event…</div>`;
    const row = d.row;
    return html`
      <div class="head">
        ${icon(iconFor(row.type), `g-${row.group}`)}
        <h2 id="detail-title">${row.type}</h2>
        <span class="muted">#${formatCount(row.position)}</span>
        <span class="spacer"></span>
        ${close}
      </div>
      <div class="body" role="region" aria-labelledby="detail-title" aria-busy=${d.row.position !== this.position ? 'true' : 'false'}>
        <p class="summary${row.failed ? ' failed' : ''}" dir="auto">${row.failed ? html`${icon('error')}<span class="sr-only">Failed: </span>` : nothing}${row.summary}</p>
        <h3>Event</h3>
        <dl>
          <dt>Event id</dt>
          <dd class="nowrap"><span class="mono value">${d.eventId}</span>${this.copyButton(d.eventId, 'event id')}</dd>
          <dt>Stream</dt>
          <dd>
            <span class="mono value">${row.streamId}</span><span class="muted">v${d.streamVersion}</span>
            <button class="link" @click=${() => emit(this, 'rl-filter', normalizeFilter({ ...this.filter, stream: row.streamId }))}>Filter to this stream</button>
          </dd>
          ${row.subject !== null ? html`<dt>Subject</dt><dd><span class="value" dir="auto">${row.subject}</span></dd>` : nothing}
          <dt>Position</dt>
          <dd>${formatCount(row.position)}</dd>
          <dt>Schema</dt>
          <dd>v${d.schemaVersion}${d.upcastFrom !== null ? html` <span class="muted">(upcast from v${d.upcastFrom})</span>` : nothing}</dd>
          <dt>Pipeline</dt>
          <dd><span class="value">${d.pipelineVersion ?? '—'}</span></dd>
          <dt>Actor</dt>
          <dd><span class="value">${d.actor ?? '—'}</span></dd>
          <dt>Recorded at</dt>
          <dd><span title=${row.recordedAt}>${formatTime(row.recordedAt)}</span><span class="mono muted">${row.recordedAt}</span></dd>
          <dt>Correlation</dt>
          <dd>
            ${d.correlationId !== null
              ? html`<button class="link mono value" title="Show the whole chain: filter the timeline to this correlation" @click=${() => emit(this, 'rl-filter', { correlation: d.correlationId! })}>
                    ${d.correlationId}
                  </button>
                  <span class="muted">show the whole chain</span>`
              : '—'}
          </dd>
          <dt>Causation</dt>
          <dd>
            ${d.causationId !== null
              ? html`<button class="link mono value" title="Go to the event that caused this one" @click=${() => void this.goToCause(d.causationId!)}>${d.causationId}</button>
                  ${this.causeMissing ? html`<span class="muted" role="status">The log has no event with this id.</span>` : nothing}`
              : '—'}
          </dd>
          <dt>Hash</dt>
          <dd class="nowrap"><span class="mono hash">${d.hash}</span>${this.copyButton(d.hash, 'hash')}</dd>
          <dt>Previous hash</dt>
          <dd class="nowrap"><span class="mono hash">${d.prevHash}</span>${this.copyButton(d.prevHash, 'previous hash')}</dd>
          ${d.documentId !== null
            ? html`<dt>Document</dt><dd><button class="link" @click=${() => navigate(this, { view: 'document', documentId: d.documentId! })}>${icon('history')} Version history</button></dd>`
            : nothing}
        </dl>
        ${d.chain
          ? html`<h3>Question chain</h3>
              ${renderChain(d.chain, row.position, { groupOf: this.groupOf, select: (p) => this.select(p) })}
              <div class="actions"><vscode-button secondary icon="debug-rerun" @click=${() => navigate(this, { view: 'replay', queryId: d.chain!.queryId })}>Replay this question</vscode-button></div>`
          : nothing}
        ${d.chunks.length > 0
          ? html`<h3>Chunks (${d.chunks.length})</h3>
              <ul class="chunks">
                ${d.chunks.map(
                  (c) => html`<li>
                    <button class="link" title="Open ${chunkLabel(c)}" @click=${() => rpc.notify({ kind: 'openChunk', position: row.position, chunkId: c.chunkId })}>
                      ${icon('go-to-file')}<span class="label mono"><span class="path">${c.path ?? c.chunkId}</span>${chunkLines(c)}</span>
                    </button>
                    <span class="muted score">${chunkScore(c) ? `(${chunkScore(c)})` : ''}</span>
                  </li>`,
                )}
              </ul>`
          : nothing}
        <h3>Payload <button class="icon-btn" title="Copy as JSON" aria-label="Copy the payload as JSON" @click=${() => this.copy(this.payloadTree?.toJsonText() ?? 'null', 'the payload as JSON')}>${icon('copy')}</button></h3>
        <rl-json-tree class="payload" label="Payload" .node=${d.data} .position=${row.position} .fieldRoot=${PAYLOAD_ROOT}></rl-json-tree>
        <h3>Metadata</h3>
        <rl-json-tree label="Metadata" .node=${d.metadata} .position=${row.position} .fieldRoot=${null}></rl-json-tree>
        <div class="sr-only" role="status">${this.announcement}</div>
      </div>
    `;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'rl-event-detail': EventDetailPane;
  }
}
