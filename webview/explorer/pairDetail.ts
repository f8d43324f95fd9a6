import '@vscode-elements/elements/dist/vscode-button/index.js';
import { LitElement, css, html, nothing } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import type { AlignedPair, ContextChunkView, ReplayReport } from '../../src/shared/explorerModel.js';
import './diffView.js';
import { formatRatio, moveWords } from './format.js';
import { chunkLocation } from './replayModel.js';
import { rpc } from './rpc.js';
import { baseStyles } from './styles.js';
import { wordCounts } from './textDiff.js';
import { viewStyles } from './viewStyles.js';

/**
 * The selected pair of a replay: its text, or for a region chunked differently the word diff of the
 * two chunks; with buttons that open each side's source.
 */
@customElement('rl-pair-detail')
export class PairDetail extends LitElement {
  static override styles = [
    baseStyles,
    viewStyles,
    css`
      :host { display: block; }
      .box { border: 1px solid var(--vscode-panel-border, var(--vscode-contrastBorder, transparent)); padding: 8px 10px; }
      .head { display: flex; flex-wrap: wrap; gap: 4px 10px; align-items: center; margin-bottom: 6px; }
      .head strong { font-weight: 600; }
      .chunk-text { white-space: pre-wrap; overflow-wrap: anywhere; unicode-bidi: plaintext; font-family: var(--vscode-editor-font-family); font-size: var(--vscode-editor-font-size, 12px); background: var(--vscode-textCodeBlock-background, transparent); padding: 6px 8px; max-height: 320px; overflow: auto; margin: 0; }
      .sides { display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); gap: 8px; }
      @container (max-width: 640px) { .sides { grid-template-columns: minmax(0, 1fr); } }
      .actions { display: flex; flex-wrap: wrap; gap: 6px; margin-top: 8px; }
      rl-diff-view { font-family: var(--vscode-editor-font-family); font-size: var(--vscode-editor-font-size, 12px); }
      details summary { cursor: pointer; margin-top: 6px; color: var(--vscode-textLink-foreground); }
    `,
  ];

  @property({ attribute: false }) accessor report: ReplayReport | null = null;
  @property({ type: Number }) accessor pair = -1;

  override render() {
    const r = this.report;
    const p = r?.pairs[this.pair];
    if (!r || !p) return html`<div class="box muted">Select a chunk, a line of the chart or a row of the grid to see its text.</div>`;
    return html`<div class="box" role="region" aria-label="Selected pair">
      <div class="head">
        <strong>${this.heading(p)}</strong>
        <span class=${p.kind === 'dropped' ? 'move-dropped' : p.kind === 'new' ? 'move-new' : ''}>${moveWords(p.kind, p.move)}</span>
        ${p.original ? html`<span class="muted">before: #${p.original.rank}, score ${formatRatio(p.original.score)}</span>` : nothing}
        ${p.replayed ? html`<span class="muted">after: #${p.replayed.rank}, score ${formatRatio(p.replayed.score)}</span>` : nothing}
      </div>
      ${this.renderBody(p)}
      <div class="actions">
        ${p.original ? html`<vscode-button secondary icon="go-to-file" @click=${() => this.open(r.original.position, p.original!)}>Open original source</vscode-button>` : nothing}
        ${p.replayed && (!p.original || p.replayed.chunkId !== p.original.chunkId) ? html`<vscode-button secondary icon="go-to-file" @click=${() => this.open(r.replayed.position, p.replayed!)}>Open replayed source</vscode-button>` : nothing}
      </div>
    </div>`;
  }

  private heading(p: AlignedPair): string {
    const o = p.original ? chunkLocation(p.original) : null;
    const n = p.replayed ? chunkLocation(p.replayed) : null;
    return o && n && o !== n ? `${o} → ${n}` : (o ?? n ?? '');
  }

  private renderBody(p: AlignedPair) {
    if (p.kind === 'rechunked' && p.textDiff) {
      const c = wordCounts(p.textDiff);
      return html`<p class="muted">The same region, chunked differently: ${c.added} words added, ${c.removed} removed.</p>
        <rl-diff-view mode="word" .parts=${p.textDiff} label="Text of the original chunk changed into the replayed one"></rl-diff-view>
        <details><summary>Both texts</summary><div class="sides">${this.text('Original', p.original)}${this.text('Replayed', p.replayed)}</div></details>`;
    }
    if (p.original && p.replayed && p.original.text !== p.replayed.text) return html`<div class="sides">${this.text('Original', p.original)}${this.text('Replayed', p.replayed)}</div>`;
    return this.text(null, p.replayed ?? p.original);
  }

  private text(label: string | null, c: ContextChunkView | null) {
    if (!c) return nothing;
    return html`<div>
      ${label ? html`<h3>${label} <span class="muted">${c.documentVersion ? `v${c.documentVersion.ordinal}` : ''}</span></h3>` : nothing}
      ${c.text === null ? html`<p class="muted">The text of this chunk is not in the log.</p>` : html`<pre class="chunk-text" tabindex="0">${c.text}</pre>`}
      ${c.textClipped ? html`<p class="muted">Clipped: open the source to read the whole chunk.</p>` : nothing}
    </div>`;
  }

  private open(position: number, c: ContextChunkView): void {
    rpc.notify({ kind: 'openChunk', position, chunkId: c.chunkId });
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'rl-pair-detail': PairDetail;
  }
}
