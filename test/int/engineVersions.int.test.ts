import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { WorkspaceEngine } from '../../src/adapters/workspaceEngine.js';
import { IndexMissingError } from '../../src/core/errors.js';
import { engineTestSettings } from '../support/pipelineHarness.js';

test('the workspace engine: questions and index rebuilds use the active version while the settings describe another; a missing vectors folder fails the question', async (t) => {
  const s = engineTestSettings(t, { ollama: { host: 'http://127.0.0.1:9' } });
  const engine = await WorkspaceEngine.open(s);
  t.after(() => engine.close());
  const first = await engine.ingest();
  const pv1 = first.pipelineVersion;
  // The settings change: another version is defined, not built, not activated.
  engine.updateSettings({ ...s, pipeline: { ...s.pipeline, chunker: { ...s.pipeline.chunker, markdownMaxChars: 200, textMaxChars: 200 } } });
  const pv2 = await engine.defineConfigured('small chunks');
  assert.notEqual(pv2, pv1);
  const asked = await engine.ask('how do threads send a message over a channel?', { userId: 't', extractive: true });
  assert.equal(asked.pipelineVersion, pv1, 'questions keep using the active version');
  assert.equal(asked.modelId, 'extractive');
  assert.ok(asked.context.length > 0);
  const rebuilt = await engine.rebuildIndex();
  assert.equal(rebuilt.pipelineVersion, pv1);
  assert.ok(rebuilt.upserted > 0);

  // The vectors folder deleted under the engine: a question fails and names the rebuild instead of answering from nothing.
  await engine.close();
  rmSync(join(s.storeDir, 'vectors'), { recursive: true, force: true });
  const reopened = await WorkspaceEngine.open(s);
  t.after(() => reopened.close());
  await assert.rejects(reopened.ask('how do threads send a message over a channel?', { userId: 't', extractive: true }), IndexMissingError);
});
