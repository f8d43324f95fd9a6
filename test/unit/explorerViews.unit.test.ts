import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sha256 } from '../../src/adapters/node/sha256.js';
import { encodeEvent } from '../../src/core/events/eventCodec.js';
import { GENESIS_HASH } from '../../src/core/eventLog.js';
import type { RawEvent, RecordedEvent } from '../../src/core/eventStore.js';
import { groupOf, isFailure, typeGroups } from '../../src/core/explorer/eventGroups.js';
import { indexEntryOf } from '../../src/core/explorer/indexEntry.js';
import { FIELD_MAX_CHARS, fieldText, toPayloadNode } from '../../src/core/explorer/payloadView.js';
import { SUMMARY_MAX, oneLine, summarize } from '../../src/core/explorer/summary.js';
import { filterKey, parseTimelineFilter, searchWords } from '../../src/core/explorer/timelineFilter.js';
import type { PayloadNode } from '../../src/shared/explorerModel.js';
import { eventTypes } from '../../src/core/events/eventCatalog.js';

function raw(type: string, data: Record<string, unknown>, metadata: Record<string, unknown> = {}, position = 1): RawEvent {
  const encoded = encodeEvent({ type, data });
  return { position, eventId: `e-${position}`, streamId: 'query-q-1', streamVersion: 1, type, schemaVersion: encoded.schemaVersion, dataJson: encoded.dataJson, metadataJson: JSON.stringify(metadata), attachment: encoded.attachment, recordedAt: '2026-01-02T03:04:05.000Z', prevHash: GENESIS_HASH, hash: sha256(['x']) };
}

const at = '2026-01-02T03:04:05.000Z';

test('every event type has a group; failures are the failure types and re-answers whose model failed', () => {
  assert.equal(typeGroups().length, eventTypes.length);
  assert.equal(groupOf('DocumentRejected'), 'failure');
  assert.equal(groupOf('ChunkIndexed'), 'chunk');
  assert.equal(groupOf('SomethingNew'), 'other');
  assert.equal(isFailure('InferenceFailed', {}), true);
  assert.equal(isFailure('ReplayAnswered', { generation_failure: 'good: unreachable' }), true);
  assert.equal(isFailure('ReplayAnswered', { similarity: 0.5 }), false);
});

test('summaries say what happened in one clipped line, without contents, vectors or prompts', () => {
  const e = (type: string, data: Record<string, unknown>, metadata: Record<string, unknown> = {}): RecordedEvent => ({ ...raw(type, data), data: JSON.parse(encodeEvent({ type, data }).dataJson) as unknown, metadata, schemaVersion: 1, storedSchemaVersion: 1 }) as unknown as RecordedEvent;
  assert.equal(summarize(e('QueryReceived', { query_id: 'q', query_text: 'how\ndoes  it work?', user_id: 'ann', received_at: at })), '“how does it work?” asked by ann');
  assert.equal(summarize(e('InferenceFailed', { query_id: 'q', model_id: 'llama3.2', reason: 'timeout', detail: 'nothing for 120 s', failed_at: at })), 'llama3.2 failed (timeout): nothing for 120 s');
  assert.equal(
    summarize(e('InferenceCompleted', { query_id: 'q', response_text: 'Yes [1] and [42].', tokens_used: 7, model_id: 'm', unmatched_citations: [42], completed_at: at })),
    'm · 7 tokens · ⚠ cites [42]: no such passage · Yes [1] and [42].',
  );
  assert.equal(
    summarize(e('InferenceRequested', { query_id: 'q', model_id: 'm', prompt_hash: 'sha256:abcdef0123456789', context_tokens: 1024, omitted_chunk_ids: ['c3', 'c4'], clipped_chunk_ids: ['c2'], requested_at: at })),
    'prompt to m · abcdef012345… · to fit 1024 tokens: 2 passages left out, 1 clipped',
  );
  assert.equal(summarize(e('DocumentChunked', { document_id: 'd', chunks: [], chunked_at: at }, { pipeline_version: 'pv-1' })), '0 chunks for pv-1');
  assert.equal(summarize(e('DocumentValidated', { document_id: 'd', format: 'yaml', byte_count: 120, secrets_redacted: 2, validated_at: at })), 'valid yaml, 120 B, 2 secrets redacted');
  assert.equal(summarize(e('DocumentRejected', { document_id: 'd', reason: 'binary', detail: 'PNG image', size_bytes: 120, rejected_at: at })), 'rejected (binary, 120 B): PNG image');
  assert.equal(summarize(e('DocumentRejected', { document_id: 'd', reason: 'link', detail: 'the link leads outside the workspace', size_bytes: null, rejected_at: at })), 'rejected (link): the link leads outside the workspace');
  const secret = 'SECRET CONTENT '.repeat(100);
  assert.ok(!summarize(e('DocumentSubmitted', { document_id: 'd', source: 'a.md', raw_content: secret, submitted_at: at })).includes('SECRET'));
  assert.equal(summarize(e('DocumentSubmitted', { document_id: 'd', source: 'a.md', raw_content: '', submitted_at: at }, { forgotten_by: 'forget-1' })), 'content forgotten · a.md · 0 characters');
  assert.equal(
    summarize(e('DocumentForgotten', { document_id: 'd', source: 'a.md', reason: 'asked', actor: 'ann via VS Code', emptied: [], questions: ['q'], forgotten_at: at })),
    'forgotten by ann via VS Code: 0 events emptied, 1 question · asked',
  );
  assert.equal(oneLine('x'.repeat(1000)).length, SUMMARY_MAX);
  assert.ok(oneLine('x'.repeat(1000)).endsWith('…'));
});

