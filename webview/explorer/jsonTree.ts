// A payload as a foldable tree, keyboard-driven like VS Code's trees (one tab stop; ↑/↓ move, → opens
// or steps in, ← closes or steps out, Home/End, Enter/Space toggle). Children render only when
// their parent opens; long lists show "show N more"; strings the host clipped can be read whole.
import { LitElement, css, html, nothing } from 'lit';
import type { PropertyValues } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import type { PayloadNode } from '../../src/shared/explorerModel.js';
import { formatCount } from './format.js';
import { icon } from './icons.js';
import type { PathSegment, TreeRow } from './jsonTreeModel.js';
import { CHILD_PAGE, flattenTree, nodePreview, payloadToJson } from './jsonTreeModel.js';
import { RequestError, rpc } from './rpc.js';
import { styleProps } from './styleProps.js';
import { baseStyles } from './styles.js';

interface FullText {
  readonly text: string;
  readonly clipped: boolean;
}

@customElement('rl-json-tree')
export class JsonTree extends LitElement {
  static override styles = [
    baseStyles,
    css`
      :host { display: block; }
      [role='tree'] { outline: none; font-family: var(--vscode-editor-font-family); font-size: var(--vscode-editor-font-size, 12px); }
      [role='treeitem'] { outline: none; cursor: pointer; }
      .line { display: flex; align-items: center; height: 22px; padding-left: calc(var(--level, 1) * 12px - 8px); padding-right: 6px; white-space: nowrap; }
      [role='treeitem']:hover > .line { background: var(--vscode-list-hoverBackground); }
      [role='treeitem']:focus > .line { outline: 1px solid var(--vscode-list-focusOutline, var(--vscode-focusBorder)); outline-offset: -1px; background: var(--vscode-list-focusBackground, transparent); }
      .twistie { flex: none; width: 16px; margin-right: 2px; display: inline-flex; justify-content: center; color: var(--vscode-icon-foreground, var(--vscode-foreground)); }
      .name { flex: none; max-width: 45%; overflow: hidden; text-overflow: ellipsis; color: var(--vscode-debugTokenExpression-name, var(--vscode-symbolIcon-propertyForeground, var(--vscode-foreground))); unicode-bidi: isolate; }
      .value { min-width: 0; overflow: hidden; text-overflow: ellipsis; unicode-bidi: isolate; }
      .v-string { color: var(--vscode-debugTokenExpression-string, var(--vscode-foreground)); }
      .v-number { color: var(--vscode-debugTokenExpression-number, var(--vscode-foreground)); }
      .v-boolean, .v-null { color: var(--vscode-debugTokenExpression-boolean, var(--vscode-foreground)); }
      .v-vector, .v-object, .v-array { color: var(--vscode-descriptionForeground); }
      .extra { flex: none; margin-left: 8px; font-family: var(--vscode-font-family); font-size: var(--vscode-font-size); }
      .text {
        margin: 2px 6px 6px calc(var(--level, 1) * 12px + 20px); padding: 4px 8px; max-height: 320px; overflow: auto;
        white-space: pre-wrap; overflow-wrap: anywhere; unicode-bidi: plaintext; cursor: text; user-select: text;
        background: var(--vscode-textCodeBlock-background, var(--vscode-editorWidget-background)); border-radius: 2px;
      }
      .more { color: var(--vscode-textLink-foreground); font-family: var(--vscode-font-family); }
      .clipped { color: var(--vscode-descriptionForeground); font-family: var(--vscode-font-family); font-style: italic; }
    `,
  ];

  @property({ attribute: false }) accessor node: PayloadNode | null = null;
  /** The event's log position (for `field` requests). */
  @property({ attribute: false }) accessor position = 0;
  /** The path of this tree's root in the event's payload for `field`; null: whole strings cannot be read. */
  @property({ attribute: false }) accessor fieldRoot: readonly PathSegment[] | null = null;
  @property() accessor label = 'Payload';

