import assert from 'node:assert/strict';
import { test } from 'node:test';
import { foldUnchanged, toLines, wordCounts } from '../../webview/explorer/textDiff.js';

test('a line diff is split into numbered lines on both sides', () => {
  const lines = toLines([
    { op: '=', text: 'a\nb\n' },
    { op: '-', text: 'c\n' },
    { op: '+', text: 'C\nD\n' },
    { op: '=', text: 'e' },
  ]);
  assert.deepEqual(
    lines.map((l) => [l.op, l.text, l.oldLine, l.newLine]),
    [
      ['=', 'a', 1, 1],
      ['=', 'b', 2, 2],
      ['-', 'c', 3, null],
      ['+', 'C', null, 3],
      ['+', 'D', null, 4],
      ['=', 'e', 4, 5],
    ],
  );
});

test('empty parts make no lines and an empty line inside a part is kept', () => {
  assert.deepEqual(toLines([{ op: '=', text: '' }]), []);
  assert.deepEqual(
    toLines([{ op: '+', text: 'x\n\ny\n' }]).map((l) => l.text),
    ['x', '', 'y'],
  );
});

test('long unchanged runs fold to the context around changes; short ones stay', () => {
  const same = (n: number, from: number) => Array.from({ length: n }, (_, i) => `s${from + i}`).join('\n') + '\n';
  const lines = toLines([
    { op: '=', text: same(10, 1) },
    { op: '-', text: 'old\n' },
    { op: '=', text: same(10, 11) },
    { op: '+', text: 'new\n' },
    { op: '=', text: same(3, 21) },
    { op: '+', text: 'end\n' },
  ]);
  const blocks = foldUnchanged(lines, 2);
  assert.deepEqual(
    blocks.map((b) => [b.kind, b.lines.length]),
    [
      ['fold', 8], // the start keeps only the 2 lines before the first change
      ['lines', 5], // 2 context + old + 2 context
      ['fold', 6],
      ['lines', 7], // 2 context + new + the 3-line run (too short to fold) + end
    ],
  );
  assert.equal(blocks.reduce((n, b) => n + b.lines.length, 0), lines.length);
});

test('a diff without changes folds to one block; a trailing run keeps the lines after the last change', () => {
  const only = foldUnchanged(toLines([{ op: '=', text: 'a\nb\nc\nd\ne\nf\ng\nh\n' }]), 3);
  assert.deepEqual(only.map((b) => b.kind), ['fold']);
  const tail = foldUnchanged(toLines([{ op: '+', text: 'x\n' }, { op: '=', text: 'a\nb\nc\nd\ne\nf\ng\nh\n' }]), 3);
  assert.deepEqual(tail.map((b) => [b.kind, b.lines.length]), [['lines', 4], ['fold', 5]]);
});

test('word counts of a word diff', () => {
  assert.deepEqual(
    wordCounts([
      { op: '=', text: 'the ' },
      { op: '-', text: 'quick brown' },
      { op: '+', text: ' slow ' },
      { op: '=', text: 'fox' },
    ]),
    { added: 1, removed: 2 },
  );
});
