import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import type { EngineSettings } from '../../src/adapters/engineSettings.js';
import { WorkspaceEngine } from '../../src/adapters/workspaceEngine.js';
import type { RecordedEvent } from '../../src/core/eventStore.js';
import { streamOf } from '../support/ingestHarness.js';
import { startOllamaServer } from '../support/ollamaServer.js';
import { TINY_PIPELINE, engineTestSettings } from '../support/pipelineHarness.js';
import { tempDir } from '../support/tmp.js';

async function all(engine: WorkspaceEngine, from = 0): Promise<RecordedEvent[]> {
  const out: RecordedEvent[] = [];
  for await (const e of engine.ledger.events.readAll({ fromPosition: from + 1 })) out.push(e);
  return out;
}

const settings = (t: TestContext, overrides: Partial<EngineSettings> = {}): EngineSettings => engineTestSettings(t, overrides);

test('the workspace engine: ingest, re-embed one file (events for that document only), ask with the full chain, a second window opens beside it', async (t) => {
  const ollama = await startOllamaServer();
  t.after(() => ollama.close());
  const s = settings(t, { ollama: { host: ollama.host }, pipeline: { ...TINY_PIPELINE, generator: { model: 'good' } } });
  const engine = await WorkspaceEngine.open(s);
  t.after(() => engine.close());

  const phases = new Set<string>();
  const first = await engine.ingest({ onProgress: (p) => phases.add(p.phase) });
  assert.equal(first.ingest.submitted, 4);
  assert.equal(first.embedding?.embedded, first.ingest.chunks);
  assert.equal(first.indexing.upserted, first.ingest.chunks);
  assert.ok(['scan', 'submit', 'chunk', 'embed', 'index'].every((p) => phases.has(p)), [...phases].join(','));
  assert.equal(engine.configuredVersion().active, true);

  // Re-embed one file: new ChunkEmbedded and ChunkIndexed in that document's stream, nothing elsewhere.
  const head = (await engine.ledger.events.head()).position;
  const re = await engine.reembed(['guide/threads.md']);
  assert.equal(re.documents, 1);
  assert.ok(re.embedding.embedded > 0);
  const appended = await all(engine, head);
  assert.ok(appended.length > 0);
  assert.deepEqual([...new Set(appended.map((e) => e.streamId))], [streamOf('guide/threads.md')]);
  assert.deepEqual([...new Set(appended.map((e) => e.type))].sort(), ['ChunkEmbedded', 'ChunkIndexed']);
  assert.ok(appended.every((e) => e.metadata.correlation_id === re.requestId));
  // A folder re-embeds every document under it.
  const folder = await engine.reembed(['guide']);
  assert.equal(folder.documents, 3);
  await assert.rejects(engine.reembed(['nowhere.md']), /nothing to re-embed at nowhere\.md/);

  // Ask: the whole chain, streamed.
  let streamed = '';
  const answer = await engine.ask('how do threads send a message over a channel?', { userId: 'tester', onText: (x) => (streamed += x) });
  assert.equal(answer.modelId, 'good');
  assert.match(streamed, /Threads send messages/);
  assert.ok(answer.context.some((c) => c.path === 'guide/threads.md'));
  const chain: string[] = [];
  for await (const e of engine.ledger.events.readStream(`query-${answer.queryId}`)) chain.push(e.type);
  assert.deepEqual(chain, ['QueryReceived', 'ContextRetrieved', 'InferenceRequested', 'InferenceCompleted']);
  const provenance = await engine.provenance(answer.queryId);
  assert.ok(provenance.chunks.length > 0);

  // Scoped ingest: an edit elsewhere is left alone, the scoped file gets a new version.
  writeFileSync(join(s.workspaceRoot, 'guide/server.md'), '# Web server\n\nA listener now also speaks tls.\n');
  writeFileSync(join(s.workspaceRoot, 'src/main.rs'), 'fn main() {}\n');
  const before = (await engine.ledger.events.head()).position;
  const scoped = await engine.ingest({ scope: ['guide/server.md'] });
  assert.equal(scoped.ingest.submitted, 1);
  assert.deepEqual([...new Set((await all(engine, before)).map((e) => e.streamId))], [streamOf('guide/server.md')]);

  // A second window on the same store works beside the first: it sees what the first recorded.
  const second = await WorkspaceEngine.open({ ...s, owner: 'another window' });
  try {
    assert.equal((await second.ledger.events.head()).position, (await engine.ledger.events.head()).position);
    assert.ok(second.ledger.readModels.documents().length > 0);
  } finally {
    await second.close();
  }
  assert.equal((await engine.verify()).ok, true);
});

