import { html, nothing } from 'lit';
import type { TemplateResult } from 'lit';
import type { RankingMetrics } from '../../src/shared/explorerModel.js';
import { signedDelta } from './compareModel.js';
import { formatRatio } from './format.js';

/** What each figure means, for tooltips and screen readers. */
export const METRIC_HELP = {
  overlap: 'overlap@k: the share of the k places both rankings fill with the same items',
  jaccard: 'Jaccard: items in both rankings over items in either',
  rbo: 'Rank-biased overlap (p = 0.9): agreement weighted toward the top ranks; 1 is identical',
  shift: 'Mean rank shift: how many places a shared item moved, on average',
  recall: 'recall@k: share of the golden targets retrieved in the top k',
  mrr: 'MRR: mean reciprocal rank of the first golden target',
  ndcg: 'nDCG@k: discounted gain of the golden targets, normalised',
} as const;

/** One figure: a large value over a small label, the label's meaning as a tooltip. */
export function metricCard(label: string, value: string, help: string, extra: TemplateResult | typeof nothing = nothing): TemplateResult {
  return html`<div class="metric" title=${help} role="group" aria-label=${`${label}: ${value}`}>
    <span class="value">${value}</span><span class="label">${label}</span>${extra}
  </div>`;
}

/** Cards under a small caption ("Chunks", "Golden set"), grouped for screen readers. */
export function metricGroup(label: string, cards: TemplateResult): TemplateResult {
  return html`<div class="metric-group" role="group" aria-label=${label}>
    <div class="group-label" aria-hidden="true">${label}</div>
    <div class="cards">${cards}</div>
  </div>`;
}

/** The four similarity figures of a ranking comparison, behind a row label ("Chunks", "Documents"). */
export function rankingCards(rowLabel: string, m: RankingMetrics): TemplateResult {
  return metricGroup(
    rowLabel,
    html`${metricCard(`overlap@${m.k}`, formatRatio(m.overlapAtK), METRIC_HELP.overlap)}
      ${metricCard('Jaccard', formatRatio(m.jaccard), METRIC_HELP.jaccard)}
      ${metricCard('RBO', formatRatio(m.rbo), METRIC_HELP.rbo)}
      ${metricCard('mean rank shift', m.meanRankShift === null ? '–' : m.meanRankShift.toFixed(2), METRIC_HELP.shift)}`,
  );
}

/** A golden-set score before → after, with its signed change (better up, worse down: arrow and sign, not colour alone). */
export function deltaCard(label: string, from: number, to: number, help: string): TemplateResult {
  const d = to - from;
  const cls = Math.abs(d) < 5e-4 ? 'muted' : d > 0 ? 'move-up' : 'move-down';
  const arrow = Math.abs(d) < 5e-4 ? '' : d > 0 ? '▲ ' : '▼ ';
  return metricCard(
    label,
    `${formatRatio(from)} → ${formatRatio(to)}`,
    help,
    html`<span class="delta ${cls}">${arrow}${signedDelta(from, to)}</span>`,
  );
}