test('payload trees clip long strings and arrays, summarise vectors, and "show all" returns a bounded field', () => {
  const vector = Float32Array.from([3, 4, 0, 0, 0, 0, 0, 0, 0, 1]);
  const node = toPayloadNode({ text: 'y'.repeat(5000), items: Array.from({ length: 500 }, (_, i) => i), vector, nested: { a: null, b: true } });
  assert.equal(node.kind, 'object');
  const entries = new Map<string, PayloadNode>(node.kind === 'object' ? node.entries : []);
  const text = entries.get('text');
  assert.deepEqual(text && text.kind === 'string' ? [text.value.length, text.length] : null, [2000, 5000]);
  const items = entries.get('items');
  assert.deepEqual(items && items.kind === 'array' ? [items.items.length, items.length] : null, [200, 500]);
  const v = entries.get('vector');
  assert.ok(v && v.kind === 'vector' && v.dimensions === 10 && Math.abs(v.norm - Math.sqrt(26)) < 1e-6 && v.first.length === 8);
  assert.deepEqual(fieldText({ a: { b: ['x', 'the whole text'] } }, ['a', 'b', 1]), { text: 'the whole text', clipped: false });
  assert.equal(fieldText({ big: 'z'.repeat(FIELD_MAX_CHARS + 10) }, ['big']).clipped, true);
  assert.throws(() => fieldText({ a: 1 }, ['b']), /no field b/);
  assert.throws(() => fieldText({ a: [1] }, ['a', 5]), /no field a\.5/);
  assert.throws(() => fieldText({ a: 1 }, ['__proto__']), /no field __proto__/);
});

test('search words are folded like the index keeps them; filters normalise to equal keys', () => {
  assert.deepEqual(searchWords('Crème BRÛLÉE, crème!'), ['creme', 'brulee']);
  assert.deepEqual(searchWords('src/config.rs'), ['src', 'config', 'rs']);
  assert.equal(searchWords('a'.repeat(100))[0]!.length, 64);
  assert.equal(filterKey(parseTimelineFilter({ types: ['QueryReceived', 'DocumentSubmitted'], text: ' x ' })), filterKey(parseTimelineFilter({ text: 'x', types: ['DocumentSubmitted', 'QueryReceived', 'QueryReceived'] })));
  assert.deepEqual(parseTimelineFilter({ since: '2026-01-31T14:00:00+02:00', failures: false, stream: '' }), { since: '2026-01-31T12:00:00.000Z' });
});

test('index entries: columns from the envelope, words and labels from the data, cited chunks from retrievals', () => {
  const q = indexEntryOf(raw('QueryReceived', { query_id: 'q-1', query_text: 'Where is the <img src=x onerror=alert(1)> config?', user_id: 'me', received_at: at }, { correlation_id: 'q-1', pipeline_version: 'pv-1' }));
  assert.deepEqual([q.correlation, q.pipeline, q.failed, q.label], ['q-1', 'pv-1', false, 'Where is the <img src=x onerror=alert(1)> config?']);
  assert.deepEqual(q.words!.split(' '), ['where', 'is', 'the', 'img', 'src', 'x', 'onerror', 'alert', '1', 'config']);
  const r = indexEntryOf(raw('ContextRetrieved', { query_id: 'q-1', chunk_ids: ['ck-a', 'ck-b'], scores: [0.9, 0.5], retrieved_at: at }));
  assert.deepEqual([r.cites, r.words], [['ck-a', 'ck-b'], null]);
  const p = indexEntryOf(raw('PipelineVersionActivated', { pipeline_version: 'pv-2', activated_at: at }));
  assert.equal(p.pipeline, 'pv-2');
  const broken = indexEntryOf({ ...raw('QueryReceived', { query_id: 'q', query_text: 't', user_id: 'u', received_at: at }), dataJson: '{not json' });
  assert.deepEqual([broken.type, broken.words], ['QueryReceived', null], 'an undecodable event is still indexed by its envelope');
});
