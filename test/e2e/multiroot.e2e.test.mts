// A multi-root workspace in a real VS Code (code-server), driven by Chromium: a saved
// .code-workspace with two folders (a small handbook, and a copy of the sample workspace). From the
// palette the whole workspace is ingested; the Documents view groups the documents by folder; a
// question is answered from the second folder and its citation opens that folder's file; a file
// created in the second folder is ingested by the watcher; a third folder added is ingested; removing
// the second folder from the workspace retires its documents. One code-server, the development
// build. Screenshots and logs land in .test-artifacts/e2e/<run>/.
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Page } from 'playwright-core';
import type { OllamaTestServer } from '../support/ollamaServer.js';
import { startOllamaServer } from '../support/ollamaServer.js';
import { storeEvents } from '../support/storeEvents.js';
import { TINY_MODEL_DIMS, TINY_MODEL_ID, ensureTinyModel } from '../support/tinyModel.js';
import { tempDir } from '../support/tmp.js';
import { captureOnFailure, clearNotifications, openBrowser, remoteUri, runCommand, screenshot, waitForActivityBarItem, waitForNotification, askQuestion as ask, findStore, ragLedgerView } from './browser.mjs';
import { startCodeServer } from './codeServer.mjs';
import { ensureTools, newArtifactsDir, repoRoot } from './tools.mjs';

type Server = Awaited<ReturnType<typeof startCodeServer>>;
type Browser = Awaited<ReturnType<typeof openBrowser>>;

/** Two folders and the .code-workspace that names them, in a fresh temp folder. */
function twoFolderWorkspace(): { file: string; handbook: string; harbor: string } {
  const base = tempDir(undefined, 'rag-ledger-e2e-multiroot-');
  const handbook = join(base, 'handbook');
  mkdirSync(join(handbook, 'garden'), { recursive: true });
  mkdirSync(join(handbook, 'drafts'), { recursive: true });
  writeFileSync(join(handbook, '.gitignore'), 'drafts/\n');
  writeFileSync(join(handbook, 'intro.md'), '# Handbook\n\nHow the office runs: opening hours, keys and the coffee machine.\n');
  writeFileSync(join(handbook, 'garden', 'roses.md'), '# Roses\n\nPrune the roses in early spring and water them at dawn.\n');
  writeFileSync(join(handbook, 'drafts', 'unfinished.md'), '# Draft\n\nIgnored by this folder\'s .gitignore.\n');
  const harbor = join(base, 'harbor');
  cpSync(join(repoRoot, 'test', 'fixtures', 'sample-workspace'), harbor, { recursive: true });
  const file = join(base, 'team.code-workspace');
  writeFileSync(file, JSON.stringify({ folders: [{ path: 'handbook' }, { path: 'harbor' }], settings: {} }, null, 2));
  return { file, handbook, harbor };
}

/** A third folder, added later by rewriting the workspace file (VS Code follows it). */
function atlasFolder(base: string): string {
  const atlas = join(base, 'atlas');
  mkdirSync(join(atlas, 'maps'), { recursive: true });
  writeFileSync(join(atlas, 'maps', 'coast.md'), '# Coast\n\nThe lighthouse stands on the northern cape.\n');
  writeFileSync(join(atlas, 'index.md'), '# Atlas\n\nMaps of the coast.\n');
  return atlas;
}

const documentsView = (page: Page) => ragLedgerView(page, 'Documents');

let server: Server | undefined;
let browser: Browser | undefined;
let ollama: OllamaTestServer | undefined;
let artifacts: string;
let modelDir: string;

before(async () => {
  const tools = await ensureTools({ log: (line: string) => console.log(line) });
  assert.ok(existsSync(join(repoRoot, 'dist', 'extension.js')), 'dist/extension.js is missing: run npm run build first');
  artifacts = newArtifactsDir('multiroot');
  modelDir = ensureTinyModel(join(tempDir(undefined, 'rag-ledger-e2e-models-'), 'models'));
  ollama = await startOllamaServer();
  server = await startCodeServer({
    tools,
    runDir: join(artifacts, 'server'),
    userSettings: {
      'ragLedger.embedding.model': TINY_MODEL_ID,
      'ragLedger.embedding.dimensions': TINY_MODEL_DIMS,
      'ragLedger.embedding.dtype': 'fp32',
      'ragLedger.embedding.modelDirectory': modelDir,
      'ragLedger.ollama.host': ollama.host,
      'ragLedger.ollama.model': 'good',
      'ragLedger.ollama.timeoutSeconds': 20,
    },
  });
  browser = await openBrowser({ artifactsDir: artifacts });
}, { timeout: 15 * 60_000 });

