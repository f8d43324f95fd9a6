import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import { openVectorIndex } from '../../src/adapters/ledger.js';
import { LanceTextIndex } from '../../src/adapters/lancedb/lanceTextIndex.js';
import { WorkspaceEngine } from '../../src/adapters/workspaceEngine.js';
import { IndexBuildFailedError, IndexBuildTimeoutError } from '../../src/core/errors.js';
import type { RecordedEvent } from '../../src/core/eventStore.js';
import { engineTestSettings } from '../support/pipelineHarness.js';
import { tempDir } from '../support/tmp.js';

/** While set, every LanceDB index build stalls (the adapter's test hook), like the full-text build that hung on 2-core machines. */
function stallIndexBuilds(t: TestContext): () => void {
  process.env.RAG_LEDGER_TEST_INDEX_STALL = '1';
  const stop = (): void => {
    delete process.env.RAG_LEDGER_TEST_INDEX_STALL;
  };
  t.after(stop);
  return stop;
}

const isTimeout = (err: unknown): boolean => err instanceof IndexBuildTimeoutError && err.hint.includes('LANCE_CPU_THREADS') && err.hint.includes('ragLedger.index.buildTimeoutSeconds');

test('an index build that never finishes fails ingest with IndexBuildTimeoutError; the log stays consistent and the next ingest builds the index', async (t) => {
  const engine = await WorkspaceEngine.open(engineTestSettings(t, { indexBuildTimeoutMs: 500 }));
  t.after(() => engine.close());
  const stop = stallIndexBuilds(t);
  await assert.rejects(engine.ingest(), isTimeout);

  // The rows went in before the build: every chunk is embedded and recorded as indexed, once.
  const events: RecordedEvent[] = [];
  for await (const e of engine.ledger.events.readAll()) events.push(e);
  const chunks = events.flatMap((e) => (e.type === 'DocumentChunked' ? e.data.chunks.map((c) => c.chunk_id) : []));
  assert.ok(chunks.length > 0);
  assert.deepEqual(events.filter((e) => e.type === 'ChunkEmbedded').map((e) => (e.type === 'ChunkEmbedded' ? e.data.chunk_id : '')).sort(), [...chunks].sort());
  assert.deepEqual(events.filter((e) => e.type === 'ChunkIndexed').map((e) => (e.type === 'ChunkIndexed' ? e.data.chunk_id : '')).sort(), [...chunks].sort());

  // Without the stall, the next ingest (nothing new to write) builds the missing full-text index, and search finds text again.
  stop();
  const again = await engine.ingest();
  assert.equal(again.ingest.submitted, 0);
  const index = await openVectorIndex(engine.storeDir);
  t.after(() => index.close());
  assert.equal((await index.stats(again.pipelineVersion)).textIndex, true);
  const found = await index.lexicalSearch(again.pipelineVersion, 'channel sends a message between threads', 3);
  assert.equal(found[0]?.path, 'guide/threads.md', JSON.stringify(found.map((c) => c.path)));
});

test("the explorer's full-text index build has the same deadline, and the next add builds the index it is missing", async (t) => {
  const dir = tempDir(t);
  const index = await LanceTextIndex.open(dir, { writable: true, buildTimeoutMs: 500 });
  t.after(() => index.close());
  const stop = stallIndexBuilds(t);
  await assert.rejects(index.add([{ position: 1, words: 'ownership borrowing' }]), isTimeout);
  stop();
  await index.add([{ position: 2, words: 'thread channel' }]);
  assert.deepEqual((await index.search(['ownership'], 10, 10)).positions, [1]);
  assert.deepEqual((await index.search(['channel'], 10, 10)).positions, [2]);
});

test('a build in a process of its own is killed at its deadline, and the next add builds the index there', { skip: process.platform !== 'linux' && 'finds the build process through /proc' }, async (t) => {
  const dir = tempDir(t);
  const index = await LanceTextIndex.open(dir, { writable: true, buildTimeoutMs: 1_500, outOfProcessFromRows: 0 });
  t.after(() => index.close());
  const stop = stallIndexBuilds(t);
  await assert.rejects(index.add([{ position: 1, words: 'ownership borrowing' }]), isTimeout);
  // The stalled build process is gone, not left running behind the deadline.
  await waitFor(() => buildChildren().length === 0, 5_000, () => `build processes still running: ${buildChildren().join(', ')}`);
  stop();
  await index.add([{ position: 2, words: 'thread channel' }]);
  assert.deepEqual((await index.search(['ownership'], 10, 10)).positions, [1]);
  assert.deepEqual((await index.search(['channel'], 10, 10)).positions, [2]);
  assert.deepEqual(buildChildren(), [], 'a finished build process exits');
});

/** This process's children that run the index build. */
function buildChildren(): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === process.pid && readFileSync(`/proc/${name}/cmdline`, 'utf8').includes('lanceBuild')) out.push(Number(name));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

async function waitFor(ok: () => boolean, ms: number, why: () => string): Promise<void> {
  const until = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > until) assert.fail(why());
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('a build process that dies fails with one line saying what died, and how the index comes back; the next add builds it', { skip: process.platform !== 'linux' && 'finds the build process through /proc' }, async (t) => {
  const dir = tempDir(t);
  const index = await LanceTextIndex.open(dir, { writable: true, buildTimeoutMs: 60_000, outOfProcessFromRows: 0 });
  t.after(() => index.close());
  const stop = stallIndexBuilds(t);
  const adding = index.add([{ position: 1, words: 'ownership borrowing' }]);
  await waitFor(() => buildChildren().length > 0, 20_000, () => 'no build process started');
  for (const pid of buildChildren()) process.kill(pid, 'SIGKILL');
  await assert.rejects(adding, (err: unknown) => {
    assert.ok(err instanceof IndexBuildFailedError, String(err));
    assert.match(err.message, /^building the .+ failed: its process ended \(SIGKILL\) before it finished/);
    assert.doesNotMatch(err.message, /\n/);
    assert.match(err.hint, /rebuild --projection vectors/);
    return true;
  });
  stop();
  await index.add([{ position: 2, words: 'thread channel' }]);
  assert.deepEqual((await index.search(['ownership'], 10, 10)).positions, [1]);
});
