import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { test } from 'node:test';
import { openPipelineHarness } from '../support/pipelineHarness.js';

const setUp = (t: TestContext) => openPipelineHarness(t);

test('the table holds every chunk with its vector; hybrid, vector and lexical retrieval find the right document', async (t) => {
  const { h, index, embedder, pv, run, retrieval } = await setUp(t);
  const report = await run();
  await h.ledger.runner.catchUp();
  const docs = h.ledger.readModels.documents();
  const chunks = docs.reduce((n, d) => n + d.pipelines[pv]!.chunks, 0);
  assert.equal(report.upserted, chunks);
  assert.deepEqual(await index.stats(pv), { rows: chunks, withVectors: chunks, annIndex: false });
  for (const d of docs) assert.deepEqual([d.state, d.pipelines[pv]!.indexed], ['indexed', d.pipelines[pv]!.chunks]);
  const indexedEvents = (await h.events()).filter((e) => e.type === 'ChunkIndexed');
  assert.equal(indexedEvents.length, chunks);
  for (const mode of ['hybrid', 'vector', 'lexical'] as const) {
    const r = await retrieval.retrieve(pv, 'a thread sends a message on a channel', { k: 3, mode, embedder });
    assert.equal(r.mode, mode);
    assert.equal(r.chunks[0]!.path, 'guide/threads.md', `${mode}: ${r.chunks.map((c) => c.path).join(', ')}`);
    assert.deepEqual(r.chunks.map((c) => c.rank), r.chunks.map((_, i) => i + 1));
    assert.ok(r.chunks[0]!.startLine >= 1 && r.chunks[0]!.endLine >= r.chunks[0]!.startLine);
  }
  const hybrid = await retrieval.retrieve(pv, 'thread channel message', { k: 2, mode: 'hybrid', embedder });
  assert.ok(hybrid.chunks[0]!.vectorRank !== null && hybrid.chunks[0]!.lexicalRank !== null);
  const none = await retrieval.retrieve(pv, 'thread', { k: 2, mode: 'hybrid', embedder: null });
  assert.equal(none.mode, 'lexical', 'without an embedder retrieval is lexical, and says so');
});

test('an edited document replaces its rows; a deleted one leaves the table and retrieval', async (t) => {
  const { h, index, embedder, pv, run, retrieval, workspace } = await setUp(t);
  await run();
  writeFileSync(join(workspace, 'guide', 'server.md'), '# Web server\n\nThe server now speaks websocket frames.\n');
  rmSync(join(workspace, 'guide', 'threads.md'));
  const report = await run();
  assert.equal(report.documents, 1);
  const paths = async (q: string) => (await retrieval.retrieve(pv, q, { k: 10, mode: 'lexical', embedder })).chunks.map((c) => `${c.path}:${c.text.includes('websocket') ? 'new' : 'old'}`);
  assert.deepEqual(await paths('thread channel'), [], 'deleted document is gone');
  assert.deepEqual(await paths('websocket'), ['guide/server.md:new']);
  assert.deepEqual(await paths('tcp listener'), [], 'the old version of the edited document is gone');
  await h.ledger.runner.catchUp();
  const live = h.ledger.readModels.documents().filter((d) => d.state !== 'deleted');
  assert.equal((await index.stats(pv)).rows, live.reduce((n, d) => n + d.pipelines[pv]!.chunks, 0));
});

test('rebuild recreates the table from the log alone: same rows, nothing embedded, no new events', async (t) => {
  const { h, index, pv, run, indexer } = await setUp(t);
  await run();
  const before = await index.chunkIds(pv);
  const head = await h.head();
  await index.drop(pv);
  assert.equal((await index.stats(pv)).rows, 0);
  const report = await indexer.rebuild(pv);
  assert.deepEqual(await index.chunkIds(pv), before);
  assert.equal((await index.stats(pv)).withVectors, before.size);
  assert.equal(report.upserted, before.size);
  assert.equal(await h.head(), head, 'ChunkIndexed ids are deterministic: replaying appends nothing');
});

test('without a model, chunks are indexed for lexical retrieval; once embedded, the same rows gain their vectors', async (t) => {
  const { index, embedder, pv, run, retrieval } = await setUp(t);
  await run(false);
  const stats = await index.stats(pv);
  assert.ok(stats.rows > 0);
  assert.equal(stats.withVectors, 0);
  const lexical = await retrieval.retrieve(pv, 'borrows a value', { k: 1, mode: 'hybrid', embedder: null });
  assert.equal(lexical.chunks[0]!.path, 'guide/ownership.md');
  await run(true);
  assert.deepEqual(await index.stats(pv), { ...stats, withVectors: stats.rows });
  const vector = await retrieval.retrieve(pv, 'borrows a value', { k: 1, mode: 'vector', embedder });
  assert.equal(vector.chunks.length, 1);
});

test('index counts stay right when versions share chunk ids; an emptied document and a lost table are repaired by sync', async (t) => {
  const { h, index, pv, run, retrieval, workspace, embedder } = await setUp(t);
  await run();
  // Edit one of two sections: the other keeps its chunk id in the new version.
  writeFileSync(join(workspace, 'guide', 'ownership.md'), '# Ownership\n\nEach value in rust has an owner, and ownership moves.\n\n## Borrowing\n\nBorrowing lends a value for a while.\n');
  await run();
  await h.ledger.runner.catchUp();
  const doc = h.ledger.readModels.documents().find((d) => d.source === 'guide/ownership.md')!;
  assert.deepEqual([doc.version, doc.state, doc.pipelines[pv]!.indexed], [2, 'indexed', doc.pipelines[pv]!.chunks]);
  assert.equal((await run()).documents, 0, 'a settled document is not rewritten on every sync');
  // An emptied file has no chunks: its old rows must still go.
  writeFileSync(join(workspace, 'guide', 'server.md'), '\n\n');
  await run();
  const hits = await retrieval.retrieve(pv, 'tcp listener http request', { k: 10, mode: 'lexical', embedder });
  assert.ok(!hits.chunks.some((c) => c.path === 'guide/server.md'), 'rows of the emptied document are gone');
  // A lost table (vectors/ deleted, or a rebuild killed after its drop) is rebuilt by the next sync.
  const rows = (await index.stats(pv)).rows;
  await index.drop(pv);
  await run();
  assert.equal((await index.stats(pv)).rows, rows);
});
