import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InMemoryEventStore } from '../../src/adapters/memory/inMemoryEventStore.js';
import { sha256 } from '../../src/adapters/node/sha256.js';
import { decodeRaw } from '../../src/core/eventLog.js';
import type { RawEvent } from '../../src/core/eventStore.js';
import { emptyEvent, planForget } from '../../src/core/forget.js';
import { embedded, queried, submitted } from '../support/events.js';

const at = '2026-01-02T03:04:05.000Z';

async function forgottenStore(): Promise<{ store: InMemoryEventStore; emptied: RawEvent[] }> {
  const store = new InMemoryEventStore({ clock: () => at });
  await store.append('document-a', [submitted('a', 'secret text'), embedded('a-1')]);
  await store.append('query-1', [queried('1'), { type: 'InferenceCompleted', data: { query_id: '1', response_text: 'it says secret text', tokens_used: 3, unmatched_citations: [], completed_at: at } }]);
  const rows = [store.rawEvents[0]!, store.rawEvents[3]!];
  const { emptied, entries } = planForget(sha256, rows, 'forget-1');
  await store.forget(
    { streamId: 'document-a', events: [{ type: 'DocumentForgotten', eventId: 'forget-1', data: { document_id: 'a', source: 'docs/a.md', reason: '', actor: 'tester', emptied: entries, questions: ['1'], forgotten_at: at } }] },
    emptied,
  );
  return { store, emptied };
}

test('emptying keeps the shape and the non-content fields of every forgettable type', () => {
  const base = { position: 1, eventId: 'e', streamId: 's', streamVersion: 1, schemaVersion: 1, metadataJson: '{"actor":"x"}', attachment: null, recordedAt: at, prevHash: '0', hash: '1' };
  const chunked = emptyEvent({ ...base, type: 'DocumentChunked', dataJson: JSON.stringify({ document_id: 'd', chunks: [{ chunk_id: 'c', text: 'secret', heading_path: ['Secret heading'], position: { index: 0, start_line: 1, end_line: 2, start_char: 0, end_char: 6 } }], chunked_at: at }) }, 'f');
  assert.doesNotMatch(chunked.dataJson, /[Ss]ecret/);
  const c = decodeRaw(chunked);
  assert.ok(c.type === 'DocumentChunked' && c.data.chunks[0]!.chunk_id === 'c' && c.data.chunks[0]!.position.end_line === 2);
  assert.deepEqual(JSON.parse(chunked.metadataJson), { actor: 'x', forgotten_by: 'f' });
  const v1 = emptyEvent({ ...base, type: 'ChunkEmbedded', dataJson: JSON.stringify({ chunk_id: 'c', model: 'm', vector: [0.5, 2], embedded_at: at }) }, 'f');
  const e = decodeRaw(v1);
  assert.ok(e.type === 'ChunkEmbedded' && [...e.data.vector].every((x) => x === 0) && e.data.dimensions === 2);
  const requested = emptyEvent({ ...base, type: 'InferenceRequested', dataJson: JSON.stringify({ query_id: 'q', model_id: 'm', prompt_hash: 'h', prompt: { system: 'sys', user: 'secret context' }, requested_at: at }) }, 'f');
  const r = decodeRaw(requested);
  assert.ok(r.type === 'InferenceRequested' && r.data.prompt?.user === '' && r.data.prompt_hash === 'h');
  assert.throws(() => emptyEvent({ ...base, type: 'QueryReceived', dataJson: '{}' }, 'f'), /holds no document content/);
});

test('verify accepts attested emptied rows and still finds every alteration around them', async () => {
  const { store } = await forgottenStore();
  assert.equal((await store.verify()).ok, true);
  const events = store.rawEvents;
  const cases: [string, (r: RawEvent[]) => void, number][] = [
    ['an emptied row changed again', (r) => (r[0] = { ...r[0]!, dataJson: r[0]!.dataJson.replace('"raw_content":""', '"raw_content":"new"') }), 1],
    ['another row emptied without an attestation', (r) => (r[1] = emptyEvent(r[1]!, 'forget-1')), 2],
    ['the attestation altered', (r) => (r[4] = { ...r[4]!, dataJson: r[4]!.dataJson.replace('tester', 'someone') }), 5],
    ['a row marked as emptied by another forget', (r) => (r[3] = { ...r[3]!, metadataJson: r[3]!.metadataJson.replace('forget-1', 'forget-2') }), 4],
  ];
  for (const [what, tamper, position] of cases) {
    const saved = [...events];
    tamper(events);
    const report = await store.verify();
    assert.equal(report.ok, false, what);
    assert.equal(report.firstFailure?.position, position, what);
    assert.equal(report.firstFailure?.kind, 'modified', what);
    events.splice(0, events.length, ...saved);
  }
  assert.equal((await store.verify()).ok, true);
});
