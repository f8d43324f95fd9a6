import assert from 'node:assert/strict';
import { test } from 'node:test';
import { gridMove, listMove } from '../../webview/explorer/gridNav.js';

const size = { rows: 10, cols: 4, page: 3 };

test('arrow keys move one cell and stop at the grid edges', () => {
  assert.deepEqual(gridMove('ArrowDown', false, { row: 0, col: 1 }, size), { row: 1, col: 1 });
  assert.deepEqual(gridMove('ArrowUp', false, { row: 0, col: 1 }, size), { row: 0, col: 1 });
  assert.deepEqual(gridMove('ArrowRight', false, { row: 2, col: 3 }, size), { row: 2, col: 3 });
  assert.deepEqual(gridMove('ArrowLeft', false, { row: 2, col: 3 }, size), { row: 2, col: 2 });
  assert.deepEqual(gridMove('ArrowDown', false, { row: 9, col: 0 }, size), { row: 9, col: 0 });
});

test('Home and End go to the row ends, with Ctrl to the grid corners; pages move by `page` rows', () => {
  assert.deepEqual(gridMove('Home', false, { row: 5, col: 2 }, size), { row: 5, col: 0 });
  assert.deepEqual(gridMove('End', false, { row: 5, col: 0 }, size), { row: 5, col: 3 });
  assert.deepEqual(gridMove('Home', true, { row: 5, col: 2 }, size), { row: 0, col: 0 });
  assert.deepEqual(gridMove('End', true, { row: 5, col: 0 }, size), { row: 9, col: 3 });
  assert.deepEqual(gridMove('PageDown', false, { row: 5, col: 1 }, size), { row: 8, col: 1 });
  assert.deepEqual(gridMove('PageDown', false, { row: 8, col: 1 }, size), { row: 9, col: 1 });
  assert.deepEqual(gridMove('PageUp', false, { row: 1, col: 1 }, size), { row: 0, col: 1 });
});

test('other keys and empty grids do not move; a position past the end is clamped first', () => {
  assert.equal(gridMove('a', false, { row: 0, col: 0 }, size), null);
  assert.equal(gridMove('ArrowDown', false, { row: 0, col: 0 }, { rows: 0, cols: 4, page: 3 }), null);
  assert.deepEqual(gridMove('ArrowUp', false, { row: 40, col: 9 }, size), { row: 8, col: 3 });
});

test('a list moves with the arrows, Home and End', () => {
  assert.equal(listMove('ArrowDown', 0, 3), 1);
  assert.equal(listMove('ArrowDown', 2, 3), 2);
  assert.equal(listMove('ArrowUp', 0, 3), 0);
  assert.equal(listMove('End', 0, 3), 2);
  assert.equal(listMove('Home', 2, 3), 0);
  assert.equal(listMove('Enter', 1, 3), null);
  assert.equal(listMove('ArrowDown', 0, 0), null);
});