test('the workspace engine without a loadable model: ingest completes lexical only and says why; ask still answers', async (t) => {
  const s = settings(t, { modelDir: join(tempDir(t), 'no-models'), pipeline: { ...TINY_PIPELINE, embedder: { ...TINY_PIPELINE.embedder, model: 'nobody/missing-model' } }, ollama: { host: 'http://127.0.0.1:9' } });
  const engine = await WorkspaceEngine.open(s);
  t.after(() => engine.close());
  const report = await engine.ingest();
  assert.equal(report.embedding, null);
  assert.match(report.embeddingUnavailable?.message ?? '', /nobody\/missing-model/);
  assert.ok(report.indexing.upserted > 0);
  let unavailable = '';
  const failures: string[] = [];
  const answer = await engine.ask('what does a channel send?', { userId: 't', onRetrievalUnavailable: (m) => (unavailable = m), onFailure: (f) => failures.push(f.reason) });
  assert.match(unavailable, /nobody\/missing-model/);
  assert.equal(answer.modelId, 'extractive');
  assert.deepEqual(failures, ['unreachable']);
  assert.ok(answer.context.length > 0);
});

test('the workspace engine behind the explorer: replay against a shadow version, re-answer from that replay, compare (re-answered, unchanged), document history; the explorer follows the log', async (t) => {
  const ollama = await startOllamaServer();
  t.after(() => ollama.close());
  const s = settings(t, { ollama: { host: ollama.host }, pipeline: { ...TINY_PIPELINE, generator: { model: 'good' } } });
  const engine = await WorkspaceEngine.open(s);
  t.after(() => engine.close());
  await engine.ingest();
  const asked = await engine.ask('how do threads send a message over a channel?', { userId: 'tester' });
  await engine.ask('what does the web server answer?', { userId: 'tester' });
  const pv1 = asked.pipelineVersion;
  // A second version with much smaller chunks, built in the shadow.
  engine.updateSettings({ ...s, pipeline: { ...s.pipeline, chunker: { ...s.pipeline.chunker, markdownMaxChars: 200, textMaxChars: 200 } } });
  const pv2 = await engine.defineConfigured('small chunks');
  await engine.build(pv2);

  const explorer = await engine.explorer();
  await explorer.timeline.catchUp();
  assert.equal(explorer.timeline.checkpoint, (await engine.ledger.events.head()).position);

  const report = await engine.replay(asked.queryId, pv2, { asOf: 'now' });
  assert.equal(report.replayed.pipelineVersion, pv2);
  assert.equal(report.original.pipelineVersion, pv1);
  assert.ok(report.pairs.length > 0 && report.pairs.every((p) => p.original || p.replayed));
  assert.ok(report.original.chunks.every((c) => c.documentVersion?.ordinal === 1 && c.text));
  const asOf = await engine.replay(asked.queryId, pv1, { asOf: 'asked' });
  assert.deepEqual(
    asOf.pairs.map((p) => p.kind),
    asOf.original.chunks.map(() => 'same'),
    'as asked, the original version gives back the original context',
  );

  let streamed = '';
  const again = await engine.reanswer(asked.queryId, report.replayId, { onText: (x) => (streamed += x) });
  assert.equal(again.modelId, 'good');
  assert.match(streamed, /Threads send messages/);
  assert.ok(again.similarity !== null && again.similarity > 0);
  const answered = (await explorer.timeline.page({ correlation: report.replayId }, 0, 10)).rows.map((r) => r.type);
  assert.deepEqual(answered, ['ContextReplayed', 'ReplayAnswered'], 'the explorer follows the log');

  const compared = await engine.compare(pv1, pv2);
  assert.equal(compared.questions, 2);
  const row = compared.rows.find((r) => r.queryId === asked.queryId)!;
  if (row.added + row.removed + row.moved > 0) assert.deepEqual(row.answer, { kind: 'reanswered', similarity: again.similarity });
  const same = await engine.compare(pv1, pv1);
  assert.ok(same.rows.every((r) => r.answer.kind === 'same-context'), 'the same version: every context and prompt is unchanged');
  assert.equal(same.unchanged, 2);
  assert.deepEqual(same.overlapHistogram.at(-1), 2);

  const threads = engine.ledger.readModels.documents().find((d) => d.source === 'guide/threads.md')!;
  const history = await explorer.documents.history(threads.document_id);
  assert.equal(history.path, 'guide/threads.md');
  assert.deepEqual(history.versions[0]!.chunkings.map((c) => c.pipelineVersion).sort(), [pv1, pv2].sort());
  const cited = history.versions[0]!.citedBy;
  assert.ok(cited.some((c) => c.queryId === asked.queryId), 'the question that cited it');
  assert.equal(new Set(cited.map((c) => c.queryId)).size, cited.length, 'each question once, though it was asked and replayed');
  assert.ok(history.versions[0]!.chunkings[0]!.chunks[0]!.embeddings.length > 0);
});
