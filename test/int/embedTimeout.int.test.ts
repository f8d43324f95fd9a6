import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import { TransformersEmbedder } from '../../src/adapters/transformers/transformersEmbedder.js';
import type { EngineSettings } from '../../src/adapters/engineSettings.js';
import { WorkspaceEngine } from '../../src/adapters/workspaceEngine.js';
import { CancelledError, EmbeddingTimeoutError } from '../../src/core/errors.js';
import type { RecordedEvent } from '../../src/core/eventStore.js';
import { openLedger } from '../../src/adapters/ledger.js';
import { runCli } from '../../src/cli/main.js';
import { recordingIo } from '../support/cli.js';
import { writeFiles } from '../support/ingestHarness.js';
import { SAMPLE_FILES, engineTestSettings } from '../support/pipelineHarness.js';
import { TINY_MODEL_DIMS, TINY_MODEL_ID, ensureTinyModel } from '../support/tinyModel.js';
import { tempDir } from '../support/tmp.js';

/** Workers started while it is set stall on every batch (the worker's test hook), like a stuck model. */
function stallEmbedding(t: TestContext): () => void {
  process.env.RAG_LEDGER_TEST_EMBED_STALL = '1';
  const stop = (): void => {
    delete process.env.RAG_LEDGER_TEST_EMBED_STALL;
  };
  t.after(stop);
  return stop;
}

test('a batch the model never answers is rejected with EmbeddingTimeoutError, the worker is restarted, and a cancel stops a waiting batch', async (t) => {
  const models = ensureTinyModel(join(tempDir(t), 'models'));
  const stop = stallEmbedding(t);
  const embedder = await TransformersEmbedder.load({ model: TINY_MODEL_ID, modelDir: models, dtype: 'fp32', batchTimeoutMs: 2_000 });
  t.after(() => embedder.close());
  // Cancelling stops the waiting batch with CancelledError (the worker stays stuck on it).
  const controller = new AbortController();
  const waiting = embedder.embed(['a thread sends a message'], controller.signal);
  setImmediate(() => controller.abort());
  await assert.rejects(waiting, CancelledError);
  // A batch waiting behind the stuck one is cancelled too.
  const later = new AbortController();
  const queued = embedder.embed(['waiting behind a stuck batch'], later.signal);
  setImmediate(() => later.abort());
  await assert.rejects(queued, CancelledError);
  // The next batch waits for the stuck one's deadline, then runs in a restarted worker (still stalled here): it times out.
  await assert.rejects(embedder.embed(['ownership and borrowing']), (err: unknown) => err instanceof EmbeddingTimeoutError && err.model === TINY_MODEL_ID && err.texts === 1 && err.hint.includes('ragLedger.embedding.batchTimeoutSeconds'));
  // The model recovers: the next batch runs in a fresh worker without the stall.
  stop();
  const [v] = await embedder.embed(['still works after a restart']);
  assert.equal(v!.length, TINY_MODEL_DIMS);
});

const settings = (t: TestContext, overrides: Partial<EngineSettings> = {}): EngineSettings => engineTestSettings(t, overrides);

test('a stuck embedding model does not hang ingest: the chunks are recorded as failed with the timeout, and the next ingest embeds them', async (t) => {
  const engine = await WorkspaceEngine.open(settings(t, { embedBatchTimeoutMs: 1_000 }));
  t.after(() => engine.close());
  const stop = stallEmbedding(t);

  const stuck = await engine.ingest();
  assert.ok(stuck.ingest.chunks > 0);
  assert.equal(stuck.embedding?.embedded, 0);
  assert.equal(stuck.embedding?.failed, stuck.ingest.chunks);
  const events: RecordedEvent[] = [];
  for await (const e of engine.ledger.events.readAll()) events.push(e);
  const failures = events.filter((e) => e.type === 'ChunkEmbeddingFailed');
  assert.equal(failures.length, stuck.ingest.chunks);
  assert.ok(failures.every((e) => e.type === 'ChunkEmbeddingFailed' && /returned no vectors .* within 1 s/.test(e.data.reason)), 'the reason names the timeout');
  assert.equal(events.filter((e) => e.type === 'ChunkEmbedded').length, 0);
  await engine.ledger.runner.catchUp();
  const docs = engine.ledger.readModels.documents().filter((d) => d.state !== 'rejected');
  assert.ok(docs.length > 0);
  for (const d of docs) {
    assert.match(d.last_error ?? '', /^embedding failed: .*within 1 s/, d.source);
    assert.ok(Object.values(d.pipelines).some((c) => c.failed === c.chunks && c.chunks > 0), d.source);
  }

  // Without the stall, the next ingest embeds the failed chunks in a restarted worker and clears the errors.
  stop();
  const recovered = await engine.ingest();
  assert.equal(recovered.embedding?.failed, 0);
  assert.equal(recovered.embedding?.embedded, stuck.ingest.chunks);
  await engine.ledger.runner.catchUp();
  for (const d of engine.ledger.readModels.documents().filter((x) => x.state !== 'rejected')) {
    assert.equal(d.last_error, null, d.source);
    assert.equal(d.state, 'indexed', d.source);
  }
});

test('cancelling an ingest while the model is stuck ends it with CancelledError', async (t) => {
  const engine = await WorkspaceEngine.open(settings(t, { embedBatchTimeoutMs: 600_000 }));
  t.after(() => engine.close());
  stallEmbedding(t);
  const controller = new AbortController();
  const running = engine.ingest({
    signal: controller.signal,
    onProgress: (p) => {
      // The first embed progress never comes (the model is stuck): cancel once the chunks are written.
      if (p.phase === 'chunk' && p.done === p.total) setTimeout(() => controller.abort(), 200);
    },
  });
  await assert.rejects(running, CancelledError);
});

test('rag-ledger ingest --embed-timeout: a stuck model fails the chunks, the ingest completes and says so, the next ingest embeds them', async (t) => {
  const workspace = tempDir(t);
  writeFiles(workspace, SAMPLE_FILES);
  const store = join(tempDir(t), 'store');
  const models = ensureTinyModel(join(tempDir(t), 'models'));
  const ingest = async (...extra: string[]) => {
    const io = recordingIo(tempDir(t));
    const code = await runCli(['ingest', workspace, '--store', store, '--model-dir', models, '--embedding-model', TINY_MODEL_ID, '--embedding-dims', String(TINY_MODEL_DIMS), '--embedding-dtype', 'fp32', ...extra], io);
    return { code, out: io.stdout(), err: io.stderr() };
  };
  const stop = stallEmbedding(t);
  const stuck = await ingest('--embed-timeout', '1');
  assert.equal(stuck.code, 0, stuck.err);
  const failed = /embedded 0 chunks \(.* (\d+) failed\)/.exec(stuck.out);
  assert.ok(failed && Number(failed[1]) > 0, stuck.out);
  const ledger = await openLedger(store, { mode: 'read' });
  const reasons: string[] = [];
  try {
    for await (const e of ledger.events.readAll({ types: ['ChunkEmbeddingFailed'] })) if (e.type === 'ChunkEmbeddingFailed') reasons.push(e.data.reason);
  } finally {
    await ledger.close();
  }
  assert.equal(reasons.length, Number(failed[1]));
  assert.ok(reasons.every((r) => r.includes('within 1 s')), 'the flag sets the deadline');
  stop();
  const again = await ingest();
  assert.equal(again.code, 0, again.err);
  assert.match(again.out, new RegExp(`embedded ${failed[1]} chunks \\(.*, 0 failed\\)`));
});
