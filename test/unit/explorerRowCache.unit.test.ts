import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { TimelinePage, TimelineRow } from '../../src/shared/explorerModel.js';
import { PageLoader } from '../../webview/explorer/pageLoader.js';
import { RowCache } from '../../webview/explorer/rowCache.js';
import { WINDOW_EDGE, WINDOW_SIZE, centredWindow, slideWindow, windowHolding, windowLength } from '../../webview/explorer/rowWindow.js';

const row = (index: number): TimelineRow => ({
  position: index + 1,
  recordedAt: new Date(Date.UTC(2025, 0, 1) + index * 1000).toISOString(),
  type: 'ChunkEmbedded',
  group: 'chunk',
  streamId: `doc-${index % 7}`,
  subject: null,
  summary: `row ${index}`,
  failed: false,
});
const rows = (start: number, n: number): TimelineRow[] => Array.from({ length: n }, (_, i) => row(start + i));

describe('RowCache', () => {
  test('keeps rows by page and answers by index', () => {
    const cache = new RowCache(10, 5);
    cache.reset('a');
    assert.ok(cache.put('a', 20, rows(20, 10)));
    assert.equal(cache.row(25)?.summary, 'row 25');
    assert.equal(cache.row(19), undefined);
    assert.equal(cache.row(30), undefined);
  });

  test('evicts the least recently used page past its bound, and touch counts as use', () => {
    const cache = new RowCache(10, 3);
    cache.reset('a');
    for (const p of [0, 1, 2]) cache.put('a', p * 10, rows(p * 10, 10));
    cache.touch(0, 9);
    cache.put('a', 30, rows(30, 10));
    assert.equal(cache.size, 3);
    assert.ok(cache.hasPage(0), 'page 0 was touched, so it stays');
    assert.ok(!cache.hasPage(1), 'page 1 was the least recently used');
    assert.ok(cache.hasPage(2) && cache.hasPage(3));
  });

  test('stays bounded however many pages are stored', () => {
    const cache = new RowCache(100, 30);
    cache.reset('a');
    for (let p = 0; p < 10_000; p++) cache.put('a', p * 100, rows(p * 100, 100));
    assert.equal(cache.size, 30);
    assert.ok(cache.hasPage(9_999) && !cache.hasPage(9_969));
  });

  test('a new filter empties it and answers read under another filter are dropped', () => {
    const cache = new RowCache(10, 5);
    cache.reset('a');
    cache.put('a', 0, rows(0, 10));
    assert.equal(cache.reset('a'), false, 'same filter: nothing to forget');
    assert.equal(cache.reset('b'), true);
    assert.equal(cache.row(3), undefined);
    assert.equal(cache.put('a', 0, rows(0, 10)), false, 'a stale answer is ignored');
    assert.equal(cache.row(3), undefined);
    assert.equal(cache.put('b', 5, rows(5, 10)), false, 'a start off a page boundary is ignored');
  });

  test('missing lists visible pages first, then the margin nearest first, within the timeline', () => {
    const cache = new RowCache(100, 30);
    cache.reset('a');
    assert.deepEqual(cache.missing(250, 320, 10_000, 200), [2, 3, 4, 1, 5, 0]);
    cache.put('a', 200, rows(200, 100));
    assert.deepEqual(cache.missing(250, 320, 10_000, 200), [3, 4, 1, 5, 0]);
    assert.deepEqual(cache.missing(9_950, 9_999, 10_000, 200), [99, 98, 97]);
    assert.deepEqual(cache.missing(0, 10, 0, 100), [], 'an empty timeline needs nothing');
  });

  test('missing skips pages being loaded and asks again for a short last page once the timeline grew', () => {
    const cache = new RowCache(100, 30);
    cache.reset('a');
    cache.put('a', 0, rows(0, 100));
    cache.put('a', 100, rows(100, 40));
    assert.deepEqual(cache.missing(0, 139, 140, 100), [], 'the short page is the whole tail');
    assert.deepEqual(cache.missing(0, 139, 150, 100), [1], 'the tail grew: read it again');
    assert.deepEqual(cache.missing(0, 139, 150, 100, new Set([1])), [], 'unless it is already loading');
  });

  test('missing never asks for more than half the cache', () => {
    const cache = new RowCache(10, 6);
    cache.reset('a');
    assert.equal(cache.missing(0, 200, 1_000, 50).length, 3);
  });
});

interface Deferred {
  readonly start: number;
  readonly limit: number;
  resolve(page: TimelinePage): void;
  reject(err: Error): void;
}

function fakeHost(total: number) {
  const calls: Deferred[] = [];
  const fetch = (start: number, limit: number): Promise<TimelinePage> =>
    new Promise((resolve, reject) => {
      calls.push({ start, limit, resolve, reject });
    });
  const answer = async (call: Deferred, t = total): Promise<void> => {
    call.resolve({ start: call.start, rows: rows(call.start, Math.max(0, Math.min(call.limit, t - call.start))), total: t, head: t });
    await new Promise((r) => setImmediate(r));
  };
  return { calls, fetch, answer };
}

