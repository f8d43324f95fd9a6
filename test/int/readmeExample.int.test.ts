import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { runCli } from '../../src/cli/main.js';
import { recordingIo, repoRoot } from '../support/cli.js';
import { tempDir } from '../support/tmp.js';
import { TINY_MODEL_DIMS, TINY_MODEL_ID, ensureTinyModel } from '../support/tinyModel.js';

/** The commands of the README's "From a terminal" block, as written there. */
function readmeTerminalBlock(): string[] {
  const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
  const block = /### From a terminal\n+```sh\n([\s\S]*?)```/.exec(readme)?.[1];
  assert.ok(block, 'the README has a "From a terminal" block');
  return block.split('\n').map((l) => l.replace(/\s+#.*$/, '').trim()).filter(Boolean);
}

test("the README's example question is answered from the sample workspace, and the answer points to its provenance with show", async (t) => {
  const lines = readmeTerminalBlock();
  const ingestLine = lines.find((l) => l.startsWith('node dist/cli.js ingest '));
  const askLine = lines.find((l) => l.startsWith('node dist/cli.js ask '));
  assert.ok(ingestLine && askLine, JSON.stringify(lines));
  const folder = ingestLine.slice('node dist/cli.js ingest '.length).trim();
  const question = /^node dist\/cli\.js ask "([^"]+)"$/.exec(askLine)?.[1];
  assert.equal(folder, 'test/fixtures/sample-workspace');
  assert.ok(question, askLine);

  const store = join(tempDir(t), 'store');
  const models = ensureTinyModel(join(tempDir(t), 'models'));
  const run = async (...args: string[]) => {
    const io = recordingIo(repoRoot);
    const code = await runCli([...args, '--store', store], io);
    return { code, out: io.stdout(), err: io.stderr() };
  };
  const ingested = await run('ingest', join(repoRoot, folder), '--embedding-model', TINY_MODEL_ID, '--embedding-dims', String(TINY_MODEL_DIMS), '--embedding-dtype', 'fp32', '--model-dir', models);
  assert.equal(ingested.code, 0, ingested.err);

  const asked = await run('ask', question, '--extractive', '--k', '3');
  assert.equal(asked.code, 0, asked.err);
  // The first source is the passage that answers it: the channel's back-pressure in docs/threads.md.
  assert.match(asked.out, /Sources:\n\[1\] docs\/threads\.md:\d+-\d+/);
  assert.match(asked.out, /at most 1,024 messages|When it is full/);
  const id = /\(question (q-[0-9a-f-]+); its provenance: rag-ledger show (q-[0-9a-f-]+)\)/.exec(asked.out);
  assert.ok(id && id[1] === id[2], asked.out);

  const shown = await run('show', id[1]!);
  assert.equal(shown.code, 0, shown.err);
  assert.match(shown.out, new RegExp(`QueryReceived\\s+"${question.replace(/[?]/g, '\\?')}"`));
  assert.match(shown.out, /\[1\] docs\/threads\.md:\d+-\d+/);
});
