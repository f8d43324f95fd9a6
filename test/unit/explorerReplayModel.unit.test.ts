import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AlignedPair, ContextChunkView, PipelineSummary, ReplayReport } from '../../src/shared/explorerModel.js';
import { chunkLocation, defaultPipeline, moveClass, pairsSummary, pipelineLabel, rowPairs, slopeLines } from '../../webview/explorer/replayModel.js';

const chunk = (id: string, rank: number): ContextChunkView => ({ rank, score: 1 - rank / 10, chunkId: id, path: `${id}.md`, startLine: rank, endLine: rank + 9, documentVersion: null, text: id, textClipped: false });
const pair = (kind: AlignedPair['kind'], original: ContextChunkView | null, replayed: ContextChunkView | null, move: number | null): AlignedPair => ({ kind, original, replayed, move, textDiff: null });

function report(): ReplayReport {
  const o = [chunk('a', 1), chunk('b', 2), chunk('c', 3)];
  const r = [chunk('b', 1), chunk('c2', 2), chunk('n', 3)];
  const metrics = { k: 3, overlapAtK: 1 / 3, jaccard: 0.2, rbo: 0.3, meanRankShift: 1 };
  return {
    replayId: 'r',
    queryId: 'q',
    question: 'q?',
    askedAt: '2026-01-01T00:00:00Z',
    askedPosition: 1,
    original: { position: 2, pipelineVersion: 'v1', mode: 'hybrid', chunks: o },
    replayed: { position: 9, pipelineVersion: 'v2', mode: 'hybrid', k: 3, asOfPosition: null, chunks: r },
    pairs: [pair('dropped', o[0]!, null, null), pair('same', o[1]!, r[0]!, 1), pair('rechunked', o[2]!, r[1]!, 1), pair('new', null, r[2]!, null)],
    metrics: { chunks: metrics, documents: metrics, aligned: 1 },
    originalAnswer: null,
  };
}

test('each row of both lists knows its pair', () => {
  assert.deepEqual(rowPairs(report()), { original: [0, 1, 2], replayed: [1, 2, 3] });
});

test('the slope chart draws a line per pair: up, stub for dropped and new', () => {
  assert.deepEqual(
    slopeLines(report()).map((l) => [l.pair, l.kind, l.direction, l.from, l.to]),
    [
      [0, 'dropped', 'level', 0, null],
      [1, 'same', 'up', 1, 0],
      [2, 'rechunked', 'up', 2, 1],
      [3, 'new', 'level', null, 2],
    ],
  );
});

test('moves are summarised in words and classed by direction', () => {
  assert.equal(pairsSummary(report().pairs), '0 at the same rank, 2 moved up, 0 moved down, 1 re-chunked, 1 dropped, 1 new');
  assert.equal(moveClass({ kind: 'same', move: 2 }), 'move-up');
  assert.equal(moveClass({ kind: 'rechunked', move: -1 }), 'move-down');
  assert.equal(moveClass({ kind: 'same', move: 0 }), 'move-same');
  assert.equal(moveClass({ kind: 'new', move: null }), 'move-new');
  assert.equal(moveClass({ kind: 'dropped', move: null }), 'move-dropped');
});

test('a chunk location is path:start-end, or the path alone', () => {
  assert.equal(chunkLocation({ path: 'a.md', startLine: 3, endLine: 9 }), 'a.md:3-9');
  assert.equal(chunkLocation({ path: 'a.md', startLine: 3, endLine: 3 }), 'a.md:3');
  assert.equal(chunkLocation({ path: 'a.md', startLine: null, endLine: null }), 'a.md');
});

test('the default version to replay is a built shadow one, else another, else the active one', () => {
  const p = (version: string, active: boolean, built: boolean): PipelineSummary => ({ version, label: version, active, built, definedAt: '', description: '' });
  assert.equal(defaultPipeline([p('v1', true, true), p('v2', false, false), p('v3', false, true)], 'v1'), 'v3');
  assert.equal(defaultPipeline([p('v1', true, true), p('v2', false, false)], 'v1'), 'v2');
  assert.equal(defaultPipeline([p('v1', true, true)], 'v1'), 'v1');
  assert.equal(defaultPipeline([], null), null);
  assert.equal(pipelineLabel(p('v2', false, false)), 'v2 (not built)');
  assert.equal(pipelineLabel(p('v1', true, true)), 'v1 (active)');
});
