import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { appendFileSync, cpSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import type { TestContext } from 'node:test';
import { test } from 'node:test';
import type { ReplayReport } from '../../src/shared/explorerModel.js';
import { openLedger } from '../../src/adapters/ledger.js';
import { sha256 } from '../../src/adapters/node/sha256.js';
import { documentIdFor } from '../../src/app/ingest/ingestService.js';
import { promptText } from '../../src/core/answer/prompt.js';
import type { RecordedEvent } from '../../src/core/eventStore.js';
import { runCli } from '../../src/cli/main.js';
import { recordingIo, repoRoot } from '../support/cli.js';
import { startOllamaServer } from '../support/ollamaServer.js';
import { storeEvents } from '../support/storeEvents.js';
import { corpusOrSkip } from '../support/corpus.js';
import { tempDir } from '../support/tmp.js';
import { TINY_MODEL_DIMS, TINY_MODEL_ID, ensureTinyModel } from '../support/tinyModel.js';


function filesUnder(root: string, dir = root): string[] {
  return readdirSync(dir).flatMap((name) => {
    const abs = join(dir, name);
    return statSync(abs).isDirectory() ? filesUnder(root, abs) : [relative(root, abs).split(sep).join('/')];
  });
}

/** Fails on a second event with the same key. */
function assertOnce(events: readonly RecordedEvent[], key: (e: RecordedEvent) => string | null, what: string): void {
  const seen = new Set<string>();
  for (const e of events) {
    const k = key(e);
    if (k === null) continue;
    assert.ok(!seen.has(k), `duplicate ${what}: ${k}`);
    seen.add(k);
  }
}

function cliOn(t: TestContext, store: string, models: string) {
  return async (...args: string[]) => {
    const io = recordingIo(tempDir(t));
    const withModel = ['ingest', 'search', 'ask', 'pipelines', 'replay', 'compare'].includes(args[0]!);
    const code = await runCli([...args, '--store', store, ...(withModel ? ['--model-dir', models] : [])], io);
    return { code, out: io.stdout(), err: io.stderr() };
  };
}

test('the rust-book corpus through the whole pipeline: a killed ingest finished, every file indexed or rejected, edits, deletion, ask, a second chunking replayed and diffed, export and import with vectors', { timeout: 600_000 }, async (t) => {
  const corpus = corpusOrSkip(t);
  if (corpus === null) return;
  const ws = join(tempDir(t, 'rag-ledger-corpus-'), 'rust-book');
  cpSync(corpus, ws, { recursive: true });
  const files = filesUnder(ws);
  const store = join(tempDir(t), 'store');
  const models = ensureTinyModel(join(tempDir(t), 'models'));
  const run = cliOn(t, store, models);
  const modelFlags = ['--embedding-model', TINY_MODEL_ID, '--embedding-dims', String(TINY_MODEL_DIMS), '--embedding-dtype', 'fp32'];

  // SIGKILL once the ingest is under way (embedding), then ingest again to finish.
  const killed = await new Promise<string>((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'src', 'cli', 'main.ts'), 'ingest', ws, '--store', store, '--model-dir', models, ...modelFlags], { cwd: repoRoot, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, NODE_OPTIONS: '' } });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (/embed \(chunks\): [1-9]\d{2,}\//.test(stderr)) child.kill('SIGKILL');
    });
    child.on('exit', (code, signal) => resolve(signal ?? `exit ${code}: ${stderr}`));
  });
  assert.equal(killed, 'SIGKILL', 'the first ingest was killed mid-way');
  const ingest = await run('ingest', ws, ...modelFlags, '--json');
  assert.equal(ingest.code, 0, ingest.err);
  const pv1 = (JSON.parse(ingest.out) as { pipelineVersion: string }).pipelineVersion;

  let events = await storeEvents(store);
  assertOnce(events, (e) => (e.type === 'DocumentSubmitted' ? `${e.streamId}|${e.data.content_hash ?? ''}` : null), 'submission of the same content');
  assertOnce(events, (e) => (e.type === 'DocumentChunked' ? `${e.metadata.pipeline_version ?? ''}|${e.metadata.causation_id ?? ''}` : null), 'chunking of one submission');
  assertOnce(events, (e) => (e.type === 'ChunkEmbedded' ? `${e.data.chunk_id}|${e.data.embedding_model}` : null), 'vector');
  assertOnce(events, (e) => (e.type === 'ChunkIndexed' ? `${e.data.chunk_id}|${e.data.index_name}` : null), 'ChunkIndexed');

  // Every text file ends ChunkIndexed; the images end DocumentRejected (binary), with the reason.
  const last = new Map<string, RecordedEvent>();
  for (const e of events) if (e.streamId.startsWith('document-')) last.set(e.streamId, e);
  for (const path of files) {
    const e = last.get(`document-${documentIdFor(sha256, path)}`);
    if (path.endsWith('.png')) assert.ok(e?.type === 'DocumentRejected' && e.data.reason === 'binary' && /PNG image/.test(e.data.detail), path);
    else assert.equal(e?.type, 'ChunkIndexed', path);
  }

  // The read models after the crash equal a rebuild from the log.
  {
    const ledger = await openLedger(store, { mode: 'read' });
    try {
      await ledger.runner.catchUp();
      const incremental = ledger.readModels.documents();
      await ledger.runner.rebuild();
      assert.deepEqual(ledger.readModels.documents(), incremental);
      assert.ok(ledger.readModels.pipelineProgress(pv1).complete);
    } finally {
      await ledger.close();
    }
  }

  // Unchanged: zero events.
  const head = events.length;
  assert.equal((await run('ingest', ws)).code, 0);
  assert.equal((await storeEvents(store)).length, head);

  // One edit and one deletion: events only in those two documents' streams; the deleted file leaves retrieval.
  const chapter = 'src/ch01-02-hello-world.md';
  const victim = files.find((f) => f.startsWith('listings/') && f.endsWith('.rs') && readFileSync(join(ws, f), 'utf8').includes('fn main'))!;
  appendFileSync(join(ws, chapter), '\n## A section about zebra crossings\n\nZebra crossings have stripes.\n');
  const victimText = readFileSync(join(ws, victim), 'utf8');
  rmSync(join(ws, victim));
  const searchVictim = async (): Promise<string> => (await run('search', victimText.slice(0, 200), '--mode', 'lexical', '--k', '50', '--json')).out;
  assert.equal((await run('ingest', ws)).code, 0);
  events = await storeEvents(store);
  const touched = new Set(events.slice(head).map((e) => e.streamId));
  assert.deepEqual([...touched].sort(), [`document-${documentIdFor(sha256, chapter)}`, `document-${documentIdFor(sha256, victim)}`].sort());
  assert.ok(!(await searchVictim()).includes(`"${victim}"`), 'the deleted file is no longer retrieved');
  assert.match((await run('search', 'zebra crossings stripes', '--mode', 'lexical', '--k', '1')).out, new RegExp(`^\\[1\\] ${chapter.replace(/\./g, '\\.')}:`));

  // Ask through an Ollama-protocol server: the whole chain, with the exact prompt stored.
  const server = await startOllamaServer();
  t.after(() => server.close());
  const question = 'How do I read a file into a string and handle the error?';
  const asked = await run('ask', question, '--model', 'good', '--ollama-host', server.host, '--json');
  assert.equal(asked.code, 0, asked.err);
  const { queryId } = JSON.parse(asked.out) as { queryId: string };
  const chain = (await storeEvents(store)).filter((e) => e.streamId === `query-${queryId}`);
  assert.deepEqual(
    chain.map((e) => e.type),
    ['QueryReceived', 'ContextRetrieved', 'InferenceRequested', 'InferenceCompleted'],
  );
  const retrieved = chain[1]!;
  const requested = chain[2]!;
  assert.ok(retrieved.type === 'ContextRetrieved' && requested.type === 'InferenceRequested' && requested.data.prompt);
  assert.equal(retrieved.data.chunk_ids.length, 8);
  assert.equal(requested.data.prompt_hash, `sha256:${sha256([promptText(requested.data.prompt)])}`, 'the stored prompt is the one hashed');
  assert.ok(requested.data.prompt.user.includes(`Question: ${question}`));
  assert.equal((requested.data.prompt.user.match(/^\[\d+\] /gm) ?? []).length, 8, 'every retrieved chunk is cited in the prompt');

  // A second chunking version, built from the log; the question replayed against it and diffed.
  const defined = await run('pipelines', 'define', '--code-window-lines', '20', '--code-overlap-lines', '4', '--markdown-max-chars', '600', '--label', 'smaller chunks', '--build', '--json');
  assert.equal(defined.code, 0, defined.err);
  const d = JSON.parse(defined.out) as { pipelineVersion: string; build: { chunked: { documents: number; chunks: number }; embedding: { embedded: number }; totals: { chunks: number; withVectors: number; indexed: number } } };
  const pv2 = d.pipelineVersion;
  assert.equal(d.build.chunked.documents, files.length - files.filter((f) => f.endsWith('.png')).length - 1);
  assert.ok(d.build.chunked.chunks > 4000);
  assert.deepEqual([d.build.totals.withVectors, d.build.totals.indexed], [d.build.totals.chunks, d.build.totals.chunks]);
  assert.ok(d.build.embedding.embedded < d.build.totals.chunks, 'chunks whose text did not change kept their vectors');
  const replay = await run('replay', queryId, '--pipeline', pv2, '--json');
  assert.equal(replay.code, 0, replay.err);
  const r = JSON.parse(replay.out) as ReplayReport;
  assert.equal(r.metrics.chunks.k, 8);
  assert.equal(r.original.chunks.length, 8);
  assert.equal(r.replayed.chunks.length, 8);
  // Every chunk on either side is in exactly one aligned pair.
  assert.equal(r.pairs.filter((p) => p.original).length, 8);
  assert.equal(r.pairs.filter((p) => p.replayed).length, 8);
  const m = r.metrics.chunks;
  for (const v of [m.overlapAtK, m.jaccard, m.rbo, r.metrics.documents.overlapAtK]) assert.ok(v >= 0 && v <= 1);
  // Smaller chunks of the same regions are paired as re-chunked, with a word diff of their texts.
  const rechunked = r.pairs.filter((p) => p.kind === 'rechunked');
  assert.equal(r.metrics.aligned, rechunked.length);
  for (const p of rechunked) {
    assert.equal(p.original!.path, p.replayed!.path);
    assert.ok(p.textDiff && p.textDiff.length > 0);
  }
  t.diagnostic(`replay against ${pv2}: overlap@8 ${m.overlapAtK}, RBO ${m.rbo.toFixed(3)}, ${rechunked.length} re-chunked, documents overlap ${r.metrics.documents.overlapAtK}`);
  const compared = await run('compare', '--from', pv1, '--to', pv2);
  assert.equal(compared.code, 0, compared.err);
  assert.match(compared.out, /over 1 recorded questions/);

  // Export, import into an empty store, verify: same log, vectors included, and the index rebuilds from it.
  const archive = join(tempDir(t), 'archive');
  assert.equal((await run('export', archive)).code, 0);
  const copy = join(tempDir(t), 'imported');
  const runCopy = cliOn(t, copy, models);
  const imported = await runCopy('import', archive);
  assert.equal(imported.code, 0, imported.err);
  assert.equal((await runCopy('verify')).code, 0);
  const original = await storeEvents(store);
  const restored = await storeEvents(copy);
  assert.equal(restored.length, original.length);
  assert.equal(restored[restored.length - 1]!.hash, original[original.length - 1]!.hash);
  const vectorsDigest = (list: readonly RecordedEvent[]): string => {
    const h = createHash('sha256');
    let n = 0;
    for (const e of list) {
      if (e.type !== 'ChunkEmbedded') continue;
      h.update(e.data.chunk_id).update(Buffer.from(e.data.vector.buffer, e.data.vector.byteOffset, e.data.vector.byteLength));
      n++;
    }
    return `${n}:${h.digest('hex')}`;
  };
  assert.equal(vectorsDigest(restored), vectorsDigest(original));
  assert.ok(Number(vectorsDigest(restored).split(':')[0]) > 4000);
  const rebuilt = await runCopy('rebuild', '--projection', 'vectors', '--json');
  assert.equal(rebuilt.code, 0, rebuilt.err);
  const search = await runCopy('search', 'zebra crossings stripes', '--k', '1');
  assert.equal(search.code, 0, search.err);
  assert.match(search.out, new RegExp(`^\\[1\\] ${chapter.replace(/\./g, '\\.')}:`));
});
