import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { UnsupportedFormatError, ValidationError } from '../../src/core/errors.js';
import { eventCatalog, eventTypes } from '../../src/core/events/eventCatalog.js';
import { decodeRaw } from '../../src/core/eventLog.js';
import type { RawEvent } from '../../src/core/eventStore.js';
import { checkStoredData, decodeEvent, encodeEvent } from '../../src/core/events/eventCodec.js';
import { upcasters } from '../../src/core/events/upcasters.js';
import { attachmentOf, loadEventFixtures, plain } from '../support/fixtures.js';

describe('old schema versions read as the current shape (fixtures kept forever)', () => {
  const fixtures = loadEventFixtures();
  test('there are fixtures for every version that has an upcaster', () => {
    for (const [type, byVersion] of Object.entries(upcasters)) {
      for (const v of Object.keys(byVersion ?? {})) {
        assert.ok(fixtures.some((f) => f.type === type && f.schemaVersion === Number(v)), `missing fixture ${type}.v${v}.json`);
      }
    }
  });
  for (const f of fixtures) {
    test(`${f.file}: ${f.type} v${f.schemaVersion} -> v${eventCatalog[f.type as keyof typeof eventCatalog].version}`, () => {
      const decoded = decodeEvent(f.type, f.schemaVersion, JSON.stringify(f.data), attachmentOf(f));
      assert.equal(decoded.type, f.type);
      assert.deepEqual(plain(decoded.data), f.expected);
    });
  }
});

