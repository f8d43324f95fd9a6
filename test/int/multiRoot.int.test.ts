import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import type { TestContext } from 'node:test';
import { MultiRootWorkspaceSource } from '../../src/adapters/fs/multiRootWorkspaceSource.js';
import { documentPathOf, fileOfDocument } from '../../src/adapters/fs/workspaceFolders.js';
import type { EngineSettings } from '../../src/adapters/engineSettings.js';
import { WorkspaceEngine } from '../../src/adapters/workspaceEngine.js';
import type { RecordedEvent } from '../../src/core/eventStore.js';
import { DEFAULT_MAX_BYTES } from '../../src/core/ingest/documentCheck.js';
import type { NamedFolder } from '../../src/core/ingest/folderLabels.js';
import { folderLabels } from '../../src/core/ingest/folderLabels.js';
import { ingestOptions, openHarness, writeFiles } from '../support/ingestHarness.js';
import { startOllamaServer } from '../support/ollamaServer.js';
import { TINY_PIPELINE } from '../support/pipelineHarness.js';
import { ensureTinyModel } from '../support/tinyModel.js';
import { tempDir } from '../support/tmp.js';

const RULES = { include: [], exclude: [], respectGitignore: true };

/** A workspace folder named `name` (its last path segment) holding `files`. */
function folder(t: TestContext, name: string, files: Record<string, string>): NamedFolder {
  const path = join(tempDir(t), name);
  writeFiles(path, files);
  return { name, path };
}

async function walk(source: MultiRootWorkspaceSource): Promise<string[]> {
  const out: string[] = [];
  for await (const f of source.walk(RULES)) out.push(f.path);
  return out;
}

const DOCS = {
  '.gitignore': 'drafts/\n',
  'guide/intro.md': '# Intro\n\nThe lighthouse keeper logs every ship that passes the harbour.\n',
  'drafts/secret-plan.md': '# Draft\n\nnot for the ledger\n',
};
const CODE = {
  '.gitignore': '*.log\n',
  'src/main.rs': 'fn main() {\n    println!("hello world");\n}\n',
  'notes/threads.md': '# Threads\n\nA thread runs code concurrently; a channel sends a message between threads.\n',
  'build.log': 'noise\n',
  // Ignored in the first folder, not here: each folder has its own rules.
  'drafts/plan.md': '# Plan\n\nA draft that this folder keeps.\n',
};

