import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { test } from 'node:test';
import type { Ledger } from '../../src/adapters/ledger.js';
import { openLedger, openVectorIndex } from '../../src/adapters/ledger.js';
import { WorkspaceEngine } from '../../src/adapters/workspaceEngine.js';
import { runCli } from '../../src/cli/main.js';
import { recordingIo } from '../support/cli.js';
import { writeFiles } from '../support/ingestHarness.js';
import { SAMPLE_FILES, TINY_PIPELINE, engineTestSettings } from '../support/pipelineHarness.js';
import { tempDir } from '../support/tmp.js';
import { TINY_MODEL_DIMS, TINY_MODEL_ID } from '../support/tinyModel.js';

/** What must be the same after the same work on the same files: events per stream (types, in order), the log's type sequence, the read models and every version's table. */
async function snapshot(ledger: Ledger, storeDir: string): Promise<unknown> {
  const streams = new Map<string, string[]>();
  const sequence: string[] = [];
  for await (const e of ledger.events.readAll()) {
    sequence.push(e.type);
    streams.set(e.streamId, [...(streams.get(e.streamId) ?? []), e.type]);
  }
  await ledger.runner.catchUp();
  const rm = ledger.readModels;
  // Times differ between the two runs; everything else must not.
  const documents = rm
    .documents()
    .map(({ submitted_at: _s, updated_at: _u, forgotten_at: _f, ...d }) => d)
    .sort((a, b) => a.source.localeCompare(b.source));
  const versions = rm.pipelines().map((p) => p.pipeline_version).sort();
  const index = await openVectorIndex(storeDir);
  const rows: Record<string, number> = {};
  try {
    for (const v of versions) rows[v] = (await index.stats(v)).rows;
  } finally {
    await index.close();
  }
  return {
    streams: Object.fromEntries([...streams].sort(([a], [b]) => a.localeCompare(b))),
    sequence,
    documents,
    pipelines: versions.map((v) => ({ version: v, label: rm.pipeline(v)?.label, progress: rm.pipelineProgress(v) })),
    active: rm.activePipeline(),
    shadows: rm.shadowPipelines(),
    rows,
  };
}

async function cliSnapshot(store: string): Promise<unknown> {
  const ledger = await openLedger(store, { mode: 'read' });
  try {
    return await snapshot(ledger, store);
  } finally {
    await ledger.close();
  }
}

function cliOn(t: TestContext, store: string) {
  return async (...args: string[]) => {
    const io = recordingIo(tempDir(t));
    const code = await runCli([...args, '--store', store], io);
    return { code, out: io.stdout(), err: io.stderr() };
  };
}

test('the CLI and the extension drive the same engine: ingest, a shadow version, edits and deletions, and other settings give the same events, read models and tables', async (t) => {
  const s = engineTestSettings(t);
  const engine = await WorkspaceEngine.open(s);
  t.after(() => engine.close());
  const ws = tempDir(t);
  writeFiles(ws, SAMPLE_FILES);
  const store = join(tempDir(t), 'store');
  const run = cliOn(t, store);
  const model = ['--embedding-model', TINY_MODEL_ID, '--embedding-dims', String(TINY_MODEL_DIMS), '--embedding-dtype', 'fp32', '--model-dir', s.modelDir!];
  const same = async (step: string): Promise<void> => assert.deepEqual(await cliSnapshot(store), await snapshot(engine.ledger, s.storeDir), step);
  const both = (edit: (root: string) => void): void => [ws, s.workspaceRoot].forEach(edit);

  // The first ingest: defines and activates the tiny pipeline, chunks, embeds, indexes.
  const byEngine = await engine.ingest();
  const byCli = await run('ingest', ws, ...model, '--json');
  assert.equal(byCli.code, 0, byCli.err);
  const cliReport = JSON.parse(byCli.out) as Record<string, unknown>;
  assert.deepEqual(
    { pipelineVersion: cliReport.pipelineVersion, embedding: cliReport.embedding, indexing: cliReport.indexing, shadows: cliReport.shadows, scanned: cliReport.scanned, chunks: cliReport.chunks },
    { pipelineVersion: byEngine.pipelineVersion, embedding: byEngine.embedding, indexing: byEngine.indexing, shadows: byEngine.shadows, scanned: byEngine.ingest.scanned, chunks: byEngine.ingest.chunks },
  );
  await same('after the first ingest');

  // A second version with smaller sections, built in the shadow.
  engine.updateSettings({ ...s, pipeline: { ...TINY_PIPELINE, chunker: { ...TINY_PIPELINE.chunker, markdownMaxChars: 100 } } });
  const pv2 = await engine.defineConfigured('small sections');
  await engine.build(pv2);
  engine.updateSettings(s);
  const defined = await run('pipelines', 'define', '--markdown-max-chars', '100', '--label', 'small sections', '--build', '--model-dir', s.modelDir!, '--json');
  assert.equal(defined.code, 0, defined.err);
  assert.equal((JSON.parse(defined.out) as { pipelineVersion: string }).pipelineVersion, pv2);
  await same('after building a version in the shadow');

  // Edits, a deletion, a new file and a secret: the active version and the shadow follow.
  both((root) => {
    writeFileSync(join(root, 'guide/server.md'), '# Web server\n\nA tcp listener now also speaks tls.\n');
    rmSync(join(root, 'guide/threads.md'));
    writeFileSync(join(root, 'notes.txt'), 'A channel has a sender and a receiver.\n');
    writeFileSync(join(root, '.env'), 'TOKEN=1\n');
  });
  const second = await engine.ingest();
  const again = await run('ingest', ws, '--model-dir', s.modelDir!, '--json');
  assert.equal(again.code, 0, again.err);
  assert.deepEqual((JSON.parse(again.out) as { shadows: unknown }).shadows, second.shadows);
  assert.equal(second.shadows.length, 1);
  await same('after edits and a deletion');

  // Settings that describe another version (a dtype the model folder does not hold): it is chunked
  // and indexed lexical only, a deletion still leaves the active version's table, and the shadow follows.
  both((root) => rmSync(join(root, 'guide/ownership.md')));
  engine.updateSettings({ ...s, pipeline: { ...TINY_PIPELINE, embedder: { ...TINY_PIPELINE.embedder, dtype: 'q8' } } });
  const other = await engine.ingest();
  const otherCli = await run('ingest', ws, ...model.slice(0, 4), '--embedding-dtype', 'q8', '--model-dir', s.modelDir!, '--json');
  assert.equal(otherCli.code, 0, otherCli.err);
  assert.equal(other.embedding, null);
  assert.match(otherCli.err, /^rag-ledger ingest: the embedding model .* could not be loaded/m);
  assert.equal((JSON.parse(otherCli.out) as { pipelineVersion: string }).pipelineVersion, other.pipelineVersion);
  await same('after an ingest with other settings');
});
