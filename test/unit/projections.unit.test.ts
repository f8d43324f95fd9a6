import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { InMemoryEventStore } from '../../src/adapters/memory/inMemoryEventStore.js';
import { InMemoryProjectionStore } from '../../src/adapters/memory/inMemoryProjectionStore.js';
import { ProjectionRunner } from '../../src/app/projectionRunner.js';
import { ReadModels } from '../../src/app/readModels.js';
import { CancelledError } from '../../src/core/errors.js';
import type { NewEvent } from '../../src/core/eventStore.js';
import { standardProjections } from '../../src/core/projections/catalog.js';
import type { DocumentTotals, PipelineTotals } from '../../src/core/projections/documentStatus.js';
import { documentStatusProjection } from '../../src/core/projections/documentStatus.js';
import type { Projection } from '../../src/core/projections/projection.js';
import { embedded, queried, submitted } from '../support/events.js';

const at = '2026-01-02T03:04:05.000Z';
const chunked = (doc: string, ids: string[]): NewEvent => ({
  type: 'DocumentChunked',
  data: { document_id: doc, chunks: ids.map((id, i) => ({ chunk_id: id, text: `text ${id}`, position: { index: i, start_line: i, end_line: i, start_char: 0, end_char: 5 } })), chunked_at: at },
});
const indexed = (id: string): NewEvent => ({ type: 'ChunkIndexed', data: { chunk_id: id, index_name: 'main', indexed_at: at } });
const retrieved = (q: string, ids: string[], scores: number[]): NewEvent => ({ type: 'ContextRetrieved', data: { query_id: q, chunk_ids: ids, scores, retrieved_at: at } });

/** Given events in the log, when the projections catch up, then the read models show... */
async function given(...streams: [string, NewEvent[]][]): Promise<{ read: ReadModels; runner: ProjectionRunner; events: InMemoryEventStore; store: InMemoryProjectionStore }> {
  const events = new InMemoryEventStore();
  for (const [stream, list] of streams) await events.append(stream, list);
  const store = new InMemoryProjectionStore();
  const runner = new ProjectionRunner(events, store, standardProjections);
  await runner.catchUp();
  return { read: new ReadModels(store), runner, events, store };
}

/** A small deterministic generator: random(n) is an integer in [0, n). */
function seededRandom(seed: number): (n: number) => number {
  let state = seed;
  return (n) => {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    return Math.floor((state / 2 ** 31) * n);
  };
}

describe('document status', () => {
  test('follows a document through validation, chunking, embedding and indexing, per pipeline version', async () => {
    const withPipeline = (e: NewEvent, p: string): NewEvent => ({ ...e, metadata: { pipeline_version: p } });
    const { read } = await given(
      ['document-a', [submitted('a'), { type: 'DocumentValidated', data: { document_id: 'a', format: 'markdown', byte_count: 12, secrets_redacted: 0, validated_at: at } }, withPipeline(chunked('a', ['c1', 'c2']), 'p1')]],
      ['chunk-c1', [withPipeline(embedded('c1'), 'p1'), withPipeline(indexed('c1'), 'p1')]],
      ['chunk-c2', [withPipeline(embedded('c2'), 'p1')]],
      ['document-a2', [withPipeline(chunked('a', ['c1']), 'p2')]],
    );
    const doc = read.document('a')!;
    assert.equal(doc.version, 1);
    assert.equal(doc.format, 'markdown');
    assert.deepEqual(doc.pipelines.p1, { chunks: 2, embedded: 2, indexed: 1, failed: 0 });
    assert.deepEqual(doc.pipelines.p2, { chunks: 1, embedded: 0, indexed: 0, failed: 0 });
  });

  test('reaches indexed when every chunk is indexed; a new version starts again; rejection keeps the reason', async () => {
    const { read, events, runner } = await given(['document-a', [submitted('a'), chunked('a', ['c1'])]], ['chunk-c1', [embedded('c1'), indexed('c1'), indexed('c1')]]);
    assert.equal(read.document('a')!.state, 'indexed');
    assert.deepEqual(read.document('a')!.pipelines.default, { chunks: 1, embedded: 1, indexed: 1, failed: 0 });
    await events.append('document-a', [submitted('a', 'changed'), { type: 'DocumentRejected', data: { document_id: 'a', reason: 'invalid_utf8', detail: 'byte 0xff at offset 3', size_bytes: 7, rejected_at: at } }]);
    await runner.catchUp();
    const doc = read.document('a')!;
    assert.equal(doc.version, 2);
    assert.equal(doc.state, 'rejected');
    assert.equal(doc.last_error, 'invalid_utf8: byte 0xff at offset 3');
    assert.deepEqual(doc.pipelines, {});
  });

  test('records embedding failures and deletion', async () => {
    const { read } = await given(
      ['document-a', [submitted('a'), chunked('a', ['c1'])]],
      ['chunk-c1', [{ type: 'ChunkEmbeddingFailed', data: { chunk_id: 'c1', embedding_model: 'm', reason: 'model not found', failed_at: at } }]],
      ['document-a-del', [{ type: 'DocumentDeleted', data: { document_id: 'a', reason: 'file removed', deleted_at: at } }]],
    );
    const doc = read.document('a')!;
    assert.equal(doc.state, 'deleted');
    assert.equal(doc.last_error, 'embedding failed: model not found');
    assert.equal(doc.pipelines.default?.failed, 1);
  });
});

