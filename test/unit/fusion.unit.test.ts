import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RRF_K, fuseRankings } from '../../src/core/retrieval/fusion.js';

const r = (...ids: string[]): { chunkId: string; score: number }[] => ids.map((chunkId, i) => ({ chunkId, score: 1 - i / 10 }));

test('reciprocal rank fusion sums 1/(k+rank) over both rankings and keeps each ranking position', () => {
  const fused = fuseRankings(r('a', 'b', 'c'), r('c', 'a', 'd'), 10);
  assert.deepEqual(
    fused.map((f) => [f.chunkId, f.vectorRank, f.lexicalRank]),
    [
      ['a', 1, 2],
      ['c', 3, 1],
      ['b', 2, null],
      ['d', null, 3],
    ],
  );
  assert.equal(fused[0]!.score, 1 / (RRF_K + 1) + 1 / (RRF_K + 2));
  assert.equal(fused[3]!.score, 1 / (RRF_K + 3));
});

test('limit, empty rankings, duplicates within a ranking and ties are handled deterministically', () => {
  assert.deepEqual(fuseRankings([], [], 5), []);
  assert.deepEqual(fuseRankings(r('x', 'y'), [], 1).map((f) => f.chunkId), ['x']);
  const dup = fuseRankings(r('a', 'a', 'b'), [], 5);
  assert.deepEqual(dup.map((f) => [f.chunkId, f.vectorRank]), [['a', 1], ['b', 3]]);
  // b and a tie (rank 1 in one list each): the chunk id decides.
  assert.deepEqual(fuseRankings(r('b'), r('a'), 5).map((f) => f.chunkId), ['a', 'b']);
});