describe('event codec', () => {
  test('encodes the vector as a Float32 attachment and never as JSON', () => {
    const vector = Float32Array.from([1.5, -2, 0.25]);
    const enc = encodeEvent({ type: 'ChunkEmbedded', data: { chunk_id: 'c', embedding_model: 'm', dimensions: 3, vector, embedded_at: '2026-01-01T00:00:00Z' } });
    assert.equal(enc.schemaVersion, 3);
    assert.doesNotMatch(enc.dataJson, /vector|1\.5/);
    assert.deepEqual([...new Float32Array(enc.attachment!.slice().buffer)], [1.5, -2, 0.25]);
    const back = decodeEvent(enc.type, enc.schemaVersion, enc.dataJson, enc.attachment);
    assert.ok(back.type === 'ChunkEmbedded' && back.data.vector instanceof Float32Array);
  });

  test('rejects a vector given as a number array, mismatched dimensions and non-finite values', () => {
    const base = { chunk_id: 'c', embedding_model: 'm', embedded_at: '2026-01-01T00:00:00Z' };
    assert.throws(() => encodeEvent({ type: 'ChunkEmbedded', data: { ...base, dimensions: 2, vector: [1, 2] } }), /vector must be a Float32Array/);
    assert.throws(() => encodeEvent({ type: 'ChunkEmbedded', data: { ...base, dimensions: 5, vector: Float32Array.from([1, 2]) } }), /dimensions 5 does not match/);
    assert.throws(() => encodeEvent({ type: 'ChunkEmbedded', data: { ...base, dimensions: 1, vector: Float32Array.from([Number.NaN]) } }), /not a finite number/);
  });

  test('validation errors list every problem with its path', () => {
    assert.throws(
      () => encodeEvent({ type: 'DocumentChunked', data: { document_id: '', chunks: [{ chunk_id: 'x', text: 1, position: { index: -1 } }], chunked_at: 'now' } }),
      (err: unknown) => {
        assert.ok(err instanceof ValidationError);
        for (const part of ['document_id must be a non-empty string', 'chunks[0].text must be a string', 'chunks[0].position.index must be an integer >= 0', 'chunks[0].position.start_line is required', 'chunked_at must be an ISO-8601']) {
          assert.ok(err.message.includes(part), `${err.message} should mention ${part}`);
        }
        return true;
      },
    );
  });

  test('ContextRetrieved needs one score per chunk', () => {
    assert.throws(() => encodeEvent({ type: 'ContextRetrieved', data: { query_id: 'q', chunk_ids: ['a', 'b'], scores: [1], retrieved_at: '2026-01-01T00:00:00Z' } }), /one score per chunk/);
  });

  test('ContextReplayed needs one score and one rank per chunk', () => {
    const base = { replay_id: 'r', query_id: 'q', pipeline_version: 'p', mode: 'hybrid', k: 2, chunk_ids: ['a', 'b'], diff: {}, replayed_at: '2026-01-01T00:00:00Z' };
    assert.throws(() => encodeEvent({ type: 'ContextReplayed', data: { ...base, scores: [1, 2], ranks: [1] } }), /one score and one rank per chunk/);
    assert.doesNotThrow(() => encodeEvent({ type: 'ContextReplayed', data: { ...base, scores: [1, 2], ranks: [1, 2] } }));
  });

  test('reads are lenient about fields added by a newer writer, strict about newer schema versions', () => {
    const withExtra = JSON.stringify({ chunk_id: 'c', index_name: 'i', indexed_at: '2026-01-01T00:00:00Z', shard: 3 });
    const e = decodeEvent('ChunkIndexed', 1, withExtra, null);
    assert.equal((e.data as unknown as { shard: number }).shard, 3);
    assert.throws(() => decodeEvent('ChunkIndexed', 2, withExtra, null), UnsupportedFormatError);
    assert.throws(() => decodeEvent('ChunkIndexed', 1, '{not json', null), /not valid JSON/);
    assert.throws(() => decodeEvent('Bogus', 1, '{}', null), /unknown event type/);
  });

  test('every event type in the catalog round-trips a minimal valid event', () => {
    assert.ok(eventTypes.length >= 15);
    const samples: Record<string, Record<string, unknown>> = {
      DocumentSubmitted: { document_id: 'd', source: 's', raw_content: '', submitted_at: '2026-01-01T00:00:00Z' },
      DocumentValidated: { document_id: 'd', format: 'markdown', byte_count: 0, secrets_redacted: 0, validated_at: '2026-01-01T00:00:00Z' },
      DocumentRejected: { document_id: 'd', reason: 'binary', detail: 'NUL byte at 12', size_bytes: 40, rejected_at: '2026-01-01T00:00:00Z' },
      DocumentChunked: { document_id: 'd', chunks: [], chunked_at: '2026-01-01T00:00:00Z' },
      DocumentDeleted: { document_id: 'd', reason: 'file removed', deleted_at: '2026-01-01T00:00:00Z' },
      DocumentForgotten: { document_id: 'd', source: 'a.md', reason: 'asked', actor: 'me via CLI', emptied: [{ event_id: 'e', position: 1, type: 'DocumentSubmitted', payload_digest: 'x', emptied_digest: 'y' }], questions: ['q'], forgotten_at: '2026-01-01T00:00:00Z' },
      ChunkEmbedded: { chunk_id: 'c', embedding_model: 'm', dimensions: 1, vector: Float32Array.from([1]), embedded_at: '2026-01-01T00:00:00Z' },
      ChunkEmbeddingFailed: { chunk_id: 'c', embedding_model: 'm', reason: 'model missing', failed_at: '2026-01-01T00:00:00Z' },
      ChunkIndexed: { chunk_id: 'c', index_name: 'i', indexed_at: '2026-01-01T00:00:00Z' },
      QueryReceived: { query_id: 'q', query_text: 't', user_id: 'u', received_at: '2026-01-01T00:00:00Z' },
      ContextRetrieved: { query_id: 'q', chunk_ids: ['c'], scores: [0.5], retrieved_at: '2026-01-01T00:00:00Z' },
      InferenceRequested: { query_id: 'q', model_id: 'm', prompt_hash: 'h', requested_at: '2026-01-01T00:00:00Z' },
      InferenceCompleted: { query_id: 'q', response_text: 'a', tokens_used: 3, unmatched_citations: [], completed_at: '2026-01-01T00:00:00Z' },
      InferenceFailed: { query_id: 'q', model_id: 'm', reason: 'cut_off', detail: 'stream ended', partial_text: 'an', failed_at: '2026-01-01T00:00:00Z' },
      ContextReplayed: { replay_id: 'r', query_id: 'q', pipeline_version: 'p2', mode: 'hybrid', k: 1, chunk_ids: ['c'], scores: [0.5], ranks: [1], diff: { rbo: 1 }, replayed_at: '2026-01-01T00:00:00Z' },
      ReplayAnswered: { replay_id: 'r', query_id: 'q', model_id: 'extractive', prompt_hash: 'h', prompt: { system: 's', user: 'u' }, response_text: 'a', similarity: 0.5, answered_at: '2026-01-01T00:00:00Z' },
      PipelineVersionDefined: { pipeline_version: 'p1', label: 'baseline', config: { chunker: { size: 800 } }, defined_at: '2026-01-01T00:00:00Z' },
      PipelineVersionActivated: { pipeline_version: 'p1', activated_at: '2026-01-01T00:00:00Z' },
      HeadSigned: { position: 1, hash: 'h', key_id: 'k', public_key: 'p', signature: 's', signed_at: '2026-01-01T00:00:00Z' },
    };
    for (const type of eventTypes) {
      const data = samples[type];
      assert.ok(data, `add a sample for ${type}`);
      const enc = encodeEvent({ type, data });
      assert.deepEqual(plain(decodeEvent(type, enc.schemaVersion, enc.dataJson, enc.attachment).data), plain(data));
    }
  });
});

