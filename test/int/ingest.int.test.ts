import assert from 'node:assert/strict';
import { existsSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { FsWorkspaceSource } from '../../src/adapters/fs/fsWorkspaceSource.js';
import { sha256 } from '../../src/adapters/node/sha256.js';
import { IngestService, documentIdFor } from '../../src/app/ingest/ingestService.js';
import type { ProjectionRunner } from '../../src/app/projectionRunner.js';
import type { ReadModels } from '../../src/app/readModels.js';
import { ingestCommand } from '../../src/cli/commands/ingestCommand.js';
import { runCli } from '../../src/cli/main.js';
import { chunkDocument, DEFAULT_CHUNKER } from '../../src/core/chunking/chunker.js';
import { CancelledError } from '../../src/core/errors.js';
import type { RecordedEvent } from '../../src/core/eventStore.js';
import { DEFAULT_MAX_BYTES, formatOf } from '../../src/core/ingest/documentCheck.js';
import { PIPELINE_A, byStream, duplicateChunkings, ingestOptions, openHarness, streamOf, writeFiles } from '../support/ingestHarness.js';
import { recordingIo } from '../support/cli.js';
import { tempDir } from '../support/tmp.js';

const PNG = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52]);
const SECRET = 'SECRET_TOKEN=hunter2-must-never-be-stored';
const KEY_MATERIAL = 'MIIEowIBAAKCAQEAkeymaterialthatmustneverbestored';

const TEXT_FILES: Record<string, string> = {
  'README.md': '# Project\n\nIntro paragraph.\n\n## Usage\n\nRun it.\n',
  'docs/guide.md': '# Guide\n\nStep one.\n\nStep two.\n',
  'src/lib.rs': '/// Adds.\npub fn add(a: u32, b: u32) -> u32 {\n    a + b\n}\n',
  'notes.txt': 'First paragraph.\n\nSecond paragraph, with ümlauts and 🦀.\n',
  'empty.txt': '',
};

const REJECTED: Record<string, [Uint8Array | string, string]> = {
  'img/logo.png': [PNG, 'binary'],
  'big.txt': ['x'.repeat(5000), 'too_large'],
  'latin1.txt': [Uint8Array.from([0x63, 0x61, 0x66, 0xe9, 0x0a]), 'invalid_utf8'],
  '.env': [`${SECRET}\n`, 'secret'],
  'key.md': [`-----BEGIN RSA PRIVATE KEY-----\n${KEY_MATERIAL}\n-----END RSA PRIVATE KEY-----\n`, 'secret'],
};

const MAX_BYTES = 4096;
const options = (overrides: Parameters<typeof ingestOptions>[0] = {}): ReturnType<typeof ingestOptions> =>
  ingestOptions({ documents: { maxBytes: MAX_BYTES, allowSecrets: false }, ...overrides });

function workspace(t: unknown): string {
  const ws = tempDir(t, 'rag-ledger-ws-');
  writeFiles(ws, TEXT_FILES);
  writeFiles(ws, Object.fromEntries(Object.entries(REJECTED).map(([p, [content]]) => [p, content])));
  return ws;
}

const types = (events: readonly RecordedEvent[] | undefined): string[] => (events ?? []).map((e) => e.type);

function only<T extends RecordedEvent['type']>(events: readonly RecordedEvent[] | undefined, type: T): Extract<RecordedEvent, { type: T }> {
  const found = (events ?? []).filter((e): e is Extract<RecordedEvent, { type: T }> => e.type === type);
  assert.equal(found.length, 1, `exactly one ${type}`);
  return found[0]!;
}

