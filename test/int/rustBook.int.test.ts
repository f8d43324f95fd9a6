import assert from 'node:assert/strict';
import { appendFileSync, cpSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { test } from 'node:test';
import { FsWorkspaceSource } from '../../src/adapters/fs/fsWorkspaceSource.js';
import { sha256 } from '../../src/adapters/node/sha256.js';
import { documentIdFor } from '../../src/app/ingest/ingestService.js';
import { DEFAULT_PIPELINE, pipelineVersionOf } from '../../src/core/pipeline/pipelineConfig.js';
import { byStream, duplicateChunkings, ingestOptions, openHarness, streamOf } from '../support/ingestHarness.js';
import { corpusOrSkip } from '../support/corpus.js';
import { tempDir } from '../support/tmp.js';


function filesUnder(root: string, dir = root): string[] {
  return readdirSync(dir).flatMap((name) => {
    const abs = join(dir, name);
    return statSync(abs).isDirectory() ? filesUnder(root, abs) : [relative(root, abs).split(sep).join('/')];
  });
}

test('the rust-book corpus: ingest, re-ingest, edit, delete, verify', { timeout: 120_000 }, async (t) => {
  const corpus = corpusOrSkip(t);
  if (corpus === null) return;
  const ws = join(tempDir(t, 'rag-ledger-corpus-'), 'rust-book');
  cpSync(corpus, ws, { recursive: true });
  const files = filesUnder(ws);
  const h = await openHarness(t);
  const options = ingestOptions({ pipelineVersion: pipelineVersionOf(DEFAULT_PIPELINE, sha256) });
  const source = new FsWorkspaceSource(ws);

  const report = await h.service.ingest(source, options);
  const all = await h.events();
  const streams = byStream(all);
  // The corpus has no ignored files (its one .gitignore names nothing that exists) and none over 1 MiB.
  assert.equal(report.scanned, files.length);
  assert.equal(streams.size, files.length, 'one stream per file');
  const byReason = new Map<string, string[]>();
  for (const path of files) {
    const events = streams.get(streamOf(path)) ?? [];
    const last = events[events.length - 1];
    assert.equal(events[0]?.type, 'DocumentSubmitted', path);
    if (last?.type === 'DocumentRejected') {
      assert.ok(last.data.detail.length > 0, path);
      byReason.set(last.data.reason, [...(byReason.get(last.data.reason) ?? []), path]);
      assert.equal(events[0]?.type === 'DocumentSubmitted' && events[0].data.raw_content, '', `${path}: no content kept`);
    } else {
      assert.equal(last?.type, 'DocumentChunked', `${path} ends chunked or rejected`);
      assert.deepEqual(
        events.map((e) => e.type),
        ['DocumentSubmitted', 'DocumentValidated', 'DocumentChunked'],
        path,
      );
    }
  }
  const pngs = files.filter((f) => f.endsWith('.png'));
  assert.ok(pngs.length > 0);
  assert.deepEqual(byReason.get('binary')?.sort(), pngs.sort(), 'exactly the PNG images are rejected, as binary');
  assert.deepEqual([...byReason.keys()], ['binary']);
  assert.equal(report.chunked, files.length - pngs.length);
  assert.ok(report.chunks > files.length, `${report.chunks} chunks`);

  // Markdown chapters carry heading paths.
  const chapter = files.find((f) => f.startsWith('src/ch01') && f.endsWith('.md'))!;
  const chunked = streams.get(streamOf(chapter))!.find((e) => e.type === 'DocumentChunked');
  assert.ok(chunked?.type === 'DocumentChunked' && chunked.data.chunks.some((c) => (c.heading_path?.length ?? 0) > 0));

  // Unchanged: zero events.
  const head = await h.head();
  const again = await h.service.ingest(source, options);
  assert.equal(await h.head(), head);
  assert.equal(again.unchanged, files.length);

  // One edit and one deletion in the same run: events only in those two documents' streams.
  const victim = files.find((f) => f.endsWith('.rs'))!;
  appendFileSync(join(ws, ...chapter.split('/')), '\n## An added section\n\nWith a new paragraph.\n');
  rmSync(join(ws, ...victim.split('/')));
  await h.service.ingest(source, options);
  const added = await h.events(head);
  assert.deepEqual(
    added.map((e) => [e.type, e.streamId]),
    [...['DocumentSubmitted', 'DocumentValidated'].map((type) => [type, streamOf(chapter)]), ['DocumentDeleted', streamOf(victim)], ['DocumentChunked', streamOf(chapter)]],
  );
  const deleted = added.find((e) => e.type === 'DocumentDeleted');
  assert.ok(deleted?.type === 'DocumentDeleted' && deleted.data.reason === 'the file no longer exists');
  await h.ledger.runner.catchUp();
  assert.deepEqual([h.ledger.readModels.document(documentIdFor(sha256, chapter))!.version, h.ledger.readModels.document(documentIdFor(sha256, chapter))!.state], [2, 'chunked']);
  assert.equal(h.ledger.readModels.document(documentIdFor(sha256, victim))!.state, 'deleted');

  assert.deepEqual(duplicateChunkings(await h.events()), []);
  assert.equal((await h.ledger.events.verify()).ok, true);
});
