import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseExplorerMessage } from '../../src/extension/explorer/explorerMessages.js';

const request = (method: string, params: unknown, id: unknown = 7) => parseExplorerMessage({ kind: 'request', id, method, params });
const refused = (m: ReturnType<typeof parseExplorerMessage>): string => {
  assert.equal(m.ok, false, JSON.stringify(m));
  return m.ok ? '' : m.error;
};

test('well-formed requests pass, normalised (filters validated and sorted)', () => {
  const page = request('page', { filter: { types: ['QueryReceived', 'DocumentSubmitted', 'QueryReceived'], text: '  borrow  ', failures: false }, start: 0, limit: 300 });
  assert.deepEqual(page, { ok: true, message: { kind: 'request', id: 7, method: 'page', params: { filter: { types: ['DocumentSubmitted', 'QueryReceived'], text: 'borrow' }, start: 0, limit: 300 } } });
  assert.equal(request('init', {}).ok, true);
  assert.equal(request('locate', { filter: {}, time: '2026-01-31T12:00:00Z' }).ok, true);
  assert.equal(request('replay', { queryId: 'q-0b1c2d3e-aaaa-bbbb-cccc-1234567890ab', pipelineVersion: 'pv-0123456789ab', asOf: 'asked' }).ok, true);
  assert.equal(request('field', { position: 12, path: ['chunks', 3, 'text'] }).ok, true);
  assert.equal(request('activate', { version: 'pv-0123456789ab', summary: 'Over 500 questions: mean overlap@8 0.72 — “quoted” <b>markup</b>' }).ok, true);
});

test('malformed requests are refused with the request id and every problem named', () => {
  assert.match(refused(request('page', { filter: {}, start: -1, limit: 301 })), /start must be an integer from 0.*limit must be an integer from 1 to 300/);
  assert.match(refused(request('page', { filter: { types: ['NoSuchEvent'] }, start: 0, limit: 10 })), /unknown event type "NoSuchEvent"/);
  assert.match(refused(request('page', { filter: { since: '2026-02-30' }, start: 0, limit: 10 })), /February 2026 has 28 days/);
  assert.match(refused(request('page', { filter: { since: '2026-03-01', until: '2026-02-01' }, start: 0, limit: 10 })), /since .* must be before until/);
  assert.match(refused(request('page', { filter: { text: 'x'.repeat(501) }, start: 0, limit: 10 })), /text is longer than 500 characters/);
  assert.match(refused(request('page', { filter: { text: '!!! ---' }, start: 0, limit: 10 })), /no words to search for/);
  assert.match(refused(request('page', { filter: { stream: 'document-a\u0000b' }, start: 0, limit: 10 })), /stream contains control characters/);
  assert.match(refused(request('page', { filter: { evil: 1 }, start: 0, limit: 10 })), /unknown filter field "evil"/);
  assert.match(refused(request('page', { filter: [], start: 0, limit: 10 })), /the filter must be an object/);
  assert.match(refused(request('locate', { filter: {} })), /either a position or a time/);
  assert.match(refused(request('locate', { filter: {}, position: 3, time: '2026-01-01' })), /either a position or a time/);
  assert.match(refused(request('replay', { queryId: '../../etc/passwd', pipelineVersion: 'pv-1', asOf: 'now' })), /queryId must be a valid string/);
  assert.match(refused(request('replay', { queryId: 'q-1', pipelineVersion: 'pv-1', asOf: 'tomorrow' })), /asOf must be one of now, asked/);
  assert.match(refused(request('field', { position: 1, path: Array.from({ length: 33 }, () => 'a') })), /at most 32/);
  assert.match(refused(request('event', { position: 1.5 })), /position must be an integer/);
  assert.match(refused(request('event', { position: 1, extra: true })), /unknown field "extra"/);
  assert.match(refused(request('documentDiff', { documentId: 'doc-1', from: '1', to: 2 })), /from must be an integer/);
  assert.match(refused(request('evaluate', {})), /unknown method "evaluate"/);
  assert.match(refused(request('init', null)), /params must be an object/);
  const bad = request('event', { position: 0 });
  assert.equal(bad.ok ? null : bad.id, 7, 'the id comes back so the webview gets an error response');
});

test('messages without a usable id, or of unknown kinds, are dropped', () => {
  for (const raw of [null, 'ready', [], { kind: 'request', id: 0, method: 'init', params: {} }, { kind: 'request', id: '1', method: 'init', params: {} }, { kind: 'eval', code: 'x' }, { kind: 'cancel' }]) {
    const m = parseExplorerMessage(raw);
    assert.equal(m.ok, false, JSON.stringify(raw));
    if (!m.ok) assert.equal(m.id, null);
  }
});

test('notifications: ready, booted, cancel, openChunk (position and chunk id only, never a path), title (cleaned and clipped)', () => {
  assert.deepEqual(parseExplorerMessage({ kind: 'ready' }), { ok: true, message: { kind: 'ready' } });
  assert.deepEqual(parseExplorerMessage({ kind: 'booted' }), { ok: true, message: { kind: 'booted' } });
  assert.deepEqual(parseExplorerMessage({ kind: 'cancel', id: 3 }), { ok: true, message: { kind: 'cancel', id: 3 } });
  assert.deepEqual(parseExplorerMessage({ kind: 'openChunk', position: 9, chunkId: 'ck-0123' }), { ok: true, message: { kind: 'openChunk', position: 9, chunkId: 'ck-0123' } });
  assert.equal(parseExplorerMessage({ kind: 'openChunk', position: 9, chunkId: 'ck-0123', path: '/etc/passwd' }).ok, false);
  assert.equal(parseExplorerMessage({ kind: 'openChunk', position: 9, chunkId: '../x' }).ok, false);
  const title = parseExplorerMessage({ kind: 'title', text: `RAG Ledger\n${'x'.repeat(500)}` });
  assert.ok(title.ok && title.message.kind === 'title' && title.message.text.length === 120 && !title.message.text.includes('\n'));
});
