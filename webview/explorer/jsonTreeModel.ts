// An event payload (PayloadNode) as the rows of a foldable tree: which nodes are open, how many of a
// long list are shown, and the payload back as JSON for "Copy as JSON". Pure (no DOM, no lit), so
// Node's test runner imports it.
import type { PayloadNode } from '../../src/shared/explorerModel.js';

export type PathSegment = string | number;

/** Children shown per container before "show N more". */
export const CHILD_PAGE = 200;
/** A string longer than this (or on several lines, or clipped by the host) opens to its whole text. */
export const STRING_PREVIEW = 120;

/** One row of the flattened tree. */
export interface TreeRow {
  /** Unique among the rows: the path as JSON, with a suffix for the extra rows. */
  readonly id: string;
  /** `node`: a value; `more`: "show N more" of a long container; `clipped`: items the host did not send. */
  readonly kind: 'node' | 'more' | 'clipped';
  readonly path: readonly PathSegment[];
  /** 1 for the root's children. */
  readonly level: number;
  readonly name: string;
  readonly node: PayloadNode | null;
  /** For `more` and `clipped` rows: how many children they stand for. */
  readonly count: number;
  readonly expandable: boolean;
  readonly expanded: boolean;
  /** The parent row's id (null at level 1). */
  readonly parent: string | null;
  readonly setSize: number;
  readonly posInSet: number;
}

/** What the user opened, closed and asked to see more of, by row id. */
export interface TreeState {
  readonly expanded: ReadonlyMap<string, boolean>;
  readonly shown: ReadonlyMap<string, number>;
}

export const EMPTY_TREE_STATE: TreeState = { expanded: new Map(), shown: new Map() };

export const pathId = (path: readonly PathSegment[]): string => JSON.stringify(path);

const isContainer = (n: PayloadNode): n is Extract<PayloadNode, { kind: 'object' | 'array' }> => n.kind === 'object' || n.kind === 'array';

/** A container's children as [key or index, node], and how many it has in all (arrays may be clipped). */
export function childrenOf(n: PayloadNode): { entries: readonly (readonly [PathSegment, PayloadNode])[]; total: number } {
  if (n.kind === 'object') return { entries: n.entries, total: n.entries.length };
  if (n.kind === 'array') return { entries: n.items.map((item, i) => [i, item] as const), total: Math.max(n.length, n.items.length) };
  return { entries: [], total: 0 };
}

/** Containers with children open; so do strings too long for one line. */
export function isExpandable(n: PayloadNode): boolean {
  if (isContainer(n)) return childrenOf(n).total > 0;
  return n.kind === 'string' && (n.value.length > STRING_PREVIEW || n.value.includes('\n') || n.length !== undefined);
}

/** Containers with more children than this start closed. */
export const OPEN_LIMIT = 50;

/**
 * Open at first: containers at level 1, and at level 2 unless they are among many siblings, as
 * long as they are short. Deeper ones start closed.
 */
export const openByDefault = (n: PayloadNode, level: number, siblings: number): boolean =>
  isContainer(n) && childrenOf(n).total <= OPEN_LIMIT && (level === 1 || (level === 2 && siblings <= 20));

/** The visible rows: children of open nodes only, at most `shown` (CHILD_PAGE by default) per container. */
export function flattenTree(root: PayloadNode, state: TreeState = EMPTY_TREE_STATE): TreeRow[] {
  const out: TreeRow[] = [];
  if (!isContainer(root)) {
    const expandable = isExpandable(root);
    out.push({ id: pathId([]), kind: 'node', path: [], level: 1, name: '', node: root, count: 0, expandable, expanded: expandable && state.expanded.get(pathId([])) === true, parent: null, setSize: 1, posInSet: 1 });
    return out;
  }
  walk(root, [], 1, null, state, out);
  return out;
}

function walk(node: PayloadNode, path: readonly PathSegment[], level: number, parent: string | null, state: TreeState, out: TreeRow[]): void {
  const { entries, total } = childrenOf(node);
  const id = pathId(path);
  const shown = Math.min(entries.length, state.shown.get(id) ?? CHILD_PAGE);
  const hidden = entries.length - shown;
  const clipped = total - entries.length;
  const setSize = shown + (hidden > 0 ? 1 : 0) + (clipped > 0 ? 1 : 0);
  for (let i = 0; i < shown; i++) {
    const [key, child] = entries[i]!;
    const childPath = [...path, key];
    const childId = pathId(childPath);
    const expandable = isExpandable(child);
    const expanded = expandable && (state.expanded.get(childId) ?? openByDefault(child, level, entries.length));
    out.push({ id: childId, kind: 'node', path: childPath, level, name: String(key), node: child, count: 0, expandable, expanded, parent, setSize, posInSet: i + 1 });
    if (expanded && isContainer(child)) walk(child, childPath, level + 1, childId, state, out);
  }
  const extra = { path, level, name: '', node: null, expandable: false, expanded: false, parent, setSize };
  if (hidden > 0) out.push({ ...extra, id: `${id}#more`, kind: 'more', count: hidden, posInSet: shown + 1 });
  if (clipped > 0) out.push({ ...extra, id: `${id}#clipped`, kind: 'clipped', count: clipped, posInSet: setSize });
}

/** "vector · 384 dims · norm 1.000 · [0.012, -0.034, …]" */
export function vectorSummary(n: Extract<PayloadNode, { kind: 'vector' }>): string {
  const first = n.first.slice(0, 4).map((x) => x.toFixed(3));
  const more = n.dimensions > first.length ? ', …' : '';
  return `vector · ${n.dimensions} dims · norm ${n.norm.toFixed(3)} · [${first.join(', ')}${more}]`;
}

/** A one-line preview of a value: quoted strings, `{…} 3 keys`, `[…] 12 items`, the vector summary. */
export function nodePreview(n: PayloadNode): string {
  switch (n.kind) {
    case 'null':
      return 'null';
    case 'boolean':
      return String(n.value);
    case 'number':
      return String(n.value);
    case 'string': {
      const line = n.value.length > 300 ? `${n.value.slice(0, 300)}…` : n.value;
      return `"${line.replace(/\r?\n/g, '⏎')}"`;
    }
    case 'array': {
      const total = Math.max(n.length, n.items.length);
      return `[…] ${total} ${total === 1 ? 'item' : 'items'}`;
    }
    case 'object':
      return `{…} ${n.entries.length} ${n.entries.length === 1 ? 'key' : 'keys'}`;
    case 'vector':
      return vectorSummary(n);
  }
}

/**
 * The payload as plain JSON: vectors as their summary, clipped strings as sent unless `texts` has
 * their whole text (by row id), arrays as far as the host sent them.
 */
export function payloadToJson(n: PayloadNode, texts: ReadonlyMap<string, string> = new Map(), path: readonly PathSegment[] = []): unknown {
  switch (n.kind) {
    case 'null':
      return null;
    case 'boolean':
    case 'number':
      return n.value;
    case 'string':
      return texts.get(pathId(path)) ?? n.value;
    case 'vector':
      return vectorSummary(n);
    case 'array':
      return n.items.map((item, i) => payloadToJson(item, texts, [...path, i]));
    case 'object':
      return Object.fromEntries(n.entries.map(([k, v]) => [k, payloadToJson(v, texts, [...path, k])]));
  }
}
