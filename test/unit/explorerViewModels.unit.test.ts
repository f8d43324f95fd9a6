import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Density, PayloadNode } from '../../src/shared/explorerModel.js';
import { bucketAt, bucketRange, bucketTotals, bucketsFor, describeBuckets, describeDensity, roundedRange, stackedPaths } from '../../webview/explorer/densityModel.js';
import { filterChips, filterKey, formatRange, isEmptyFilter, needsIndex, normalizeFilter, removeChip } from '../../webview/explorer/filterModel.js';
import { CHILD_PAGE, flattenTree, nodePreview, pathId, payloadToJson, vectorSummary } from '../../webview/explorer/jsonTreeModel.js';

const str = (value: string, length?: number): PayloadNode => (length === undefined ? { kind: 'string', value } : { kind: 'string', value, length });
const num = (value: number): PayloadNode => ({ kind: 'number', value });
const obj = (entries: Record<string, PayloadNode>): PayloadNode => ({ kind: 'object', entries: Object.entries(entries) });
const arr = (items: PayloadNode[], length = items.length): PayloadNode => ({ kind: 'array', items, length });

describe('timeline filters', () => {
  test('normalising drops empty values and sorts types, so equal filters share a key', () => {
    assert.deepEqual(normalizeFilter({ types: [], text: '  ', failures: false, stream: '' }), {});
    assert.deepEqual(normalizeFilter({ types: ['b', 'a', 'b'], text: ' two  words ' }), { types: ['a', 'b'], text: 'two words' });
    assert.equal(filterKey({ types: ['b', 'a'], failures: true }), filterKey({ failures: true, types: ['a', 'b'], text: '' }));
    assert.notEqual(filterKey({ stream: 'x' }), filterKey({ correlation: 'x' }));
    assert.ok(isEmptyFilter({ types: [], text: '' }));
    assert.deepEqual(normalizeFilter({ text: ' !!! … ' }), {}, 'no letter or digit: nothing the host could search for');
    assert.equal(normalizeFilter({ text: 'é'.repeat(600) }).text?.length, 500);
  });

  test('only types and stream apply before the host has indexed the log', () => {
    assert.equal(needsIndex({ types: ['QueryReceived'], stream: 'doc-1' }), false);
    assert.equal(needsIndex({ text: 'hello' }), true);
    assert.equal(needsIndex({ since: '2025-01-01T00:00:00.000Z' }), true);
  });

  test('every filter value is a chip, and removing a chip removes just that value', () => {
    const f = { types: ['QueryReceived', 'ContextRetrieved'], stream: 'doc-1', since: '2025-03-02T10:00:00.000Z', until: '2025-03-02T11:30:00.000Z', failures: true, text: 'chunk size' };
    const chips = filterChips(f);
    assert.deepEqual(
      chips.map((c) => c.id),
      ['type:ContextRetrieved', 'type:QueryReceived', 'stream', 'time', 'failures', 'text'],
    );
    assert.deepEqual(removeChip(f, 'type:QueryReceived').types, ['ContextRetrieved']);
    assert.equal(removeChip(removeChip(f, 'type:QueryReceived'), 'type:ContextRetrieved').types, undefined);
    const noTime = removeChip(f, 'time');
    assert.equal(noTime.since, undefined);
    assert.equal(noTime.until, undefined);
    assert.equal(removeChip(f, 'text').text, undefined);
    assert.equal(removeChip(f, 'failures').failures, undefined);
    assert.equal(removeChip(f, 'stream').stream, undefined);
    assert.deepEqual(chips.find((c) => c.id === 'text')?.indexed, true);
  });

  test('a time range reads without repeating its date', () => {
    const a = new Date(2025, 2, 2, 10, 0).toISOString();
    const b = new Date(2025, 2, 2, 11, 30).toISOString();
    const c = new Date(2025, 2, 3, 9, 15, 20).toISOString();
    assert.equal(formatRange(a, b), '2025-03-02 10:00 – 11:30');
    assert.equal(formatRange(a, c), '2025-03-02 10:00 – 2025-03-03 09:15:20');
    assert.equal(formatRange(undefined, b), '… – 2025-03-02 11:30');
  });
});

const density: Density = { from: Date.UTC(2025, 0, 1), bucketMs: 60_000, buckets: 4, total: 14, counts: { document: [1, 0, 2, 0], chunk: [3, 0, 2, 0], failure: [0, 0, 0, 6] } };

