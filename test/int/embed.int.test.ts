import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { FsWorkspaceSource } from '../../src/adapters/fs/fsWorkspaceSource.js';
import { sha256 } from '../../src/adapters/node/sha256.js';
import { TransformersEmbedder } from '../../src/adapters/transformers/transformersEmbedder.js';
import { EmbedService } from '../../src/app/embedding/embedService.js';
import { PipelineService } from '../../src/app/pipelines/pipelineService.js';
import { CancelledError, EmbeddingDimensionsMismatchError, EmbeddingModelUnavailableError } from '../../src/core/errors.js';
import type { PipelineConfig } from '../../src/core/pipeline/pipelineConfig.js';
import { DEFAULT_PIPELINE, embedderKey } from '../../src/core/pipeline/pipelineConfig.js';
import type { IngestHarness } from '../support/ingestHarness.js';
import { ingestOptions, openHarness, writeFiles } from '../support/ingestHarness.js';
import { tempDir } from '../support/tmp.js';
import { TINY_MODEL_DIMS, TINY_MODEL_ID, ensureTinyModel } from '../support/tinyModel.js';

const TINY: PipelineConfig = { ...DEFAULT_PIPELINE, embedder: { ...DEFAULT_PIPELINE.embedder, model: TINY_MODEL_ID, dtype: 'fp32', dimensions: TINY_MODEL_DIMS } };

const FILES = {
  'guide/ownership.md': '# Ownership\n\nEach value in rust has an owner.\n\n## Borrowing\n\nA reference borrows a value without taking ownership.\n',
  'guide/server.md': '# Web server\n\nA tcp listener accepts an http request and writes a response.\n',
  'src/main.rs': 'fn main() {\n    println!("hello world");\n}\n',
};

async function setUp(t: Parameters<typeof openHarness>[0]): Promise<{ h: IngestHarness; embedder: TransformersEmbedder; service: EmbedService; pipelines: PipelineService; workspace: string }> {
  const workspace = tempDir(t);
  writeFiles(workspace, FILES);
  const h = await openHarness(t);
  const deps = { events: h.ledger.events, runner: h.ledger.runner, readModels: h.ledger.readModels, hasher: sha256, clock: () => new Date().toISOString(), actor: 'test' };
  const embedder = await TransformersEmbedder.load({ model: TINY_MODEL_ID, modelDir: ensureTinyModel(join(tempDir(t), 'models')), dtype: 'fp32' });
  t.after(() => embedder.close());
  return { h, embedder, service: new EmbedService(deps), pipelines: new PipelineService(deps), workspace };
}

test('every chunk of the pipeline gets one ChunkEmbedded with a Float32 vector; a rerun computes nothing', async (t) => {
  const { h, embedder, service, pipelines, workspace } = await setUp(t);
  const pv = await pipelines.defineAndActivateIfNone(TINY, 'tiny');
  const ingest = await h.service.ingest(new FsWorkspaceSource(workspace), ingestOptions({ pipelineVersion: pv }));
  assert.ok(ingest.chunks >= 4);
  const before = await h.head();
  const report = await service.embedPending({ pipelineVersion: pv, embedder, batchSize: 2 });
  assert.deepEqual(report, { pending: ingest.chunks, embedded: ingest.chunks, reused: 0, copied: 0, failed: 0 });
  const embedded = (await h.events(before)).filter((e) => e.type === 'ChunkEmbedded');
  assert.equal(embedded.length, ingest.chunks);
  for (const e of embedded) {
    assert.ok(e.type === 'ChunkEmbedded');
    assert.ok(e.data.vector instanceof Float32Array);
    assert.equal(e.data.vector.length, TINY_MODEL_DIMS);
    assert.equal(e.data.embedding_model, embedderKey(embedder.info));
    assert.equal(e.metadata.pipeline_version, pv);
    assert.ok(e.streamId.startsWith('document-'));
  }
  await h.ledger.runner.catchUp();
  for (const d of h.ledger.readModels.documents()) assert.deepEqual([d.state, d.pipelines[pv]!.embedded], ['embedded', d.pipelines[pv]!.chunks]);
  const head = await h.head();
  assert.deepEqual(await service.embedPending({ pipelineVersion: pv, embedder }), { pending: 0, embedded: 0, reused: 0, copied: 0, failed: 0 });
  assert.equal(await h.head(), head);
  assert.equal((await h.ledger.events.verify()).ok, true);
});

