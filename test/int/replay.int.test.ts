import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { test } from 'node:test';
import { runCli } from '../../src/cli/main.js';
import { recordingIo } from '../support/cli.js';
import { writeFiles } from '../support/ingestHarness.js';
import { startOllamaServer } from '../support/ollamaServer.js';
import { tempDir } from '../support/tmp.js';
import type { CompareReport, ReanswerReport, ReplayReport } from '../../src/shared/explorerModel.js';
import { TINY_MODEL_DIMS, TINY_MODEL_ID, ensureTinyModel } from '../support/tinyModel.js';

function cliOn(t: TestContext, store: string, models: string) {
  return async (...args: string[]) => {
    const io = recordingIo(tempDir(t));
    const code = await runCli([...args, '--store', store, ...(['ingest', 'replay', 'compare', 'pipelines'].includes(args[0]!) && args[1] !== 'activate' && args[1] !== 'define' ? ['--model-dir', models] : [])], io);
    return { code, out: io.stdout(), err: io.stderr() };
  };
}

/** Ownership's Borrowing section is three paragraphs: one chunk by default, three under a 100-character limit. */
const FILES = {
  'guide/ownership.md':
    '# Ownership\n\nEach value in rust has an owner, and ownership moves.\n\n## Borrowing\n\n' +
    'A reference borrows a value without taking ownership of it.\n\nA mutable reference borrows a value and may change it in place.\n\nMany shared references may borrow one value at the same time.\n',
  'guide/server.md': '# Web server\n\nA tcp listener accepts an http request and writes a response.\n',
  'guide/threads.md': '# Threads\n\nA thread runs code concurrently; a channel sends a message between threads.\n',
  'src/main.rs': 'fn main() {\n    println!("hello world");\n}\n',
};

type ReplayJson = ReplayReport & { answer?: ReanswerReport };

const kinds = (r: ReplayJson, kind: string): ReplayJson['pairs'] => r.pairs.filter((p) => p.kind === kind);