describe('PageLoader', () => {
  test('keeps at most two requests in flight, nearest pages first, and fills the cache', async () => {
    const cache = new RowCache(100, 30);
    const host = fakeHost(10_000);
    const pages: number[] = [];
    const loader = new PageLoader(cache, { onPage: (p) => pages.push(p.start), onError: (e) => assert.fail(String(e)) });
    loader.restart('a', host.fetch);
    loader.want(500, 540, 10_000);
    assert.deepEqual(
      host.calls.map((c) => [c.start, c.limit]),
      [
        [500, 100],
        [600, 100],
      ],
    );
    assert.equal(loader.pending, 2);
    await host.answer(host.calls[0]!);
    assert.equal(host.calls.length, 3, 'one answer lets one more request go');
    assert.equal(host.calls[2]!.start, 400);
    for (let i = 1; i < host.calls.length; i++) await host.answer(host.calls[i]!);
    assert.deepEqual(pages, [500, 600, 400]);
    assert.equal(cache.row(450)?.summary, 'row 450');
    assert.equal(loader.pending, 0);
  });

  test('ignores answers read under a filter that changed meanwhile', async () => {
    const cache = new RowCache(100, 30);
    const host = fakeHost(1_000);
    const seen: number[] = [];
    const loader = new PageLoader(cache, { onPage: (p) => seen.push(p.start), onError: (e) => assert.fail(String(e)) });
    loader.restart('a', host.fetch);
    loader.want(0, 50, 1_000);
    const stale = host.calls.slice();
    loader.restart('b', host.fetch);
    for (const c of stale) await host.answer(c);
    assert.deepEqual(seen, []);
    assert.equal(cache.row(10), undefined, 'rows of the old filter never reach the cache');
    loader.want(0, 50, 1_000);
    await host.answer(host.calls[host.calls.length - 1]!);
    assert.equal(cache.filterKey, 'b');
  });

  test('stale requests still count against the limit until they settle', async () => {
    const cache = new RowCache(100, 30);
    const host = fakeHost(1_000);
    const loader = new PageLoader(cache, { onPage: () => undefined, onError: (e) => assert.fail(String(e)) });
    loader.restart('a', host.fetch);
    loader.want(0, 50, 1_000);
    loader.restart('b', host.fetch);
    loader.want(0, 50, 1_000);
    assert.equal(host.calls.length, 2, 'the host is still busy with the first two');
    await host.answer(host.calls[0]!);
    assert.equal(host.calls.length, 3);
  });

  test('refresh reads a cached page again (the tail after the log grew)', async () => {
    const cache = new RowCache(100, 30);
    const host = fakeHost(150);
    let total = 0;
    const loader = new PageLoader(cache, { onPage: (p) => (total = p.total), onError: (e) => assert.fail(String(e)) });
    loader.restart('a', host.fetch);
    loader.want(100, 149, 150);
    for (const c of host.calls.slice()) await host.answer(c);
    const before = host.calls.length;
    loader.refresh(1);
    assert.equal(host.calls.length, before + 1);
    await host.answer(host.calls[before]!, 180);
    assert.equal(total, 180);
    assert.equal(cache.row(175)?.summary, 'row 175');
  });

  test('reports errors of current requests only', async () => {
    const cache = new RowCache(100, 30);
    const host = fakeHost(1_000);
    const errors: unknown[] = [];
    const loader = new PageLoader(cache, { onPage: () => undefined, onError: (e) => errors.push(e) });
    loader.restart('a', host.fetch);
    loader.want(0, 10, 1_000);
    host.calls[0]!.reject(new Error('boom'));
    await new Promise((r) => setImmediate(r));
    loader.restart('b', host.fetch);
    host.calls[1]!.reject(new Error('stale'));
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(
      errors.map((e) => (e as Error).message),
      ['boom'],
    );
  });
});

describe('row window', () => {
  test('a window is at most WINDOW_SIZE rows and fits the timeline', () => {
    assert.equal(windowLength(0, 50, WINDOW_SIZE), 50);
    assert.equal(windowLength(0, 5_000_000), WINDOW_SIZE);
    assert.equal(windowLength(4_900_000, 5_000_000), 100_000);
  });

  test('a jump centres the window on the target, kept inside the timeline', () => {
    assert.equal(centredWindow(2_500_000, 5_000_000), 2_400_000);
    assert.equal(centredWindow(10, 5_000_000), 0);
    assert.equal(centredWindow(4_999_999, 5_000_000), 4_800_000, 'the end: a full window that ends with the log');
    assert.equal(centredWindow(30, 50), 0);
    assert.equal(windowHolding(400_000, 450_000, 5_000_000), 400_000, 'already inside: no move');
    assert.equal(windowHolding(0, 450_000, 5_000_000), 350_000);
  });

  test('the window slides by half near an edge that is not the timeline end, and not elsewhere', () => {
    const total = 1_000_000;
    assert.equal(slideWindow(0, 100, 140, total), null, 'at the very start');
    assert.equal(slideWindow(0, 190_000, 190_040, total), 100_000, 'near the far edge');
    assert.equal(slideWindow(100_000, 105_000, 105_040, total), 0, 'near the near edge');
    assert.equal(slideWindow(100_000, 200_000, 200_040, total), null, 'in the middle');
    assert.equal(slideWindow(800_000, 999_950, 999_999, total), null, 'at the very end');
    assert.equal(slideWindow(700_000, 899_000, 899_040, total), 800_000, 'never past the last full window');
  });

  test('after a slide the view is far from both edges, so it never slides back at once', () => {
    const total = 3_000_000;
    for (const [start, first] of [
      [0, WINDOW_SIZE - WINDOW_EDGE + 10],
      [1_000_000, 1_000_000 + WINDOW_EDGE - 10],
    ] as const) {
      const next = slideWindow(start, first, first + 40, total);
      assert.notEqual(next, null);
      assert.equal(slideWindow(next!, first, first + 40, total), null);
    }
  });
});
