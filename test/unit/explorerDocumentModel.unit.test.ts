import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { DocumentVersionView } from '../../src/shared/explorerModel.js';
import { defaultDiffPair, formatBytes, shortHash, stateLabel } from '../../webview/explorer/documentModel.js';

const version = (ordinal: number, state: DocumentVersionView['state']): DocumentVersionView => ({
  ordinal,
  position: ordinal * 10,
  eventId: `e${ordinal}`,
  submittedAt: '2026-01-01T00:00:00Z',
  contentHash: null,
  bytes: 1,
  state,
  chunkings: [],
  citedBy: [],
});

test('sizes, hashes and states in words', () => {
  assert.equal(formatBytes(512), '512 B');
  assert.equal(formatBytes(1536), '1.5 KB');
  assert.equal(formatBytes(20 * 1024), '20 KB');
  assert.equal(formatBytes(5.3 * 1024 * 1024), '5.3 MB');
  assert.equal(shortHash('sha256:0123456789abcdef'), '0123456789');
  assert.equal(shortHash(null), '–');
  assert.equal(stateLabel({ kind: 'validated', format: 'markdown' }), 'validated (markdown)');
  assert.equal(stateLabel({ kind: 'rejected', reason: 'too large', detail: '' }), 'rejected: too large');
  assert.equal(stateLabel({ kind: 'pending' }), 'pending');
});

test('the first diff is between the last two validated versions, else the last two', () => {
  const ok = { kind: 'validated', format: 'markdown' } as const;
  const bad = { kind: 'rejected', reason: 'too large', detail: '' } as const;
  assert.deepEqual(defaultDiffPair([version(1, ok), version(2, bad), version(3, ok)]), { from: 1, to: 3 });
  assert.deepEqual(defaultDiffPair([version(1, ok), version(2, bad)]), { from: 1, to: 2 });
  assert.deepEqual(defaultDiffPair([version(2, ok), version(1, ok), version(3, ok)]), { from: 2, to: 3 });
  assert.equal(defaultDiffPair([version(1, ok)]), null);
});