test('pipelines define and build a second chunking in the shadow from the log alone; replay and point-in-time retrieval diff a recorded question; compare summarises both versions', async (t) => {
  const ws = tempDir(t);
  writeFiles(ws, FILES);
  const store = join(tempDir(t), 'store');
  const models = ensureTinyModel(join(tempDir(t), 'models'));
  const run = cliOn(t, store, models);
  const ingest = await run('ingest', ws, '--embedding-model', TINY_MODEL_ID, '--embedding-dims', String(TINY_MODEL_DIMS), '--embedding-dtype', 'fp32', '--json');
  assert.equal(ingest.code, 0, ingest.err);
  const pv1 = (JSON.parse(ingest.out) as { pipelineVersion: string }).pipelineVersion;

  const question = 'how does a mutable reference borrow a value?';
  const asked = await run('ask', question, '--extractive', '--model-dir', models, '--k', '4');
  assert.equal(asked.code, 0, asked.err);
  const queryId = /question (q-[0-9a-f-]+)/.exec(asked.out)![1]!;
  const asked2 = await run('ask', 'a channel sends a message between threads', '--extractive', '--model-dir', models, '--k', '4');
  assert.equal(asked2.code, 0, asked2.err);

  // Define a version with smaller Markdown chunks; it is not built, so it cannot be activated yet.
  const defined = await run('pipelines', 'define', '--markdown-max-chars', '100', '--label', 'small sections');
  assert.equal(defined.code, 0, defined.err);
  const pv2 = /^defined (pv-[0-9a-f]{12})$/m.exec(defined.out)![1]!;
  assert.notEqual(pv2, pv1);
  assert.match(defined.out, new RegExp(`build it with: rag-ledger pipelines build ${pv2}`));
  assert.equal((await run('pipelines', 'define', '--markdown-max-chars', '100')).out.split('\n')[0], `defined ${pv2}`, 'the same settings give the same version');
  const refused = await run('pipelines', 'activate', pv2);
  assert.equal(refused.code, 1);
  assert.match(refused.err, /is not fully built: 0 of 4 documents chunked.*pipelines build/);
  assert.match((await run('pipelines')).out, new RegExp(`  ${pv2}  small sections  chunked 0/4 documents.*not fully built`));

  // The build reads nothing from disk: the workspace is gone.
  rmSync(ws, { recursive: true, force: true });
  const built = await run('pipelines', 'build', pv2, '--json');
  assert.equal(built.code, 0, built.err);
  const report = JSON.parse(built.out) as { chunked: { documents: number; chunks: number }; embedding: { embedded: number }; indexing: { upserted: number }; totals: { chunks: number; withVectors: number; indexed: number } };
  assert.equal(report.chunked.documents, 4);
  assert.deepEqual([report.totals.withVectors, report.totals.indexed], [report.chunked.chunks, report.chunked.chunks]);
  assert.ok(report.embedding.embedded < report.chunked.chunks, 'unchanged chunk texts reuse their stored vectors');
  assert.ok(report.embedding.embedded >= 3, 'the split Borrowing section needs new vectors');
  assert.equal(report.indexing.upserted, report.chunked.chunks);
  assert.match(built.err, /embed \(chunks\): \d+\/\d+ \(\d+\/s\)/);
  const listed = (await run('pipelines', '--json')).out.trim().split('\n').map((l) => JSON.parse(l) as { pipeline_version: string; active: boolean; complete: boolean });
  assert.deepEqual(listed.map((p) => [p.pipeline_version, p.active, p.complete]).sort(), [[pv1, true, true], [pv2, false, true]].sort());

  // Questions keep using the active version while the other is built.
  const meanwhile = await run('ask', question, '--extractive', '--model-dir', models, '--json');
  assert.equal((JSON.parse(meanwhile.out) as { pipelineVersion: string }).pipelineVersion, pv1);

  // Replaying against the same version and an unchanged workspace changes nothing.
  const same = await run('replay', queryId, '--json');
  assert.equal(same.code, 0, same.err);
  const s = JSON.parse(same.out) as ReplayJson;
  assert.deepEqual(
    s.pairs.map((p) => [p.kind, p.move]),
    s.original.chunks.map(() => ['same', 0]),
  );
  assert.deepEqual([s.metrics.chunks.overlapAtK, s.metrics.chunks.jaccard, s.metrics.chunks.meanRankShift], [1, 1, 0]);
  assert.ok(Math.abs(s.metrics.chunks.rbo - 1) < 1e-9);
  for (const p of s.pairs) assert.ok(Math.abs(p.original!.score - p.replayed!.score) < 1e-6);
  assert.equal(s.originalAnswer?.modelId, 'extractive');
  assert.ok(s.original.chunks.every((c) => c.documentVersion?.ordinal === 1 && c.text !== null && c.startLine !== null));

  // Against the new chunking: the Borrowing chunk is replaced by its smaller pieces, the documents stay.
  const replayed = await run('replay', queryId, '--pipeline', pv2, '--json');
  assert.equal(replayed.code, 0, replayed.err);
  const r = JSON.parse(replayed.out) as ReplayJson;
  assert.equal(r.original.pipelineVersion, pv1);
  assert.equal(r.replayed.pipelineVersion, pv2);
  assert.equal(r.original.chunks[0]!.path, 'guide/ownership.md');
  // The old Borrowing chunk and one of its pieces are the same region of ownership.md, chunked differently.
  const rechunked = kinds(r, 'rechunked');
  assert.ok(rechunked.some((p) => p.original!.path === 'guide/ownership.md' && p.replayed!.path === 'guide/ownership.md'), JSON.stringify(r.pairs.map((p) => p.kind)));
  for (const p of rechunked) {
    assert.ok(p.original!.startLine! <= p.replayed!.endLine! && p.replayed!.startLine! <= p.original!.endLine!, 'overlapping lines');
    assert.ok(p.textDiff!.some((part) => part.op === '-'), 'the pieces are shorter than the old chunk');
  }
  assert.ok(r.metrics.chunks.rbo < 1 && r.metrics.chunks.rbo >= 0);
  assert.equal(r.metrics.aligned, rechunked.length);
  // A replay never changes the active version.
  const afterReplay = (await run('pipelines', '--json')).out.trim().split('\n').map((l) => JSON.parse(l) as { pipeline_version: string; active: boolean });
  assert.deepEqual(afterReplay.filter((p) => p.active).map((p) => p.pipeline_version), [pv1]);
  assert.equal(r.replayed.chunks[0]!.path, 'guide/ownership.md');
  const text = await run('replay', queryId, '--pipeline', pv2);
  assert.match(text.out, /^chunks: {4}overlap@4 \d\.\d{3}, Jaccard \d\.\d{3}, RBO \d\.\d{3}, mean rank shift (\d\.\d{2}|–); \d+ kept \(\d+ moved\), \d+ re-chunked, \d+ added, \d+ removed$/m);
  assert.match(text.out, /^ {2}rechunked +#\d+ → #\d+ +(↑\d+|↓\d+|=) +score \d\.\d{4} → \d\.\d{4} +guide\/ownership\.md:\d+-\d+ v1 → \d+-\d+$/m);
  assert.match(text.out, /^ {2}re-chunked guide\/ownership\.md:\d+-\d+, \[-only before-\] \{\+only after\+\}:$/m);

  // The replays are events of the question's stream, after the original ones.
  const chain = (await run('log', '--stream', `query-${queryId}`, '--json')).out.trim().split('\n').map((l) => JSON.parse(l) as { type: string; data: { pipeline_version?: string; original_pipeline_version?: string; diff?: { rbo: number } } });
  assert.deepEqual(chain.map((e) => e.type), ['QueryReceived', 'ContextRetrieved', 'InferenceRequested', 'InferenceCompleted', 'ContextReplayed', 'ContextReplayed', 'ContextReplayed']);
  assert.equal(chain[5]!.data.pipeline_version, pv2);
  assert.equal(chain[5]!.data.original_pipeline_version, pv1);
  assert.ok(Math.abs(chain[5]!.data.diff!.rbo - r.metrics.chunks.rbo) < 1e-12);
  assert.match((await run('show', queryId)).out, new RegExp(`ContextReplayed {4}replay r-[0-9a-f-]+: \\d+ chunks, hybrid retrieval, pipeline ${pv2}; overlap@4 `));

  // Edit the workspace: the original context's Borrowing chunk is superseded.
  writeFiles(ws, { ...FILES, 'guide/ownership.md': '# Ownership\n\nValues are dropped when their owner goes out of scope.\n' });
  const reingest = await run('ingest', ws, '--json');
  assert.equal(reingest.code, 0, reingest.err);
  const shadows = (JSON.parse(reingest.out) as { shadows: { pipelineVersion: string; chunked: { documents: number } }[] }).shadows;
  assert.deepEqual(
    shadows.map((x) => [x.pipelineVersion, x.chunked.documents]),
    [[pv2, 1]],
    'the version built in the shadow follows the edit',
  );
  const now = JSON.parse((await run('replay', queryId, '--pipeline', pv1, '--json')).out) as ReplayJson;
  assert.ok(kinds(now, 'dropped').length + kinds(now, 'rechunked').length > 0, 'the superseded chunk left retrieval');
  assert.ok(now.pairs.some((p) => p.original?.path === 'guide/ownership.md' && p.original.documentVersion?.ordinal === 1), 'the original context cites version 1');
  // …but as of when the question was asked, retrieval gives back exactly the original context.
  const then = await run('replay', queryId, '--pipeline', pv1, '--as-of', 'asked', '--json');
  assert.equal(then.code, 0, then.err);
  const p = JSON.parse(then.out) as ReplayJson;
  assert.ok(p.replayed.asOfPosition! > 0);
  assert.deepEqual(
    p.replayed.chunks.map((c) => c.chunkId),
    p.original.chunks.map((c) => c.chunkId),
  );
  for (const x of p.pairs) assert.ok(x.kind === 'same' && Math.abs(x.original!.score - x.replayed!.score) < 1e-5, `${x.kind}, scores ${x.original?.score} → ${x.replayed?.score}`);
  const atPosition = JSON.parse((await run('replay', queryId, '--pipeline', pv1, '--as-of', String(p.replayed.asOfPosition), '--json')).out) as ReplayJson;
  assert.deepEqual(
    atPosition.replayed.chunks.map((c) => c.chunkId),
    p.original.chunks.map((c) => c.chunkId),
  );
  const atStart = JSON.parse((await run('replay', queryId, '--pipeline', pv1, '--as-of', '2000-01-01T00:00:00Z', '--json')).out) as ReplayJson;
  assert.equal(atStart.replayed.asOfPosition, 0);
  assert.equal(atStart.replayed.chunks.length, 0, 'nothing was indexed before the log began');
  const bad = await run('replay', queryId, '--as-of', 'yesterday-ish');
  assert.equal(bad.code, 1);
  assert.match(bad.err, /cannot read "yesterday-ish" as a log position or a time/);

  // Regenerate the answer from the replayed context and diff it against the original.
  const server = await startOllamaServer();
  t.after(() => server.close());
  const regen = await run('replay', queryId, '--pipeline', pv2, '--regenerate', '--model', 'good', '--ollama-host', server.host, '--json');
  assert.equal(regen.code, 0, regen.err);
  const g = JSON.parse(regen.out) as ReplayJson;
  assert.equal(g.answer!.modelId, 'good');
  assert.match(g.answer!.originalText!, /^Extractive answer/);
  assert.ok(g.answer!.similarity! >= 0 && g.answer!.similarity! < 1);
  assert.ok(g.answer!.diff!.some((part) => part.op === '+'));
  const regenText = await run('replay', queryId, '--pipeline', pv2, '--regenerate', '--extractive');
  assert.match(regenText.out, /answer by extractive:\n {2}similarity to the original answer \d\.\d{3}; \[-removed-\] \{\+added\+\}:/);
  await server.close();
  const down = await run('replay', queryId, '--pipeline', pv2, '--regenerate', '--model', 'good', '--ollama-host', server.host);
  assert.equal(down.code, 0, down.err);
  assert.match(down.err, /no Ollama server answered/);
  assert.match(down.out, /answer by extractive \(the model failed: good: unreachable: /);
  const answered = (await run('log', '--stream', `query-${queryId}`, '--type', 'ReplayAnswered', '--json')).out.trim().split('\n').map((l) => JSON.parse(l) as { data: { model_id: string; similarity: number; generation_failure?: string } });
  assert.deepEqual(answered.map((a) => a.data.model_id), ['good', 'extractive', 'extractive']);
  assert.match(answered[2]!.data.generation_failure!, /unreachable/);

  // Compare the two versions over the recorded questions, then over a golden set.
  const compared = await run('compare', '--from', pv1, '--to', pv2, '--k', '4', '--json');
  assert.equal(compared.code, 0, compared.err);
  const c = JSON.parse(compared.out) as CompareReport;
  assert.equal(c.questions, 2, 'recorded questions are compared once each');
  assert.ok(c.means.rbo > 0 && c.means.rbo <= 1);
  assert.ok(c.rows[0]!.metrics.rbo <= c.rows[1]!.metrics.rbo, 'most changed first');
  assert.equal(c.overlapHistogram.reduce((a, b) => a + b, 0), 2);
  assert.ok(c.rows.every((row) => row.queryId?.startsWith('q-')));
  // An unchanged context with the same prompt template and model means the same prompt: the answer would not change.
  for (const row of c.rows) assert.equal(row.answer.kind === 'same-context', row.added + row.removed + row.moved === 0, JSON.stringify(row));
  const compareText = await run('compare', '--from', pv1, '--to', pv2, '--k', '4');
  assert.match(compareText.out, new RegExp(`^${pv1} \\(hybrid\\) → ${pv2} \\(hybrid\\), k=4, over 2 recorded questions\\n {2}chunks: {4}mean overlap@4 \\d\\.\\d{3}, Jaccard \\d\\.\\d{3}, RBO \\d\\.\\d{3}`));
  const golden = join(tempDir(t), 'golden.jsonl');
  writeFileSync(golden, '{"query":"a channel sends a message between threads","relevant":["guide/threads.md"]}\n');
  const gold = JSON.parse((await run('compare', '--from', pv1, '--to', pv2, '--golden', golden, '--json')).out) as CompareReport;
  assert.equal(gold.questions, 1);
  assert.equal(gold.source, 'golden');
  assert.deepEqual([gold.golden!.from.recall, gold.golden!.to.recall], [1, 1]);
  assert.deepEqual([gold.rows[0]!.golden!.fromRecall, gold.rows[0]!.queryId], [1, null]);
  assert.equal((await run('compare', '--from', pv1, '--to', 'pv-nope')).code, 1);

  // The explorer's filters on the command line: a question's chain, words, a document, failures.
  const chainLines = (await run('log', '--correlation', queryId)).out.trim().split('\n');
  assert.deepEqual(
    chainLines.map((l) => l.trim().split(/\s+/)[2]),
    ['QueryReceived', 'ContextRetrieved', 'InferenceRequested', 'InferenceCompleted'],
  );
  assert.match(chainLines[0]!, /“how does a mutable reference borrow a value\?” asked by /);
  const searched = (await run('log', '--search', 'Mutable REFERENCE', '--json')).out.trim().split('\n').map((l) => JSON.parse(l) as { type: string });
  assert.ok(searched.some((e) => e.type === 'QueryReceived') && searched.some((e) => e.type === 'DocumentChunked'), JSON.stringify(searched.map((e) => e.type)));
  const threads = (await run('log', '--document', 'guide/threads.md', '--type', 'DocumentSubmitted', '--json')).out.trim().split('\n').map((l) => JSON.parse(l) as { data: { source: string } });
  assert.deepEqual(threads.map((e) => e.data.source), ['guide/threads.md']);
  // The one failure: the re-answer while Ollama was down.
  const failures = (await run('log', '--failures')).out.trim().split('\n');
  assert.equal(failures.length, 1, failures.join('\n'));
  assert.match(failures[0]!, /ReplayAnswered .* ✗ re-answered by extractive · similarity \d\.\d{3} · model failed: good: unreachable/);
  const mixed = await run('log', '--search', 'x', '--category', 'query');
  assert.equal(mixed.code, 2);
  assert.match(mixed.err, /--category cannot be combined with/);

  // Cut over: the built version becomes the one questions use.
  const activated = await run('pipelines', 'activate', pv2);
  assert.equal(activated.code, 0, activated.err);
  const after = JSON.parse((await run('ask', question, '--extractive', '--model-dir', models, '--json')).out) as { pipelineVersion: string };
  assert.equal(after.pipelineVersion, pv2);
  assert.equal((await run('verify')).code, 0);
});
