import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { localModelFolder, readModelDimensions, settleEmbedderDimensions } from '../../src/adapters/transformers/modelDimensions.js';
import { EmbeddingDimensionsMismatchError, EmbeddingDimensionsUnknownError } from '../../src/core/errors.js';
import { DEFAULT_PIPELINE } from '../../src/core/pipeline/pipelineConfig.js';
import { tempDir } from '../support/tmp.js';
import { TINY_MODEL_DIMS, TINY_MODEL_ID, ensureTinyModel } from '../support/tinyModel.js';

function modelFolder(root: string, files: Record<string, unknown>): string {
  for (const [path, json] of Object.entries(files)) {
    mkdirSync(join(root, path, '..'), { recursive: true });
    writeFileSync(join(root, path), typeof json === 'string' ? json : JSON.stringify(json));
  }
  return root;
}

test("a model's vector size comes from config.json (hidden_size, d_model, dim, n_embd), else 1_Pooling; a Dense layer is not what transformers.js outputs", (t) => {
  const cases: [Record<string, unknown>, number, RegExp][] = [
    [{ 'config.json': { model_type: 'bert', hidden_size: 768, intermediate_size: 3072 } }, 768, /^hidden_size in .*config\.json$/],
    [{ 'config.json': { model_type: 't5', d_model: 512 } }, 512, /^d_model in /],
    [{ 'config.json': { model_type: 'distilbert', dim: 320, hidden_dim: 1280 } }, 320, /^dim in /],
    [{ 'config.json': { model_type: 'gpt2', n_embd: 96 } }, 96, /^n_embd in /],
    [{ 'config.json': { model_type: 'custom' }, '1_Pooling/config.json': { word_embedding_dimension: 256, pooling_mode_mean_tokens: true } }, 256, /^word_embedding_dimension in .*1_Pooling/],
    [{ 'config.json': { hidden_size: 384 }, '1_Pooling/config.json': { word_embedding_dimension: 384 }, '2_Dense/config.json': { in_features: 384, out_features: 128 } }, 384, /^hidden_size in /],
  ];
  for (const [files, dims, source] of cases) {
    const found = readModelDimensions(modelFolder(tempDir(t), files));
    assert.equal(found?.dimensions, dims, JSON.stringify(files));
    assert.match(found.source, source);
  }
  assert.equal(readModelDimensions(tempDir(t)), null, 'no config at all');
  assert.throws(() => readModelDimensions(modelFolder(tempDir(t), { 'config.json': { model_type: 'odd', hidden_size: 'big' } })), /config\.json names no vector size/);
  assert.throws(() => readModelDimensions(modelFolder(tempDir(t), { 'config.json': '{ not json' })), /JSON/);
});

test('settling the dimensions: the config decides when none are given, contradicts a wrong one, and the default model needs no file', (t) => {
  const models = ensureTinyModel(join(tempDir(t), 'models'));
  const tiny = { ...DEFAULT_PIPELINE.embedder, model: TINY_MODEL_ID, dtype: 'fp32' };
  const { dimensions: _d, ...choice } = tiny;
  assert.equal(settleEmbedderDimensions(choice, { modelDir: models }).dimensions, TINY_MODEL_DIMS);
  assert.equal(settleEmbedderDimensions({ ...choice, dimensions: TINY_MODEL_DIMS }, { modelDir: models }).dimensions, TINY_MODEL_DIMS);
  const mismatch = (() => {
    try {
      settleEmbedderDimensions({ ...choice, dimensions: 32 }, { modelDir: models });
    } catch (err) {
      return err;
    }
    return null;
  })();
  assert.ok(mismatch instanceof EmbeddingDimensionsMismatchError);
  assert.deepEqual([mismatch.configured, mismatch.actual], [32, TINY_MODEL_DIMS]);
  assert.match(mismatch.message, new RegExp(`produces ${TINY_MODEL_DIMS}-dimensional vectors \\(hidden_size in .*config\\.json\\) but 32 dimensions are configured`));
  assert.match(mismatch.hint, new RegExp(`--embedding-dims .* or set it to ${TINY_MODEL_DIMS}`));
  // Another model, nothing local: the size is unknown, and the error says how to give it.
  assert.throws(() => settleEmbedderDimensions({ ...choice, model: 'org/not-here' }, { modelDir: models }), (err: unknown) => err instanceof EmbeddingDimensionsUnknownError && /no config\.json in /.test(err.message) && /--embedding-dims N/.test(err.hint));
  // Given dimensions and no config to check them against: kept.
  assert.equal(settleEmbedderDimensions({ ...choice, model: 'org/not-here', dimensions: 10 }, { modelDir: models }).dimensions, 10);
  // The default model, not downloaded: its known size, no file needed.
  const { dimensions: _dd, ...defaultChoice } = DEFAULT_PIPELINE.embedder;
  assert.deepEqual(settleEmbedderDimensions(defaultChoice, { modelDir: models, known: DEFAULT_PIPELINE.embedder }), DEFAULT_PIPELINE.embedder);
});

test("the model's folder: <model dir>/<model id>, else transformers.js's download cache (with the revision unless main)", (t) => {
  const dir = tempDir(t);
  assert.equal(localModelFolder('org/model', 'main', dir), join(dir, 'org', 'model'));
  assert.match(localModelFolder('org/model', 'main', null)!, /[\\/]@huggingface[\\/]transformers[\\/]\.cache[\\/]org[\\/]model$/);
  assert.match(localModelFolder('org/model', 'v2', null)!, /[\\/]\.cache[\\/]org[\\/]model[\\/]v2$/);
});
