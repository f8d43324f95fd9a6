import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { WorkspaceEngine } from '../../src/adapters/workspaceEngine.js';
import { DEFAULT_MAX_BYTES } from '../../src/core/ingest/documentCheck.js';
import { writeFiles } from '../support/ingestHarness.js';
import { startOllamaServer } from '../support/ollamaServer.js';
import { SAMPLE_FILES, TINY_PIPELINE } from '../support/pipelineHarness.js';
import { ensureTinyModel } from '../support/tinyModel.js';
import { tempDir } from '../support/tmp.js';

const MARKER = 'wqzjmarker';

function filesContaining(dir: string, needle: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (readFileSync(p).includes(Buffer.from(needle))) out.push(p.slice(dir.length + 1));
    }
  };
  walk(dir);
  return out;
}

test('the workspace engine forgets a document while the explorer is open: its search, ask and the store files lose the content; a rescan does not bring it back', async (t) => {
  const workspace = tempDir(t);
  writeFiles(workspace, { ...SAMPLE_FILES, 'notes/secret.md': `# Notes\n\nA thread keeps the codeword ${MARKER} in a channel.\n` });
  const storeDir = join(tempDir(t), 'store');
  const ollama = await startOllamaServer();
  t.after(() => ollama.close());
  const engine = await WorkspaceEngine.open({
    storeDir,
    workspaceRoot: workspace,
    pipeline: TINY_PIPELINE,
    walk: { include: [], exclude: [], respectGitignore: true },
    documents: { maxBytes: DEFAULT_MAX_BYTES, allowSecrets: false },
    modelDir: ensureTinyModel(join(tempDir(t), 'models')),
    ollama: { host: ollama.host },
    actor: 'test',
    owner: 'a test window',
  });
  t.after(() => engine.close());
  await engine.ingest();
  const asked = await engine.ask('which codeword does a thread keep in a channel?', { userId: 'ann', mode: 'lexical', model: 'missing' });
  assert.ok(asked.context.some((c) => c.path === 'notes/secret.md'));
  const explorer = await engine.explorer();
  await explorer.timeline.catchUp();
  assert.ok((await explorer.timeline.search(MARKER)).positions.length > 0);

  const preview = await engine.previewForget('notes/secret.md');
  assert.equal(preview.source, 'notes/secret.md');
  assert.equal(preview.questions.length, 1);
  const report = await engine.forget('notes/secret.md', 'test', 'ann via VS Code');
  assert.equal(report.emptied, preview.events);
  assert.deepEqual((await explorer.timeline.search(MARKER)).positions, []);
  assert.equal((await engine.ledger.events.verify()).ok, true);
  const again = await engine.ask('which codeword does a thread keep in a channel?', { userId: 'ann', mode: 'lexical', model: 'missing' });
  assert.ok(!again.context.some((c) => c.path === 'notes/secret.md'));
  assert.ok(!again.answer.includes(MARKER));
  const rescan = await engine.ingest();
  assert.equal(rescan.ingest.submitted, 0);
  await explorer.flush();
  await engine.ledger.projections.flush();
  assert.deepEqual(filesContaining(storeDir, MARKER), []);
});
