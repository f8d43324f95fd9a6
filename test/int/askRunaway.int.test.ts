// A model that misbehaves: never says done, trickles forever, or is interrupted mid-answer.
// Through the real `ollama` client against the Ollama-protocol test server, and the built CLI.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { before, test } from 'node:test';
import { sha256 } from '../../src/adapters/node/sha256.js';
import { OllamaGenerator } from '../../src/adapters/ollama/ollamaGenerator.js';
import { SqlJsEventStore } from '../../src/adapters/sqljs/sqljsEventStore.js';
import type { EngineSettings } from '../../src/adapters/engineSettings.js';
import { WorkspaceEngine } from '../../src/adapters/workspaceEngine.js';
import { AskService } from '../../src/app/ask/askService.js';
import { TRUNCATED_MARKER } from '../../src/app/ask/generator.js';
import { runCli } from '../../src/cli/main.js';
import { CancelledError } from '../../src/core/errors.js';
import type { RecordedEvent } from '../../src/core/eventStore.js';
import { buildDist, cliPath, recordingIo } from '../support/cli.js';
import { writeFiles } from '../support/ingestHarness.js';
import { startOllamaServer } from '../support/ollamaServer.js';
import { SAMPLE_FILES, TINY_PIPELINE, engineTestSettings, openPipelineHarness } from '../support/pipelineHarness.js';
import { TINY_MODEL_DIMS, TINY_MODEL_ID, ensureTinyModel } from '../support/tinyModel.js';
import { tempDir } from '../support/tmp.js';

const QUESTION = 'how does a thread send a message over a channel?';

async function inferenceFailures(events: AsyncIterable<RecordedEvent>): Promise<Extract<RecordedEvent, { type: 'InferenceFailed' }>[]> {
  const out: Extract<RecordedEvent, { type: 'InferenceFailed' }>[] = [];
  for await (const e of events) if (e.type === 'InferenceFailed') out.push(e);
  return out;
}

async function setUp(t: TestContext, trickleMs = 100) {
  const p = await openPipelineHarness(t, SAMPLE_FILES);
  await p.run();
  const server = await startOllamaServer({ trickleMs });
  t.after(() => server.close());
  const ask = new AskService({ events: p.h.ledger.events, retrieval: p.retrieval, hasher: sha256, clock: () => new Date().toISOString(), newId: randomUUID, actor: 'test' });
  const options = (generator: OllamaGenerator) => ({ pipelineVersion: p.pv, k: 3, mode: 'hybrid' as const, promptTemplate: TINY_PIPELINE.prompt.template, embedder: p.embedder, generator, userId: 'tester' });
  return { ...p, server, ask, options };
}

test('a model that streams forever without done is stopped at the answer cap: InferenceFailed records the capped, marked partial text', async (t) => {
  const { ask, options, server, h } = await setUp(t);
  const result = await ask.ask(QUESTION, options(new OllamaGenerator({ model: 'endless', host: server.host, maxAnswerChars: 3000 })));
  assert.equal(result.failure?.reason, 'other');
  assert.equal(result.failure.limit, 'max_answer_chars');
  assert.match(result.failure.message, /grew past 3000 characters/);
  assert.equal(result.modelId, 'extractive', 'the question still gets cited passages');
  const [failed] = await inferenceFailures(h.ledger.events.readAll({ types: ['InferenceFailed'] }));
  assert.ok(failed);
  assert.equal(failed.data.reason, 'other');
  assert.match(failed.data.detail, /grew past 3000 characters/);
  const partial = failed.data.partial_text ?? '';
  assert.ok(partial.length <= 3000 && partial.length > 2000, `partial text of ${partial.length} characters`);
  assert.ok(partial.startsWith('word0 word1 '));
  assert.ok(partial.endsWith(TRUNCATED_MARKER));
});

test('a model trickling one token at a time forever is stopped by the total deadline, though it is never idle', async (t) => {
  const { ask, options, server, h } = await setUp(t, 100);
  const result = await ask.ask(QUESTION, options(new OllamaGenerator({ model: 'trickle', host: server.host, idleTimeoutMs: 5_000, answerTimeoutMs: 1_500 })));
  assert.equal(result.failure?.reason, 'timeout');
  assert.equal(result.failure.limit, 'answer_timeout');
  const [failed] = await inferenceFailures(h.ledger.events.readAll({ types: ['InferenceFailed'] }));
  assert.ok(failed);
  assert.equal(failed.data.reason, 'timeout');
  assert.match(failed.data.detail, /took longer than 1\.5 s in all/);
  assert.match(failed.data.partial_text ?? '', /^word0 word1 /);
});