describe('document status after a failure', () => {
  test('indexing a chunk without its vector (lexical only) keeps the embedding failure showing', async () => {
    const failed: NewEvent = { type: 'ChunkEmbeddingFailed', data: { chunk_id: 'c1', embedding_model: 'test-model', reason: 'timed out', failed_at: at } };
    const { read } = await given(['document-a', [submitted('a'), chunked('a', ['c1'])]], ['chunk-c1', [failed, indexed('c1')]]);
    const doc = read.document('a')!;
    assert.deepEqual(doc.pipelines.default, { chunks: 1, embedded: 0, indexed: 1, failed: 1 });
    assert.equal(doc.last_error, 'embedding failed: timed out');
    assert.equal(read.documentTotals().pipelines.default?.failing, 1);
  });

  test('a later vector clears the failure: the failed count, the last error and the failing total', async () => {
    const failed = (id: string): NewEvent => ({ type: 'ChunkEmbeddingFailed', data: { chunk_id: id, embedding_model: 'test-model', reason: 'model not found', failed_at: at } });
    const { read, events, runner } = await given(['document-a', [submitted('a'), chunked('a', ['c1', 'c2'])]], ['chunk-c1', [failed('c1'), failed('c2'), embedded('c2')]]);
    assert.deepEqual(read.document('a')!.pipelines.default, { chunks: 2, embedded: 1, indexed: 0, failed: 1 });
    assert.equal(read.document('a')!.last_error, 'embedding failed: model not found');
    assert.equal(read.documentTotals().pipelines.default?.failing, 1);
    await events.append('chunk-c1-again', [embedded('c1')]);
    await runner.catchUp();
    const doc = read.document('a')!;
    assert.deepEqual(doc.pipelines.default, { chunks: 2, embedded: 2, indexed: 0, failed: 0 });
    assert.equal(doc.last_error, null);
    assert.equal(doc.state, 'embedded');
    assert.equal(read.documentTotals().pipelines.default?.failing, 0);
    // Another kind of error (a rejection) is not cleared by a vector.
    await events.append('document-a-v2', [submitted('a', 'v2'), { type: 'DocumentRejected', data: { document_id: 'a', reason: 'binary', detail: 'NUL byte', size_bytes: 9, rejected_at: at } }]);
    await runner.catchUp();
    assert.equal(read.document('a')!.last_error, 'binary: NUL byte');
  });
});