  @state() private accessor expanded = new Map<string, boolean>();
  @state() private accessor shown = new Map<string, number>();
  @state() private accessor texts = new Map<string, FullText>();
  @state() private accessor loading = new Set<string>();
  @state() private accessor focusId: string | null = null;
  @state() private accessor error: string | null = null;

  private rows: TreeRow[] = [];
  private focusAfterRender = false;

  /** The payload as indented JSON, whole strings included where they were read. */
  toJsonText(): string {
    if (!this.node) return 'null';
    const texts = new Map([...this.texts].map(([id, t]) => [id, t.text]));
    return JSON.stringify(payloadToJson(this.node, texts), null, 2);
  }

  override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('node') || changed.has('position')) {
      this.expanded = new Map();
      this.shown = new Map();
      this.texts = new Map();
      this.loading = new Set();
      this.focusId = null;
      this.error = null;
    }
    this.rows = this.node ? flattenTree(this.node, { expanded: this.expanded, shown: this.shown }) : [];
    if (!this.rows.some((r) => r.id === this.focusId)) this.focusId = this.rows[0]?.id ?? null;
  }

  override updated(): void {
    if (!this.focusAfterRender) return;
    this.focusAfterRender = false;
    const i = this.rows.findIndex((r) => r.id === this.focusId);
    this.renderRoot.querySelector<HTMLElement>(`[data-i="${i}"]`)?.focus();
  }

  private moveFocus(row: TreeRow | undefined): void {
    if (!row) return;
    this.focusId = row.id;
    this.focusAfterRender = true;
  }

  private setExpanded(row: TreeRow, open: boolean): void {
    this.expanded = new Map(this.expanded).set(row.id, open);
  }

  private activate(row: TreeRow): void {
    if (row.kind === 'more') {
      const parentPathId = row.id.slice(0, -'#more'.length);
      this.shown = new Map(this.shown).set(parentPathId, (this.shown.get(parentPathId) ?? CHILD_PAGE) + CHILD_PAGE);
    } else if (this.canReadWhole(row) && !row.expanded) {
      void this.readWhole(row);
    } else if (row.expandable) {
      this.setExpanded(row, !row.expanded);
    }
  }

  private canReadWhole(row: TreeRow): boolean {
    return row.node?.kind === 'string' && row.node.length !== undefined && this.fieldRoot !== null && !this.texts.has(row.id);
  }

  private async readWhole(row: TreeRow): Promise<void> {
    if (this.fieldRoot === null || this.loading.has(row.id)) return;
    this.loading = new Set(this.loading).add(row.id);
    const position = this.position;
    try {
      const result = await rpc.request('field', { position, path: [...this.fieldRoot, ...row.path] });
      if (position !== this.position) return;
      this.texts = new Map(this.texts).set(row.id, result);
      this.setExpanded(row, true);
    } catch (err) {
      this.error = err instanceof RequestError ? err.message : String(err);
    } finally {
      const loading = new Set(this.loading);
      loading.delete(row.id);
      this.loading = loading;
    }
  }

  private readonly onKey = (e: KeyboardEvent): void => {
    const rows = this.rows;
    const i = rows.findIndex((r) => r.id === this.focusId);
    const row = rows[i];
    if (!row) return;
    switch (e.key) {
      case 'ArrowDown':
        this.moveFocus(rows[i + 1]);
        break;
      case 'ArrowUp':
        this.moveFocus(rows[i - 1]);
        break;
      case 'Home':
        this.moveFocus(rows[0]);
        break;
      case 'End':
        this.moveFocus(rows[rows.length - 1]);
        break;
      case 'ArrowRight':
        if (row.expandable && !row.expanded) this.activate(row);
        else if (row.expanded && rows[i + 1]?.parent === row.id) this.moveFocus(rows[i + 1]);
        break;
      case 'ArrowLeft':
        if (row.expanded) this.setExpanded(row, false);
        else this.moveFocus(rows.find((r) => r.id === row.parent));
        break;
      case 'Enter':
      case ' ':
        this.activate(row);
        break;
      default:
        return;
    }
    e.preventDefault();
    e.stopPropagation();
  };

  private readonly onClick = (e: MouseEvent): void => {
    const el = (e.target as Element).closest('[data-i]');
    if (!el || (e.target as Element).closest('.text')) return;
    const row = this.rows[Number(el.getAttribute('data-i'))];
    if (!row) return;
    this.focusId = row.id;
    this.activate(row);
  };

  private renderValue(row: TreeRow) {
    const n = row.node!;
    const whole = this.texts.get(row.id);
    const extra =
      n.kind === 'string' && n.length !== undefined && !whole
        ? this.loading.has(row.id)
          ? html`<span class="extra muted">reading…</span>`
          : this.fieldRoot !== null
            ? html`<button class="extra link" tabindex="-1" @click=${(e: Event) => {
                e.stopPropagation();
                void this.readWhole(row);
              }}>show all (${formatCount(n.length)} chars)</button>`
            : html`<span class="extra muted">clipped (${formatCount(n.length)} chars)</span>`
        : nothing;
    return html`<span class="value v-${n.kind}">${nodePreview(n)}</span>${extra}`;
  }

  private renderRow(row: TreeRow, i: number) {
    const focusable = row.id === this.focusId ? 0 : -1;
    const common = { '--level': String(row.level) };
    if (row.kind !== 'node') {
      const label = row.kind === 'more' ? `show ${formatCount(Math.min(row.count, CHILD_PAGE))} more (${formatCount(row.count)} not shown)` : `${formatCount(row.count)} more not sent (the log's value is longer)`;
      return html`<div role="treeitem" aria-level=${row.level} aria-setsize=${row.setSize} aria-posinset=${row.posInSet} tabindex=${focusable} data-i=${i} ${styleProps(common)}>
        <div class="line"><span class="twistie"></span><span class=${row.kind}>${label}</span></div>
      </div>`;
    }
    const n = row.node!;
    const whole = this.texts.get(row.id);
    const text = n.kind === 'string' && row.expanded ? (whole?.text ?? n.value) : null;
    return html`<div
      role="treeitem"
      aria-level=${row.level}
      aria-setsize=${row.setSize}
      aria-posinset=${row.posInSet}
      aria-expanded=${row.expandable ? String(row.expanded) : nothing}
      tabindex=${focusable}
      data-i=${i}
      ${styleProps(common)}
    >
      <div class="line">
        <span class="twistie">${row.expandable ? icon(row.expanded ? 'chevron-down' : 'chevron-right') : nothing}</span>
        ${row.name !== '' ? html`<span class="name">${row.name}</span><span class="muted">:&nbsp;</span>` : nothing}${this.renderValue(row)}
      </div>
      ${text !== null ? html`<div class="text">${text}${whole?.clipped ? html`<span class="muted"> … (the first ${formatCount(whole.text.length)} characters)</span>` : nothing}</div>` : nothing}
    </div>`;
  }

  override render() {
    if (!this.node) return nothing;
    return html`
      ${this.error ? html`<div class="notice error" role="alert">${this.error}</div>` : nothing}
      <div role="tree" aria-label=${this.label} @keydown=${this.onKey} @click=${this.onClick} @focusin=${(e: FocusEvent) => this.onFocusIn(e)}>
        ${this.rows.length === 0 ? html`<div class="muted">(empty)</div>` : this.rows.map((r, i) => this.renderRow(r, i))}
      </div>
    `;
  }

  private onFocusIn(e: FocusEvent): void {
    const el = (e.target as Element).closest('[data-i]');
    const row = el ? this.rows[Number(el.getAttribute('data-i'))] : undefined;
    if (row && row.id !== this.focusId) this.focusId = row.id;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'rl-json-tree': JsonTree;
  }
}