test('a streamed line that never ends is refused before the client gathers it whole', async (t) => {
  const { ask, options, server, h } = await setUp(t);
  const result = await ask.ask(QUESTION, options(new OllamaGenerator({ model: 'longline', host: server.host, maxAnswerChars: 1000 })));
  assert.equal(result.failure?.limit, 'max_answer_chars');
  const [failed] = await inferenceFailures(h.ledger.events.readAll({ types: ['InferenceFailed'] }));
  assert.equal(failed?.data.reason, 'other');
  assert.match(failed.data.detail, /grew past 1000 characters/);
});

const engineSettings = (t: TestContext, host: string): EngineSettings => engineTestSettings(t, { ollama: { host, idleTimeoutMs: 60_000 } });

test('closing the engine (the window) while a model is answering cancels the answer and records InferenceFailed(cancelled) before the store closes', async (t) => {
  const server = await startOllamaServer({ trickleMs: 50 });
  t.after(() => server.close());
  const settings = engineSettings(t, server.host);
  const engine = await WorkspaceEngine.open(settings);
  let closed = false;
  t.after(() => (closed ? undefined : engine.close()));
  await engine.ingest();
  let first!: () => void;
  const streaming = new Promise<void>((resolve) => (first = resolve));
  const answering = engine.ask(QUESTION, { userId: 'tester', model: 'trickle', mode: 'lexical', onText: () => first() });
  const outcome = answering.then(
    () => 'answered',
    (err: unknown) => err,
  );
  await streaming;
  await engine.close();
  closed = true;
  assert.ok((await outcome) instanceof CancelledError, 'the answer ends as cancelled');
  const store = await SqlJsEventStore.open(settings.storeDir, { owner: 'the test' });
  try {
    const failed = await inferenceFailures(store.readAll({ types: ['InferenceFailed'] }));
    assert.equal(failed.length, 1);
    assert.equal(failed[0]!.data.reason, 'cancelled');
    assert.match(failed[0]!.data.partial_text ?? '', /^word0 /);
  } finally {
    await store.close();
  }
});

// ---- the built CLI, as a real process ----

/** Loaded before the CLI: writes the process's peak resident memory (bytes) to a file when it exits. */
function rssProbe(dir: string): { preload: string; peak: () => number } {
  const out = join(dir, 'maxrss.txt');
  const preload = join(dir, 'maxrss.cjs');
  writeFileSync(preload, `process.on('exit', () => require('node:fs').writeFileSync(${JSON.stringify(out)}, String(process.resourceUsage().maxRSS * 1024)));\n`);
  return { preload, peak: () => Number(readFileSync(out, 'utf8')) };
}