describe('multi-root workspaces: the source', () => {
  test('every folder is walked with its own ignore files; paths start with the folder name; files read back through their folder', async (t) => {
    const docs = folder(t, 'docs-folder', DOCS);
    const code = folder(t, 'code', CODE);
    const source = new MultiRootWorkspaceSource([docs, code]);
    assert.deepEqual(await walk(source), [
      'code/.gitignore',
      'code/drafts/plan.md',
      'code/notes/threads.md',
      'code/src/main.rs',
      'docs-folder/.gitignore',
      'docs-folder/guide/intro.md',
    ]);
    assert.match(Buffer.from(await source.read('docs-folder/guide/intro.md', { maxBytes: 1_048_576 })).toString(), /lighthouse keeper/);
    assert.equal(await source.exists('code/build.log'), true);
    assert.equal(await source.exists('elsewhere/guide/intro.md'), false);
    await assert.rejects(source.read('code/missing.md', { maxBytes: 1_048_576 }), (err: Error) => /^code\/missing\.md: the file disappeared/.test(err.message));
    assert.deepEqual(await source.whyGone('code/src/main.rs'), undefined);
    assert.deepEqual(await source.whyGone('gone-folder/a.md'), { reason: 'its folder was removed from the workspace' });
    // A path of the single-folder layout that the first folder still holds.
    assert.deepEqual(await source.whyGone('guide/intro.md'), { reason: 'the workspace has several folders now: the file is ingested as docs-folder/guide/intro.md', movedTo: 'docs-folder/guide/intro.md' });

    // A single folder keeps folder-relative paths.
    assert.deepEqual(await walk(new MultiRootWorkspaceSource([docs])), ['.gitignore', 'guide/intro.md']);
    // Document paths map back to files and files to document paths, never outside a folder.
    const labelled = folderLabels([docs, code]);
    assert.equal(fileOfDocument(labelled, 'code/src/main.rs'), join(code.path, 'src', 'main.rs'));
    assert.equal(fileOfDocument(labelled, 'code/../../etc/passwd'), undefined);
    assert.equal(fileOfDocument(labelled, 'nowhere/x.md'), undefined);
    assert.equal(documentPathOf(labelled, join(docs.path, 'guide', 'intro.md')), 'docs-folder/guide/intro.md');
    assert.equal(documentPathOf(labelled, code.path), 'code');
    assert.equal(documentPathOf(labelled, tempDir(t)), undefined);
  });

  test('folders sharing a name: the one whose path sorts first keeps it, the others get -2, -3 in path order, whatever the workspace order', async (t) => {
    const base = tempDir(t);
    const a = { name: 'docs', path: join(base, 'a', 'docs') };
    const b = { name: 'docs', path: join(base, 'b', 'docs') };
    const c = { name: 'docs', path: join(base, 'c', 'docs') };
    const taken = { name: 'docs-2', path: join(base, 'z', 'docs-2') };
    writeFiles(a.path, { 'x.md': '# A\n\nfrom a\n' });
    writeFiles(b.path, { 'x.md': '# B\n\nfrom b\n' });
    writeFiles(c.path, { 'x.md': '# C\n\nfrom c\n' });
    assert.deepEqual(folderLabels([c, taken, a, b]).map((f) => f.label), ['docs-4', 'docs-2', 'docs', 'docs-3']);
    assert.deepEqual(folderLabels([b, a]).map((f) => f.label), ['docs-2', 'docs']);
    assert.deepEqual(folderLabels([{ name: 'a/b', path: '/x' }, { name: '..', path: '/y' }]).map((f) => f.label), ['a_b', 'folder']);
    const source = new MultiRootWorkspaceSource([b, a]);
    assert.deepEqual(await walk(source), ['docs/x.md', 'docs-2/x.md']);
    assert.match(Buffer.from(await source.read('docs-2/x.md', { maxBytes: 1_048_576 })).toString(), /from b/);
    assert.match(Buffer.from(await source.read('docs/x.md', { maxBytes: 1_048_576 })).toString(), /from a/);
  });

  test('ingest: distinct documents per folder; a removed folder retires its documents with that reason; a second folder added to a single-folder store moves its documents instead of refusing', async (t) => {
    const docs = folder(t, 'docs-folder', DOCS);
    const code = folder(t, 'code', CODE);
    const h = await openHarness(t);
    // Today's single-folder store.
    const single = await h.service.ingest(new MultiRootWorkspaceSource([docs]), ingestOptions());
    assert.equal(single.submitted, 2);
    assert.deepEqual(h.ledger.readModels.documents().map((d) => d.source).sort(), ['.gitignore', 'guide/intro.md']);

    // The workspace gets a second folder: not another workspace, so no refusal; the first folder's documents are re-identified.
    const head = await h.head();
    const both = await h.service.ingest(new MultiRootWorkspaceSource([docs, code]), ingestOptions());
    assert.equal(both.submitted, 6);
    assert.equal(both.deleted, 2);
    const deletions = (await h.events(head)).filter((e) => e.type === 'DocumentDeleted').map((e) => (e.data as { reason: string }).reason);
    assert.deepEqual(deletions.sort(), ['the workspace has several folders now: the file is ingested as docs-folder/.gitignore', 'the workspace has several folders now: the file is ingested as docs-folder/guide/intro.md']);
    const live = h.ledger.readModels.documents().filter((d) => d.state !== 'deleted');
    assert.deepEqual(live.map((d) => d.source).sort(), ['code/.gitignore', 'code/drafts/plan.md', 'code/notes/threads.md', 'code/src/main.rs', 'docs-folder/.gitignore', 'docs-folder/guide/intro.md']);
    assert.equal(new Set(live.map((d) => d.document_id)).size, 6);

    // A folder removed while the window was closed: the next ingest says why its documents went.
    const third = folder(t, 'third', { 'a.md': '# A\n\nthird folder\n' });
    await h.service.ingest(new MultiRootWorkspaceSource([docs, code, third]), ingestOptions());
    const before = await h.head();
    const afterRemoval = await h.service.ingest(new MultiRootWorkspaceSource([docs, code]), ingestOptions());
    assert.equal(afterRemoval.deleted, 1);
    const removed = (await h.events(before)).filter((e) => e.type === 'DocumentDeleted');
    assert.deepEqual(removed.map((e) => (e.data as { reason: string }).reason), ['its folder was removed from the workspace']);

    // A folder removed while the window is open: retired at once, nothing read.
    rmSync(code.path, { recursive: true });
    const mark = await h.head();
    assert.equal(await h.service.retire('code', 'the folder was removed from the workspace'), 4);
    const retired = await h.events(mark);
    assert.deepEqual(retired.map((e) => [e.type, (e.data as { reason: string }).reason]), Array(4).fill(['DocumentDeleted', 'the folder was removed from the workspace']));
    assert.deepEqual(h.ledger.readModels.documents().filter((d) => d.state !== 'deleted').map((d) => d.source).sort(), ['docs-folder/.gitignore', 'docs-folder/guide/intro.md']);

    // Back to one folder: its documents are known under folder-relative paths again, without a refusal.
    const back = await h.service.ingest(new MultiRootWorkspaceSource([docs]), ingestOptions());
    assert.equal(back.deleted, 2);
    assert.deepEqual(h.ledger.readModels.documents().filter((d) => d.state !== 'deleted').map((d) => d.source).sort(), ['.gitignore', 'guide/intro.md']);
  });
});

