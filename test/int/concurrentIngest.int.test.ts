// Two processes ingesting one workspace into one store at once (two windows, a window and the CLI):
// they take turns on the pipeline, so every document version is recorded once and embedded once.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { test } from 'node:test';
import { WorkspaceEngine } from '../../src/adapters/workspaceEngine.js';
import { repoRoot } from '../support/cli.js';
import { writeFiles } from '../support/ingestHarness.js';
import { startOllamaServer } from '../support/ollamaServer.js';
import { SAMPLE_FILES, TINY_PIPELINE, engineTestSettings } from '../support/pipelineHarness.js';
import { assertIngestComplete, ingestProcess, workspaceFiles } from '../support/ingestChecks.js';
import { tempDir } from '../support/tmp.js';
import { TINY_MODEL_DIMS, TINY_MODEL_ID, ensureTinyModel } from '../support/tinyModel.js';

const TRIALS = 20;

function setup(t: TestContext, documents: number): { ws: string; store: string; args: string[] } {
  const ws = tempDir(t);
  writeFiles(ws, workspaceFiles(documents, 1));
  const store = join(tempDir(t), 'store');
  const models = ensureTinyModel(join(tempDir(t), 'models'));
  return { ws, store, args: [ws, '--store', store, '--embedding-model', TINY_MODEL_ID, '--embedding-dims', String(TINY_MODEL_DIMS), '--embedding-dtype', 'fp32', '--model-dir', models] };
}

test('two ingests of one workspace at once both succeed: every document version recorded once, one vector per chunk, the index holds exactly the live chunks', async (t) => {
  const { store, args } = setup(t, 60);
  const [a, b] = await Promise.all([ingestProcess(args, null), ingestProcess(args, null)]);
  assert.equal(a.code, 0, a.stderr);
  assert.equal(b.code, 0, b.stderr);
  await assertIngestComplete(t, store, 60);
});

test('two ingests of overlapping folders at once (the workspace and a folder inside it): every document version recorded once, one vector per chunk, the index holds exactly the live chunks', async (t) => {
  const { ws, store, args } = setup(t, 60);
  const first = await ingestProcess(args, null);
  assert.equal(first.code, 0, first.stderr);
  // New versions of documents inside docs/part-0 and outside it, then both ingests at once.
  writeFiles(ws, workspaceFiles(45, 3));
  const inner = [join(ws, 'docs', 'part-0'), ...args.slice(1)];
  const [whole, part] = await Promise.all([ingestProcess(args, null), ingestProcess(inner, null)]);
  assert.equal(whole.code, 0, whole.stderr);
  assert.equal(part.code, 0, part.stderr);
  assert.match(part.stderr, /docs\/part-0\/ of .* documents outside it are left as they are/);
  await assertIngestComplete(t, store, 60);
});

test(`two ingests at once, each killed with SIGKILL at a random moment (${TRIALS} trials), then one more: nothing duplicated, nothing missing, verify passes`, { timeout: 600_000 }, async (t) => {
  const { ws, store, args } = setup(t, 80);
  let seed = 11;
  const random = (): number => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
  let killed = 0;
  for (let trial = 0; trial < TRIALS; trial++) {
    if (trial === TRIALS / 2) writeFiles(ws, workspaceFiles(30, 2)); // new versions of some documents mid-way
    const runs = await Promise.all([ingestProcess(args, 300 + Math.floor(random() * 2500)), ingestProcess(args, 300 + Math.floor(random() * 2500))]);
    for (const r of runs) {
      if (r.signal === 'SIGKILL') killed++;
      else assert.equal(r.code, 0, `trial ${trial + 1}: ${r.stderr}`);
    }
    t.diagnostic(`trial ${trial + 1}: ${runs.map((r) => r.signal ?? `exit ${r.code}`).join(', ')}`);
  }
  assert.ok(killed >= TRIALS / 2, `only ${killed} of ${2 * TRIALS} runs were killed mid-way`);
  const final = await ingestProcess(args, null);
  assert.equal(final.code, 0, final.stderr);
  await assertIngestComplete(t, store, 80);
});

test('two windows on one workspace (two engines in two processes) both ingest and ask at once: one set of documents, both questions, one chain', async (t) => {
  const ollama = await startOllamaServer();
  t.after(() => ollama.close());
  const settings = engineTestSettings(t, { ollama: { host: ollama.host }, pipeline: { ...TINY_PIPELINE, generator: { model: 'good' } } });
  const other = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'test/support/engineWindow.ts'), JSON.stringify({ ...settings, owner: 'the other window' }), 'how does a channel send a message?'], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NODE_OPTIONS: '' },
  });
  let out = '';
  let err = '';
  other.stdout.on('data', (d: Buffer) => (out += d.toString()));
  other.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => other.on('exit', resolve));
  t.after(() => other.kill('SIGKILL'));

  const engine = await WorkspaceEngine.open(settings);
  t.after(() => engine.close());
  await engine.ingest();
  const mine = await engine.ask('what does a reference borrow?', { userId: 'me' });
  assert.equal(await exited, 0, err);
  const theirs = JSON.parse(out.trim()) as { queryId: string };

  await engine.ledger.events.refresh();
  await engine.ledger.runner.catchUp();
  const questions = engine.ledger.readModels.queries(10).map((q) => q.query_id);
  assert.ok(questions.includes(mine.queryId) && questions.includes(theirs.queryId), `both questions are in this window's history: ${questions.join(', ')}`);
  await engine.close();
  await assertIngestComplete(t, settings.storeDir, Object.keys(SAMPLE_FILES).length);
});