describe('document totals', () => {
  /** The totals as a pass over every document computes them (what the status bar and pipeline views used to do). */
  function bruteForce(read: ReadModels): DocumentTotals {
    const docs = read.documents();
    const live = docs.filter((d) => d.state !== 'deleted' && d.state !== 'rejected');
    const pipelines: Record<string, PipelineTotals> = {};
    for (const v of new Set(live.flatMap((d) => Object.keys(d.pipelines)))) {
      const with_ = live.filter((d) => d.pipelines[v]).map((d) => d.pipelines[v]!);
      pipelines[v] = {
        documents: with_.length,
        chunks: with_.reduce((n, c) => n + c.chunks, 0),
        embedded: with_.reduce((n, c) => n + c.embedded, 0),
        indexed: with_.reduce((n, c) => n + c.indexed, 0),
        complete: with_.filter((c) => c.indexed >= c.chunks).length,
        failing: with_.filter((c) => c.failed > 0).length,
      };
    }
    const states: Record<string, number> = {};
    for (const d of docs) states[d.state] = (states[d.state] ?? 0) + 1;
    return { live: live.length, rejected: docs.filter((d) => d.state === 'rejected').length, states, pipelines };
  }
  /** Totals without the pipelines that no live document uses any more (they stay at zero). */
  const withoutZeros = (t: DocumentTotals): DocumentTotals => ({ ...t, states: Object.fromEntries(Object.entries(t.states).filter(([, n]) => n !== 0)), pipelines: Object.fromEntries(Object.entries(t.pipelines).filter(([, p]) => p.documents !== 0)) });

  test('running totals equal a pass over the documents after every event of a random history', async () => {
    const random = seededRandom(7);
    const events = new InMemoryEventStore();
    const store = new InMemoryProjectionStore();
    const runner = new ProjectionRunner(events, store, standardProjections);
    const read = new ReadModels(store);
    const pipelines = ['p1', 'p2'];
    const chunksOf = new Map<string, string[]>();
    const seen = { complete: false, failing: false, rejected: false };
    for (let step = 0; step < 600; step++) {
      const doc = `d${random(6)}`;
      const p = pipelines[random(2)]!;
      const meta = { metadata: { pipeline_version: p } };
      const chunks = chunksOf.get(doc) ?? [];
      const chunk = chunks[random(Math.max(1, chunks.length))];
      const r = random(20);
      let e: NewEvent;
      if (r === 0 || !chunksOf.has(doc)) {
        e = submitted(doc, `v${step}`);
        chunksOf.set(doc, []);
      } else if (r === 1) e = { type: 'DocumentRejected', data: { document_id: doc, reason: 'binary', detail: 'NUL byte', size_bytes: 9, rejected_at: at } };
      else if (r === 2) e = { type: 'DocumentDeleted', data: { document_id: doc, reason: 'file removed', deleted_at: at } };
      else if (r <= 5) {
        const ids = Array.from({ length: 1 + random(3) }, (_, i) => `${doc}-s${step}-${i}`);
        chunksOf.set(doc, ids);
        e = { ...chunked(doc, ids), ...meta };
      } else if (!chunk) e = { type: 'DocumentValidated', data: { document_id: doc, format: 'markdown', byte_count: 3, secrets_redacted: 0, validated_at: at } };
      else if (r <= 10) e = { ...embedded(chunk), ...meta };
      else if (r <= 17) e = { ...indexed(chunk), ...meta };
      else e = { type: 'ChunkEmbeddingFailed', data: { chunk_id: chunk, embedding_model: 'test-model', reason: 'model not found', failed_at: at }, ...meta };
      await events.append(`s-${step}`, [e]);
      await runner.catchUp();
      const totals = read.documentTotals();
      assert.deepEqual(withoutZeros(totals), bruteForce(read), `after step ${step} (${e.type} of ${doc})`);
      for (const p of Object.values(totals.pipelines)) {
        seen.complete ||= p.complete > 0 && p.indexed > 0;
        seen.failing ||= p.failing > 0;
      }
      seen.rejected ||= totals.rejected > 0;
    }
    assert.deepEqual(seen, { complete: true, failing: true, rejected: true }, 'the history reached every kind of total');
    // And a rebuild from the log gives the same totals.
    const before = read.documentTotals();
    await runner.rebuild();
    assert.deepEqual(read.documentTotals(), before);
    const progress = read.pipelinesProgress(['p1', 'p2', 'never']);
    assert.equal(progress.get('never')!.documents, 0);
    assert.equal(progress.get('p1')!.liveDocuments, before.live);
  });
});

