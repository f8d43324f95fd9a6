import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RBO_P, diffContexts, diffText, rankBiasedOverlap, rankingSimilarity, renderTextDiff } from '../../src/core/retrieval/contextDiff.js';

const items = (...specs: string[]): { chunkId: string; path: string; score: number }[] =>
  specs.map((s, i) => {
    const [chunkId, path] = s.split('@');
    return { chunkId: chunkId!, path: path ?? `${chunkId}.md`, score: 1 - i / 10 };
  });

const close = (actual: number, expected: number): void => assert.ok(Math.abs(actual - expected) < 1e-9, `${actual} is not ${expected}`);

test('rank-biased overlap is 1 for identical rankings, 0 for disjoint ones and 1 for two empty lists', () => {
  close(rankBiasedOverlap(['a', 'b', 'c', 'd'], ['a', 'b', 'c', 'd']), 1);
  assert.equal(rankBiasedOverlap(['a', 'b'], ['c', 'd']), 0);
  assert.equal(rankBiasedOverlap([], []), 1);
});

test('rank-biased overlap matches the RBO_ext formula worked by hand', () => {
  // a = [x, y], b = [y, x]: X_1 = 0, X_2 = 2. RBO_ext = (2/2)p^2 + (1-p)/p * (0 + (2/2)p^2).
  const p = RBO_P;
  close(rankBiasedOverlap(['x', 'y'], ['y', 'x']), p * p + ((1 - p) / p) * p * p);
  // a = [x, y, z], b = [x, z, w]: X_1 = 1, X_2 = 1, X_3 = 2.
  const expected = (2 / 3) * p ** 3 + ((1 - p) / p) * (1 * p + (1 / 2) * p ** 2 + (2 / 3) * p ** 3);
  close(rankBiasedOverlap(['x', 'y', 'z'], ['x', 'z', 'w']), expected);
});

test('rank-biased overlap weighs agreement at the top more than at the bottom', () => {
  const topSwapped = rankBiasedOverlap(['a', 'b', 'c', 'd', 'e'], ['b', 'a', 'c', 'd', 'e']);
  const bottomSwapped = rankBiasedOverlap(['a', 'b', 'c', 'd', 'e'], ['a', 'b', 'c', 'e', 'd']);
  assert.ok(topSwapped < bottomSwapped, `${topSwapped} should be below ${bottomSwapped}`);
  assert.ok(bottomSwapped < 1);
});

test('overlap@k and Jaccard count shared items; a shorter list counts its missing places as misses', () => {
  const s = rankingSimilarity(['a', 'b', 'c', 'd'], ['b', 'a', 'e']);
  assert.equal(s.overlapAtK, 2 / 4);
  assert.equal(s.jaccard, 2 / 5);
  assert.ok(s.rbo > 0 && s.rbo < 1);
});

test('a context diff lists added, removed and kept chunks with rank moves and score deltas', () => {
  const original = items('c1@a.md', 'c2@b.md', 'c3@c.md');
  const replayed = [
    { chunkId: 'c3', path: 'c.md', score: 0.95 },
    { chunkId: 'c1', path: 'a.md', score: 0.85 },
    { chunkId: 'c9', path: 'd.md', score: 0.5 },
  ];
  const d = diffContexts(original, replayed);
  assert.equal(d.k, 3);
  assert.deepEqual(
    d.added.map((a) => [a.chunkId, a.rank]),
    [['c9', 3]],
  );
  assert.deepEqual(
    d.removed.map((r) => [r.chunkId, r.rank]),
    [['c2', 2]],
  );
  const kept = new Map(d.kept.map((k) => [k.chunkId, k]));
  assert.equal(kept.get('c1')!.fromRank, 1);
  assert.equal(kept.get('c1')!.toRank, 2);
  assert.equal(kept.get('c1')!.rankMove, -1);
  close(kept.get('c1')!.scoreDelta, 0.85 - 1);
  assert.equal(kept.get('c3')!.rankMove, 2);
  close(kept.get('c3')!.scoreDelta, 0.95 - 0.8);
  assert.equal(d.moved, 2);
  close(d.overlapAtK, 2 / 3);
  close(d.jaccard, 2 / 4);
  assert.deepEqual(d.documents.added, ['d.md']);
  assert.deepEqual(d.documents.removed, ['b.md']);
  assert.deepEqual(d.documents.kept, ['c.md', 'a.md']);
});