async function all(engine: WorkspaceEngine, from = 0): Promise<RecordedEvent[]> {
  const out: RecordedEvent[] = [];
  for await (const e of engine.ledger.events.readAll({ fromPosition: from + 1 })) out.push(e);
  return out;
}

test('the workspace engine over two folders: ingest, ask cites the second folder, re-embed there, retire a removed folder (out of the index too)', async (t) => {
  const ollama = await startOllamaServer();
  t.after(() => ollama.close());
  const docs = folder(t, 'docs-folder', DOCS);
  const code = folder(t, 'code', CODE);
  const settings: EngineSettings = {
    storeDir: join(tempDir(t), 'store'),
    workspaceRoot: docs.path,
    folders: [docs, code],
    pipeline: { ...TINY_PIPELINE, generator: { model: 'good' } },
    walk: RULES,
    documents: { maxBytes: DEFAULT_MAX_BYTES, allowSecrets: false },
    modelDir: ensureTinyModel(join(tempDir(t), 'models')),
    ollama: { host: ollama.host },
    actor: 'test',
    owner: 'a test window',
  };
  const engine = await WorkspaceEngine.open(settings);
  t.after(() => engine.close());
  assert.deepEqual(engine.folders().map((f) => f.label), ['docs-folder', 'code']);

  const r = await engine.ingest();
  assert.equal(r.ingest.submitted, 6);
  assert.equal(r.indexing.upserted, r.ingest.chunks);

  const answer = await engine.ask('how do threads send a message over a channel?', { userId: 'tester' });
  assert.equal(answer.context[0]?.path, 'code/notes/threads.md');

  const head = (await engine.ledger.events.head()).position;
  const re = await engine.reembed(['code/notes']);
  assert.equal(re.documents, 1);
  assert.deepEqual([...new Set((await all(engine, head)).map((e) => e.type))].sort(), ['ChunkEmbedded', 'ChunkIndexed']);

  // The folder leaves the workspace: its documents are retired and no longer retrieved.
  engine.updateSettings({ ...settings, folders: [docs] });
  const retired = await engine.retireFolder('code');
  assert.equal(retired.retired, 4);
  const after = await engine.ask('how do threads send a message over a channel?', { userId: 'tester' });
  assert.ok(after.context.every((c) => !c.path.startsWith('code/')), after.context.map((c) => c.path).join(', '));
  const threads = engine.ledger.readModels.documents().find((d) => d.source === 'code/notes/threads.md');
  assert.equal(threads?.state, 'deleted');
});