after(async () => {
  await browser?.close();
  await server?.stop();
  await ollama?.close().catch(() => undefined);
});

test('a two-folder workspace: ingest from the palette, documents grouped by folder, a citation from the second folder opens its file, the watcher ingests into the second folder, an added folder is ingested, a removed folder is retired', { timeout: 10 * 60_000 }, async () => {
  const { page } = browser!;
  const ws = twoFolderWorkspace();
  const shots = artifacts;

  await captureOnFailure(page, shots, 'workbench', async () => {
    // The workspace file instead of a folder; the development build through the smoke-test driver's payload.
    const url = new URL('/', server!.baseUrl);
    url.searchParams.set('workspace', ws.file);
    url.searchParams.set('payload', JSON.stringify([['extensionDevelopmentPath', remoteUri(server!.baseUrl, repoRoot)], ['skipWelcome', 'true']]));
    await page.goto(url.toString(), { timeout: 60_000 });
    await page.locator('.monaco-workbench').first().waitFor({ timeout: 60_000 });
    await waitForActivityBarItem(page, 'RAG Ledger');
    await screenshot(page, shots, 'workbench');
  });

  // Both folders are walked, each with its own .gitignore: 3 handbook files (drafts/ ignored) + the 9 of harbor.
  await captureOnFailure(page, shots, 'ingest', async () => {
    await runCommand(page, 'RAG Ledger: Ingest Workspace');
    await waitForNotification(page, /12 files scanned: 12 new or changed, 0 unchanged, 2 rejected/, { timeoutMs: 120_000 });
    const documents = await documentsView(page);
    const row = (label: string) => documents.locator('.monaco-list-row', { has: page.locator('.label-name', { hasText: new RegExp(`^${label.replace('.', '\\.')}$`) }) }).first();
    // The first level is the workspace's folders, expanded; their documents under them.
    await row('handbook').waitFor({ timeout: 30_000 });
    await row('harbor').waitFor();
    assert.equal(await row('handbook').getAttribute('aria-level'), '1');
    assert.equal(await row('harbor').getAttribute('aria-level'), '1');
    assert.equal(await row('intro.md').getAttribute('aria-level'), '2');
    assert.equal(await row('README.md').getAttribute('aria-level'), '2');
    assert.equal(await row('docs').getAttribute('aria-level'), '2');
    assert.equal(await documents.locator('.monaco-list-row', { hasText: 'unfinished.md' }).count(), 0);
    assert.match(await row('harbor').innerText(), /harbor/);
    await screenshot(page, shots, 'documents-by-folder');

    const store = findStore(server!.userDataDir);
    assert.ok(store, 'no store under the workspace storage');
    const sources = (await storeEvents(store)).flatMap((e) => (e.type === 'DocumentSubmitted' ? [e.data.source] : [])).sort();
    assert.deepEqual(sources, ['handbook/.gitignore', 'handbook/garden/roses.md', 'handbook/intro.md', 'harbor/.env', 'harbor/.gitignore', 'harbor/README.md', 'harbor/docs/diagram.png', 'harbor/docs/security.md', 'harbor/docs/storage.md', 'harbor/docs/threads.md', 'harbor/src/channel.ts', 'harbor/src/log.ts']);
  });

  // The answer cites the second folder's document; the citation opens that folder's file.
  await captureOnFailure(page, shots, 'ask', async () => {
    await ask(page, 'how do threads send messages over a channel?');
    const frame = page.frameLocator('iframe.webview.ready').frameLocator('#active-frame');
    await frame.locator('#meta', { hasText: 'answered by good' }).waitFor({ timeout: 60_000 });
    const first = frame.locator('#answer a.cite').first();
    const where = (await first.getAttribute('title')) ?? '';
    const [, path, start] = /^(.*):(\d+)-(\d+)$/.exec(where) ?? [];
    assert.equal(path, 'harbor/docs/threads.md', `citation title ${where}`);
    await screenshot(page, shots, 'answer');
    await first.click();
    const tab = page.locator('.tabs-container .tab.active', { hasText: 'threads.md' });
    await tab.waitFor({ timeout: 15_000 });
    await page.locator('.statusbar-item', { hasText: new RegExp(`Ln ${start}, Col 1 \\(\\d+ selected\\)`) }).first().waitFor({ timeout: 15_000 });
    // The file of the second folder, not a path relative to the first: the breadcrumbs start with its root.
    const crumbs = page.locator('.breadcrumbs-below-tabs .monaco-breadcrumb-item:not(.outline-element)');
    await crumbs.filter({ hasText: 'threads.md' }).first().waitFor({ timeout: 15_000 });
    assert.deepEqual((await crumbs.allInnerTexts()).map((t) => t.trim()), ['harbor', 'docs', 'threads.md']);
    await screenshot(page, shots, 'citation-opened');
  });

  // A file created in the second folder is ingested by the watcher under that folder's path.
  await captureOnFailure(page, shots, 'watch', async () => {
    const store = findStore(server!.userDataDir)!;
    writeFileSync(join(ws.harbor, 'docs', 'ferry.md'), '# Ferry\n\nThe ferry crosses the harbour every hour.\n');
    const deadline = Date.now() + 60_000;
    let sources: string[] = [];
    while (Date.now() < deadline) {
      sources = (await storeEvents(store)).flatMap((e) => (e.type === 'DocumentSubmitted' ? [e.data.source] : []));
      if (sources.includes('harbor/docs/ferry.md')) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    assert.ok(sources.includes('harbor/docs/ferry.md'), `not auto-ingested: ${sources.join(', ')}`);
  });

  // A third folder added to the saved workspace (its file rewritten, as "Add Folder to Workspace…" would) is ingested.
  await captureOnFailure(page, shots, 'add-folder', async () => {
    await clearNotifications(page);
    atlasFolder(dirname(ws.file));
    writeFileSync(ws.file, JSON.stringify({ folders: [{ path: 'handbook' }, { path: 'harbor' }, { path: 'atlas' }], settings: {} }, null, 2));
    await waitForNotification(page, /ingested atlas: 2 files scanned, 2 new or changed, 0 deleted/, { timeoutMs: 60_000 });
    const documents = await documentsView(page);
    const atlas = documents.locator('.monaco-list-row[aria-level="1"]', { hasText: 'atlas' }).first();
    await atlas.waitFor({ timeout: 30_000 });
    await screenshot(page, shots, 'folder-added');
  });

  // The second folder leaves the workspace (Explorer → right-click its root → Remove Folder from Workspace): its documents are retired.
  await captureOnFailure(page, shots, 'remove-folder', async () => {
    await clearNotifications(page);
    await runCommand(page, 'View: Show Explorer');
    const root = page.locator('.explorer-folders-view .monaco-list-row[aria-level="1"]', { hasText: 'harbor' }).first();
    await root.waitFor({ timeout: 15_000 });
    const item = page.locator('.monaco-menu .action-item', { hasText: 'Remove Folder from Workspace' }).first();
    // The tree re-renders while the folder just added settles: a right-click can land on a row being
    // replaced (no menu, or a menu for another row). Close whatever opened and click again.
    // A click on the menu item can be lost the same way: the folder is then still there, and we try again.
    for (let attempt = 1; ; attempt++) {
      await root.click({ button: 'right' });
      try {
        await item.waitFor({ state: 'visible', timeout: 5_000 });
        await item.hover();
        await item.click();
        await root.waitFor({ state: 'detached', timeout: 10_000 });
        break;
      } catch (err) {
        if (attempt === 3) throw err;
        await page.keyboard.press('Escape');
      }
    }
    await waitForNotification(page, /the folder harbor was removed from the workspace: 10 documents retired/, { timeoutMs: 60_000 });
    const documents = await documentsView(page);
    await documents.locator('.monaco-list-row[aria-level="1"]', { hasText: 'atlas' }).first().waitFor({ timeout: 30_000 });
    await documents.locator('.monaco-list-row[aria-level="1"]', { hasText: 'handbook' }).first().waitFor();
    // The view follows once the retirement is in the read models.
    await documents.locator('.monaco-list-row[aria-level="1"]', { hasText: 'harbor' }).first().waitFor({ state: 'detached', timeout: 30_000 });
    assert.equal(await documents.locator('.monaco-list-row', { hasText: 'threads.md' }).count(), 0);
    await screenshot(page, shots, 'folder-removed');
    const events = await storeEvents(findStore(server!.userDataDir)!);
    // Only the removed folder's documents were deleted, all with that reason; the others keep their paths.
    const deleted = events.flatMap((e) => (e.type === 'DocumentDeleted' ? [e.data.reason] : []));
    assert.equal(deleted.length, 10);
    assert.deepEqual([...new Set(deleted)], ['the folder was removed from the workspace']);
  });
  console.log(`screenshots in ${shots}`);
});