test('a new chunking changes every chunk id but the document-level diff still shows what stayed', () => {
  const original = items('old1@guide.md', 'old2@guide.md', 'old3@api.rs');
  const replayed = items('new1@guide.md', 'new2@api.rs', 'new3@faq.md');
  const d = diffContexts(original, replayed);
  assert.equal(d.kept.length, 0);
  assert.equal(d.overlapAtK, 0);
  assert.equal(d.rbo, 0);
  assert.deepEqual(d.documents.kept, ['guide.md', 'api.rs']);
  close(d.documents.overlapAtK, 2 / 3);
  close(d.documents.rbo, rankBiasedOverlap(['guide.md', 'api.rs'], ['guide.md', 'api.rs', 'faq.md']));
});

test('identical contexts diff to nothing, with every similarity at 1', () => {
  const d = diffContexts(items('a', 'b', 'c'), items('a', 'b', 'c'));
  assert.equal(d.added.length + d.removed.length + d.moved, 0);
  close(d.rbo, 1);
  assert.equal(d.overlapAtK, 1);
  assert.equal(d.jaccard, 1);
});

test('the word diff marks inserted and deleted words and scores similarity', () => {
  const d = diffText('The borrow checker rejects this code [1].', 'The borrow checker accepts this code [1] [2].');
  assert.equal(renderTextDiff(d), 'The borrow checker [-rejects-]{+accepts+} this code [1]{+ [2]+}.');
  assert.ok(d.similarity > 0.6 && d.similarity < 1, String(d.similarity));
  assert.equal(diffText('same words', 'same words').similarity, 1);
  assert.deepEqual(diffText('same words', 'same words').parts, [{ op: '=', text: 'same words' }]);
  assert.equal(diffText('', '').similarity, 1);
  assert.equal(diffText('alpha beta', 'gamma delta').similarity, 0);
});

test('the word diff reassembles both texts exactly', () => {
  const before = 'Ownership moves the value.\nBorrowing lends it [1].\n\nSources:\n[1] ch04.md:1-20';
  const after = 'Ownership transfers the value.\nBorrowing lends it out [1][2].\n\nSources:\n[1] ch04.md:1-20\n[2] ch05.md:3-9';
  const d = diffText(before, after);
  assert.equal(d.parts.filter((p) => p.op !== '+').map((p) => p.text).join(''), before);
  assert.equal(d.parts.filter((p) => p.op !== '-').map((p) => p.text).join(''), after);
});

test('texts too different for an exact word diff fall back to lines, then to the whole texts, within bounds', () => {
  const words = (seed: number, n: number): string => Array.from({ length: n }, (_, i) => `w${(i * 7919 + seed) % 100_003}`).join(' ');
  // 20k words each with nothing in common: far beyond the word diff's edit budget.
  const a = `${words(1, 20_000)}\n`;
  const b = `${words(2, 20_000)}\n`;
  const started = Date.now();
  const d = diffText(a, b);
  assert.ok(Date.now() - started < 5_000, 'the diff is bounded');
  assert.equal(d.approximate, true);
  assert.equal(d.parts.filter((p) => p.op !== '+').map((p) => p.text).join(''), a);
  assert.equal(d.parts.filter((p) => p.op !== '-').map((p) => p.text).join(''), b);
  assert.ok(d.similarity < 0.05, String(d.similarity));
  // Many lines, a few changed: the line diff still shows exactly what changed.
  const lines = Array.from({ length: 3000 }, (_, i) => `line ${i} ${words(i, 12)}`);
  const changed = lines.map((l, i) => (i % 2 === 0 ? `${l} edited` : l));
  const ld = diffText(lines.join('\n'), changed.join('\n'));
  assert.equal(ld.parts.filter((p) => p.op !== '+').map((p) => p.text).join(''), lines.join('\n'));
  assert.equal(ld.parts.filter((p) => p.op !== '-').map((p) => p.text).join(''), changed.join('\n'));
  assert.ok(ld.similarity > 0.9, String(ld.similarity));
});
