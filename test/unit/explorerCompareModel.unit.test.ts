import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { CompareReport, CompareRow } from '../../src/shared/explorerModel.js';
import { activationSummary, answerLabel, binLabel, histogramSummary, isChanged, nextSort, signedDelta, visibleRows } from '../../webview/explorer/compareModel.js';

const row = (question: string, rbo: number, extra: Partial<CompareRow> = {}): CompareRow => ({
  queryId: question,
  question,
  metrics: { k: 8, overlapAtK: rbo, jaccard: rbo, rbo, meanRankShift: rbo === 1 ? 0 : 1 },
  added: rbo === 1 ? 0 : 1,
  removed: rbo === 1 ? 0 : 1,
  moved: 0,
  documentOverlapAtK: 1,
  answer: { kind: 'unknown' },
  ...extra,
});

const pipeline = (version: string, active: boolean) => ({ version, label: version, active, built: true, definedAt: '2026-01-01T00:00:00Z', description: '', mode: 'hybrid' });

test('a row is changed when anything was added, removed or moved', () => {
  assert.equal(isChanged(row('a', 1)), false);
  assert.equal(isChanged(row('b', 0.5)), true);
  assert.equal(isChanged(row('c', 1, { moved: 2 })), true);
});

test('worst first keeps the report order; a column sort is stable and "changed only" filters', () => {
  const rows = [row('b', 0.2), row('a', 0.5), row('c', 1), row('d', 0.5)];
  assert.deepEqual(visibleRows(rows, { worstFirst: true, changedOnly: false, sort: { key: 'question', dir: 'ascending' } }).map((r) => r.question), ['b', 'a', 'c', 'd']);
  assert.deepEqual(visibleRows(rows, { worstFirst: false, changedOnly: false, sort: { key: 'question', dir: 'ascending' } }).map((r) => r.question), ['a', 'b', 'c', 'd']);
  assert.deepEqual(visibleRows(rows, { worstFirst: false, changedOnly: false, sort: { key: 'rbo', dir: 'descending' } }).map((r) => r.question), ['c', 'a', 'd', 'b']);
  assert.deepEqual(visibleRows(rows, { worstFirst: true, changedOnly: true, sort: null }).map((r) => r.question), ['b', 'a', 'd']);
});

test('the answer column sorts unknown, then by similarity, then same context', () => {
  const rows = [row('s', 1, { answer: { kind: 'same-context' } }), row('r9', 0.5, { answer: { kind: 'reanswered', similarity: 0.9 } }), row('u', 0.5), row('r3', 0.5, { answer: { kind: 'reanswered', similarity: 0.3 } })];
  assert.deepEqual(visibleRows(rows, { worstFirst: false, changedOnly: false, sort: { key: 'answer', dir: 'ascending' } }).map((r) => r.question), ['u', 'r3', 'r9', 's']);
  assert.deepEqual(rows.map(answerLabel), ['same context', 're-answered 0.90', '—', 're-answered 0.30']);
});

test('clicking a header sorts by it, clicking again reverses', () => {
  assert.deepEqual(nextSort(null, 'rbo'), { key: 'rbo', dir: 'ascending' });
  assert.deepEqual(nextSort({ key: 'rbo', dir: 'ascending' }, 'rbo'), { key: 'rbo', dir: 'descending' });
  assert.deepEqual(nextSort({ key: 'rbo', dir: 'ascending' }, 'added'), { key: 'added', dir: 'descending' });
});

test('signed deltas carry their sign', () => {
  assert.equal(signedDelta(0.81, 0.86), '+0.050');
  assert.equal(signedDelta(0.62, 0.6), '−0.020');
  assert.equal(signedDelta(0.5, 0.5), '±0.000');
  assert.equal(signedDelta(0.5, 0.5004), '±0.000');
});

test('the activation summary states the aggregate in words, with the golden scores when there are some', () => {
  const report: CompareReport = {
    from: pipeline('v1', true),
    to: pipeline('v2', false),
    k: 8,
    source: 'recorded',
    questions: 500,
    unchanged: 120,
    means: { overlapAtK: 0.7234, jaccard: 0.6, rbo: 0.8111, meanRankShift: 1.2, documentOverlapAtK: 0.9 },
    overlapHistogram: [0, 0, 0, 0, 0, 0, 0, 0, 0, 500],
    rows: [],
  };
  assert.equal(activationSummary(report), 'Over 500 recorded questions (v1 → v2): mean overlap@8 0.72, RBO 0.81, 120 unchanged');
  const golden = { ...report, source: 'golden' as const, golden: { from: { recall: 0.81, mrr: 0.6, ndcg: 0.7 }, to: { recall: 0.86, mrr: 0.62, ndcg: 0.74 } } };
  assert.equal(activationSummary(golden), 'Over 500 golden-set questions (v1 → v2): mean overlap@8 0.72, RBO 0.81, 120 unchanged; recall@8 0.81 → 0.86, MRR 0.60 → 0.62, nDCG 0.70 → 0.74');
});

test('the histogram is summarised in a sentence', () => {
  assert.equal(binLabel(0), '0.0–0.1');
  assert.equal(binLabel(9), '0.9–1.0');
  assert.equal(histogramSummary([0, 0, 0, 0, 0, 0, 0, 0, 0, 0], 8), 'No questions were compared.');
  assert.equal(
    histogramSummary([10, 0, 0, 0, 10, 0, 0, 0, 0, 80], 8),
    '100 questions. 80 (80%) keep 0.9 or more of their context at k=8; 20 (20%) keep less than half. Most questions fall in 0.9–1.0 (80).',
  );
});
