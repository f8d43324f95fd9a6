import assert from 'node:assert/strict';
import { test } from 'node:test';
import { documentPathIn, folderLabels, labelFor, splitDocumentPath } from '../../src/core/ingest/folderLabels.js';

test('folder labels: a single folder has none; names become one segment; same names are told apart by path order, skipping taken suffixes', () => {
  assert.deepEqual(folderLabels([{ name: 'docs', path: '/w/docs' }]).map((f) => f.label), ['']);
  assert.deepEqual(folderLabels([{ name: 'docs', path: '/w/docs' }, { name: 'code', path: '/w/code' }]).map((f) => f.label), ['docs', 'code']);
  assert.equal(labelFor(' a/b\\c '), 'a_b_c');
  assert.equal(labelFor(''), 'folder');
  assert.equal(labelFor('..'), 'folder');
  const z = { name: 'app', path: '/z/app' };
  const a = { name: 'app', path: '/a/app' };
  const m = { name: 'app', path: '/m/app' };
  assert.deepEqual(folderLabels([z, a, m]).map((f) => f.label), ['app-3', 'app', 'app-2']);
  // Reordering never changes a label.
  assert.deepEqual(folderLabels([m, z, a]).map((f) => f.label), ['app-2', 'app-3', 'app']);
  // A folder really named app-2 keeps its name; the second "app" takes the next free suffix.
  assert.deepEqual(folderLabels([z, a, { name: 'app-2', path: '/q/app-2' }]).map((f) => f.label), ['app-3', 'app', 'app-2']);
});

test('document paths: built from a label and a folder-relative path, and split back; unknown labels belong to no folder', () => {
  assert.equal(documentPathIn('', 'guide/intro.md'), 'guide/intro.md');
  assert.equal(documentPathIn('docs', 'guide/intro.md'), 'docs/guide/intro.md');
  assert.equal(documentPathIn('docs', ''), 'docs');
  const two = folderLabels([{ name: 'docs', path: '/w/docs' }, { name: 'code', path: '/w/code' }]);
  assert.deepEqual(splitDocumentPath(two, 'code/src/main.rs'), { folder: two[1], rel: 'src/main.rs' });
  assert.deepEqual(splitDocumentPath(two, 'docs'), { folder: two[0], rel: '' });
  assert.equal(splitDocumentPath(two, 'gone/a.md'), null);
  const one = folderLabels([{ name: 'docs', path: '/w/docs' }]);
  assert.deepEqual(splitDocumentPath(one, 'docs/a.md'), { folder: one[0], rel: 'docs/a.md' });
});
