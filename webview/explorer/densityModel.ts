// The density chart's geometry and words: stacked bars per group as SVG paths, buckets as time
// ranges, and the summaries a screen reader hears. Pure (no DOM, no lit), so Node tests import it.
import type { Density, EventGroup } from '../../src/shared/explorerModel.js';
import { GROUP_LABELS, GROUP_ORDER, formatCount } from './format.js';
import { formatRange } from './filterModel.js';

/** Buckets to ask for at a chart width: one per 4 pixels, at least 10, at most 300. */
export const bucketsFor = (width: number): number => Math.max(10, Math.min(300, Math.floor(width / 4)));

/** Events per bucket, all groups together. */
export function bucketTotals(d: Density): number[] {
  const totals = new Array<number>(d.buckets).fill(0);
  for (const g of GROUP_ORDER) {
    const counts = d.counts[g];
    if (!counts) continue;
    for (let i = 0; i < d.buckets; i++) totals[i]! += counts[i] ?? 0;
  }
  return totals;
}

/**
 * One SVG path per group with events: bucket i's bars stacked bottom-up in GROUP_ORDER, in a
 * `width` × `height` box. A bucket with any events is at least 1 pixel high.
 */
export function stackedPaths(d: Density, width: number, height: number): { group: EventGroup; d: string }[] {
  if (d.buckets <= 0 || width <= 0 || height <= 0) return [];
  const totals = bucketTotals(d);
  const max = Math.max(1, ...totals);
  const bw = width / d.buckets;
  const gap = bw >= 3 ? 1 : 0;
  const base = new Array<number>(d.buckets).fill(height);
  const out: { group: EventGroup; d: string }[] = [];
  for (const g of GROUP_ORDER) {
    const counts = d.counts[g];
    if (!counts) continue;
    let path = '';
    for (let i = 0; i < d.buckets; i++) {
      const c = counts[i] ?? 0;
      if (c <= 0) continue;
      const total = totals[i]!;
      const barHeight = Math.max(1, (total / max) * height);
      const h = (c / total) * barHeight;
      const y = base[i]! - h;
      base[i] = y;
      path += `M${round(i * bw)} ${round(y)}h${round(bw - gap)}v${round(h)}h${round(gap - bw)}z`;
    }
    if (path) out.push({ group: g, d: path });
  }
  return out;
}

const round = (x: number): number => Math.round(x * 100) / 100;

/** The bucket under x (pixels from the chart's left edge). */
export const bucketAt = (d: Density, x: number, width: number): number => Math.max(0, Math.min(d.buckets - 1, Math.floor((x / Math.max(1, width)) * d.buckets)));

/** Buckets [a, b] (either order) as a since/until filter: since inclusive, until exclusive. */
export function bucketRange(d: Density, a: number, b: number): { since: string; until: string } {
  const lo = Math.max(0, Math.min(a, b));
  const hi = Math.min(d.buckets - 1, Math.max(a, b));
  return { since: new Date(d.from + lo * d.bucketMs).toISOString(), until: new Date(d.from + (hi + 1) * d.bucketMs).toISOString() };
}

/** A brushed range widened to whole minutes (whole seconds for buckets under a minute), so it reads well as a chip. */
export function roundedRange(d: Density, a: number, b: number): { since: string; until: string } {
  const r = bucketRange(d, a, b);
  const unit = d.bucketMs >= 60_000 ? 60_000 : d.bucketMs >= 1000 ? 1000 : 1;
  return {
    since: new Date(Math.floor(Date.parse(r.since) / unit) * unit).toISOString(),
    until: new Date(Math.ceil(Date.parse(r.until) / unit) * unit).toISOString(),
  };
}

/** The chart's accessible name: what it covers and how to use it. */
export function describeDensity(d: Density): string {
  if (d.total === 0 || d.buckets === 0) return 'Events over time: no events.';
  const { since, until } = bucketRange(d, 0, d.buckets - 1);
  const totals = GROUP_ORDER.map((g) => [g, (d.counts[g] ?? []).reduce((a, b) => a + b, 0)] as const).filter(([, n]) => n > 0).sort((a, b) => b[1] - a[1]);
  const parts = totals.slice(0, 3).map(([g, n]) => `${GROUP_LABELS[g]} ${formatCount(n)}`);
  return `Events over time: ${formatCount(d.total)} events, ${formatRange(since, until)}, in ${d.buckets} bars (${parts.join(', ')}). Arrow keys move between bars, Enter scrolls there, Shift with arrows selects a time range and Enter filters to it.`;
}

/** One bucket (or a range of them) in words: its time range, its events by group. */
export function describeBuckets(d: Density, a: number, b = a): string {
  const lo = Math.min(a, b);
  const hi = Math.max(a, b);
  const { since, until } = bucketRange(d, lo, hi);
  let n = 0;
  const parts: string[] = [];
  for (const g of GROUP_ORDER) {
    let c = 0;
    for (let i = lo; i <= hi; i++) c += d.counts[g]?.[i] ?? 0;
    if (c > 0) parts.push(`${GROUP_LABELS[g]} ${formatCount(c)}`);
    n += c;
  }
  return `${formatRange(since, until)}: ${formatCount(n)} ${n === 1 ? 'event' : 'events'}${parts.length > 0 ? ` (${parts.join(', ')})` : ''}`;
}