interface Child {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

function runChild(args: string[], options: { preload?: string; onStdout?: (child: ReturnType<typeof spawn>, text: string) => void } = {}): Promise<Child> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...(options.preload ? ['--require', options.preload] : []), cliPath, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, RAG_LEDGER_STORE: '' } });
    let stdout = '';
    let stderr = '';
    // Bounded: a run that never ends is killed (and the test then fails on its exit).
    const killer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString('utf8');
      options.onStdout?.(child, stdout);
    });
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(killer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

let ingested: { store: string; models: string } | undefined;
async function ingestedStore(t: TestContext): Promise<string> {
  if (!ingested) {
    const ws = tempDir(t);
    writeFiles(ws, SAMPLE_FILES);
    const store = join(tempDir(t), 'store');
    const models = ensureTinyModel(join(tempDir(t), 'models'));
    const io = recordingIo(tempDir(t));
    const code = await runCli(['ingest', ws, '--embedding-model', TINY_MODEL_ID, '--embedding-dims', String(TINY_MODEL_DIMS), '--embedding-dtype', 'fp32', '--model-dir', models, '--store', store], io);
    assert.equal(code, 0, io.stderr());
    ingested = { store, models };
  }
  return ingested.store;
}

async function failuresIn(store: string): Promise<Extract<RecordedEvent, { type: 'InferenceFailed' }>[]> {
  const s = await SqlJsEventStore.open(store, { owner: 'the test' });
  try {
    return await inferenceFailures(s.readAll({ types: ['InferenceFailed'] }));
  } finally {
    await s.close();
  }
}

before(() => buildDist());

test('CLI: ask against a model that streams forever ends at the answer cap with one line and exit 1, records it, releases the lock, and its memory stays bounded', async (t) => {
  const store = await ingestedStore(t);
  const server = await startOllamaServer();
  t.after(() => server.close());
  const probe = rssProbe(tempDir(t));
  const before = (await failuresIn(store)).length;
  const run = await runChild(['ask', QUESTION, '--mode', 'lexical', '--model', 'endless', '--ollama-host', server.host, '--store', store], { preload: probe.preload });
  assert.equal(run.signal, null, 'the run ended by itself');
  assert.equal(run.code, 1, run.stderr);
  const errLines = run.stderr.trimEnd().split('\n');
  assert.equal(errLines.length, 1, run.stderr);
  assert.match(errLines[0]!, /^rag-ledger ask: the answer from endless grew past 20000 characters and was stopped\. .*--max-answer-chars/);
  assert.ok(probe.peak() < 400 * 1024 * 1024, `peak RSS ${Math.round(probe.peak() / 1048576)} MB`);
  const failed = (await failuresIn(store)).slice(before);
  assert.equal(failed.length, 1);
  assert.equal(failed[0]!.data.reason, 'other');
  assert.ok((failed[0]!.data.partial_text ?? '').length <= 20_000);
  assert.ok((failed[0]!.data.partial_text ?? '').endsWith(TRUNCATED_MARKER));
  // The lock is released: the store takes the next question.
  const next = await runChild(['ask', QUESTION, '--mode', 'lexical', '--extractive', '--store', store]);
  assert.equal(next.code, 0, next.stderr);
});

test('CLI: ask against a model trickling forever ends at --answer-timeout with one line and exit 1, and records the timeout', async (t) => {
  const store = await ingestedStore(t);
  const server = await startOllamaServer({ trickleMs: 200 });
  t.after(() => server.close());
  const before = (await failuresIn(store)).length;
  const run = await runChild(['ask', QUESTION, '--mode', 'lexical', '--model', 'trickle', '--timeout', '3', '--answer-timeout', '2', '--ollama-host', server.host, '--store', store]);
  assert.equal(run.signal, null, 'the run ended by itself');
  assert.equal(run.code, 1, run.stderr);
  assert.equal(run.stderr.trimEnd().split('\n').length, 1, run.stderr);
  assert.match(run.stderr, /^rag-ledger ask: the answer from trickle at .* took longer than 2\.0 s in all and was stopped\. .*--answer-timeout/);
  const failed = (await failuresIn(store)).slice(before);
  assert.equal(failed.length, 1);
  assert.equal(failed[0]!.data.reason, 'timeout');
});

test('CLI: Ctrl+C (SIGINT) during ask records InferenceFailed(cancelled) and exits 130 with one line', async (t) => {
  const store = await ingestedStore(t);
  const server = await startOllamaServer({ trickleMs: 100 });
  t.after(() => server.close());
  const before = (await failuresIn(store)).length;
  let sent = false;
  const run = await runChild(['ask', QUESTION, '--mode', 'lexical', '--model', 'trickle', '--ollama-host', server.host, '--store', store], {
    onStdout: (child, out) => {
      if (!sent && out.includes('word0')) {
        sent = true;
        child.kill('SIGINT');
      }
    },
  });
  assert.ok(sent, 'the answer started streaming');
  assert.equal(run.code, 130, run.stderr);
  assert.equal(run.stderr.trimEnd().split('\n').length, 1, run.stderr);
  assert.match(run.stderr, /^rag-ledger ask: the question was cancelled\./);
  const failed = (await failuresIn(store)).slice(before);
  assert.equal(failed.length, 1);
  assert.equal(failed[0]!.data.reason, 'cancelled');
  assert.match(failed[0]!.data.partial_text ?? '', /^word0 /);
});
