// Shared by the ingest crash and concurrency tests: a generated workspace, the CLI's ingest as a
// killable process, and the checks that an ingest left complete, non-duplicated work behind.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { openLedger, openVectorIndex } from '../../src/adapters/ledger.js';
import type { RecordedEvent } from '../../src/core/eventStore.js';
import { repoRoot } from './cli.js';

const WORDS = 'rust cargo crate ownership borrow thread channel vector string error result option test module trait closure iterator'.split(' ');

export function workspaceFiles(count: number, seed: number): Record<string, string> {
  const files: Record<string, string> = {};
  for (let i = 0; i < count; i++) {
    const words = Array.from({ length: 400 }, (_, j) => WORDS[(i * 7 + j * (seed + 3)) % WORDS.length]).join(' ');
    files[`docs/part-${Math.floor(i / 20)}/doc-${i}.md`] = `# Document ${i}\n\n${words}\n\n## Details ${i}\n\n${words.split(' ').reverse().join(' ')}\n`;
  }
  return files;
}

/** Runs the CLI from source in a child process; kills it with SIGKILL after `killAfterMs` unless it ends first. */
export function ingestProcess(args: string[], killAfterMs: number | null): Promise<{ code: number | null; signal: string | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'src', 'cli', 'main.ts'), 'ingest', ...args], { cwd: repoRoot, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, NODE_OPTIONS: '' } });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = killAfterMs === null ? null : setTimeout(() => child.kill('SIGKILL'), killAfterMs);
    child.on('exit', (code, signal) => {
      if (timer) clearTimeout(timer);
      resolve({ code, signal, stderr });
    });
  });
}


/**
 * The store holds `documents` live documents, all indexed under the active version, and nothing
 * twice: no content submitted twice in a row, one chunking per submission, one vector per chunk and
 * model, one ChunkIndexed per chunk, table and document version; read models caught up
 * incrementally equal a rebuild; the vector table holds exactly the live chunks; verify passes.
 */
export async function assertIngestComplete(t: TestContext, store: string, documents: number): Promise<void> {
  const ledger = await openLedger(store, { mode: 'read' });
  t.after(() => ledger.close());
  assert.equal((await ledger.events.verify()).ok, true);
  const events: RecordedEvent[] = [];
  for await (const e of ledger.events.readAll()) events.push(e);
  const once = (key: (e: RecordedEvent) => string | null, what: string): void => {
    const seen = new Map<string, RecordedEvent>();
    const brief = (x: RecordedEvent): string => JSON.stringify({ position: x.position, eventId: x.eventId, streamId: x.streamId, metadata: x.metadata });
    for (const e of events) {
      const k = key(e);
      if (k === null) continue;
      const first = seen.get(k);
      assert.ok(!first, `duplicate ${what}: ${k}: ${first ? brief(first) : ''} and ${brief(e)}`);
      seen.set(k, e);
    }
  };
  let lastHash = new Map<string, string>();
  for (const e of events) {
    if (e.type !== 'DocumentSubmitted') continue;
    assert.notEqual(lastHash.get(e.streamId), e.data.content_hash, `the same content submitted twice in a row in ${e.streamId}`);
    lastHash = new Map(lastHash).set(e.streamId, e.data.content_hash ?? '');
  }
  once((e) => (e.type === 'DocumentChunked' ? `${e.metadata.pipeline_version ?? ''}|${e.metadata.causation_id ?? ''}` : null), 'chunking of one submission');
  once((e) => (e.type === 'ChunkEmbedded' ? `${e.data.chunk_id}|${e.data.embedding_model}` : null), 'vector');
  // Once per chunk, pipeline version and document version: a chunk whose text is in two versions of a
  // document (chunk ids are content-addressed) is rightly indexed again for the second version.
  const versionOf = new Map<string, number>();
  once((e) => {
    if (e.type === 'DocumentSubmitted') versionOf.set(e.streamId, (versionOf.get(e.streamId) ?? 0) + 1);
    return e.type === 'ChunkIndexed' ? `${e.data.chunk_id}|${e.data.index_name}|v${versionOf.get(e.streamId) ?? 0}` : null;
  }, 'ChunkIndexed');

  // Read models caught up incrementally across the crashes equal a rebuild from the log.
  await ledger.runner.catchUp();
  const incremental = ledger.readModels.documents();
  await ledger.runner.rebuild();
  assert.deepEqual(ledger.readModels.documents(), incremental);
  const pv = ledger.readModels.activePipeline()!;
  assert.equal(incremental.length, documents);
  for (const d of incremental) assert.deepEqual([d.state, d.pipelines[pv]!.embedded, d.pipelines[pv]!.indexed], ['indexed', d.pipelines[pv]!.chunks, d.pipelines[pv]!.chunks], d.source);
  const index = await openVectorIndex(store);
  t.after(() => index.close());
  const stats = await index.stats(pv);
  const chunks = incremental.reduce((n, d) => n + d.pipelines[pv]!.chunks, 0);
  assert.deepEqual([stats.rows, stats.withVectors], [chunks, chunks]);
}
