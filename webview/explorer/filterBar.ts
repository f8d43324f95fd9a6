// The timeline's toolbar: search, event types, pipeline version, failures only, jump to a position,
// follow the tail; and below it the active filters as removable chips. Raises rl-filter with the
// whole new filter, rl-jump and rl-follow; <rl-timeline> remembers and applies them.
import '@vscode-elements/elements/dist/vscode-checkbox/index.js';
import '@vscode-elements/elements/dist/vscode-multi-select/index.js';
import '@vscode-elements/elements/dist/vscode-option/index.js';
import '@vscode-elements/elements/dist/vscode-single-select/index.js';
import '@vscode-elements/elements/dist/vscode-textfield/index.js';
import type { VscodeCheckbox } from '@vscode-elements/elements/dist/vscode-checkbox/vscode-checkbox.js';
import type { VscodeMultiSelect } from '@vscode-elements/elements/dist/vscode-multi-select/vscode-multi-select.js';
import type { VscodeSingleSelect } from '@vscode-elements/elements/dist/vscode-single-select/vscode-single-select.js';
import type { VscodeTextfield } from '@vscode-elements/elements/dist/vscode-textfield/vscode-textfield.js';
import { LitElement, css, html, nothing } from 'lit';
import type { PropertyValues } from 'lit';
import { customElement, property, query, state } from 'lit/decorators.js';
import type { IndexProgress, TimelineFilter } from '../../src/shared/explorerModel.js';
import type { ExplorerInit } from '../../src/shared/explorerProtocol.js';
import { filterChips, isEmptyFilter, normalizeFilter, removeChip } from './filterModel.js';
import { formatCount } from './format.js';
import { icon } from './icons.js';
import { baseStyles } from './styles.js';
import { emit } from './timelineEvents.js';

const SEARCH_DEBOUNCE_MS = 250;

@customElement('rl-filter-bar')
export class FilterBar extends LitElement {
  static override styles = [
    baseStyles,
    css`
      :host { display: block; padding: 6px 10px 0; }
      .tools { display: flex; flex-wrap: wrap; align-items: center; gap: 6px 8px; }
      .search { flex: 1 1 220px; min-width: 160px; max-width: 420px; }
      vscode-multi-select { width: 150px; }
      vscode-single-select { width: 190px; }
      .jump { width: 150px; }
      .spacer { flex: 1 1 0; }
      .toggle {
        display: inline-flex; align-items: center; gap: 4px; height: 24px; padding: 0 6px; border-radius: 3px; cursor: pointer; font: inherit;
        color: var(--vscode-foreground); background: none; border: 1px solid transparent;
      }
      .toggle:hover { background: var(--vscode-toolbar-hoverBackground); }
      .toggle[aria-pressed='true'] { background: var(--vscode-inputOption-activeBackground); border-color: var(--vscode-inputOption-activeBorder, transparent); color: var(--vscode-inputOption-activeForeground, var(--vscode-foreground)); }
      .chips { display: flex; flex-wrap: wrap; align-items: center; gap: 4px 6px; min-height: 26px; padding: 3px 0 2px; }
      .chip {
        display: inline-flex; align-items: center; gap: 4px; max-width: 340px; height: 20px; padding: 0 2px 0 8px; border-radius: 10px;
        background: var(--vscode-badge-background); color: var(--vscode-badge-foreground); border: 1px solid var(--vscode-contrastBorder, transparent);
      }
      .chip .name { opacity: 0.85; flex: none; }
      .chip .value { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; unicode-bidi: isolate; }
      .chip .codicon { font-size: 14px; }
      .chip button { display: inline-flex; align-items: center; justify-content: center; width: 16px; height: 16px; padding: 0; border: none; border-radius: 8px; background: none; color: inherit; cursor: pointer; }
      .chip button:hover { background: var(--vscode-toolbar-hoverBackground); }
      .chip button .codicon { font-size: 12px; }
      .count { margin-left: auto; color: var(--vscode-descriptionForeground); white-space: nowrap; }
      [role='list'] { display: contents; }
    `,
  ];

  @property({ attribute: false }) accessor init!: ExplorerInit;
  @property({ attribute: false }) accessor filter: TimelineFilter = {};
  @property({ type: Boolean }) accessor follow = false;
  /** Rows in the filtered timeline (-1 while unknown). */
  @property({ type: Number }) accessor total = -1;
  @property({ attribute: false }) accessor indexing: IndexProgress | undefined = undefined;

  @state() private accessor searchText = '';
  @state() private accessor jumpInvalid = false;

  @query('.search') private accessor searchField!: VscodeTextfield | null;

  private searchTimer: ReturnType<typeof setTimeout> | undefined;
  /** The type list bound to the multi-select, the same array while the types do not change (a new one resets it, open or not). */
  private types: string[] = [];

  /** Puts the cursor in the search field (the `/` key). */
  focusSearch(): void {
    this.searchField?.focus();
  }

