import { LitElement, css, html, nothing } from 'lit';
import type { TemplateResult } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import type { TextDiffPart } from '../../src/shared/explorerModel.js';
import { icon } from './icons.js';
import { baseStyles } from './styles.js';
import type { DiffBlock, DiffLine } from './textDiff.js';
import { foldUnchanged, toLines } from './textDiff.js';

/** Lines drawn before "show more": a document diff may have many thousands. */
const LINE_BUDGET = 1500;

/**
 * A diff computed by the host, drawn as running text with words marked (`mode="word"`) or as lines
 * with numbers and +/- gutters and long unchanged runs folded (`mode="line"`). Added and removed text
 * is in `<ins>`/`<del>` with words for screen readers and a strike-through or underline, so the
 * diff never depends on colour alone.
 */
@customElement('rl-diff-view')
export class DiffView extends LitElement {
  static override styles = [
    baseStyles,
    css`
      :host { display: block; }
      .word { white-space: pre-wrap; overflow-wrap: anywhere; unicode-bidi: plaintext; line-height: 1.5; padding: 6px 8px; border: 1px solid var(--vscode-panel-border, var(--vscode-contrastBorder, transparent)); background: var(--vscode-textCodeBlock-background, transparent); max-height: var(--diff-max-height, 360px); overflow: auto; }
      ins.diff-add { text-decoration: underline; text-decoration-thickness: 1px; text-underline-offset: 3px; outline: 1px dashed var(--vscode-diffEditor-insertedTextBorder, transparent); }
      del.diff-del { outline: 1px dashed var(--vscode-diffEditor-removedTextBorder, transparent); }
      .lines { border: 1px solid var(--vscode-panel-border, var(--vscode-contrastBorder, transparent)); max-height: var(--diff-max-height, 480px); overflow: auto; font-family: var(--vscode-editor-font-family); font-size: var(--vscode-editor-font-size, 12px); line-height: 1.45; }
      .line { display: grid; grid-template-columns: 4.5ch 4.5ch 2ch minmax(0, 1fr); }
      .line > * { padding: 0 4px; }
      .no { color: var(--vscode-editorLineNumber-foreground, var(--vscode-descriptionForeground)); text-align: right; user-select: none; }
      .sign { user-select: none; text-align: center; }
      .content { white-space: pre-wrap; overflow-wrap: anywhere; unicode-bidi: plaintext; text-decoration: none; min-width: 0; }
      .line.add { background: var(--vscode-diffEditor-insertedLineBackground, var(--vscode-diffEditor-insertedTextBackground)); }
      .line.del { background: var(--vscode-diffEditor-removedLineBackground, var(--vscode-diffEditor-removedTextBackground)); }
      .line.add .content { outline: 1px dashed var(--vscode-diffEditor-insertedTextBorder, transparent); outline-offset: -1px; }
      .line.del .content { outline: 1px dashed var(--vscode-diffEditor-removedTextBorder, transparent); outline-offset: -1px; }
      .fold { display: flex; width: 100%; gap: 6px; align-items: center; padding: 2px 8px; border: none; font: inherit; cursor: pointer; background: var(--vscode-diffEditor-unchangedRegionBackground, var(--vscode-editorWidget-background)); color: var(--vscode-diffEditor-unchangedRegionForeground, var(--vscode-descriptionForeground)); }
      .fold:hover { color: var(--vscode-foreground); }
      .more { padding: 4px 8px; }
      .empty { padding: 6px 8px; color: var(--vscode-descriptionForeground); }
    `,
  ];

  @property({ attribute: false }) accessor parts: readonly TextDiffPart[] = [];
  @property() accessor mode: 'word' | 'line' = 'word';
  /** What the diff is of, for screen readers ("Changes from v2 to v3"). */
  @property() accessor label = 'Differences';
  @state() private accessor opened = new Set<number>();
  @state() private accessor budget = LINE_BUDGET;

  override willUpdate(changed: Map<PropertyKey, unknown>): void {
    if (changed.has('parts')) {
      this.opened = new Set();
      this.budget = LINE_BUDGET;
    }
  }

  override render() {
    if (this.parts.length === 0) return html`<div class="empty">No differences.</div>`;
    return this.mode === 'word' ? this.renderWords() : this.renderLines();
  }

  private renderWords() {
    return html`<div class="word" role="document" aria-label=${this.label} tabindex="0">${this.parts.map((p) =>
      p.op === '=' ? p.text : p.op === '+'
        ? html`<ins class="diff-add"><span class="sr-only">[added: </span>${p.text}<span class="sr-only">]</span></ins>`
        : html`<del class="diff-del"><span class="sr-only">[removed: </span>${p.text}<span class="sr-only">]</span></del>`,
    )}</div>`;
  }

  private renderLines() {
    const blocks = foldUnchanged(toLines(this.parts));
    let left = this.budget;
    const out: TemplateResult[] = [];
    for (const [i, block] of blocks.entries()) {
      if (left <= 0) break;
      if (block.kind === 'fold' && !this.opened.has(i)) {
        out.push(this.renderFold(i, block));
        continue;
      }
      const shown = block.lines.slice(0, left);
      left -= shown.length;
      out.push(html`${shown.map((l) => this.renderLine(l))}`);
    }
    const total = blocks.reduce((n, b, i) => n + (b.kind === 'fold' && !this.opened.has(i) ? 0 : b.lines.length), 0);
    const hidden = total - this.budget;
    return html`<div class="lines" role="table" aria-label=${this.label} tabindex="0">
      ${out}
      ${hidden > 0 ? html`<div class="more"><button class="link" @click=${() => (this.budget += LINE_BUDGET)}>Show ${Math.min(hidden, LINE_BUDGET)} more lines (${hidden} not shown)</button></div>` : nothing}
    </div>`;
  }

  private renderFold(i: number, block: DiffBlock) {
    const n = block.lines.length;
    return html`<button class="fold" aria-label="Show ${n} unchanged lines" @click=${() => (this.opened = new Set(this.opened).add(i))}>
      ${icon('unfold')}<span>${n} unchanged ${n === 1 ? 'line' : 'lines'}</span>
    </button>`;
  }

  private renderLine(l: DiffLine) {
    const cls = l.op === '+' ? 'add' : l.op === '-' ? 'del' : 'same';
    const content = l.op === '+' ? html`<ins class="content">${l.text}</ins>` : l.op === '-' ? html`<del class="content">${l.text}</del>` : html`<span class="content">${l.text}</span>`;
    return html`<div class="line ${cls}" role="row">
      <span class="no" role="cell">${l.oldLine ?? ''}</span><span class="no" role="cell">${l.newLine ?? ''}</span>
      <span class="sign" role="cell"><span aria-hidden="true">${l.op === '=' ? ' ' : l.op === '+' ? '+' : '−'}</span><span class="sr-only">${l.op === '+' ? 'added' : l.op === '-' ? 'removed' : ''}</span></span>
      <span role="cell">${content}</span>
    </div>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'rl-diff-view': DiffView;
  }
}
