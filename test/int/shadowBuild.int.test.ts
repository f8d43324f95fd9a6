import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PipelineBuildService } from '../../src/app/pipelines/buildService.js';
import { PipelineService } from '../../src/app/pipelines/pipelineService.js';
import { CancelledError } from '../../src/core/errors.js';
import { TINY_PIPELINE, openPipelineHarness } from '../support/pipelineHarness.js';

const QUERIES = ['a channel sends a message between threads', 'who owns a value', 'tcp listener http request'];

test('a version builds in the shadow while questions keep getting the active version, unchanged', async (t) => {
  const { h, deps, index, embedder, pv, run, retrieval } = await openPipelineHarness(t);
  await run();
  const ask = async (): Promise<string[][]> => {
    const out: string[][] = [];
    for (const q of QUERIES) out.push((await retrieval.retrieve(pv, q, { k: 3, mode: 'hybrid', embedder })).chunks.map((c) => `${c.chunkId}:${c.score.toFixed(6)}`));
    return out;
  };
  const before = await ask();
  const pipelines = new PipelineService(deps);
  const pv2 = await pipelines.define({ ...TINY_PIPELINE, chunker: { ...TINY_PIPELINE.chunker, markdownMaxChars: 100 }, retrieval: { k: 3, mode: 'hybrid' } }, 'shadow');
  let building = true;
  const build = new PipelineBuildService({ ...deps, index })
    .build(pv2, { embedder })
    .finally(() => {
      building = false;
    });
  let duringBuild = 0;
  while (building) {
    assert.deepEqual(await ask(), before, 'the active version answers the same while the other builds');
    duringBuild++;
  }
  const report = await build;
  assert.ok(duringBuild >= 1, 'questions ran while the build was in progress');
  await h.ledger.runner.catchUp();
  assert.equal(report.chunked.documents, 4);
  assert.equal(h.ledger.readModels.activePipeline(), pv, 'building does not activate');
  assert.ok(h.ledger.readModels.pipelineProgress(pv2).complete, JSON.stringify(h.ledger.readModels.pipelineProgress(pv2)));
  assert.deepEqual(await ask(), before);
  assert.ok((await retrieval.retrieve(pv2, QUERIES[0]!, { k: 3, mode: 'hybrid', embedder })).chunks.length > 0);
});

test('a cancelled build stops, and building again finishes it without duplicating any event', async (t) => {
  const { h, deps, index, embedder, run } = await openPipelineHarness(t);
  await run();
  const pv3 = await new PipelineService(deps).define({ ...TINY_PIPELINE, chunker: { ...TINY_PIPELINE.chunker, markdownMaxChars: 100 } }, 'cancelled');
  const builder = new PipelineBuildService({ ...deps, index });
  const controller = new AbortController();
  await assert.rejects(
    builder.build(pv3, {
      embedder,
      signal: controller.signal,
      onProgress: (p) => {
        if (p.phase === 'chunk' && p.done === 2) controller.abort();
      },
    }),
    CancelledError,
  );
  await h.ledger.runner.catchUp();
  const partial = h.ledger.readModels.pipelineProgress(pv3);
  assert.ok(partial.documents >= 2 && !partial.complete, JSON.stringify(partial));
  const report = await builder.build(pv3, { embedder });
  await h.ledger.runner.catchUp();
  assert.equal(report.chunked.documents, 4 - partial.documents, 'the second build only does what the first did not');
  const progress = h.ledger.readModels.pipelineProgress(pv3);
  assert.ok(progress.complete, JSON.stringify(progress));
  let chunked = 0;
  const indexed = new Set<string>();
  let indexedEvents = 0;
  for await (const e of h.ledger.events.readAll({ types: ['DocumentChunked', 'ChunkIndexed'] })) {
    if (e.metadata.pipeline_version !== pv3) continue;
    if (e.type === 'DocumentChunked') chunked++;
    else {
      indexedEvents++;
      indexed.add(e.eventId);
    }
  }
  assert.equal(chunked, 4, 'each document chunked once for the version');
  assert.equal(indexedEvents, indexed.size);
  assert.equal(indexedEvents, progress.chunks);
  assert.equal((await index.stats(pv3)).rows, progress.chunks);
});
