import assert from 'node:assert/strict';
import { readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { test } from 'node:test';
import { runCli } from '../../src/cli/main.js';
import { recordingIo } from '../support/cli.js';
import { storeEvents } from '../support/storeEvents.js';
import { writeFiles } from '../support/ingestHarness.js';
import { startOllamaServer } from '../support/ollamaServer.js';
import { SAMPLE_FILES } from '../support/pipelineHarness.js';
import { tempDir } from '../support/tmp.js';
import { TINY_MODEL_DIMS, TINY_MODEL_ID, ensureTinyModel } from '../support/tinyModel.js';

function cliOn(t: TestContext, store: string) {
  return async (...args: string[]) => {
    const io = recordingIo(tempDir(t));
    const code = await runCli([...args, '--store', store], io);
    return { code, out: io.stdout(), err: io.stderr() };
  };
}

/** Every file under `dir` whose bytes contain `needle`. */
function filesContaining(dir: string, needle: string): string[] {
  const bytes = Buffer.from(needle, 'utf8');
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (readFileSync(p).includes(bytes)) out.push(p.slice(dir.length + 1));
    }
  };
  walk(dir);
  return out;
}

const MARKER = 'zqxvkmarker';
const SECRET = 'notes/secret.md';

test('CLI forget: the content leaves every file of the store, verify and archives still pass, questions keep their provenance marked "source forgotten"', async (t) => {
  const ws = tempDir(t);
  writeFiles(ws, { ...SAMPLE_FILES, [SECRET]: `# Channel notes\n\nA channel sends the codeword ${MARKER} to a thread.\n` });
  const store = join(tempDir(t), 'store');
  const models = ensureTinyModel(join(tempDir(t), 'models'));
  const run = cliOn(t, store);
  const ingestFlags = ['--embedding-model', TINY_MODEL_ID, '--embedding-dims', String(TINY_MODEL_DIMS), '--embedding-dtype', 'fp32', '--model-dir', models, '--json'];
  const ingest = await run('ingest', ws, ...ingestFlags);
  assert.equal(ingest.code, 0, ingest.err);

  const server = await startOllamaServer();
  t.after(() => server.close());
  const asked = await run('ask', 'how does a channel send a codeword to a thread?', '--model', 'good', '--ollama-host', server.host, '--model-dir', models, '--mode', 'lexical');
  assert.equal(asked.code, 0, asked.err);
  assert.match(asked.out, new RegExp(SECRET.replace('.', '\\.')));
  const queryId = /question (q-[0-9a-f-]+)/.exec(asked.out)![1]!;
  const extractive = await run('ask', 'which codeword does a channel send?', '--extractive', '--model-dir', models, '--mode', 'lexical');
  assert.equal(extractive.code, 0, extractive.err);
  const extractiveId = /question (q-[0-9a-f-]+)/.exec(extractive.out)![1]!;
  // The explorer's indexes hold words of events too.
  assert.equal((await run('log', '--search', MARKER)).code, 0);

  const found = await run('search', MARKER, '--mode', 'lexical', '--json');
  assert.ok((JSON.parse(found.out) as { chunks: { path: string }[] }).chunks.some((c) => c.path === SECRET));
  // The marker is in the store's files before (the test would prove nothing otherwise).
  const before = filesContaining(store, MARKER);
  assert.ok(before.includes('events.journal'), `before: ${before.join(', ')}`);
  assert.ok(before.some((f) => f.startsWith('vectors/')), `before: ${before.join(', ')}`);

  // A torn journal tail kept aside by an earlier crash is not rewritten: forget names it.
  writeFileSync(join(store, 'events.journal.torn-at-16-1'), 'a torn tail');
  const forgot = await run('forget', SECRET, '--reason', 'the author asked');
  assert.equal(forgot.code, 0, forgot.err);
  assert.match(forgot.out, /warning: 1 copy kept beside the store predates this forget and may still hold the content; delete it to complete it: events\.journal\.torn-at-16-1\n/);
  rmSync(join(store, 'events.journal.torn-at-16-1'));
  assert.match(forgot.out, /^forgot notes\/secret\.md \(doc-[0-9a-f]+\): \d+ events emptied, recorded as DocumentForgotten #\d+\n2 questions cited it/);

  assert.deepEqual(filesContaining(store, MARKER), []);
  const verified = await run('verify');
  assert.equal(verified.code, 0, verified.err + verified.out);

  const after = await run('search', MARKER, '--mode', 'lexical', '--json');
  assert.equal(after.code, 0, after.err);
  assert.ok(!(JSON.parse(after.out) as { chunks: { path: string }[] }).chunks.some((c) => c.path === SECRET));
  assert.ok(!after.out.includes(MARKER.slice(0, 8)) || !after.out.includes(SECRET));

  const shown = await run('show', queryId);
  assert.equal(shown.code, 0, shown.err);
  assert.match(shown.out, /\(answer emptied: source forgotten\)/);
  assert.match(shown.out, /notes\/secret\.md:1-3 .*\n(.*\n)*? {6}source forgotten #\d+ at .* \(the author asked\)/);
  assert.match((await run('show', extractiveId)).out, /source forgotten/);
  const logged = await run('log', '--type', 'DocumentForgotten', '--json');
  const record = JSON.parse(logged.out.trim()) as { data: { actor: string; reason: string; questions: string[]; emptied: { type: string; payload_digest: string }[] } };
  assert.match(record.data.actor, / via rag-ledger CLI$/);
  assert.deepEqual(record.data.questions, [queryId, extractiveId].sort());
  assert.ok(['DocumentSubmitted', 'DocumentChunked', 'ChunkEmbedded', 'InferenceRequested', 'InferenceCompleted'].every((type) => record.data.emptied.some((e) => e.type === type)));

  // Replaying the question as the index was when it was asked leaves the forgotten chunks out too.
  const replayed = await run('replay', queryId, '--as-of', 'asked', '--mode', 'lexical', '--json');
  assert.equal(replayed.code, 0, replayed.err);
  assert.ok(!replayed.out.includes(MARKER));
  const diff = JSON.parse(replayed.out) as { original: { chunks: { path: string; text: string }[] }; replayed: { chunks: { path: string }[] } };
  assert.deepEqual(diff.original.chunks.filter((c) => c.path === SECRET).map((c) => c.text), ['']);
  assert.ok(diff.replayed.chunks.length > 0 && !diff.replayed.chunks.some((c) => c.path === SECRET));

  // An archive made now carries the emptied events; imported, it verifies.
  const archive = join(tempDir(t), 'archive');
  assert.equal((await run('export', archive)).code, 0);
  assert.deepEqual(filesContaining(archive, MARKER), []);
  const copy = join(tempDir(t), 'copy');
  const imported = await runCli(['import', archive, '--store', copy], recordingIo(tempDir(t)));
  assert.equal(imported, 0);
  assert.equal(await runCli(['verify', '--store', copy], recordingIo(tempDir(t))), 0);

  // Ingesting the unchanged workspace again does not bring it back; changed content is a new version.
  const again = await run('ingest', ws, ...ingestFlags);
  assert.equal(again.code, 0, again.err);
  assert.equal((JSON.parse(again.out) as { submitted: number }).submitted, 0);
  assert.deepEqual(filesContaining(store, MARKER), []);
  writeFileSync(join(ws, SECRET), '# Channel notes\n\nRewritten without the codeword.\n');
  const changed = await run('ingest', ws, ...ingestFlags);
  assert.equal((JSON.parse(changed.out) as { submitted: number }).submitted, 1);
  assert.equal((await run('verify')).code, 0);

  // Forgetting again: only what is new is emptied.
  const second = await run('forget', SECRET, '--json');
  assert.equal(second.code, 0, second.err);
  assert.ok((JSON.parse(second.out) as { emptied: number }).emptied > 0);
  assert.equal((await run('verify')).code, 0);
  assert.equal((await run('forget', 'notes/none.md')).code, 1);
});

test('a forgotten chunk never lends its emptied vector: the same text in another document is embedded by the model again', async (t) => {
  const ws = tempDir(t);
  const paragraph = 'A channel carries each message from the sender thread to the receiver thread in order.';
  writeFiles(ws, { 'first.md': `# First\n\n${paragraph}\n` });
  const store = join(tempDir(t), 'store');
  const models = ensureTinyModel(join(tempDir(t), 'models'));
  const run = cliOn(t, store);
  const ingestFlags = ['--embedding-model', TINY_MODEL_ID, '--embedding-dims', String(TINY_MODEL_DIMS), '--embedding-dtype', 'fp32', '--model-dir', models, '--json'];
  assert.equal((await run('ingest', ws, ...ingestFlags)).code, 0);
  const forgotten = await run('forget', 'first.md', '--reason', 'test');
  assert.equal(forgotten.code, 0, forgotten.err);
  writeFiles(ws, { 'second.md': `# First\n\n${paragraph}\n` });
  const again = await run('ingest', ws, ...ingestFlags);
  assert.equal(again.code, 0, again.err);

  const events = await storeEvents(store);
  const second = events.find((e) => e.type === 'DocumentSubmitted' && e.data.source === 'second.md')!;
  const vectors = events.filter((e) => e.type === 'ChunkEmbedded' && e.streamId === second.streamId);
  assert.ok(vectors.length > 0);
  for (const v of vectors) {
    assert.ok(v.type === 'ChunkEmbedded');
    assert.equal(v.data.reused_from, undefined, 'copied from a forgotten event');
    assert.ok([...v.data.vector].some((x) => x !== 0), 'a zero vector');
  }
  // The emptied events keep no digest of the forgotten text either.
  const first = events.find((e) => e.type === 'DocumentSubmitted' && e.data.source === 'first.md')!;
  for (const v of events.filter((e) => e.type === 'ChunkEmbedded' && e.streamId === first.streamId)) assert.ok(v.type === 'ChunkEmbedded' && v.data.text_hash === undefined);
  assert.equal((await run('verify')).code, 0);
});
