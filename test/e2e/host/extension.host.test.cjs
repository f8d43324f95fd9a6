// Extension-host tests: run inside a real VS Code (code-server) by test/e2e/vscode.e2e.test.ts,
// against the development build of the extension, on a copy of test/fixtures/sample-workspace.
// The window's settings point the embedding model at the generated tiny model and Ollama at an
// Ollama-protocol server on 127.0.0.1 started by the test (model "good" streams a fixed answer).
'use strict';

const assert = require('node:assert/strict');
const path = require('node:path');
const vscode = require('vscode');

const EXTENSION_ID = 'rag-ledger.rag-ledger';
const COMMANDS = [
  'ingestWorkspace', 'ask', 'reembedDocument', 'rebuildIndex', 'definePipeline', 'activatePipeline', 'replayQuestion',
  'comparePipelines', 'compareWithActive', 'verifyLog', 'exportAudit', 'openExplorer', 'showDocumentHistory', 'buildPipeline', 'openChunk', 'showProvenance', 'showAnswer',
  'refreshViews', 'showStatus', 'showStatusMenu',
];

let api;
const engine = () => api.host.current;

async function events(fromPosition = 1) {
  const out = [];
  for await (const e of engine().ledger.events.readAll({ fromPosition })) out.push(e);
  return out;
}

async function head() {
  return (await engine().ledger.events.head()).position;
}

/** Labels of a tree view's items under `node` (top level when undefined). */
async function labels(view, node) {
  const children = await view.getChildren(node);
  return Promise.all(children.map(async (c) => ({ node: c, item: await view.getTreeItem(c) })));
}

async function waitFor(what, check, timeoutMs = 20_000) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