describe('density chart', () => {
  test('buckets follow the width within 10 and 300', () => {
    assert.equal(bucketsFor(800), 200);
    assert.equal(bucketsFor(4000), 300);
    assert.equal(bucketsFor(12), 10);
  });

  test('bars stack the groups of a bucket, scaled to the busiest bucket', () => {
    assert.deepEqual(bucketTotals(density), [4, 0, 4, 6]);
    const paths = stackedPaths(density, 40, 60);
    assert.deepEqual(
      paths.map((p) => p.group),
      ['document', 'chunk', 'failure'],
    );
    // Bucket 3 (6 failures) is the busiest: full height. Buckets 0 and 2 (4 events): 40 px, documents at the bottom.
    assert.equal(paths.find((p) => p.group === 'failure')!.d, 'M30 0h9v60h-9z');
    assert.equal(paths.find((p) => p.group === 'document')!.d, 'M0 50h9v10h-9zM20 40h9v20h-9z');
    assert.equal(paths.find((p) => p.group === 'chunk')!.d, 'M0 20h9v30h-9zM20 20h9v20h-9z');
    assert.deepEqual(stackedPaths({ ...density, buckets: 0 }, 40, 60), []);
  });

  test('a pixel maps to its bucket and buckets to a since/until range', () => {
    assert.equal(bucketAt(density, 0, 40), 0);
    assert.equal(bucketAt(density, 39.9, 40), 3);
    assert.equal(bucketAt(density, 400, 40), 3);
    assert.deepEqual(bucketRange(density, 2, 1), { since: '2025-01-01T00:01:00.000Z', until: '2025-01-01T00:03:00.000Z' });
    assert.deepEqual(roundedRange({ ...density, from: Date.UTC(2025, 0, 1, 0, 0, 7) }, 0, 0), { since: '2025-01-01T00:00:00.000Z', until: '2025-01-01T00:02:00.000Z' });
  });

  test('it is described in words for screen readers', () => {
    assert.match(describeDensity(density), /^Events over time: 14 events, .* in 4 bars \(Failures 6, Chunks 5, Documents 3\)/);
    assert.match(describeBuckets(density, 0), /: 4 events \(Documents 1, Chunks 3\)$/);
    assert.match(describeBuckets(density, 1), /: 0 events$/);
    assert.equal(describeDensity({ ...density, total: 0, counts: {} }), 'Events over time: no events.');
  });
});

describe('payload tree', () => {
  const payload = obj({
    question: str('what?'),
    settings: obj({ k: num(5), weights: obj({ dense: num(0.7), deep: obj({ deeper: num(1) }) }) }),
    vector: { kind: 'vector', dimensions: 384, norm: 1, first: [0.0123, -0.0344, 0.5, 0.25, 0.125] },
  });

  test('opens two levels at first, deeper containers closed, children only under open nodes', () => {
    const rows = flattenTree(payload);
    assert.deepEqual(
      rows.map((r) => `${r.level}:${r.name}${r.expandable ? (r.expanded ? '-' : '+') : ''}`),
      ['1:question', '1:settings-', '2:k', '2:weights-', '3:dense', '3:deep+', '1:vector'],
    );
    const deep = rows.find((r) => r.name === 'deep')!;
    assert.deepEqual(deep.path, ['settings', 'weights', 'deep']);
    assert.equal(deep.parent, pathId(['settings', 'weights']));
    assert.deepEqual([deep.posInSet, deep.setSize], [2, 2]);
  });

  test('what the user opens and closes wins over the defaults', () => {
    const expanded = new Map([
      [pathId(['settings', 'weights', 'deep']), true],
      [pathId(['settings']), false],
    ]);
    assert.deepEqual(
      flattenTree(payload, { expanded, shown: new Map() }).map((r) => r.name),
      ['question', 'settings', 'vector'],
    );
    const open = new Map([[pathId(['settings', 'weights', 'deep']), true]]);
    assert.ok(flattenTree(payload, { expanded: open, shown: new Map() }).some((r) => r.name === 'deeper' && r.level === 4));
  });

  test('long lists show a page and a "more" row; items the host did not send are one row', () => {
    const list = obj({ items: arr(Array.from({ length: 450 }, (_, i) => num(i)), 1000) });
    const open = new Map([[pathId(['items']), true]]);
    const rows = flattenTree(list, { expanded: open, shown: new Map() });
    assert.equal(rows.length, 1 + CHILD_PAGE + 2);
    assert.deepEqual(
      rows.slice(-2).map((r) => [r.kind, r.count]),
      [
        ['more', 250],
        ['clipped', 550],
      ],
    );
    const more = flattenTree(list, { expanded: open, shown: new Map([[pathId(['items']), 400]]) });
    assert.equal(more.filter((r) => r.kind === 'node').length, 1 + 400);
    assert.equal(flattenTree(list).find((r) => r.name === 'items')?.expanded, false, 'a long list starts closed');
  });

  test('long, multi-line and clipped strings open to their text; short ones do not', () => {
    const rows = flattenTree(obj({ short: str('hi'), long: str('x'.repeat(500)), lines: str('a\nb'), clipped: str('abc', 90_000) }));
    assert.deepEqual(
      rows.map((r) => r.expandable),
      [false, true, true, true],
    );
  });

  test('previews: quoted strings on one line, container sizes, vector summaries', () => {
    assert.equal(nodePreview(str('a\nb')), '"a⏎b"');
    assert.equal(nodePreview(arr([num(1)], 3)), '[…] 3 items');
    assert.equal(nodePreview(obj({ a: num(1) })), '{…} 1 key');
    assert.equal(vectorSummary({ kind: 'vector', dimensions: 384, norm: 1, first: [0.0123, -0.0344, 0.5, 0.25, 0.125] }), 'vector · 384 dims · norm 1.000 · [0.012, -0.034, 0.500, 0.250, …]');
  });

  test('copy as JSON: plain values, vectors as their summary, whole strings where they were read', () => {
    const p = obj({ a: str('clip', 10), v: { kind: 'vector', dimensions: 2, norm: 0.5, first: [0.1, 0.2] }, n: { kind: 'null' }, l: arr([num(1), { kind: 'boolean', value: true }], 5), ['__proto__']: num(7) });
    const json = payloadToJson(p, new Map([[pathId(['a']), 'clip whole']]));
    assert.equal(JSON.stringify(json), '{"a":"clip whole","v":"vector · 2 dims · norm 0.500 · [0.100, 0.200]","n":null,"l":[1,true],"__proto__":7}');
    assert.equal(Object.getPrototypeOf(json), Object.prototype, 'a "__proto__" key stays a plain key');
  });
});
