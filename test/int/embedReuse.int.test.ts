import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { FsWorkspaceSource } from '../../src/adapters/fs/fsWorkspaceSource.js';
import { EmbedService } from '../../src/app/embedding/embedService.js';
import type { RecordedEventOf } from '../../src/core/eventStore.js';
import { ingestOptions } from '../support/ingestHarness.js';
import { openPipelineHarness } from '../support/pipelineHarness.js';

const SHARED = '# Shared\n\nThe borrow checker rejects a second mutable reference to one value.\n\n';
const FILES = {
  'a.md': `${SHARED}# Alpha\n\nA thread sends a message over a channel.\n`,
  'b.md': `${SHARED}# Beta\n\nA tcp listener accepts an http request.\n`,
};

test('identical chunk text is embedded once per embedder: the other chunks copy its vector (reused_from), in one run and from the log, and retrieval finds every copy', async (t) => {
  const { h, deps, embedder, pv, indexer, workspace, retrieval } = await openPipelineHarness(t, FILES);
  const embed = new EmbedService(deps);
  const source = new FsWorkspaceSource(workspace);
  const embeddedEvents = async (): Promise<RecordedEventOf<'ChunkEmbedded'>[]> => (await h.events()).filter((e): e is RecordedEventOf<'ChunkEmbedded'> => e.type === 'ChunkEmbedded');

  const ingested = await h.service.ingest(source, ingestOptions({ pipelineVersion: pv }));
  assert.equal(ingested.chunks, 4);
  const before = embedder.textsEmbedded;
  const first = await embed.embedPending({ pipelineVersion: pv, embedder });
  assert.equal(embedder.textsEmbedded - before, 3, 'three distinct texts go to the model');
  assert.deepEqual([first.embedded, first.copied, first.failed], [4, 1, 0]);
  await indexer.sync(pv);

  const events = await embeddedEvents();
  assert.equal(events.length, 4);
  const copies = events.filter((e) => e.data.reused_from !== undefined);
  assert.equal(copies.length, 1);
  const copy = copies[0]!;
  const source1 = events.find((e) => e.eventId === copy.data.reused_from);
  assert.ok(source1, 'reused_from names a ChunkEmbedded in the log');
  assert.notEqual(source1.data.chunk_id, copy.data.chunk_id);
  assert.notEqual(source1.streamId, copy.streamId, 'the copy is in the other document');
  assert.equal(copy.data.text_hash, source1.data.text_hash);
  assert.deepEqual(copy.data.vector, source1.data.vector);

  // Retrieval returns the shared paragraph from both documents.
  for (const mode of ['vector', 'hybrid'] as const) {
    const found = await retrieval.retrieve(pv, 'the borrow checker rejects a second mutable reference', { k: 4, mode, embedder });
    const shared = found.chunks.filter((c) => c.text.includes('borrow checker'));
    assert.deepEqual(shared.map((c) => c.path).sort(), ['a.md', 'b.md'], mode);
  }

  // A later document with the same paragraph copies the stored vector: only its new text is computed.
  writeFileSync(join(workspace, 'c.md'), `${SHARED}# Gamma\n\nOwnership moves a value to a new owner.\n`);
  await h.service.ingest(source, ingestOptions({ pipelineVersion: pv }));
  const again = embedder.textsEmbedded;
  const second = await embed.embedPending({ pipelineVersion: pv, embedder });
  assert.equal(embedder.textsEmbedded - again, 1);
  assert.deepEqual([second.embedded, second.copied, second.failed], [2, 1, 0]);
  const later = (await embeddedEvents()).slice(4);
  const fromLog = later.find((e) => e.data.reused_from !== undefined);
  assert.ok(fromLog);
  assert.ok(events.some((e) => e.eventId === fromLog.data.reused_from), 'copied from an event already in the log');
  await indexer.sync(pv);
  const found = await retrieval.retrieve(pv, 'the borrow checker rejects a second mutable reference', { k: 5, mode: 'vector', embedder });
  assert.deepEqual(found.chunks.filter((c) => c.text.includes('borrow checker')).map((c) => c.path).sort(), ['a.md', 'b.md', 'c.md']);
});
