import assert from 'node:assert/strict';
import { test } from 'node:test';
import { unmatchedCitations } from '../../src/core/answer/citations.js';
import type { Citation } from '../../src/shared/protocol.js';
import { UNMATCHED_TITLE, answerSegments } from '../../webview/answerModel.js';

const CITATIONS: Citation[] = [
  { n: 1, path: 'guide/threads.md', startLine: 1, endLine: 3 },
  { n: 2, path: 'guide/channels.md', startLine: 4, endLine: 9 },
];
const ANSWER = 'Threads send messages [1] and keep secrets [42]; see also [2] and [7].\n\nSources:\n[1] guide/threads.md:1-3\n[2] guide/channels.md:4-9';

test('answer view: citations that match no passage are marked text, never links; known ones are links', () => {
  const unmatched = unmatchedCitations(ANSWER.slice(0, ANSWER.indexOf('\n\nSources:')), CITATIONS);
  assert.deepEqual(unmatched, [7, 42]);
  const segs = answerSegments(ANSWER, CITATIONS, unmatched);
  assert.deepEqual(
    segs.filter((s) => s.kind !== 'text'),
    [
      { kind: 'cite', text: '[1]', n: 1, title: 'guide/threads.md:1-3' },
      { kind: 'unmatched', text: '[42]', title: UNMATCHED_TITLE },
      { kind: 'cite', text: '[2]', n: 2, title: 'guide/channels.md:4-9' },
      { kind: 'unmatched', text: '[7]', title: UNMATCHED_TITLE },
    ],
  );
  assert.equal(segs.map((s) => s.text).join(''), ANSWER.slice(0, ANSWER.indexOf('\n\nSources:')), 'the text is unchanged, the Sources block left to the list');
});

test('answer view: a number recorded as unmatched is no link even when a retrieved chunk has it (a passage left out of the prompt)', () => {
  const segs = answerSegments('See [2].', CITATIONS, [2]);
  assert.deepEqual(segs, [{ kind: 'text', text: 'See ' }, { kind: 'unmatched', text: '[2]', title: UNMATCHED_TITLE }, { kind: 'text', text: '.' }]);
  // Old answers without the record: an unknown number is plain text.
  assert.deepEqual(answerSegments('See [9].', CITATIONS), [{ kind: 'text', text: 'See ' }, { kind: 'text', text: '[9]' }, { kind: 'text', text: '.' }]);
});
