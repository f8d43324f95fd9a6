import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { test } from 'node:test';
import * as lancedb from '@lancedb/lancedb';
import { LanceVectorIndex, tableNameFor } from '../../src/adapters/lancedb/lanceVectorIndex.js';
import { openPipelineHarness } from '../support/pipelineHarness.js';
import { tempDir } from '../support/tmp.js';

const setUp = (t: TestContext) => openPipelineHarness(t);

test('the table holds every chunk with its vector; hybrid, vector and lexical retrieval find the right document', async (t) => {
  const { h, index, embedder, pv, run, retrieval } = await setUp(t);
  const report = await run();
  await h.ledger.runner.catchUp();
  const docs = h.ledger.readModels.documents();
  const chunks = docs.reduce((n, d) => n + d.pipelines[pv]!.chunks, 0);
  assert.equal(report.upserted, chunks);
  assert.deepEqual(await index.stats(pv), { rows: chunks, withVectors: chunks, annIndex: false, textIndex: true });
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
  // A table whose creation was cut off (a folder without versions, as a SIGKILL can leave) is
  // dropped and rebuilt, not an error.
  await index.drop(pv);
  mkdirSync(join(index.location, `${tableNameFor(pv)}.lance`, 'data'), { recursive: true });
  await run();
  assert.equal((await index.stats(pv)).rows, rows);
});

/** Unit vectors in clusters, with exact duplicates (as the same Cargo.toml in every example gives). */
function clusteredVectors(n: number, dims: number, seed: number): Float32Array[] {
  let s = seed;
  const next = (): number => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32);
  const centres = Array.from({ length: 12 }, () => Float32Array.from({ length: dims }, () => next() - 0.5));
  const out: Float32Array[] = [];
  for (let i = 0; i < n; i++) {
    if (i % 5 === 4) {
      out.push(out[i - 1]!); // a duplicate of the previous row's vector
      continue;
    }
    const c = centres[i % centres.length]!;
    const v = Float32Array.from(c, (x) => x + (next() - 0.5) * 0.3);
    const norm = Math.hypot(...v);
    out.push(v.map((x) => x / norm));
  }
  return out;
}

test('past the threshold an IVF-RQ index is built, retrained as the table grows, replaces an older HNSW index, and finds what exact search finds', (t) => annLifecycle(t, { annThreshold: 200 }));

test('the same with every build in a process of its own (as for large tables): the index handle sees what the process built', (t) => annLifecycle(t, { annThreshold: 200, outOfProcessFromRows: 0 }));

async function annLifecycle(t: TestContext, options: { readonly annThreshold: number; readonly outOfProcessFromRows?: number }): Promise<void> {
  const dir = tempDir(t);
  const index = await LanceVectorIndex.open(dir, options);
  t.after(() => index.close());
  const pv = 'pv-ann';
  const dims = 16;
  const write = async (vectors: readonly Float32Array[], from: number): Promise<void> => {
    const rows = vectors.map((vector, i) => ({ chunkId: `c${from + i}`, documentId: `d${from + i}`, documentVersion: 1, path: `p${from + i}.md`, startLine: 1, endLine: 1, text: `row ${from + i}`, vector }));
    await index.replaceDocuments(pv, dims, rows.map((r) => r.documentId), rows);
    await index.optimize(pv);
  };
  const db = await lancedb.connect(dir);
  t.after(() => db.close());
  const vectorIndexName = async (): Promise<string | undefined> => (await (await db.openTable(tableNameFor(pv))).listIndices()).find((i) => i.columns.includes('vector'))?.name;
  const all = clusteredVectors(1600, dims, 3);
  await write(all.slice(0, 150), 0);
  assert.equal((await index.stats(pv)).annIndex, false, 'below the threshold: flat search');
  await write(all.slice(150, 300), 150);
  assert.equal(await vectorIndexName(), `vector_ivfrq_p${Math.round(Math.sqrt(300))}`);
  await write(all.slice(300, 600), 300);
  assert.equal(await vectorIndexName(), 'vector_ivfrq_p17', 'not retrained before the table has grown about 4x');
  await write(all.slice(600, 1600), 600);
  assert.equal(await vectorIndexName(), `vector_ivfrq_p${Math.round(Math.sqrt(1600))}`, 'retrained at 4x');

  const table = await db.openTable(tableNameFor(pv));
  /** Recall@k of the index against exact (flat) search, over 40 queries taken every `stride` vectors. */
  const recallAt = async (k: number, stride: number): Promise<number> => {
    let found = 0;
    for (let q = 0; q < 40; q++) {
      const query = all[(q * stride) % all.length]!;
      const hits = await index.vectorSearch(pv, query, k);
      const exact = (await table.vectorSearch(Array.from(query)).distanceType('cosine').bypassVectorIndex().limit(k).select(['chunk_id', '_distance']).toArray()) as { chunk_id: string }[];
      const truth = new Set(exact.map((e) => e.chunk_id));
      found += hits.filter((h) => truth.has(h.chunkId)).length;
    }
    return found / (40 * k);
  };
  const recall10 = await recallAt(10, 37);
  assert.ok(recall10 >= 0.95, `recall@10 ${recall10}`);
  // Hybrid retrieval's pool (32): fewer candidates re-ranked per result, the same recall.
  const recall32 = await recallAt(32, 41);
  assert.ok(recall32 >= 0.95, `recall@32 ${recall32}`);

  // A table indexed by an older version with HNSW still answers, and the next optimize replaces it.
  const legacy = await db.openTable(tableNameFor(pv));
  await legacy.dropIndex((await vectorIndexName())!);
  await legacy.createIndex('vector', { config: lancedb.Index.hnswSq({ distanceType: 'cosine', numPartitions: 1 }) });
  const reopened = await LanceVectorIndex.open(dir, options);
  t.after(() => reopened.close());
  assert.equal((await reopened.vectorSearch(pv, all[0]!, 10)).length, 10);
  await reopened.optimize(pv);
  assert.equal(await vectorIndexName(), 'vector_ivfrq_p40');
  assert.deepEqual(await reopened.stats(pv), { rows: 1600, withVectors: 1600, annIndex: true, textIndex: true });
  assert.deepEqual((await reopened.lexicalSearch(pv, 'row 77', 1)).map((h) => h.chunkId), ['c77']);
}
