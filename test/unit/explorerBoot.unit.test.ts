import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BOOT_ELEMENT_ID, bootElement, opensOnTimelineTop } from '../../src/extension/explorer/explorerBoot.js';
import { TIMELINE_PAGE_ROWS, bootKey } from '../../src/shared/explorerProtocol.js';
import { FirstAnswers, readBoot } from '../../webview/explorer/boot.js';
import { PAGE_SIZE } from '../../webview/explorer/rowCache.js';

test('bootKey names init and pages of the unfiltered timeline only', () => {
  assert.equal(bootKey('init', {}), 'init');
  assert.equal(bootKey('page', { filter: {}, start: 0, limit: 100 }), 'page:0:100');
  assert.equal(bootKey('page', { filter: {}, start: 100, limit: 100 }), 'page:100:100');
  assert.equal(bootKey('page', { filter: { types: ['QueryReceived'] }, start: 0, limit: 100 }), null, 'a filtered page is never answered ahead');
  assert.equal(bootKey('page', { filter: null, start: 0, limit: 100 }), null);
  assert.equal(bootKey('page', { filter: {}, start: '0', limit: 100 }), null);
  assert.equal(bootKey('page', null), null);
  assert.equal(bootKey('locate', { filter: {}, position: 1 }), null);
  assert.equal(bootKey('density', { filter: {}, buckets: 250 }), null);
  // The host works out the pages the webview asks for: both sides use one size.
  assert.equal(PAGE_SIZE, TIMELINE_PAGE_ROWS);
});

test('opensOnTimelineTop: only a state at the top of the unfiltered timeline; anything odd from the webview is a no', () => {
  const top = { target: { view: 'timeline' }, filter: {}, topPosition: null, selected: null, follow: false, detailOpen: false };
  assert.equal(opensOnTimelineTop(top), true);
  assert.equal(opensOnTimelineTop({ target: { view: 'timeline' } }), true, 'missing fields are their defaults');
  for (const [why, state] of [
    ['no state', undefined],
    ['null', null],
    ['a string', 'timeline'],
    ['an array', []],
    ['no target', { filter: {} }],
    ['another view', { ...top, target: { view: 'replay', queryId: 'q-1' } }],
    ['a filter', { ...top, filter: { types: ['QueryReceived'] } }],
    ['a filter that is an array', { ...top, filter: [] }],
    ["the target's filter", { ...top, target: { view: 'timeline', filter: { failures: true } } }],
    ["the target's position", { ...top, target: { view: 'timeline', position: 12 } }],
    ['scrolled', { ...top, topPosition: 500 }],
    ['a selection', { ...top, selected: 3 }],
    ['following the tail', { ...top, follow: true }],
  ] as const) assert.equal(opensOnTimelineTop(state), false, why);
});

test('bootElement: log text cannot close the element or start markup, and reads back the same', () => {
  const hostile = '</script><img src=x onerror="alert(1)"><!-- & \u2028\u2029 </SCRIPT >';
  const answers = { init: { head: 3, storeLocation: `/tmp/${hostile}` }, 'page:0:100': { start: 0, rows: [{ position: 1, subject: hostile, summary: `asked “${hostile}”` }], total: 3, head: 3 } };
  const element = bootElement(answers);
  const open = `<script type="application/json" id="${BOOT_ELEMENT_ID}">`;
  assert.ok(element.startsWith(open) && element.endsWith('</script>'));
  const body = element.slice(open.length, -'</script>'.length);
  for (const c of ['<', '>', '&', '\u2028', '\u2029']) assert.equal(body.includes(c), false, `no raw ${JSON.stringify(c)} inside the element`);
  assert.deepEqual(Object.fromEntries(readBoot(body, false)), answers);
});

test('readBoot: a page with state of its own, or a malformed block, gives no answers', () => {
  const body = JSON.stringify({ answers: { init: { head: 1 }, 'page:0:100': { rows: [] } } });
  assert.deepEqual([...readBoot(body, false).keys()], ['init', 'page:0:100']);
  assert.equal(readBoot(body, true).size, 0, 'reloaded (it has state): the block is as old as the panel');
  for (const bad of [null, undefined, '', '{', 'null', '[]', '{"answers":[]}', '{"answers":"x"}', '{"other":{}}']) assert.equal(readBoot(bad, false).size, 0, String(bad));
  assert.deepEqual([...readBoot('{"answers":{"init":null,"page:0:100":{"rows":[]}}}', false).keys()], ['page:0:100'], 'empty answers are skipped');
});

test('FirstAnswers: each request takes its answer from the page once, the rest are asked; the host hears once', () => {
  const got = new Map<string, unknown>();
  const asked: string[] = [];
  let booted = 0;
  const first = new FirstAnswers(readBoot(JSON.stringify({ answers: { init: { head: 5 }, 'page:0:100': { rows: ['r1'] }, 'page:100:100': { rows: [] } } }), false), () => booted++);
  const request = (name: string, key: string | null): void =>
    first.answer(
      key,
      (answer) => got.set(name, answer),
      () => asked.push(name),
    );
  request('init', 'init');
  assert.equal(booted, 0, 'not before the first page too');
  request('density', null);
  request('page 0', 'page:0:100');
  assert.equal(booted, 1, 'init and the first page came with the page: the host is told');
  request('page 1', 'page:100:100');
  request('page 0 again', 'page:0:100');
  request('page 2', 'page:200:100');
  assert.deepEqual(Object.fromEntries(got), { init: { head: 5 }, 'page 0': { rows: ['r1'] }, 'page 1': { rows: [] } });
  assert.deepEqual(asked, ['density', 'page 0 again', 'page 2'], 'used once; anything else goes to the host');
  assert.equal(booted, 1);
  const none = new FirstAnswers(new Map(), () => booted++);
  none.answer('init', () => assert.fail('nothing came with the page'), () => asked.push('init'));
  assert.deepEqual([asked.at(-1), booted], ['init', 1]);
});