describe('IngestService on a real store and workspace', () => {
  test('first ingest: submitted, validated and chunked per text file; rejections with their reason and no content', async (t) => {
    const ws = workspace(t);
    const h = await openHarness(t);
    const report = await h.service.ingest(new FsWorkspaceSource(ws), options());
    const all = await h.events();
    const streams = byStream(all);

    const paths = [...Object.keys(TEXT_FILES), ...Object.keys(REJECTED)];
    assert.equal(report.scanned, paths.length);
    assert.equal(report.submitted, paths.length);
    assert.equal(report.unchanged, 0);
    assert.equal(report.deleted, 0);
    assert.equal(report.chunked, Object.keys(TEXT_FILES).length);
    assert.deepEqual(
      [...report.rejected].map((r) => [r.path, r.reason]).sort(),
      Object.entries(REJECTED)
        .map(([p, [, reason]]) => [p, reason])
        .sort(),
    );
    assert.equal(streams.size, paths.length, 'one stream per file');
    assert.equal(all.length, 3 * Object.keys(TEXT_FILES).length + 2 * Object.keys(REJECTED).length);

    let chunkTotal = 0;
    for (const [path, content] of Object.entries(TEXT_FILES)) {
      const events = streams.get(streamOf(path));
      assert.deepEqual(types(events), ['DocumentSubmitted', 'DocumentValidated', 'DocumentChunked'], path);
      const submitted = only(events, 'DocumentSubmitted');
      const validated = only(events, 'DocumentValidated');
      const chunked = only(events, 'DocumentChunked');
      const documentId = documentIdFor(sha256, path);
      assert.deepEqual(
        [submitted.data.document_id, submitted.data.source, submitted.data.raw_content, submitted.data.content_hash],
        [documentId, path, content, `sha256:${sha256([Buffer.from(content)])}`],
      );
      assert.deepEqual([validated.data.format, validated.data.byte_count], [formatOf(path).format, Buffer.byteLength(content)]);
      const expected = chunkDocument(documentId, content, formatOf(path).format, DEFAULT_CHUNKER, sha256);
      assert.deepEqual(
        chunked.data.chunks.map((c) => [c.chunk_id, c.text, c.position]),
        expected.map((c) => [c.chunk_id, c.text, c.position]),
        path,
      );
      assert.deepEqual([chunked.metadata.pipeline_version, chunked.metadata.causation_id, chunked.metadata.actor], [PIPELINE_A, submitted.eventId, 'test']);
      chunkTotal += expected.length;
    }
    assert.equal(report.chunks, chunkTotal);
    assert.equal(only(streams.get(streamOf('empty.txt')), 'DocumentChunked').data.chunks.length, 0, 'an empty file is chunked into nothing');

    for (const [path, [, reason]] of Object.entries(REJECTED)) {
      const events = streams.get(streamOf(path));
      assert.deepEqual(types(events), ['DocumentSubmitted', 'DocumentRejected'], path);
      assert.equal(only(events, 'DocumentSubmitted').data.raw_content, '', `${path}: no raw content`);
      const rejection = only(events, 'DocumentRejected');
      assert.equal(rejection.data.reason, reason, path);
      assert.ok(rejection.data.detail.length > 0);
    }
    assert.equal(only(streams.get(streamOf('big.txt')), 'DocumentSubmitted').data.content_hash, 'size:5000');
    const log = JSON.stringify(all);
    assert.ok(!log.includes('hunter2') && !log.includes(KEY_MATERIAL), 'secrets are nowhere in the log');
    assert.ok(!log.includes('x'.repeat(100)), 'the too-large content is not in the log');

    await h.ledger.runner.catchUp();
    const statuses = h.ledger.readModels.documents();
    assert.equal(statuses.length, paths.length);
    for (const s of statuses) {
      assert.equal(s.version, 1);
      assert.equal(s.state, s.source in TEXT_FILES ? 'chunked' : 'rejected', s.source);
    }
    assert.equal((await h.ledger.events.verify()).ok, true);
  });

  test('re-ingest: unchanged appends nothing; an edit, a deletion and a newly ignored file touch only their streams', async (t) => {
    const ws = workspace(t);
    const h = await openHarness(t);
    const source = new FsWorkspaceSource(ws);
    await h.service.ingest(source, options());

    // Unchanged: zero events, rejected files included.
    let head = await h.head();
    const again = await h.service.ingest(source, options());
    assert.equal(await h.head(), head, 'an unchanged folder appends nothing');
    assert.deepEqual([again.submitted, again.unchanged, again.chunked, again.deleted, again.rejected.length], [0, again.scanned, 0, 0, 0]);

    // An edit: a new version in that document's stream only.
    writeFileSync(join(ws, 'README.md'), `${TEXT_FILES['README.md']}\n## More\n\nAdded.\n`);
    let report = await h.service.ingest(source, options());
    let added = await h.events(head);
    assert.deepEqual(new Set(added.map((e) => e.streamId)), new Set([streamOf('README.md')]));
    assert.deepEqual(types(added), ['DocumentSubmitted', 'DocumentValidated', 'DocumentChunked']);
    assert.deepEqual([report.submitted, report.chunked], [1, 1]);
    await h.ledger.runner.catchUp();
    const readme = h.ledger.readModels.document(documentIdFor(sha256, 'README.md'))!;
    assert.deepEqual([readme.version, readme.state], [2, 'chunked']);
    assert.equal(h.ledger.readModels.document(documentIdFor(sha256, 'notes.txt'))!.version, 1);
    const chunks = only(added, 'DocumentChunked').data.chunks;
    assert.ok(chunks.some((c) => c.heading_path?.join('/') === 'Project/More'));

    // A deletion.
    head = await h.head();
    rmSync(join(ws, 'notes.txt'));
    await h.service.ingest(source, options());
    added = await h.events(head);
    assert.deepEqual(types(added), ['DocumentDeleted']);
    assert.equal(added[0]!.streamId, streamOf('notes.txt'));
    assert.equal(only(added, 'DocumentDeleted').data.reason, 'the file no longer exists');

    // A file that becomes ignored: deleted as excluded (the new .gitignore itself is a new document).
    head = await h.head();
    writeFileSync(join(ws, '.gitignore'), 'docs/\n');
    await h.service.ingest(source, options());
    added = await h.events(head);
    const guide = added.filter((e) => e.streamId === streamOf('docs/guide.md'));
    assert.deepEqual(types(guide), ['DocumentDeleted']);
    assert.match(only(guide, 'DocumentDeleted').data.reason, /excluded by the ignore rules/);
    assert.deepEqual(new Set(added.map((e) => e.streamId)), new Set([streamOf('docs/guide.md'), streamOf('.gitignore')]));

    // Un-ignoring it brings it back as a new version, even with the same content; the .gitignore is deleted.
    head = await h.head();
    rmSync(join(ws, '.gitignore'));
    await h.service.ingest(source, options());
    added = await h.events(head);
    assert.deepEqual(types(added.filter((e) => e.streamId === streamOf('docs/guide.md'))), ['DocumentSubmitted', 'DocumentValidated', 'DocumentChunked']);
    assert.deepEqual(types(added.filter((e) => e.streamId === streamOf('.gitignore'))), ['DocumentDeleted']);
    await h.ledger.runner.catchUp();
    assert.deepEqual([h.ledger.readModels.document(documentIdFor(sha256, 'docs/guide.md'))!.version, h.ledger.readModels.document(documentIdFor(sha256, 'docs/guide.md'))!.state], [2, 'chunked']);

    // A rejected file that becomes acceptable is validated and chunked; a deleted file that comes back is version 2.
    head = await h.head();
    writeFileSync(join(ws, 'big.txt'), 'small now\n');
    writeFileSync(join(ws, 'notes.txt'), TEXT_FILES['notes.txt']!);
    report = await h.service.ingest(source, options());
    added = await h.events(head);
    assert.deepEqual(types(added.filter((e) => e.streamId === streamOf('big.txt'))), ['DocumentSubmitted', 'DocumentValidated', 'DocumentChunked']);
    assert.deepEqual(types(added.filter((e) => e.streamId === streamOf('notes.txt'))), ['DocumentSubmitted', 'DocumentValidated', 'DocumentChunked']);
    assert.equal(added.length, 6);

    // And once more: nothing.
    head = await h.head();
    await h.service.ingest(source, options());
    assert.equal(await h.head(), head);
    assert.deepEqual(duplicateChunkings(await h.events()), []);
    assert.equal((await h.ledger.events.verify()).ok, true);
  });

  test('raising the size limit resubmits a file rejected as too large', async (t) => {
    const ws = workspace(t);
    const h = await openHarness(t);
    const source = new FsWorkspaceSource(ws);
    await h.service.ingest(source, options());
    const head = await h.head();
    await h.service.ingest(source, options({ documents: { maxBytes: 10_000, allowSecrets: false } }));
    const added = await h.events(head);
    assert.deepEqual(types(added), ['DocumentSubmitted', 'DocumentValidated', 'DocumentChunked']);
    assert.equal(added[0]!.streamId, streamOf('big.txt'));
  });

  test('chunkPending for a new pipeline version chunks each live document once; retries append nothing', async (t) => {
    const ws = workspace(t);
    const h = await openHarness(t);
    await h.service.ingest(new FsWorkspaceSource(ws), options());
    rmSync(join(ws, 'notes.txt'));
    await h.service.ingest(new FsWorkspaceSource(ws), options());
    await h.ledger.runner.catchUp();
    const beforeB = h.ledger.readModels.documents();

    const head = await h.head();
    const first = await h.service.chunkPending({ chunker: DEFAULT_CHUNKER, pipelineVersion: 'pv-test-b' });
    const live = Object.keys(TEXT_FILES).filter((p) => p !== 'notes.txt');
    assert.equal(first.documents, live.length);
    const added = await h.events(head);
    assert.deepEqual(
      added.map((e) => [e.type, e.streamId, e.metadata.pipeline_version]).sort(),
      live.map((p) => ['DocumentChunked', streamOf(p), 'pv-test-b']).sort(),
    );

    const afterB = await h.head();
    assert.deepEqual(await h.service.chunkPending({ chunker: DEFAULT_CHUNKER, pipelineVersion: 'pv-test-b' }), { documents: 0, chunks: 0 });
    assert.equal(await h.head(), afterB, 'the second call appends nothing');
    assert.deepEqual(await h.service.chunkPending({ chunker: DEFAULT_CHUNKER, pipelineVersion: PIPELINE_A }), { documents: 0, chunks: 0 });

    // A crash after the append but before the read model saw it: a retry working from the
    // stale read model appends the same deterministic event ids, which the store skips.
    const stale = new IngestService({
      events: h.ledger.events,
      runner: { catchUp: async () => [] } as unknown as ProjectionRunner,
      readModels: { documents: () => beforeB } as unknown as ReadModels,
      hasher: sha256,
      clock: () => new Date().toISOString(),
      actor: 'test',
    });
    await stale.chunkPending({ chunker: DEFAULT_CHUNKER, pipelineVersion: 'pv-test-b' });
    assert.equal(await h.head(), afterB, 'a retry never chunks twice');

    // ingest twice more: still no duplicate DocumentChunked for any pipeline.
    await h.service.ingest(new FsWorkspaceSource(ws), options());
    await h.service.ingest(new FsWorkspaceSource(ws), options({ pipelineVersion: 'pv-test-b' }));
    assert.equal(await h.head(), afterB);
    assert.deepEqual(duplicateChunkings(await h.events()), []);
    assert.equal((await h.ledger.events.verify()).ok, true);
  });

  test('a chunk step interrupted after submission is finished by the next ingest, once', async (t) => {
    const ws = workspace(t);
    const h = await openHarness(t);
    // Submissions only: what is left when a process dies before its chunk step. A fake runner
    // keeps chunkPending from seeing the documents, as if it never ran.
    const submitOnly = new IngestService({
      events: h.ledger.events,
      runner: h.ledger.runner,
      readModels: { documents: () => h.ledger.readModels.documents().filter(() => false) } as unknown as ReadModels,
      hasher: sha256,
      clock: () => new Date().toISOString(),
      actor: 'test',
    });
    const partial = await submitOnly.ingest(new FsWorkspaceSource(ws), options());
    assert.equal(partial.chunked, 0);
    assert.equal((await h.events()).filter((e) => e.type === 'DocumentChunked').length, 0);
    const report = await h.service.ingest(new FsWorkspaceSource(ws), options());
    assert.deepEqual([report.submitted, report.chunked], [0, Object.keys(TEXT_FILES).length]);
    await h.service.ingest(new FsWorkspaceSource(ws), options());
    const all = await h.events();
    assert.equal(all.filter((e) => e.type === 'DocumentChunked').length, Object.keys(TEXT_FILES).length);
    assert.deepEqual(duplicateChunkings(all), []);
  });

  test('cancellation: an abort mid-ingest throws CancelledError, deletes nothing, and a re-run completes', async (t) => {
    const ws = workspace(t);
    const h = await openHarness(t);
    const controller = new AbortController();
    await assert.rejects(
      h.service.ingest(
        new FsWorkspaceSource(ws),
        options({
          signal: controller.signal,
          onProgress: (p) => {
            if (p.phase === 'submit' && p.done === 3) controller.abort();
          },
        }),
      ),
      CancelledError,
    );
    const partial = await h.events();
    assert.ok(partial.length > 0 && partial.length <= 6, `stopped early: ${partial.length} events`);
    assert.ok(!partial.some((e) => e.type === 'DocumentDeleted'));

    const report = await h.service.ingest(new FsWorkspaceSource(ws), options());
    const paths = [...Object.keys(TEXT_FILES), ...Object.keys(REJECTED)];
    assert.equal(report.scanned, paths.length);
    assert.equal(report.deleted, 0);
    const streams = byStream(await h.events());
    for (const path of Object.keys(TEXT_FILES)) assert.deepEqual(types(streams.get(streamOf(path))), ['DocumentSubmitted', 'DocumentValidated', 'DocumentChunked'], path);
    for (const path of Object.keys(REJECTED)) assert.deepEqual(types(streams.get(streamOf(path))), ['DocumentSubmitted', 'DocumentRejected'], path);

    // An already-aborted signal on a store with documents: CancelledError, and nothing is deleted.
    const head = await h.head();
    await assert.rejects(h.service.ingest(new FsWorkspaceSource(ws), options({ signal: AbortSignal.abort() })), CancelledError);
    await assert.rejects(h.service.chunkPending({ chunker: DEFAULT_CHUNKER, pipelineVersion: 'pv-test-b', signal: AbortSignal.abort() }), CancelledError);
    assert.equal(await h.head(), head);
    assert.equal((await h.ledger.events.verify()).ok, true);
  });

  test(
    'an already-aborted signal on an empty store throws CancelledError',
    async (t) => {
      const ws = workspace(t);
      const h = await openHarness(t);
      await assert.rejects(h.service.ingest(new FsWorkspaceSource(ws), options({ signal: AbortSignal.abort() })), CancelledError);
    },
  );

  test(
    'the report counts deletions when no progress callback is given',
    async (t) => {
      const ws = workspace(t);
      const h = await openHarness(t);
      await h.service.ingest(new FsWorkspaceSource(ws), options());
      rmSync(join(ws, 'notes.txt'));
      rmSync(join(ws, 'README.md'));
      const report = await h.service.ingest(new FsWorkspaceSource(ws), options());
      assert.equal((await h.events()).filter((e) => e.type === 'DocumentDeleted').length, 2);
      assert.equal(report.deleted, 2);
    },
  );

  test('the report counts deletions when a progress callback is given', async (t) => {
    const ws = workspace(t);
    const h = await openHarness(t);
    await h.service.ingest(new FsWorkspaceSource(ws), options());
    rmSync(join(ws, 'notes.txt'));
    const phases: string[] = [];
    const report = await h.service.ingest(new FsWorkspaceSource(ws), options({ onProgress: (p) => phases.push(p.phase) }));
    assert.equal(report.deleted, 1);
    assert.ok(phases.includes('delete'));
  });

  test('allowSecrets ingests secret files', async (t) => {
    const ws = workspace(t);
    const h = await openHarness(t);
    const report = await h.service.ingest(new FsWorkspaceSource(ws), options({ documents: { maxBytes: MAX_BYTES, allowSecrets: true } }));
    assert.deepEqual([...report.rejected].map((r) => r.path).sort(), ['big.txt', 'img/logo.png', 'latin1.txt']);
    assert.equal(only(byStream(await h.events()).get(streamOf('.env')), 'DocumentSubmitted').data.raw_content, `${SECRET}\n`);
  });
});

