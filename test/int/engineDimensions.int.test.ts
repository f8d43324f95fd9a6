import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { test } from 'node:test';
import { sha256 } from '../../src/adapters/node/sha256.js';
import { WorkspaceEngine } from '../../src/adapters/workspaceEngine.js';
import { EmbeddingDimensionsMismatchError } from '../../src/core/errors.js';
import type { PipelineConfig } from '../../src/core/pipeline/pipelineConfig.js';
import { DEFAULT_PIPELINE, pipelineVersionOf } from '../../src/core/pipeline/pipelineConfig.js';
import { pipelineFromConfiguration } from '../../src/extension/pipelineSettings.js';
import type { SettingReader } from '../../src/extension/pipelineSettings.js';
import { engineTestSettings } from '../support/pipelineHarness.js';
import { tempDir } from '../support/tmp.js';
import { ensureTinyModel } from '../support/tinyModel.js';

const MODEL = 'rag-ledger/tiny-bert-48';
const DIMS = 48;

/** The settings as VS Code hands them over: only the user's values, everything else the contributed default (dimensions: null). */
function reader(values: Record<string, unknown>): SettingReader {
  return <T>(key: string, fallback: T): T => (key in values ? (values[key] as T) : key === 'embedding.dimensions' ? (null as T) : fallback);
}

async function open(t: TestContext, values: Record<string, unknown>): Promise<WorkspaceEngine> {
  const modelDir = ensureTinyModel(join(tempDir(t), 'models'), DIMS, { id: MODEL });
  const engine = await WorkspaceEngine.open(engineTestSettings(t, { modelDir, pipeline: pipelineFromConfiguration(reader({ 'embedding.model': MODEL, 'embedding.dtype': 'fp32', ...values })) }));
  t.after(() => engine.close());
  return engine;
}

test("extension settings: with ragLedger.embedding.dimensions unset the engine reads the model's size from its config.json", async (t) => {
  const engine = await open(t, {});
  const expected: PipelineConfig = { ...DEFAULT_PIPELINE, embedder: { ...DEFAULT_PIPELINE.embedder, model: MODEL, dtype: 'fp32', dimensions: DIMS } };
  assert.equal(engine.configuredVersion().version, pipelineVersionOf(expected, sha256));
  const report = await engine.ingest();
  assert.equal(report.pipelineVersion, pipelineVersionOf(expected, sha256));
  assert.equal(report.embedding?.embedded, report.ingest.chunks);
  assert.equal((engine.ledger.readModels.pipeline(report.pipelineVersion)?.config as unknown as PipelineConfig).embedder.dimensions, DIMS);
});

test("extension settings: ragLedger.embedding.dimensions that the model's config.json contradicts fails ingest before any event", async (t) => {
  const engine = await open(t, { 'embedding.dimensions': 32 });
  assert.throws(() => engine.configuredVersion(), EmbeddingDimensionsMismatchError);
  await assert.rejects(engine.ingest(), (err: unknown) => err instanceof EmbeddingDimensionsMismatchError && err.configured === 32 && err.actual === DIMS && /ragLedger\.embedding\.dimensions/.test(err.hint));
  await assert.rejects(engine.defineConfigured('wrong'), EmbeddingDimensionsMismatchError);
  assert.equal((await engine.ledger.events.head()).position, 0, 'nothing written');
});
