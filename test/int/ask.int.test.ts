import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { TestContext } from 'node:test';
import { test } from 'node:test';
import { OllamaGenerator, ollamaHost } from '../../src/adapters/ollama/ollamaGenerator.js';
import { sha256 } from '../../src/adapters/node/sha256.js';
import { AskService } from '../../src/app/ask/askService.js';
import { buildPrompt, promptText } from '../../src/core/answer/prompt.js';
import { CancelledError } from '../../src/core/errors.js';
import type { RecordedEvent } from '../../src/core/eventStore.js';
import { GOOD_ANSWER, startOllamaServer } from '../support/ollamaServer.js';
import { TINY_PIPELINE, openPipelineHarness } from '../support/pipelineHarness.js';

async function setUp(t: TestContext) {
  const p = await openPipelineHarness(t);
  await p.run();
  const server = await startOllamaServer({ slowMs: 1500 });
  t.after(() => server.close());
  const ask = new AskService({ events: p.h.ledger.events, retrieval: p.retrieval, hasher: sha256, clock: () => new Date().toISOString(), newId: randomUUID, actor: 'test' });
  const options = (model: string | null, extra: { idleTimeoutMs?: number; signal?: AbortSignal; onText?: (s: string) => void } = {}) => ({
    pipelineVersion: p.pv,
    k: 3,
    mode: 'hybrid' as const,
    promptTemplate: TINY_PIPELINE.prompt.template,
    embedder: p.embedder,
    generator: model === null ? null : new OllamaGenerator({ model, host: server.host, ...(extra.idleTimeoutMs ? { idleTimeoutMs: extra.idleTimeoutMs } : {}) }),
    userId: 'tester',
    ...(extra.signal ? { signal: extra.signal } : {}),
    ...(extra.onText ? { onText: extra.onText } : {}),
  });
  const chain = async (queryId: string): Promise<RecordedEvent[]> => {
    const out: RecordedEvent[] = [];
    for await (const e of p.h.ledger.events.readStream(`query-${queryId}`)) out.push(e);
    return out;
  };
  return { ...p, server, ask, options, chain };
}

const QUESTION = 'how does a thread send a message over a channel?';

test('ask records the full chain with the exact prompt, streams the answer and cites its sources', async (t) => {
  const { ask, options, chain, server, pv } = await setUp(t);
  const streamed: string[] = [];
  const result = await ask.ask(QUESTION, options('good', { onText: (s) => streamed.push(s) }));
  assert.equal(result.modelId, 'good');
  assert.ok(result.answer.startsWith(GOOD_ANSWER.join('').trim()));
  assert.match(result.answer, /Sources:\n\[1\] guide\/threads\.md:1-3/);
  assert.equal(streamed.join(''), result.answer.slice(0, streamed.join('').length));
  const events = await chain(result.queryId);
  assert.deepEqual(events.map((e) => e.type), ['QueryReceived', 'ContextRetrieved', 'InferenceRequested', 'InferenceCompleted']);
  const [received, retrieved, requested, completed] = events;
  assert.ok(received!.type === 'QueryReceived' && received!.data.query_text === QUESTION);
  assert.ok(retrieved!.type === 'ContextRetrieved');
  assert.deepEqual([retrieved!.data.mode, retrieved!.data.pipeline_version, retrieved!.data.ranks], ['hybrid', pv, retrieved!.data.chunk_ids.map((_, i) => i + 1)]);
  assert.equal(retrieved!.data.chunk_ids.length, result.context.length);
  assert.ok(requested!.type === 'InferenceRequested' && requested!.data.prompt !== undefined);
  // The stored prompt is exactly what the server received, and its hash matches.
  const sent = server.chats[0]!;
  assert.deepEqual(sent.messages.map((m) => m.content), [requested!.data.prompt.system, requested!.data.prompt.user]);
  assert.equal(requested!.data.prompt_hash, `sha256:${sha256([promptText(requested!.data.prompt)])}`);
  assert.deepEqual(requested!.data.prompt, buildPrompt(TINY_PIPELINE.prompt.template, QUESTION, result.context).prompt);
  assert.ok(completed!.type === 'InferenceCompleted');
  assert.deepEqual([completed!.data.response_text, completed!.data.prompt_tokens, completed!.data.completion_tokens, completed!.data.tokens_used], [result.answer, 120, GOOD_ANSWER.length, 120 + GOOD_ANSWER.length]);
  for (const e of events) assert.equal(e.metadata.correlation_id, result.queryId);
});

