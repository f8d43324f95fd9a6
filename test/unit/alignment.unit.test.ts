import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AlignableChunk } from '../../src/core/retrieval/alignment.js';
import { alignContexts, lineOverlap } from '../../src/core/retrieval/alignment.js';
import { rankingSimilarity } from '../../src/core/retrieval/contextDiff.js';

const chunk = (chunkId: string, rank: number, path: string, lines: [number, number] | null, text: string | null = `text of ${chunkId}`): AlignableChunk => ({
  chunkId,
  rank,
  path,
  startLine: lines?.[0] ?? null,
  endLine: lines?.[1] ?? null,
  text,
});

test('line overlap is the intersection over the union of two line ranges', () => {
  assert.equal(lineOverlap(chunk('a', 1, 'p', [1, 10]), chunk('b', 1, 'p', [1, 10])), 1);
  assert.equal(lineOverlap(chunk('a', 1, 'p', [1, 10]), chunk('b', 1, 'p', [6, 15])), 5 / 15);
  assert.equal(lineOverlap(chunk('a', 1, 'p', [1, 10]), chunk('b', 1, 'p', [11, 20])), 0);
  assert.equal(lineOverlap(chunk('a', 1, 'p', null), chunk('b', 1, 'p', [1, 2])), 0);
});

test('chunks are aligned by id first, then by overlapping region of the same document; the rest are dropped or new', () => {
  const original = [
    chunk('c1', 1, 'book/ch04.md', [1, 40], 'Ownership moves the value into the function.'),
    chunk('c2', 2, 'book/ch05.md', [10, 30]),
    chunk('c3', 3, 'book/ch06.md', [1, 20]),
    chunk('c4', 4, 'src/main.rs', [1, 60]),
  ];
  const replayed = [
    chunk('c2', 1, 'book/ch05.md', [10, 30]),
    // ch04 re-chunked into two smaller windows: the one overlapping most is paired, the other is new.
    chunk('n1', 2, 'book/ch04.md', [1, 20], 'Ownership moves the value into a function.'),
    chunk('n2', 3, 'book/ch04.md', [21, 60]),
    chunk('c4', 4, 'src/main.rs', [1, 60]),
    chunk('n3', 5, 'book/ch09.md', [5, 9]),
  ];
  const rows = alignContexts(original, replayed);
  assert.deepEqual(
    rows.map((r) => [r.kind, r.original?.chunkId ?? null, r.replayed?.chunkId ?? null, r.move]),
    [
      ['rechunked', 'c1', 'n1', -1],
      ['same', 'c2', 'c2', 1],
      ['dropped', 'c3', null, null],
      ['same', 'c4', 'c4', 0],
      ['new', null, 'n2', null],
      ['new', null, 'n3', null],
    ],
  );
  const rechunked = rows[0]!.textDiff!;
  assert.ok(rechunked.similarity > 0.7 && rechunked.similarity < 1);
  assert.deepEqual(
    rechunked.parts.filter((p) => p.op !== '=').map((p) => `${p.op}${p.text}`),
    ['-the', '+a'],
  );
});

test('a chunk is paired at most once, the best overlap winning, and chunks of other documents never pair', () => {
  const original = [chunk('a', 1, 'x.md', [1, 10]), chunk('b', 2, 'x.md', [11, 20])];
  const replayed = [chunk('z', 1, 'x.md', [1, 20]), chunk('y', 2, 'other.md', [1, 20])];
  const rows = alignContexts(original, replayed);
  // z overlaps a and b equally (10/20): the higher-ranked pair (a, z) wins; b is dropped.
  assert.deepEqual(
    rows.map((r) => [r.kind, r.original?.chunkId ?? null, r.replayed?.chunkId ?? null]),
    [
      ['rechunked', 'a', 'z'],
      ['dropped', 'b', null],
      ['new', null, 'y'],
    ],
  );
});

test('mean rank shift is the mean distance between the ranks of shared items, null when none are shared', () => {
  // a: x y z w; b: y x w v. Shared x (1→2), y (2→1), w (4→3): (1 + 1 + 1) / 3.
  assert.equal(rankingSimilarity(['x', 'y', 'z', 'w'], ['y', 'x', 'w', 'v']).meanRankShift, 1);
  // x moved from rank 1 to rank 4, the others kept: (3 + 1 + 1 + 1) / 4.
  assert.equal(rankingSimilarity(['x', 'a', 'b', 'c'], ['a', 'b', 'c', 'x']).meanRankShift, 6 / 4);
  assert.equal(rankingSimilarity(['a'], ['b']).meanRankShift, null);
  assert.equal(rankingSimilarity(['a', 'b'], ['a', 'b']).meanRankShift, 0);
});
