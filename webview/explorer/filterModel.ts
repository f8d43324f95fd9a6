// Timeline filters as the filter bar shows them: normalised, keyed, and turned into removable chips.
// Pure (no DOM, no lit), so Node's test runner imports it.
import type { TimelineFilter } from '../../src/shared/explorerModel.js';
import { formatTime } from './format.js';

/** Filter fields the host applies only once its index is built (types and stream apply at once). */
export const INDEXED_FIELDS = ['correlation', 'pipeline', 'since', 'until', 'failures', 'text'] as const;

/** Search text longer than this is cut (the host refuses more). */
export const MAX_TEXT = 500;

/**
 * The filter without empty values: no empty type list, `failures: false` or text without a letter
 * or digit (nothing to search for); types sorted.
 */
export function normalizeFilter(f: TimelineFilter): TimelineFilter {
  const out: { -readonly [K in keyof TimelineFilter]: TimelineFilter[K] } = {};
  const types = [...new Set(f.types ?? [])].filter((t) => t !== '').sort();
  if (types.length > 0) out.types = types;
  for (const k of ['stream', 'correlation', 'pipeline', 'since', 'until'] as const) {
    const v = f[k];
    if (typeof v === 'string' && v !== '') out[k] = v;
  }
  if (f.failures === true) out.failures = true;
  const text = f.text?.trim().replace(/\s+/g, ' ').slice(0, MAX_TEXT);
  if (text && /[\p{L}\p{N}]/u.test(text)) out.text = text;
  return out;
}

/** A filter's identity: equal filters give equal keys whatever their key or type order. */
export function filterKey(f: TimelineFilter): string {
  const n = normalizeFilter(f);
  return JSON.stringify([n.types ?? null, n.stream ?? null, n.correlation ?? null, n.pipeline ?? null, n.since ?? null, n.until ?? null, n.failures ?? null, n.text ?? null]);
}

export const isEmptyFilter = (f: TimelineFilter): boolean => Object.keys(normalizeFilter(f)).length === 0;

/** True when part of the filter waits for the host's index. */
export const needsIndex = (f: TimelineFilter): boolean => {
  const n = normalizeFilter(f);
  return INDEXED_FIELDS.some((k) => n[k] !== undefined);
};

/** One removable chip of the filter bar. */
export interface FilterChip {
  /** `type:<name>`, `stream`, `correlation`, `pipeline`, `time`, `failures` or `text`. */
  readonly id: string;
  readonly label: string;
  readonly value: string;
  /** Applied only once the host's index is built. */
  readonly indexed: boolean;
}

/** The chips of a filter, in the order of the filter bar's controls. */
export function filterChips(f: TimelineFilter): FilterChip[] {
  const n = normalizeFilter(f);
  const chips: FilterChip[] = (n.types ?? []).map((t) => ({ id: `type:${t}`, label: 'Type', value: t, indexed: false }));
  if (n.stream) chips.push({ id: 'stream', label: 'Stream', value: n.stream, indexed: false });
  if (n.correlation) chips.push({ id: 'correlation', label: 'Chain', value: n.correlation, indexed: true });
  if (n.pipeline) chips.push({ id: 'pipeline', label: 'Pipeline', value: n.pipeline, indexed: true });
  if (n.since || n.until) chips.push({ id: 'time', label: 'Time', value: formatRange(n.since, n.until), indexed: true });
  if (n.failures) chips.push({ id: 'failures', label: 'Failures only', value: '', indexed: true });
  if (n.text) chips.push({ id: 'text', label: 'Text', value: `“${n.text}”`, indexed: true });
  return chips;
}

/** The filter without the chip `id`. */
export function removeChip(f: TimelineFilter, id: string): TimelineFilter {
  const n = normalizeFilter(f);
  if (id.startsWith('type:')) {
    const type = id.slice('type:'.length);
    return normalizeFilter({ ...n, types: (n.types ?? []).filter((t) => t !== type) });
  }
  if (id === 'time') {
    const { since: _s, until: _u, ...withoutTime } = n;
    return withoutTime;
  }
  const { [id as keyof TimelineFilter]: _gone, ...rest } = n;
  return rest;
}

/** "2025-03-02 10:00 – 11:30" (the date is not repeated when both ends share it). */
export function formatRange(since: string | undefined, until: string | undefined): string {
  const a = since ? shortTime(since) : '…';
  const b = until ? shortTime(until) : '…';
  if (since && until && a.slice(0, 10) === b.slice(0, 10)) return `${a} – ${b.slice(11)}`;
  return `${a} – ${b}`;
}

/** formatTime without trailing zero seconds and milliseconds. */
export function shortTime(iso: string): string {
  const t = formatTime(iso);
  if (t.length < 23) return t;
  if (t.endsWith(':00.000')) return t.slice(0, 16);
  if (t.endsWith('.000')) return t.slice(0, 19);
  return t;
}