describe('query history and retrieval statistics', () => {
  test('list questions newest first with their outcome', async () => {
    const { read } = await given(
      ['query-1', [queried('1', 'first?'), retrieved('1', ['c1'], [0.9]), { type: 'InferenceRequested', data: { query_id: '1', model_id: 'llama3.2', prompt_hash: 'h', requested_at: at } }, { type: 'InferenceCompleted', data: { query_id: '1', response_text: 'Answer one', tokens_used: 42, unmatched_citations: [], completed_at: at } }]],
      ['query-2', [queried('2', 'second?'), { type: 'InferenceFailed', data: { query_id: '2', model_id: 'llama3.2', reason: 'unreachable', detail: 'ECONNREFUSED 127.0.0.1:11434', failed_at: at } }]],
    );
    const [latest, first] = read.queries();
    assert.equal(latest!.query_text, 'second?');
    assert.equal(latest!.state, 'failed');
    assert.match(latest!.error!, /unreachable/);
    assert.equal(first!.state, 'answered');
    assert.equal(first!.model_id, 'llama3.2');
    assert.equal(first!.tokens_used, 42);
    assert.deepEqual(first!.chunk_ids, ['c1']);
  });

  test('count the most retrieved chunks and documents', async () => {
    const { read } = await given(
      ['document-a', [submitted('a'), chunked('a', ['c1', 'c2'])]],
      ['document-b', [submitted('b'), chunked('b', ['c3'])]],
      ['query-1', [queried('1'), retrieved('1', ['c1', 'c3'], [0.9, 0.5])]],
      ['query-2', [queried('2'), retrieved('2', ['c1', 'c2'], [0.8, 0.7])]],
    );
    assert.deepEqual(read.topChunks(2).map((c) => [c.id, c.retrievals]), [['c1', 2], ['c2', 1]]);
    assert.deepEqual(read.topDocuments().map((d) => [d.id, d.retrievals]), [['a', 2], ['b', 1]]);
    assert.ok(Math.abs(read.topChunks(1)[0]!.score_sum - 1.7) < 1e-9);
    assert.deepEqual(read.retrievalTotals(), { retrievals: 2, chunks_returned: 4 });
    assert.equal(read.queryCount(), 2);
  });

  test('the kept lists of the most retrieved equal a ranking of every count, after every question of a random history', async () => {
    const random = seededRandom(11);
    const events = new InMemoryEventStore();
    const store = new InMemoryProjectionStore();
    const runner = new ProjectionRunner(events, store, standardProjections);
    const read = new ReadModels(store);
    // More chunks than the list keeps, so that entries enter and leave it.
    for (let d = 0; d < 60; d++) await events.append(`document-d${d}`, [submitted(`d${d}`), chunked(`d${d}`, [`c${d}a`, `c${d}b`, `c${d}c`])]);
    const ranked = (prefix: string, limit: number): [string, number][] =>
      store.topBy('retrieval-stats', prefix, 'retrievals', limit).map(([, c]) => [(c as { id: string }).id, (c as { retrievals: number }).retrievals]);
    for (let q = 0; q < 300; q++) {
      // Skewed: low-numbered documents are asked about more often, so the ranking changes over time.
      const ids = [...new Set(Array.from({ length: 1 + random(4) }, () => `c${Math.min(random(60), random(60) + q / 10) | 0}${'abc'[random(3)]}`))];
      await events.append(`query-${q}`, [queried(`${q}`), retrieved(`${q}`, ids, ids.map(() => random(100) / 100))]);
      if (q % 7 !== 0 && q !== 299) continue;
      await runner.catchUp();
      for (const limit of [5, 100]) {
        assert.deepEqual(read.topChunks(limit).map((c) => [c.id, c.retrievals]), ranked('chunk:', limit), `chunks after question ${q}`);
        assert.deepEqual(read.topDocuments(limit).map((c) => [c.id, c.retrievals]), ranked('document:', limit), `documents after question ${q}`);
      }
    }
    assert.equal(read.queryCount(), 300);
    assert.ok(read.topChunks(101).length > 100, 'past the kept list, the ranking is read from the counts');
  });
});