describe('decoded metadata', () => {
  const raw = (position: number, metadataJson: string): RawEvent => ({
    position,
    eventId: `e${position}`,
    streamId: 'query-1',
    streamVersion: position,
    type: 'QueryReceived',
    schemaVersion: eventCatalog.QueryReceived.version,
    dataJson: JSON.stringify({ query_id: 'q', query_text: 'why?', user_id: 'u', received_at: '2026-01-01T00:00:00Z' }),
    metadataJson,
    attachment: null,
    recordedAt: '2026-01-01T00:00:00Z',
    prevHash: '0',
    hash: '1',
  });

  test('is parsed per event, shared only between identical texts, and frozen so sharing is safe', () => {
    const shared = '{"correlation_id":"c-1","extra":{"tags":["a"]}}';
    const a = decodeRaw(raw(1, shared));
    const b = decodeRaw(raw(2, shared));
    const c = decodeRaw(raw(3, '{"correlation_id":"c-2"}'));
    const d = decodeRaw(raw(4, shared));
    assert.deepEqual(a.metadata, { correlation_id: 'c-1', extra: { tags: ['a'] } });
    assert.equal(a.metadata, b.metadata);
    assert.deepEqual(c.metadata, { correlation_id: 'c-2' });
    assert.deepEqual(d.metadata, a.metadata);
    assert.ok(Object.isFrozen(a.metadata));
    assert.ok(Object.isFrozen(a.metadata.extra.tags));
    assert.throws(() => ((a.metadata as Record<string, unknown>).correlation_id = 'x'), TypeError);
    assert.deepEqual(decodeRaw(raw(5, '{}')).metadata, {});
  });
});

describe('DocumentChunked v2: chunk texts stored once', () => {
  const source = 'First line.\nSecond line, with ✓ a check.';
  const chunking = {
    type: 'DocumentChunked',
    data: {
      document_id: 'doc-1',
      chunks: [
        { chunk_id: 'c0', text: 'First line.', position: { index: 0, start_line: 1, end_line: 1, start_char: 0, end_char: 11 }, heading_path: ['H'] },
        { chunk_id: 'c1', text: source.slice(12), position: { index: 1, start_line: 2, end_line: 2, start_char: 12, end_char: source.length } },
      ],
      chunked_at: '2026-01-02T03:04:05.000Z',
    },
  };

  test('encoding keeps every field but the chunk texts', () => {
    const enc = encodeEvent(chunking);
    assert.equal(enc.schemaVersion, 2);
    assert.ok(!enc.dataJson.includes('First') && !enc.dataJson.includes('Second'), enc.dataJson);
    assert.deepEqual((JSON.parse(enc.dataJson) as { chunks: unknown[] }).chunks[0], { chunk_id: 'c0', position: { index: 0, start_line: 1, end_line: 1, start_char: 0, end_char: 11 }, heading_path: ['H'] });
  });

  test('decoding slices each text from the submission; without one the texts are empty', () => {
    const enc = encodeEvent(chunking);
    assert.deepEqual(plain(decodeEvent('DocumentChunked', 2, enc.dataJson, null, { chunkSource: source }).data), chunking.data);
    const bare = decodeEvent('DocumentChunked', 2, enc.dataJson, null);
    assert.deepEqual(bare.type === 'DocumentChunked' ? bare.data.chunks.map((c) => c.text) : null, ['', '']);
  });

  test('a stored v2 chunk that carries a text is rejected (an archive cannot slip one in)', () => {
    const forged = JSON.stringify({ ...chunking.data, chunks: chunking.data.chunks.map((c) => ({ ...c, text: 'other' })) });
    assert.throws(() => checkStoredData('DocumentChunked', 2, forged, null), /stores no chunk text/);
    checkStoredData('DocumentChunked', 2, encodeEvent(chunking).dataJson, null);
    checkStoredData('DocumentChunked', 1, JSON.stringify(chunking.data), null);
  });
});
