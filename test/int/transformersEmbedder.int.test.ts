import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { TransformersEmbedder } from '../../src/adapters/transformers/transformersEmbedder.js';
import { CancelledError, EmbeddingModelUnavailableError } from '../../src/core/errors.js';
import { tempDir } from '../support/tmp.js';
import { TINY_MODEL_DIMS, TINY_MODEL_ID, ensureTinyModel } from '../support/tinyModel.js';

const dot = (a: Float32Array, b: Float32Array): number => a.reduce((s, x, i) => s + x * b[i]!, 0);

test('the real transformers.js path embeds in a worker: normalised vectors, one per text, related texts nearer', async (t) => {
  const models = ensureTinyModel(join(tempDir(t), 'models'));
  const embedder = await TransformersEmbedder.load({ model: TINY_MODEL_ID, modelDir: models, dtype: 'fp32' });
  t.after(() => embedder.close());
  assert.equal(embedder.info.dimensions, TINY_MODEL_DIMS);
  const [a, b, c, again] = await embedder.embed([
    'ownership and borrowing rules in rust',
    'the borrowing rules of rust ownership',
    'an http web server listens for a tcp request',
    'ownership and borrowing rules in rust',
  ]);
  for (const v of [a!, b!, c!]) assert.ok(Math.abs(Math.hypot(...v) - 1) < 1e-4, 'normalised');
  assert.deepEqual(again, a, 'deterministic');
  assert.ok(dot(a!, b!) > dot(a!, c!) + 0.2, `related ${dot(a!, b!)} vs unrelated ${dot(a!, c!)}`);
  assert.deepEqual(await embedder.embed([]), []);
});

test('a missing model is one clear error naming the model and the local-folder setting, quickly, without a hang', async (t) => {
  const models = ensureTinyModel(join(tempDir(t), 'models'));
  const started = Date.now();
  await assert.rejects(
    TransformersEmbedder.load({ model: 'Xenova/all-MiniLM-L6-v2', modelDir: models }),
    (err: unknown) =>
      err instanceof EmbeddingModelUnavailableError &&
      err.model === 'Xenova/all-MiniLM-L6-v2' &&
      err.message.includes('Xenova/all-MiniLM-L6-v2') &&
      err.hint.includes('--model-dir') &&
      err.hint.includes('RAG_LEDGER_MODEL_DIR'),
  );
  // Remote download allowed but unreachable (this machine has no model hub): still a clear error.
  await assert.rejects(
    TransformersEmbedder.load({ model: 'Xenova/all-MiniLM-L6-v2', cacheDir: join(tempDir(t), 'cache'), loadTimeoutMs: 30_000 }),
    EmbeddingModelUnavailableError,
  );
  assert.ok(Date.now() - started < 60_000);
});

test('an aborted signal cancels the embed call with CancelledError, and the embedder keeps working', async (t) => {
  const models = ensureTinyModel(join(tempDir(t), 'models'));
  const embedder = await TransformersEmbedder.load({ model: TINY_MODEL_ID, modelDir: models, dtype: 'fp32' });
  t.after(() => embedder.close());
  const controller = new AbortController();
  const pending = embedder.embed(Array.from({ length: 64 }, (_, i) => `text number ${i} about rust`), controller.signal);
  controller.abort();
  await assert.rejects(pending, CancelledError);
  const [v] = await embedder.embed(['still works']);
  assert.equal(v!.length, TINY_MODEL_DIMS);
});