describe('projection runner', () => {
  test('catches up from its checkpoint without re-handling events', async () => {
    const seen: number[] = [];
    const spy: Projection = { name: 'spy', version: 1, eventTypes: ['DocumentSubmitted'], handle: (e) => void seen.push(e.position) };
    const events = new InMemoryEventStore();
    const store = new InMemoryProjectionStore();
    const runner = new ProjectionRunner(events, store, [spy]);
    await events.append('document-a', [submitted('a'), submitted('a', '2')]);
    await events.append('query-1', [queried('1')]);
    const [r1] = await runner.catchUp();
    assert.deepEqual(seen, [1, 2]);
    assert.equal(r1!.checkpoint, 3);
    await events.append('document-b', [submitted('b')]);
    const [r2] = await runner.catchUp();
    assert.deepEqual(seen, [1, 2, 4]);
    assert.equal(r2!.fromPosition, 4);
    assert.equal(r2!.rebuilt, false);
    assert.deepEqual(store.checkpoint('spy'), { version: 1, position: 4 });
  });

  test('a version bump truncates and replays; rebuild does the same on demand', async () => {
    const events = new InMemoryEventStore();
    await events.append('document-a', [submitted('a'), submitted('b')]);
    const store = new InMemoryProjectionStore();
    const count = (version: number, label: string): Projection => ({
      name: 'count',
      version,
      eventTypes: ['DocumentSubmitted'],
      handle: (e, view) => view.put(`n`, ((view.get('n') as number | undefined) ?? 0) + 1) ?? void label,
    });
    await new ProjectionRunner(events, store, [count(1, 'v1')]).catchUp();
    await new ProjectionRunner(events, store, [count(1, 'v1')]).catchUp();
    assert.equal(store.get('count', 'n'), 2);
    const [bumped] = await new ProjectionRunner(events, store, [count(2, 'v2')]).catchUp();
    assert.equal(bumped!.rebuilt, true);
    assert.equal(store.get('count', 'n'), 2);
    const [rebuilt] = await new ProjectionRunner(events, store, [count(2, 'v2')]).rebuild('count');
    assert.equal(rebuilt!.rebuilt, true);
    assert.equal(store.get('count', 'n'), 2);
    await assert.rejects(new ProjectionRunner(events, store, [count(2, 'v2')]).rebuild('nope'), /no projection named nope/);
  });

  test('a checkpoint beyond the log head (the log lost its tail) triggers a rebuild', async () => {
    const events = new InMemoryEventStore();
    await events.append('document-a', [submitted('a')]);
    const store = new InMemoryProjectionStore();
    store.commit('document-status', new Map([['doc:ghost', { document_id: 'ghost' }]]), { version: 1, position: 50 });
    const [result] = await new ProjectionRunner(events, store, standardProjections.slice(0, 1)).catchUp();
    assert.equal(result!.rebuilt, true);
    assert.deepEqual([...store.list('document-status', 'doc:')].map(([k]) => k), ['doc:a']);
  });

  test('reports progress and stops on cancel with a consistent checkpoint', async () => {
    const events = new InMemoryEventStore();
    for (let i = 0; i < 10; i++) await events.append(`document-${i}`, [submitted(`${i}`)]);
    const store = new InMemoryProjectionStore();
    const runner = new ProjectionRunner(events, store, standardProjections.slice(0, 1));
    const controller = new AbortController();
    const progress: number[] = [];
    await assert.rejects(
      runner.catchUp({
        batchSize: 3,
        signal: controller.signal,
        onProgress: (p) => {
          progress.push(p.position);
          controller.abort();
        },
      }),
      CancelledError,
    );
    assert.deepEqual(progress, [3]);
    assert.deepEqual(store.checkpoint('document-status'), { version: documentStatusProjection.version, position: 3 });
    assert.equal([...store.list('document-status', 'doc:')].length, 3);
    await runner.catchUp();
    assert.equal([...store.list('document-status', 'doc:')].length, 10);
  });
});