test('Ollama down: InferenceFailed(unreachable) with how to start it, then a labelled extractive answer with citations', async (t) => {
  const { ask, options, chain, server } = await setUp(t);
  await server.close();
  const result = await ask.ask(QUESTION, options('good'));
  assert.equal(result.failure?.reason, 'unreachable');
  assert.match(result.failure.hint, /ollama serve/);
  assert.equal(result.modelId, 'extractive');
  assert.match(result.answer, /^Extractive answer/);
  assert.match(result.answer, /channel sends a message between threads\. \[1\]/);
  assert.match(result.answer, /\[1\] guide\/threads\.md:1-3/);
  const types = (await chain(result.queryId)).map((e) => e.type);
  assert.deepEqual(types, ['QueryReceived', 'ContextRetrieved', 'InferenceRequested', 'InferenceFailed', 'InferenceRequested', 'InferenceCompleted']);
  const events = await chain(result.queryId);
  assert.ok(events[5]!.type === 'InferenceCompleted' && events[5]!.data.model_id === 'extractive');
});

test('a model that is not pulled says `ollama pull <model>`; a cut-off stream keeps the partial text; a silent server times out', async (t) => {
  const { ask, options, chain } = await setUp(t);
  const missing = await ask.ask(QUESTION, options('missing'));
  assert.equal(missing.failure?.reason, 'model_missing');
  assert.match(missing.failure.hint, /ollama pull missing/);
  for (const model of ['cutoff', 'crash']) {
    const cut = await ask.ask(QUESTION, options(model));
    assert.equal(cut.failure?.reason, 'cut_off', model);
    const failed = (await chain(cut.queryId)).find((e) => e.type === 'InferenceFailed');
    assert.ok(failed?.type === 'InferenceFailed' && failed.data.partial_text === GOOD_ANSWER.slice(0, 2).join(''), model);
  }
  const slow = await ask.ask(QUESTION, options('slow', { idleTimeoutMs: 300 }));
  assert.equal(slow.failure?.reason, 'timeout');
  assert.equal(slow.modelId, 'extractive');
});

test('cancelling a question while it waits for the model records InferenceFailed(cancelled) and throws CancelledError', async (t) => {
  const { ask, options, h } = await setUp(t);
  const controller = new AbortController();
  const pending = ask.ask(QUESTION, options('slow', { signal: controller.signal, idleTimeoutMs: 10_000 }));
  setTimeout(() => controller.abort(), 300);
  const started = Date.now();
  await assert.rejects(pending, CancelledError);
  assert.ok(Date.now() - started < 1400, 'cancel does not wait for the slow server');
  const failed: RecordedEvent[] = [];
  for await (const e of h.ledger.events.readAll({ types: ['InferenceFailed'] })) failed.push(e);
  assert.equal(failed.length, 1);
  assert.ok(failed[0]!.type === 'InferenceFailed' && failed[0]!.data.reason === 'cancelled');
});

test('a question cancelled before the model is asked records InferenceFailed(cancelled) too: the log never ends at the context', async (t) => {
  const { ask, options, chain, h } = await setUp(t);
  const controller = new AbortController();
  controller.abort();
  await assert.rejects(ask.ask(QUESTION, options('good', { signal: controller.signal })), CancelledError);
  const received: RecordedEvent[] = [];
  for await (const e of h.ledger.events.readAll({ types: ['QueryReceived'] })) received.push(e);
  assert.equal(received.length, 1);
  const events = await chain(received[0]!.type === 'QueryReceived' ? received[0]!.data.query_id : '');
  const last = events.at(-1)!;
  assert.ok(last.type === 'InferenceFailed' && last.data.reason === 'cancelled' && last.data.model_id === 'good', JSON.stringify(events.map((e) => e.type)));
  assert.ok(!events.some((e) => e.type === 'InferenceRequested'), 'the model was never asked');
});

test('OLLAMA_HOST is normalised like Ollama does', () => {
  assert.equal(ollamaHost(undefined), 'http://127.0.0.1:11434');
  assert.equal(ollamaHost('0.0.0.0'), 'http://127.0.0.1:11434');
  assert.equal(ollamaHost('0.0.0.0:8080'), 'http://127.0.0.1:8080');
  assert.equal(ollamaHost('https://ollama.internal'), 'https://ollama.internal');
  assert.equal(ollamaHost('http://gpu-box:11434'), 'http://gpu-box:11434');
  assert.equal(ollamaHost('https://user:pw@proxy:8443/ollama/'), 'https://user:pw@proxy:8443/ollama');
  assert.equal(ollamaHost(':11435'), 'http://127.0.0.1:11435');
  assert.throws(() => ollamaHost('http://[bad'), /not a valid address/);
});
