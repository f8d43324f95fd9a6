import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { test } from 'node:test';
import { runCli } from '../../src/cli/main.js';
import { recordingIo } from '../support/cli.js';
import { writeFiles } from '../support/ingestHarness.js';
import { startOllamaServer } from '../support/ollamaServer.js';
import { SAMPLE_FILES } from '../support/pipelineHarness.js';
import { tempDir } from '../support/tmp.js';
import { TINY_MODEL_DIMS, TINY_MODEL_ID, ensureTinyModel } from '../support/tinyModel.js';

/** Runs the CLI in process against one store; returns exit code, stdout and stderr. */
function cliOn(t: TestContext, store: string) {
  return async (...args: string[]) => {
    const io = recordingIo(tempDir(t));
    const code = await runCli([...args, '--store', store], io);
    return { code, out: io.stdout(), err: io.stderr() };
  };
}

test('CLI: ingest with a local model, search, pipelines, ask through Ollama and extractively, rebuild vectors, verify', async (t) => {
  const ws = tempDir(t);
  writeFiles(ws, SAMPLE_FILES);
  const store = join(tempDir(t), 'store');
  const models = ensureTinyModel(join(tempDir(t), 'models'));
  const run = cliOn(t, store);
  const ingest = await run('ingest', ws, '--embedding-model', TINY_MODEL_ID, '--embedding-dims', String(TINY_MODEL_DIMS), '--embedding-dtype', 'fp32', '--model-dir', models, '--json');
  assert.equal(ingest.code, 0, ingest.err);
  const report = JSON.parse(ingest.out) as { pipelineVersion: string; chunks: number; embedding: { embedded: number }; indexing: { upserted: number } };
  assert.equal(report.embedding.embedded, report.chunks);
  assert.equal(report.indexing.upserted, report.chunks);

  const search = await run('search', 'a channel sends a message between threads', '--model-dir', models, '--k', '2');
  assert.equal(search.code, 0, search.err);
  assert.match(search.out, /^\[1\] guide\/threads\.md:1-3/);

  const pipelines = await run('pipelines');
  assert.match(pipelines.out, new RegExp(`^\\* ${report.pipelineVersion} .*embedded ${report.chunks}, indexed ${report.chunks}`));

  const server = await startOllamaServer();
  t.after(() => server.close());
  const asked = await run('ask', 'how do threads send a message over a channel?', '--model', 'good', '--ollama-host', server.host, '--model-dir', models);
  assert.equal(asked.code, 0, asked.err);
  assert.match(asked.out, /^Threads send messages over a channel \[1\]\.\n\nSources:\n\[1\] guide\/threads\.md:1-3/);
  const queryId = /question (q-[0-9a-f-]+)/.exec(asked.out)![1]!;
  const chain = await run('log', '--stream', `query-${queryId}`, '--json');
  assert.deepEqual(chain.out.trim().split('\n').map((l) => (JSON.parse(l) as { type: string }).type), ['QueryReceived', 'ContextRetrieved', 'InferenceRequested', 'InferenceCompleted']);

  const shown = await run('show', queryId);
  assert.equal(shown.code, 0, shown.err);
  assert.match(shown.out, /QueryReceived {6}"how do threads send a message over a channel\?"/);
  assert.match(shown.out, /InferenceCompleted good \d+ tokens/);
  assert.match(shown.out, /\[1\] guide\/threads\.md:1-3 .*\n {6}document version #\d+ \(sha256:[0-9a-f]{64}, submitted .*\)\n {6}chunked #\d+ for pv-[0-9a-f]{12}\n {6}embedded #\d+ by rag-ledger\/tiny-bert/);
  const shownJson = JSON.parse((await run('show', queryId, '--json')).out) as { chain: { type: string; data: { prompt?: { user: string } } }[] };
  assert.ok(shownJson.chain.find((e) => e.type === 'InferenceRequested')!.data.prompt!.user.includes('Question: how do threads'));
  assert.equal((await run('show', 'q-nope')).code, 1);

  await server.close();
  const down = await run('ask', 'how do threads send a message over a channel?', '--model', 'good', '--ollama-host', server.host, '--model-dir', models);
  assert.equal(down.code, 0);
  assert.match(down.err, /no Ollama server answered at .* Start Ollama \(`ollama serve`\)/);
  assert.match(down.out, /^Extractive answer/);

  const golden = join(tempDir(t), 'golden.jsonl');
  writeFileSync(golden, ['{"query":"a channel sends a message between threads","relevant":["guide/threads.md"]}', '{"query":"tcp listener http request response","relevant":["guide/server.md:1-3"]}'].join('\n'));
  const evaluated = await run('eval', '--golden', golden, '--k', '3', '--model-dir', models, '--json');
  assert.equal(evaluated.code, 0, evaluated.err);
  const scores = JSON.parse(evaluated.out) as { recall: number; mrr: number; ndcg: number; questions: number };
  assert.deepEqual([scores.questions, scores.recall, scores.mrr], [2, 1, 1]);
  writeFileSync(golden, '{"query":"a channel sends a message between threads","relevant":["guide/nowhere.md"]}\n');
  const gated = await run('eval', '--golden', golden, '--min-recall', '0.9', '--model-dir', models);
  assert.equal(gated.code, 1);
  assert.match(gated.err, /recall@8 0\.000 is below --min-recall 0\.9/);

  const rebuilt = await run('rebuild', '--projection', 'vectors', '--json');
  assert.equal(rebuilt.code, 0, rebuilt.err);
  assert.equal((JSON.parse(rebuilt.out) as { upserted: number }).upserted, report.chunks);
  const verify = await run('verify');
  assert.equal(verify.code, 0, verify.out + verify.err);

  for (const command of ['ask', 'search']) {
    const usage = await run(command, 'q', '--mode', 'fuzzy');
    assert.equal(usage.code, 2, command);
    assert.match(usage.err, /--mode must be one of hybrid, vector, lexical/);
  }
  const badEval = await run('eval', '--golden', golden, '--mode', 'fuzzy');
  assert.equal(badEval.code, 2);
  const badDtype = await run('ingest', ws, '--embedding-dtype', 'fp33');
  assert.deepEqual([badDtype.code, /--embedding-dtype must be one of q8/.test(badDtype.err)], [2, true]);
  assert.equal((await run('eval', '--golden', join(ws, 'missing.jsonl'))).code, 2);
});

test('CLI: ingesting with other settings builds a second version, and still removes deleted files from the active one', async (t) => {
  const ws = tempDir(t);
  writeFiles(ws, SAMPLE_FILES);
  const store = join(tempDir(t), 'store');
  const models = ensureTinyModel(join(tempDir(t), 'models'));
  const run = cliOn(t, store);
  const flags = ['--embedding-model', TINY_MODEL_ID, '--embedding-dims', String(TINY_MODEL_DIMS), '--model-dir', models];
  const first = JSON.parse((await run('ingest', ws, ...flags, '--embedding-dtype', 'fp32', '--json')).out) as { pipelineVersion: string };
  rmSync(join(ws, 'guide', 'threads.md'));
  // A different dtype is a different pipeline version; the model folder has no such file, so it is not embedded.
  const second = await run('ingest', ws, ...flags, '--embedding-dtype', 'q8', '--json');
  assert.equal(second.code, 0, second.err);
  assert.notEqual((JSON.parse(second.out) as { pipelineVersion: string }).pipelineVersion, first.pipelineVersion);
  const hits = await run('search', 'a channel sends a message between threads', '--mode', 'lexical', '--pipeline', first.pipelineVersion);
  assert.doesNotMatch(hits.out, /guide\/threads\.md/, 'the deleted file left the active version too');
});

test('CLI: the store remembers the model folder it was ingested with; an explicit --model-dir still wins', async (t) => {
  const ws = tempDir(t);
  writeFiles(ws, SAMPLE_FILES);
  const store = join(tempDir(t), 'store');
  const models = ensureTinyModel(join(tempDir(t), 'models'));
  const run = cliOn(t, store);
  const saved = process.env.RAG_LEDGER_MODEL_DIR;
  delete process.env.RAG_LEDGER_MODEL_DIR;
  t.after(() => (saved === undefined ? undefined : (process.env.RAG_LEDGER_MODEL_DIR = saved)));
  const ingest = await run('ingest', ws, '--embedding-model', TINY_MODEL_ID, '--embedding-dims', String(TINY_MODEL_DIMS), '--embedding-dtype', 'fp32', '--model-dir', models);
  assert.equal(ingest.code, 0, ingest.err);

  const search = await run('search', 'a channel sends a message between threads', '--k', '2', '--json');
  assert.equal(search.code, 0, search.err);
  assert.equal(search.err, '');
  const result = JSON.parse(search.out) as { mode: string; requestedMode: string };
  assert.deepEqual([result.requestedMode, result.mode], ['hybrid', 'hybrid']);

  const elsewhere = join(tempDir(t), 'no-model-here');
  const explicit = await run('search', 'a channel sends a message between threads', '--k', '2', '--model-dir', elsewhere);
  assert.equal(explicit.code, 0, explicit.err);
  assert.match(explicit.err, new RegExp(elsewhere.replace(/[/.]/g, '\\$&')));
  assert.match(explicit.out, /^note: hybrid retrieval needs the embedding model; this is lexical only/);
});