  override willUpdate(changed: PropertyValues<this>): void {
    const types = normalizeFilter(this.filter).types ?? [];
    if (types.join('\n') !== this.types.join('\n')) this.types = [...types];
    if (changed.has('filter') && (normalizeFilter({ text: this.searchText }).text ?? '') !== (this.filter.text ?? '')) {
      clearTimeout(this.searchTimer);
      this.searchText = this.filter.text ?? '';
    }
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    clearTimeout(this.searchTimer);
  }

  private change(patch: Partial<TimelineFilter>): void {
    emit(this, 'rl-filter', normalizeFilter({ ...this.filter, ...patch }));
  }

  private readonly onSearchInput = (e: Event): void => {
    this.searchText = (e.target as VscodeTextfield).value;
    clearTimeout(this.searchTimer);
    this.searchTimer = setTimeout(() => this.change({ text: this.searchText }), SEARCH_DEBOUNCE_MS);
  };

  private readonly onSearchKey = (e: KeyboardEvent): void => {
    if (e.key === 'Enter') {
      clearTimeout(this.searchTimer);
      this.change({ text: this.searchText });
    } else if (e.key === 'Escape' && this.searchText !== '') {
      e.stopPropagation();
      this.searchText = '';
      clearTimeout(this.searchTimer);
      this.change({ text: '' });
    }
  };

  private readonly onJumpKey = (e: KeyboardEvent): void => {
    if (e.key !== 'Enter') return;
    const field = e.target as VscodeTextfield;
    const position = Number(field.value.trim().replace(/[,_\s]/g, ''));
    this.jumpInvalid = field.value.trim() === '' || !Number.isSafeInteger(position) || position < 1;
    if (!this.jumpInvalid) emit(this, 'rl-jump', { position });
  };

  override render() {
    const f = normalizeFilter(this.filter);
    const chips = filterChips(f);
    const waiting = this.indexing !== undefined;
    return html`
      <div class="tools" role="toolbar" aria-label="Timeline filters">
        <vscode-textfield
          class="search"
          type="search"
          label="Search events"
          placeholder="Search questions, answers, chunks, paths (/)"
          .value=${this.searchText}
          @input=${this.onSearchInput}
          @keydown=${this.onSearchKey}
        >
          <span slot="content-before" class="muted">${icon('search')}</span>
        </vscode-textfield>
        <span class="muted" aria-hidden="true">Types</span>
        <vscode-multi-select
          label="Event types"
          placeholder="All event types"
          .value=${this.types}
          @change=${(e: Event) => this.change({ types: (e.target as VscodeMultiSelect).value })}
        >
          ${this.init.eventTypes.map((t) => html`<vscode-option value=${t.type} description=${t.group}>${t.type}</vscode-option>`)}
        </vscode-multi-select>
        <vscode-single-select
          label="Pipeline version"
          .value=${f.pipeline ?? ''}
          @change=${(e: Event) => this.change({ pipeline: (e.target as VscodeSingleSelect).value })}
        >
          <vscode-option value="">All pipeline versions</vscode-option>
          ${this.init.pipelines.map((p) => html`<vscode-option value=${p.version} description=${p.description}>${p.label}${p.active ? ' (active)' : ''}</vscode-option>`)}
        </vscode-single-select>
        <vscode-checkbox label="Failures only" .checked=${f.failures === true} @change=${(e: Event) => this.change({ failures: (e.target as VscodeCheckbox).checked })}></vscode-checkbox>
        <span class="spacer"></span>
        <vscode-textfield class="jump" type="number" min="1" label="Go to log position" placeholder="Go to position" ?invalid=${this.jumpInvalid} @keydown=${this.onJumpKey} @input=${() => (this.jumpInvalid = false)}>
          <span slot="content-before" class="muted">${icon('arrow-right')}</span>
        </vscode-textfield>
        <button class="toggle" aria-pressed=${this.follow ? 'true' : 'false'} title="Follow the tail: show new events as they are recorded" @click=${() => emit(this, 'rl-follow', !this.follow)}>
          ${icon('arrow-circle-down')}Follow
        </button>
      </div>
      <div class="chips">
        <div role="list" aria-label="Active filters">
          ${chips.map(
            (c) => html`<span class="chip" role="listitem" title=${c.indexed && waiting ? `${c.label} ${c.value} (applies once the log is indexed)` : `${c.label} ${c.value}`}>
              ${c.indexed && waiting ? icon('watch') : nothing}
              <span class="name">${c.label}${c.value ? ':' : ''}</span><span class="value">${c.value}</span>
              <button aria-label="Remove filter ${c.label} ${c.value}" @click=${() => emit(this, 'rl-filter', removeChip(f, c.id))}>${icon('close')}</button>
            </span>`,
          )}
        </div>
        ${isEmptyFilter(f) ? html`<span class="muted">No filters: every event in log order.</span>` : html`<button class="link" @click=${() => emit(this, 'rl-filter', {})}>Clear all</button>`}
        <span class="count" role="status">${this.total < 0 ? '' : `${formatCount(this.total)} ${isEmptyFilter(f) ? '' : 'matching '}${this.total === 1 ? 'event' : 'events'}`}</span>
      </div>
    `;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'rl-filter-bar': FilterBar;
  }
}
