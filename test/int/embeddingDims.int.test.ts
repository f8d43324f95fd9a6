import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { before, test } from 'node:test';
import { sha256 } from '../../src/adapters/node/sha256.js';
import type { PipelineConfig } from '../../src/core/pipeline/pipelineConfig.js';
import { DEFAULT_PIPELINE, embedderKey, pipelineVersionOf } from '../../src/core/pipeline/pipelineConfig.js';
import { buildDist, cli } from '../support/cli.js';
import { writeFiles } from '../support/ingestHarness.js';
import { SAMPLE_FILES } from '../support/pipelineHarness.js';
import { tempDir } from '../support/tmp.js';
import { ensureTinyModel } from '../support/tinyModel.js';

/** A tiny model whose size is neither the default's nor the usual tiny one's: only its config.json can tell. */
const MODEL = 'rag-ledger/tiny-bert-48';
const DIMS = 48;

before(() => buildDist());

function setUp(t: TestContext): { ws: string; store: string; models: string; run: (...args: string[]) => ReturnType<typeof cli> } {
  const ws = tempDir(t);
  writeFiles(ws, SAMPLE_FILES);
  const store = join(tempDir(t), 'store');
  const models = ensureTinyModel(join(tempDir(t), 'models'), DIMS, { id: MODEL });
  return { ws, store, models, run: (...args) => cli([...args, '--store', store], { env: { RAG_LEDGER_MODEL_DIR: '' } }) };
}

/** Every event in the store, as `log --json` prints them. */
function events(run: (...args: string[]) => ReturnType<typeof cli>): { type: string; data: Record<string, unknown> }[] {
  const r = run('log', '--json');
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as { type: string; data: Record<string, unknown> });
}

test("CLI: ingest with another model and no --embedding-dims reads its vector size from its config.json; the pipeline version records it", (t) => {
  const { ws, models, run } = setUp(t);
  const ingest = run('ingest', ws, '--embedding-model', MODEL, '--embedding-dtype', 'fp32', '--model-dir', models, '--json');
  assert.equal(ingest.code, 0, ingest.stderr);
  const report = JSON.parse(ingest.stdout) as { pipelineVersion: string; chunks: number; embedding: { embedded: number } };
  assert.equal(report.embedding.embedded, report.chunks);
  const expected: PipelineConfig = { ...DEFAULT_PIPELINE, embedder: { ...DEFAULT_PIPELINE.embedder, model: MODEL, dtype: 'fp32', dimensions: DIMS } };
  assert.equal(report.pipelineVersion, pipelineVersionOf(expected, sha256));
  const log = events(run);
  const defined = log.filter((e) => e.type === 'PipelineVersionDefined');
  assert.equal(defined.length, 1);
  assert.equal((defined[0]!.data.config as PipelineConfig).embedder.dimensions, DIMS);
  const embedded = log.filter((e) => e.type === 'ChunkEmbedded');
  assert.equal(embedded.length, report.chunks);
  for (const e of embedded) assert.deepEqual([e.data.dimensions, e.data.embedding_model], [DIMS, embedderKey(expected.embedder)]);
  // The right size given explicitly is the same version.
  const again = run('ingest', ws, '--embedding-model', MODEL, '--embedding-dims', String(DIMS), '--embedding-dtype', 'fp32', '--model-dir', models, '--json');
  assert.equal(again.code, 0, again.stderr);
  assert.equal((JSON.parse(again.stdout) as { pipelineVersion: string }).pipelineVersion, report.pipelineVersion);
});

test("CLI: --embedding-dims that the model's config.json contradicts stops ingest before anything is written", (t) => {
  const { ws, store, models, run } = setUp(t);
  const r = run('ingest', ws, '--embedding-model', MODEL, '--embedding-dims', '32', '--embedding-dtype', 'fp32', '--model-dir', models);
  assert.equal(r.code, 1, r.stderr);
  const config = join(models, 'rag-ledger', 'tiny-bert-48', 'config.json');
  assert.equal(
    r.stderr,
    `rag-ledger ingest: the embedding model "${MODEL}" produces ${DIMS}-dimensional vectors (hidden_size in ${config}) but 32 dimensions are configured. ` +
      `Leave out --embedding-dims (or clear the ragLedger.embedding.dimensions setting) to use the model's own size, or set it to ${DIMS}.\n`,
  );
  assert.equal(r.stdout, '');
  if (existsSync(store)) assert.deepEqual(events(run), [], 'no event at all');
  // pipelines define is held to the same check.
  assert.equal(run('ingest', ws, '--no-embed').code, 0);
  const before = events(run).length;
  const define = run('pipelines', 'define', '--embedding-model', MODEL, '--embedding-dims', '100', '--model-dir', models);
  assert.equal(define.code, 1);
  assert.match(define.stderr, /^rag-ledger pipelines: the embedding model "rag-ledger\/tiny-bert-48" produces 48-dimensional vectors \(hidden_size in .*config\.json\) but 100 dimensions are configured\. /);
  assert.equal(events(run).length, before);
});

test('CLI: another model whose config.json cannot be found, without --embedding-dims, is a clear error and writes nothing', (t) => {
  const { ws, store, models, run } = setUp(t);
  const r = run('ingest', ws, '--embedding-model', 'org/elsewhere', '--model-dir', models);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^rag-ledger ingest: the vector size of the embedding model "org\/elsewhere" is unknown: no config\.json in .*elsewhere\. Give it with --embedding-dims N \(or the ragLedger\.embedding\.dimensions setting\), or point --model-dir/);
  if (existsSync(store)) assert.deepEqual(events(run), []);
});

test('CLI: the default model needs no flag, no file and no network (its known size)', (t) => {
  const { ws, models, run } = setUp(t);
  const r = run('ingest', ws, '--model-dir', models, '--no-embed', '--json');
  assert.equal(r.code, 0, r.stderr);
  assert.equal((JSON.parse(r.stdout) as { pipelineVersion: string }).pipelineVersion, pipelineVersionOf(DEFAULT_PIPELINE, sha256));
  // No model folder at all (only transformers.js's cache is looked at, nothing is downloaded).
  const bare = cli(['ingest', ws, '--no-embed', '--json', '--store', join(tempDir(t), 'other')], { env: { RAG_LEDGER_MODEL_DIR: '' } });
  assert.equal(bare.code, 0, bare.stderr);
  assert.equal((JSON.parse(bare.stdout) as { pipelineVersion: string }).pipelineVersion, pipelineVersionOf(DEFAULT_PIPELINE, sha256));
});