test('a pipeline version that shares the embedder reuses every stored vector: nothing is recomputed or stored twice', async (t) => {
  const { h, embedder, service, pipelines, workspace } = await setUp(t);
  const a = await pipelines.defineAndActivateIfNone(TINY, 'tiny');
  await h.service.ingest(new FsWorkspaceSource(workspace), ingestOptions({ pipelineVersion: a }));
  await service.embedPending({ pipelineVersion: a, embedder });
  const b = await pipelines.define({ ...TINY, retrieval: { k: 3, mode: 'vector' } }, 'tiny, k=3');
  assert.notEqual(a, b);
  const chunked = await h.service.chunkPending({ chunker: TINY.chunker, pipelineVersion: b });
  const before = await h.head();
  const report = await service.embedPending({ pipelineVersion: b, embedder });
  assert.deepEqual(report, { pending: 0, embedded: 0, reused: 0, copied: 0, failed: 0 }, 'the projection already counts the shared vectors');
  assert.equal(await h.head(), before);
  await h.ledger.runner.catchUp();
  for (const d of h.ledger.readModels.documents()) assert.equal(d.pipelines[b]!.embedded, d.pipelines[b]!.chunks);
  assert.ok(chunked.chunks > 0);
});

test('cancelling throws CancelledError and appends nothing; a stopped embedder stops the phase instead of failing every chunk', async (t) => {
  const { h, embedder, service, pipelines, workspace } = await setUp(t);
  const pv = await pipelines.defineAndActivateIfNone(TINY, 'tiny');
  await h.service.ingest(new FsWorkspaceSource(workspace), ingestOptions({ pipelineVersion: pv }));
  const controller = new AbortController();
  controller.abort();
  const head = await h.head();
  await assert.rejects(service.embedPending({ pipelineVersion: pv, embedder, signal: controller.signal }), CancelledError);
  assert.equal(await h.head(), head);
  await embedder.close(); // the real worker is gone
  await assert.rejects(service.embedPending({ pipelineVersion: pv, embedder }), EmbeddingModelUnavailableError);
  assert.equal(await h.head(), head, 'no ChunkEmbeddingFailed per chunk for a model that is gone');
});

test('vectors of another size than the pipeline version was defined with stop the phase at the first batch: no ChunkEmbedded, no ChunkEmbeddingFailed', async (t) => {
  const { h, embedder, service, pipelines, workspace } = await setUp(t);
  // A version defined with a size the model does not produce (its config.json was not there to check).
  const wrong: PipelineConfig = { ...TINY, embedder: { ...TINY.embedder, dimensions: 32 } };
  const pv = await pipelines.defineAndActivateIfNone(wrong, 'wrong size');
  await h.service.ingest(new FsWorkspaceSource(workspace), ingestOptions({ pipelineVersion: pv }));
  const head = await h.head();
  const textsBefore = embedder.textsEmbedded;
  await assert.rejects(service.embedPending({ pipelineVersion: pv, embedder, batchSize: 2 }), (err: unknown) => {
    assert.ok(err instanceof EmbeddingDimensionsMismatchError);
    assert.equal(err.message, `the embedding model "${TINY_MODEL_ID}" produces ${TINY_MODEL_DIMS}-dimensional vectors (the length of the vectors it returned) but 32 dimensions are configured`);
    assert.match(err.hint, /--embedding-dims/);
    return true;
  });
  assert.equal(await h.head(), head, 'nothing recorded');
  assert.equal(embedder.textsEmbedded - textsBefore, 2, 'no batch after the first one');
});
