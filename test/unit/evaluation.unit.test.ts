import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseGolden, parseTarget, scoreRetrieval } from '../../src/core/retrieval/evaluation.js';

const r = (path: string, startLine = 1, endLine = 10) => ({ path, startLine, endLine });

test('targets: a path matches any chunk of it; path:start-end matches overlapping chunks only', () => {
  assert.deepEqual(parseTarget('src/a.md:5-9'), { path: 'src/a.md', start: 5, end: 9 });
  assert.deepEqual(parseTarget('C:x.md'), { path: 'C:x.md', start: 1, end: Number.MAX_SAFE_INTEGER });
  const item = { query: 'q', relevant: ['a.md:20-30', 'b.md'] };
  assert.deepEqual(scoreRetrieval(item, [r('a.md', 1, 10), r('c.md'), r('b.md', 40, 50)]), { recall: 0.5, reciprocalRank: 1 / 3, ndcg: (1 / Math.log2(4)) / (1 + 1 / Math.log2(3)) });
  assert.deepEqual(scoreRetrieval(item, [r('b.md'), r('a.md', 25, 35)]), { recall: 1, reciprocalRank: 1, ndcg: 1 });
  assert.deepEqual(scoreRetrieval(item, []), { recall: 0, reciprocalRank: 0, ndcg: 0 });
  // One target found twice counts once.
  assert.equal(scoreRetrieval({ query: 'q', relevant: ['b.md'] }, [r('b.md'), r('b.md', 20, 30)]).recall, 1);
});

test('golden files: JSON Lines with query and relevant; errors name the line', () => {
  assert.deepEqual(parseGolden('{"query":"why","relevant":["a.md"]}\n\n{"query":"how","relevant":["b.md:1-2"]}\n'), [
    { query: 'why', relevant: ['a.md'] },
    { query: 'how', relevant: ['b.md:1-2'] },
  ]);
  assert.throws(() => parseGolden('{"query":"why","relevant":["a.md"]}\n{"query":""}'), /line 2: "query"/);
  assert.throws(() => parseGolden('{"query":"x","relevant":"a.md"}'), /line 1: "relevant" must be an array/);
  assert.throws(() => parseGolden('nope'), /line 1: not JSON/);
  assert.throws(() => parseGolden('\n'), /no questions/);
});