suite('RAG Ledger in VS Code', () => {
  suiteSetup(async () => {
    const ext = vscode.extensions.getExtension(EXTENSION_ID);
    assert.ok(ext, `extension ${EXTENSION_ID} is not installed`);
    api = await ext.activate();
  });

  test('every command is registered, with the category and an icon in the manifest', async () => {
    const registered = new Set(await vscode.commands.getCommands(true));
    for (const id of COMMANDS) assert.ok(registered.has(`ragLedger.${id}`), `ragLedger.${id} is not registered`);
    const manifest = vscode.extensions.getExtension(EXTENSION_ID).packageJSON;
    for (const c of manifest.contributes.commands) {
      assert.equal(c.category, 'RAG Ledger', c.command);
      assert.match(c.icon, /^\$\(/, c.command);
    }
  });

  test('Ingest Workspace appends the expected events and the Documents view lists the files', async () => {
    const report = await vscode.commands.executeCommand('ragLedger.ingestWorkspace');
    assert.ok(report, 'the command returned nothing (see the log for an error)');
    const all = await events();
    const submitted = all.filter((e) => e.type === 'DocumentSubmitted').map((e) => e.data.source).sort();
    assert.deepEqual(submitted, ['.env', '.gitignore', 'README.md', 'docs/diagram.png', 'docs/security.md', 'docs/storage.md', 'docs/threads.md', 'src/channel.ts', 'src/log.ts']);
    const rejected = Object.fromEntries(all.filter((e) => e.type === 'DocumentRejected').map((e) => [all.find((s) => s.type === 'DocumentSubmitted' && s.data.document_id === e.data.document_id).data.source, e.data.reason]));
    assert.deepEqual(rejected, { '.env': 'secret', 'docs/diagram.png': 'binary' });
    assert.ok(!submitted.includes('broker.log') && !submitted.some((p) => p.startsWith('build/')), 'ignored files were ingested');
    for (const type of ['DocumentValidated', 'DocumentChunked', 'ChunkEmbedded', 'ChunkIndexed', 'PipelineVersionDefined', 'PipelineVersionActivated']) {
      assert.ok(all.some((e) => e.type === type), `no ${type} event`);
    }
    const top = await labels(api.views.documents);
    assert.deepEqual(top.slice(0, 2).map((x) => x.item.label), ['docs', 'src']);
    assert.deepEqual(top.slice(2).map((x) => x.item.label).sort(), ['.env', '.gitignore', 'README.md']);
    const docs = await labels(api.views.documents, top[0].node);
    assert.deepEqual(docs.map((x) => x.item.label), ['diagram.png', 'security.md', 'storage.md', 'threads.md']);
    assert.match(docs[0].item.description, /^rejected: binary/);
    assert.match(docs[3].item.description, /^indexed/);
    assert.equal(report.ingest.submitted, 9);
  });

  test('Re-embed Document on one file appends events for that document only', async () => {
    const before = await head();
    const file = vscode.Uri.file(path.join(vscode.workspace.workspaceFolders[0].uri.fsPath, 'docs', 'storage.md'));
    const r = await vscode.commands.executeCommand('ragLedger.reembedDocument', file);
    assert.ok(r && r.documents === 1, 'nothing re-embedded');
    const all = await events(before + 1);
    // The operation ends with a seal of the log's head (HeadSigned, stream ledger-seals); the rest is the document's.
    assert.equal(all.at(-1).type, 'HeadSigned');
    const appended = all.filter((e) => e.type !== 'HeadSigned');
    assert.ok(appended.length > 0);
    const storage = (await events()).find((e) => e.type === 'DocumentSubmitted' && e.data.source === 'docs/storage.md');
    assert.deepEqual([...new Set(appended.map((e) => e.streamId))], [storage.streamId]);
    assert.deepEqual([...new Set(appended.map((e) => e.type))].sort(), ['ChunkEmbedded', 'ChunkIndexed']);
  });

  test('Ask against the Ollama-protocol server produces the full event chain', async () => {
    const result = await vscode.commands.executeCommand('ragLedger.ask', 'how do threads send messages over a channel?');
    assert.ok(result, 'ask returned nothing (see the log)');
    assert.equal(result.modelId, 'good');
    assert.match(result.answer, /Threads send messages over a channel/);
    assert.ok(result.context.some((c) => c.path === 'docs/threads.md'), JSON.stringify(result.context.map((c) => c.path)));
    const chain = [];
    for await (const e of engine().ledger.events.readStream(`query-${result.queryId}`)) chain.push(e);
    assert.deepEqual(chain.map((e) => e.type), ['QueryReceived', 'ContextRetrieved', 'InferenceRequested', 'InferenceCompleted']);
    assert.match(chain[2].data.prompt.user, /how do threads send messages over a channel\?/);
    assert.match(chain[2].data.prompt.user, /\[1\] docs\/threads\.md:1-4/);
    const questions = await labels(api.views.questions);
    assert.equal(questions[0].item.label, 'how do threads send messages over a channel?');
    const children = await labels(api.views.questions, questions[0].node);
    assert.ok(children.some((c) => /^\[1\] /.test(c.item.label) && c.item.command.command === 'ragLedger.openChunk'));
  });

  test('changing a setting that alters results defines a new pipeline version', async () => {
    const config = vscode.workspace.getConfiguration('ragLedger');
    const before = engine().ledger.readModels.pipelines().length;
    await config.update('chunking.codeWindowLines', 30, vscode.ConfigurationTarget.Global);
    try {
      await waitFor('a new pipeline version', () => engine().ledger.readModels.pipelines().length === before + 1);
      const defined = (await events()).filter((e) => e.type === 'PipelineVersionDefined').at(-1);
      assert.equal(defined.data.config.chunker.codeWindowLines, 30);
      assert.notEqual(engine().ledger.readModels.activePipeline(), defined.data.pipeline_version, 'a new version must not be activated without asking');
    } finally {
      await config.update('chunking.codeWindowLines', undefined, vscode.ConfigurationTarget.Global);
    }
  });

  test('the file watcher ingests created and deleted files, and never an ignored one', async () => {
    const fs = require('node:fs');
    const root = vscode.workspace.workspaceFolders[0].uri.fsPath;
    fs.writeFileSync(path.join(root, 'docs', 'watched.md'), '# Watched\n\nA file created while the window is open.\n');
    fs.writeFileSync(path.join(root, 'watched.log'), 'ignored by the workspace .gitignore\n');
    const submitted = await waitFor('the new file to be ingested', async () => (await events()).find((e) => e.type === 'DocumentSubmitted' && e.data.source === 'docs/watched.md'));
    fs.rmSync(path.join(root, 'docs', 'watched.md'));
    await waitFor('its deletion to be recorded', async () => (await events()).some((e) => e.type === 'DocumentDeleted' && e.streamId === submitted.streamId));
    assert.ok(!(await events()).some((e) => e.type === 'DocumentSubmitted' && e.data.source === 'watched.log'), 'an ignored file was ingested');
  });

  test('Open Event Log Explorer opens one explorer panel, and the Questions view\'s Replay opens it on that question', async () => {
    const explorerTabs = () => vscode.window.tabGroups.all.flatMap((g) => g.tabs).filter((t) => t.input instanceof vscode.TabInputWebview && t.input.viewType.endsWith('ragLedger.explorer'));
    await vscode.commands.executeCommand('ragLedger.openExplorer');
    await waitFor('the explorer tab', () => explorerTabs().length === 1);
    const question = (await labels(api.views.questions))[0].node;
    await vscode.commands.executeCommand('ragLedger.replayQuestion', question);
    await vscode.commands.executeCommand('ragLedger.showDocumentHistory', (await labels(api.views.documents, (await labels(api.views.documents))[0].node))[3].node);
    assert.equal(explorerTabs().length, 1, 'one explorer, reused');
    // The explorer reads the log through its own index, caught up with the log.
    // (The window may append meanwhile, a seal of its head say: the catch-up reaches at least the head it was asked at.)
    const explorer = await engine().explorer();
    const asked = await head();
    await explorer.timeline.catchUp();
    assert.ok(explorer.timeline.checkpoint >= asked, `the index reached ${explorer.timeline.checkpoint}, the log was at ${asked}`);
    const page = await explorer.timeline.page({ correlation: question.query.query_id }, 0, 50);
    assert.deepEqual(page.rows.map((r) => r.type), ['QueryReceived', 'ContextRetrieved', 'InferenceRequested', 'InferenceCompleted']);
  });

  test('Verify Event Log reports an intact chain', async () => {
    const r = await vscode.commands.executeCommand('ragLedger.verifyLog');
    assert.equal(r.ok, true);
    assert.equal(r.checked, await head());
  });
});
