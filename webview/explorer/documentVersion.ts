import { LitElement, css, html, nothing } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import type { DocumentVersionView } from '../../src/shared/explorerModel.js';
import { navigate } from './events.js';
import { icon } from './icons.js';
import { rpc } from './rpc.js';
import { baseStyles } from './styles.js';
import { viewStyles } from './viewStyles.js';

type Chunking = DocumentVersionView['chunkings'][number];
type Chunk = Chunking['chunks'][number];

/**
 * One version of a document in depth: each pipeline's chunking of it (chunks with their lines, a
 * preview and their embeddings; each opens its source) and the questions whose context cited it
 * (each opens its replay).
 */
@customElement('rl-document-version')
export class DocumentVersion extends LitElement {
  static override styles = [
    baseStyles,
    viewStyles,
    css`
      :host { display: block; }
      details { border: 1px solid var(--vscode-panel-border, var(--vscode-contrastBorder, transparent)); margin: 6px 0; }
      summary { cursor: pointer; padding: 4px 8px; display: flex; flex-wrap: wrap; gap: 4px 10px; align-items: baseline; background: var(--vscode-keybindingTable-headerBackground, var(--vscode-editorWidget-background)); }
      summary:focus-visible { outline: 1px solid var(--vscode-focusBorder); outline-offset: -1px; }
      ol { list-style: none; margin: 0; padding: 0; }
      .chunk { display: grid; grid-template-columns: 3.5em 9.5em minmax(0, 1fr) auto; gap: 2px 10px; padding: 3px 8px; border-top: 1px solid var(--vscode-tree-tableColumnsBorder, transparent); align-items: baseline; }
      .chunk:hover { background: var(--vscode-list-hoverBackground); }
      .chunk button.link { text-align: start; min-width: 0; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; unicode-bidi: isolate; }
      .preview { grid-column: 3; min-width: 0; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; unicode-bidi: plaintext; font-family: var(--vscode-editor-font-family); font-size: var(--vscode-editor-font-size, 12px); }
      .emb { grid-column: 4; white-space: nowrap; font-size: 0.92em; max-width: 28ch; overflow: hidden; text-overflow: ellipsis; }
      .more { padding: 4px 8px; }
      .cited { list-style: none; margin: 0; padding: 0; }
      .cited li { display: flex; gap: 10px; align-items: baseline; padding: 2px 0; }
      .cited button.link { min-width: 0; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; unicode-bidi: plaintext; max-width: 80ch; }
      .cited .n { white-space: nowrap; }
      @container (max-width: 600px) { .chunk { grid-template-columns: 3em minmax(0, 1fr); } .preview, .emb { grid-column: 1 / -1; } }
    `,
  ];

  @property({ attribute: false }) accessor version: DocumentVersionView | null = null;

  override render() {
    const v = this.version;
    if (!v) return nothing;
    return html`
      ${v.state.kind === 'rejected' ? html`<div class="notice warning" role="note">Rejected: <bdi>${v.state.reason}</bdi>. <span class="text">${v.state.detail}</span></div>` : nothing}
      ${v.state.kind === 'pending' ? html`<div class="notice" role="note">Not validated yet.</div>` : nothing}
      <h3>Chunks of v${v.ordinal}</h3>
      ${v.chunkings.length === 0 ? html`<p class="muted">${v.state.kind === 'validated' ? 'No pipeline has chunked this version yet.' : 'Only validated versions are chunked.'}</p>` : nothing}
      ${v.chunkings.map((c) => this.renderChunking(c))}
      <h3>Cited by <span class="muted">${v.citedBy.length} ${v.citedBy.length === 1 ? 'question' : 'questions'}</span></h3>
      ${v.citedBy.length === 0
        ? html`<p class="muted">No question's context included a chunk of this version.</p>`
        : html`<ul class="cited" role="list">${v.citedBy.map(
            (q) => html`<li>
              <button class="link" title=${q.question} @click=${() => navigate(this, { view: 'replay', queryId: q.queryId })}>${q.question}</button>
              <span class="n muted">rank ${q.rank} · event #${q.position}</span>
            </li>`,
          )}</ul>`}
    `;
  }

  private renderChunking(c: Chunking) {
    return html`<details open>
      <summary><span>Pipeline <bdi>${c.pipelineVersion}</bdi></span><span class="muted">${c.chunks.length + c.more} chunks · event #${c.position}</span></summary>
      <ol aria-label="Chunks of pipeline ${c.pipelineVersion}">
        ${c.chunks.map((ch) => this.renderChunk(c, ch))}
      </ol>
      ${c.more > 0 ? html`<div class="more muted">${c.more} more ${c.more === 1 ? 'chunk' : 'chunks'} not shown.</div>` : nothing}
    </details>`;
  }

  private renderChunk(c: Chunking, ch: Chunk) {
    const lines = `lines ${ch.startLine}–${ch.endLine}`;
    const emb = ch.embeddings.length === 0 ? 'not embedded' : ch.embeddings.map((e) => `${e.model} (${e.dimensions}d)`).join(', ');
    return html`<li class="chunk">
      <span class="muted">#${ch.index}</span>
      <button class="link" title="Open the source at ${lines}" @click=${() => rpc.notify({ kind: 'openChunk', position: c.position, chunkId: ch.chunkId })}>${icon('go-to-file')} ${lines}</button>
      <span class="preview" title=${ch.preview}>${ch.preview}</span>
      <span class="emb muted" title=${emb}>${emb}</span>
    </li>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'rl-document-version': DocumentVersion;
  }
}