describe('rag-ledger ingest (CLI)', () => {
  // These tests are about walking, checking and chunking. When the command also embeds, skip that
  // step: it would load (or try to download) a model.
  const noEmbed = 'no-embed' in ingestCommand.options ? ['--no-embed'] : [];
  const ingest = (...args: string[]): string[] => ['ingest', ...args, ...noEmbed];

  test('ingest DIR --store S --json: exit 0 and a JSON report; a second run submits nothing', async (t) => {
    const ws = workspace(t);
    const store = join(tempDir(t), 'store');
    const io = recordingIo(tempDir(t));
    assert.equal(await runCli(ingest(ws, '--store', store, '--json'), io), 0, io.stderr());
    const report = JSON.parse(io.stdout()) as { scanned: number; submitted: number; unchanged: number; chunked: number; chunks: number; deleted: number; rejected: { path: string; reason: string; detail: string }[] };
    const files = Object.keys(TEXT_FILES).length + Object.keys(REJECTED).length;
    assert.deepEqual([report.scanned, report.submitted, report.unchanged, report.deleted], [files, files, 0, 0]);
    assert.equal(report.chunked, Object.keys(TEXT_FILES).length + 1, 'the text files and big.txt (under the default 1 MiB limit)');
    assert.ok(report.chunks > 0);
    assert.deepEqual(
      report.rejected.map((r) => [r.path, r.reason]).sort(),
      [
        ['.env', 'secret'],
        ['img/logo.png', 'binary'],
        ['key.md', 'secret'],
        ['latin1.txt', 'invalid_utf8'],
      ],
      'big.txt is under the default 1 MiB limit',
    );

    const io2 = recordingIo(tempDir(t));
    assert.equal(await runCli(ingest(ws, '--store', store, '--json'), io2), 0, io2.stderr());
    const second = JSON.parse(io2.stdout()) as typeof report;
    assert.deepEqual([second.scanned, second.submitted, second.unchanged, second.chunked], [files, 0, files, 0]);

    const text = recordingIo(tempDir(t));
    assert.equal(await runCli(ingest(ws, '--store', store, '--max-file-size', '200'), text), 0, text.stderr());
    assert.match(text.stdout(), /^scanned \d+ files: 1 submitted, \d+ unchanged, 1 rejected, 0 deleted; chunked 0 documents into 0 chunks\n/);
    assert.match(text.stdout(), /^rejected big\.txt: too_large: 5000 bytes is over the limit of 200 bytes/m);

    const verify = recordingIo(tempDir(t));
    assert.equal(await runCli(['verify', '--store', store], verify), 0, verify.stderr());
  });

  test('a store inside the ingested folder is never ingested', async (t) => {
    const ws = workspace(t);
    // DIR is absolute: the command resolves it against the process's working directory.
    const io = recordingIo(ws);
    assert.equal(await runCli(ingest(ws, '--store', 'my-store', '--json'), io), 0, io.stderr());
    assert.ok(existsSync(join(ws, 'my-store')));
    const first = JSON.parse(io.stdout()) as { scanned: number };
    assert.equal(first.scanned, Object.keys(TEXT_FILES).length + Object.keys(REJECTED).length);
    const io2 = recordingIo(ws);
    assert.equal(await runCli(ingest(ws, '--store', 'my-store', '--json'), io2), 0, io2.stderr());
    const second = JSON.parse(io2.stdout()) as Record<string, unknown>;
    const pick = (r: Record<string, unknown>): unknown => ({ scanned: r.scanned, submitted: r.submitted, unchanged: r.unchanged, rejected: r.rejected, chunked: r.chunked, chunks: r.chunks, deleted: r.deleted });
    assert.deepEqual(pick(second), { scanned: first.scanned, submitted: 0, unchanged: first.scanned, rejected: [], chunked: 0, chunks: 0, deleted: 0 });
    assert.deepEqual((second.indexing as { upserted: number }).upserted, 0);
  });

  test('bad usage exits 2 with one line and creates no store', async (t) => {
    const ws = workspace(t);
    const cwd = tempDir(t);
    for (const [args, message] of [
      [['ingest', ws, '--store', 'S', '--max-file-size', 'abc'], /--max-file-size must be a positive integer, got "abc"/],
      [['ingest', ws, '--store', 'S', '--max-file-size', '0'], /--max-file-size must be a positive integer/],
      [['ingest', ws, '--store', 'S', '--max-file-size', '1.5'], /--max-file-size must be a positive integer/],
      [['ingest', '--store', 'S'], /ingest needs the folder to ingest/],
      [['ingest', ws, 'extra', '--store', 'S'], /./],
      [['ingest', ws, '--store', 'S', '--bogus'], /./],
    ] as [string[], RegExp][]) {
      const io = recordingIo(cwd);
      assert.equal(await runCli(args, io), 2, `${args.join(' ')} -> ${io.stderr()}`);
      assert.equal(io.stderr().trim().split('\n').length, 1, io.stderr());
      assert.match(io.stderr(), /^rag-ledger ingest: /);
      assert.match(io.stderr(), message);
      assert.deepEqual(readdirSync(cwd), [], 'no store created');
    }
  });

  test(
    'ingesting a folder that does not exist fails instead of deleting every document',
    async (t) => {
      const ws = workspace(t);
      const store = join(tempDir(t), 'store');
      const io = recordingIo(tempDir(t));
      assert.equal(await runCli(ingest(ws, '--store', store, '--json'), io), 0, io.stderr());
      const typo = recordingIo(tempDir(t));
      const code = await runCli(ingest(`${ws}-typo`, '--store', store, '--json'), typo);
      const log = recordingIo(tempDir(t));
      await runCli(['log', '--json', '--store', store, '--type', 'DocumentDeleted'], log);
      const deleted = log.stdout().split('\n').filter(Boolean).length;
      assert.deepEqual({ code, deleted }, { code: 1, deleted: 0 });
    },
  );
});

