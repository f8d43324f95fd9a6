import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_PIPELINE } from '../../src/core/pipeline/pipelineConfig.js';
import { dimensionsSetting, pipelineFromConfiguration } from '../../src/extension/pipelineSettings.js';

const reader =
  (values: Record<string, unknown>) =>
  <T>(key: string, fallback: T): T =>
    key in values ? (values[key] as T) : fallback;

test('ragLedger.embedding.dimensions: a positive integer overrides, anything else leaves the size to the model', () => {
  assert.equal(dimensionsSetting(256), 256);
  for (const v of [null, undefined, 0, -3, 1.5, '384', Number.NaN]) assert.equal(dimensionsSetting(v), undefined, String(v));
});

test('the pipeline the settings describe carries the embedding dimensions only when they are set', () => {
  const unset = pipelineFromConfiguration(reader({ 'embedding.model': 'org/model', 'embedding.dimensions': null }));
  assert.equal('dimensions' in unset.embedder, false);
  assert.deepEqual(unset.embedder, { model: 'org/model', revision: 'main', dtype: 'q8', pooling: 'mean', normalize: true });
  const set = pipelineFromConfiguration(reader({ 'embedding.dimensions': 768, 'retrieval.k': 3 }));
  assert.deepEqual(set.embedder, { ...DEFAULT_PIPELINE.embedder, dimensions: 768 });
  assert.equal(set.retrieval.k, 3);
  // Nothing set: the default pipeline, its size left to the model (the engine falls back to 384 for it).
  const { dimensions: _d, ...embedder } = DEFAULT_PIPELINE.embedder;
  assert.deepEqual(pipelineFromConfiguration(reader({})), { ...DEFAULT_PIPELINE, embedder });
});
