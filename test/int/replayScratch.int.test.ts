import assert from 'node:assert/strict';
import { readdirSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { VECTORS_DIR, openVectorIndex } from '../../src/adapters/ledger.js';
import type { EngineSettings } from '../../src/adapters/engineSettings.js';
import { WorkspaceEngine } from '../../src/adapters/workspaceEngine.js';
import { CancelledError, IndexBuildTimeoutError } from '../../src/core/errors.js';
import { DEFAULT_MAX_BYTES } from '../../src/core/ingest/documentCheck.js';
import { writeFiles } from '../support/ingestHarness.js';
import { startOllamaServer } from '../support/ollamaServer.js';
import { SAMPLE_FILES, TINY_PIPELINE } from '../support/pipelineHarness.js';
import { TINY_MODEL_DIMS, ensureTinyModel } from '../support/tinyModel.js';
import { tempDir } from '../support/tmp.js';

/** The tables in the store's LanceDB folder (one `<name>.lance` folder each). */
const tables = (storeDir: string): string[] => readdirSync(join(storeDir, VECTORS_DIR)).filter((f) => f.endsWith('.lance')).sort();

test('point-in-time replays leave no scratch table behind: after success, after a cancel, after a failed build, and stale ones are swept on open', async (t) => {
  const ollama = await startOllamaServer();
  t.after(() => ollama.close());
  const workspace = tempDir(t);
  writeFiles(workspace, SAMPLE_FILES);
  const settings: EngineSettings = {
    storeDir: join(tempDir(t), 'store'),
    workspaceRoot: workspace,
    pipeline: { ...TINY_PIPELINE, generator: { model: 'good' } },
    walk: { include: [], exclude: [], respectGitignore: true },
    documents: { maxBytes: DEFAULT_MAX_BYTES, allowSecrets: false },
    modelDir: ensureTinyModel(join(tempDir(t), 'models')),
    ollama: { host: ollama.host },
    actor: 'test',
    owner: 'a test window',
    indexBuildTimeoutMs: 30_000,
  };
  let engine = await WorkspaceEngine.open(settings);
  const { pipelineVersion } = await engine.ingest();
  const answer = await engine.ask('how do threads send a message over a channel?', { userId: 'tester' });
  const live = tables(settings.storeDir);
  assert.equal(live.length, 1, live.join(', '));

  const replayed = await engine.replay(answer.queryId, pipelineVersion, { asOf: 'asked' });
  assert.ok(replayed.replayed.chunks.length > 0);
  assert.deepEqual(tables(settings.storeDir), live, 'after a replay');

  const controller = new AbortController();
  controller.abort();
  await assert.rejects(engine.replay(answer.queryId, pipelineVersion, { asOf: 'asked', signal: controller.signal }), CancelledError);
  assert.deepEqual(tables(settings.storeDir), live, 'after a cancelled replay');

  // A scratch table whose build fails (here: its full-text index never finishes) is dropped too.
  await engine.close();
  engine = await WorkspaceEngine.open({ ...settings, indexBuildTimeoutMs: 300 });
  process.env.RAG_LEDGER_TEST_INDEX_STALL = '1';
  try {
    await assert.rejects(engine.replay(answer.queryId, pipelineVersion, { asOf: 'asked' }), IndexBuildTimeoutError);
  } finally {
    delete process.env.RAG_LEDGER_TEST_INDEX_STALL;
  }
  assert.deepEqual(tables(settings.storeDir), live, 'after a replay whose build failed');
  await engine.close();

  // A scratch table left by a process that died mid-replay is swept when the store is opened.
  const index = await openVectorIndex(settings.storeDir);
  await index.replaceDocuments(`asof-${pipelineVersion}-3`, TINY_MODEL_DIMS, ['d'], [{ chunkId: 'c', documentId: 'd', documentVersion: 1, path: 'a.md', startLine: 1, endLine: 1, text: 'left behind', vector: null }]);
  await index.close();
  assert.equal(tables(settings.storeDir).length, 2);
  // A fresh one may be another live process's replay: it is left alone.
  engine = await WorkspaceEngine.open(settings);
  assert.equal(tables(settings.storeDir).length, 2, 'a fresh scratch table is not swept');
  await engine.close();
  const old = new Date(Date.now() - 60 * 60 * 1000);
  for (const f of readdirSync(join(settings.storeDir, VECTORS_DIR))) if (f.includes('asof')) utimesSync(join(settings.storeDir, 'vectors', f), old, old);
  engine = await WorkspaceEngine.open(settings);
  t.after(() => engine.close());
  assert.deepEqual(tables(settings.storeDir), live, 'a stale one is swept on open');
});