test('a folder sharing no file with the store (another workspace, an emptied folder) is refused before anything is deleted, unless --replace-all', async (t) => {
  const ws = tempDir(t);
  writeFiles(ws, { 'a.md': '# A\n\ntext\n', 'b.md': '# B\n\nmore\n' });
  const other = tempDir(t);
  writeFiles(other, { 'c.md': '# C\n\nelsewhere\n' });
  const empty = tempDir(t);
  const store = join(tempDir(t), 'store');
  const run = async (...args: string[]) => {
    const io = recordingIo(tempDir(t));
    const code = await runCli(['ingest', ...args, '--store', store, '--no-embed'], io);
    return { code, err: io.stderr() };
  };
  const deletions = async (): Promise<number> => {
    const io = recordingIo(tempDir(t));
    await runCli(['log', '--json', '--store', store, '--type', 'DocumentDeleted'], io);
    return io.stdout().split('\n').filter(Boolean).length;
  };
  assert.equal((await run(ws)).code, 0);
  const refused = await run(other);
  assert.equal(refused.code, 1);
  assert.match(refused.err, /shares no file with the 2 documents in the store: it looks like another workspace.*Nothing was changed.*--store DIR.*--replace-all/);
  const emptied = await run(empty);
  assert.equal(emptied.code, 1);
  assert.match(emptied.err, /has no file to ingest, so all 2 documents in the store would be deleted/);
  assert.equal(await deletions(), 0);
  // Sharing one file is an ordinary ingest: the others are deleted as vanished.
  writeFiles(other, { 'a.md': '# A\n\ntext\n' });
  assert.equal((await run(other)).code, 0);
  assert.equal(await deletions(), 1);
  const replaced = await run(empty, '--replace-all');
  assert.equal(replaced.code, 0, replaced.err);
  assert.equal(await deletions(), 3);
});

test('changing the rules reaches unchanged files: disallowing secrets rejects an .env ingested before, and allowing them again accepts it', async (t) => {
  const ws = tempDir(t);
  writeFiles(ws, { '.env': 'API_KEY=supersecret\n', 'a.md': '# A\n\ntext\n' });
  const h = await openHarness(t);
  const source = new FsWorkspaceSource(ws);
  const run = (allowSecrets: boolean) => h.service.ingest(source, ingestOptions({ documents: { maxBytes: DEFAULT_MAX_BYTES, allowSecrets } }));
  assert.deepEqual((await run(true)).rejected, []);
  const strict = await run(false);
  assert.deepEqual([strict.submitted, strict.rejected.map((r) => [r.path, r.reason])], [1, [['.env', 'secret']]]);
  const latest = (await h.events()).filter((e) => e.type === 'DocumentSubmitted').pop()!;
  assert.ok(latest.type === 'DocumentSubmitted' && latest.data.raw_content === '', 'the rejected version stores no content');
  assert.equal((await run(false)).submitted, 0, 'same rules, same bytes: nothing appended');
  assert.deepEqual((await run(true)).rejected, []);
});
