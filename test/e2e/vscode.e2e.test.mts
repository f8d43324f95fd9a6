// The extension in a real VS Code (code-server), driven by Chromium:
//   1. extension-host tests (mocha inside VS Code, test/e2e/host/) against the development build;
//   2. browser tests against the packaged .vsix, installed into a fresh code-server: the palette,
//      the Documents view, the answer view and its citations, the Explorer's context menu, and Ollama
//      going down. Screenshots and logs land in .test-artifacts/e2e/<run>/.
// The workspace is a copy of test/fixtures/sample-workspace; embeddings come from the generated tiny
// model; answers from an Ollama-protocol server on 127.0.0.1 started here.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import type { OllamaTestServer } from '../support/ollamaServer.js';
import { startOllamaServer } from '../support/ollamaServer.js';
import { storeEvents } from '../support/storeEvents.js';
import { TINY_MODEL_DIMS, TINY_MODEL_ID, ensureTinyModel } from '../support/tinyModel.js';
import { tempDir } from '../support/tmp.js';
// The harness is plain JavaScript (ESM), shared with the smoke test.
import { openBrowser, openWorkbench, runCommand, screenshot, waitForActivityBarItem, waitForNotification, captureOnFailure, askQuestion as ask, findStore } from './browser.mjs';
import { startCodeServer } from './codeServer.mjs';
import { runExtensionHostTests } from './extensionHost.mjs';
import { ensureTools, newArtifactsDir, packagedVsix, repoRoot } from './tools.mjs';

type Tools = Awaited<ReturnType<typeof ensureTools>>;
type Server = Awaited<ReturnType<typeof startCodeServer>>;

const SAMPLE = join(repoRoot, 'test', 'fixtures', 'sample-workspace');

/** A fresh copy of the sample workspace, with files its .gitignore excludes (they must not be ingested). */
function sampleWorkspace(): string {
  const ws = join(tempDir(undefined, 'rag-ledger-e2e-ws-'), 'harbor');
  cpSync(SAMPLE, ws, { recursive: true });
  mkdirSync(join(ws, 'build'), { recursive: true });
  writeFileSync(join(ws, 'build', 'out.txt'), 'generated output, ignored by .gitignore\n');
  writeFileSync(join(ws, 'broker.log'), 'debug output, ignored by .gitignore\n');
  return ws;
}

function settingsFor(modelDir: string, ollama: OllamaTestServer): Record<string, unknown> {
  return {
    'ragLedger.embedding.model': TINY_MODEL_ID,
    'ragLedger.embedding.dimensions': TINY_MODEL_DIMS,
    'ragLedger.embedding.dtype': 'fp32',
    'ragLedger.embedding.modelDirectory': modelDir,
    'ragLedger.ollama.host': ollama.host,
    'ragLedger.ollama.model': 'good',
    'ragLedger.ollama.timeoutSeconds': 20,
  };
}

const answerFrame = (page: Page) => page.frameLocator('iframe.webview.ready').frameLocator('#active-frame');

async function assertOneAnswerViewNoEmptyGroup(page: Page): Promise<void> {
  assert.equal(await page.locator('.tabs-container .tab', { hasText: 'RAG Ledger: Answer' }).count(), 1, 'one answer view');
  assert.equal(await page.locator('.editor-group-container.empty').count(), 0, 'no editor group is left empty');
}

describe('RAG Ledger in a real VS Code (code-server + Chromium)', { timeout: 15 * 60_000 }, () => {
  let tools: Tools;
  let artifacts: string;
  let modelDir: string;
  let ollama: OllamaTestServer;
  const servers: Server[] = [];

  before(async () => {
    tools = await ensureTools({ log: (line: string) => console.log(line) });
    artifacts = newArtifactsDir('vscode');
    modelDir = ensureTinyModel(join(tempDir(undefined, 'rag-ledger-e2e-models-'), 'models'));
    ollama = await startOllamaServer({ slowMs: 8000 });
    assert.ok(existsSync(join(repoRoot, 'dist', 'extension.js')), 'dist/extension.js is missing: run npm run build first');
  });

  after(async () => {
    for (const s of servers) await s.stop();
    await ollama?.close().catch(() => undefined);
  });

  test('extension-host tests pass inside VS Code (development build)', async () => {
    const server = await startCodeServer({ tools, runDir: join(artifacts, 'host-server'), userSettings: settingsFor(modelDir, ollama) });
    servers.push(server);
    const browser = await openBrowser({ artifactsDir: join(artifacts, 'host') });
    try {
      const r = await runExtensionHostTests({
        page: browser.page,
        baseUrl: server.baseUrl,
        port: server.port,
        folder: sampleWorkspace(),
        extensionDevelopmentPath: repoRoot,
        extensionTestsPath: join(repoRoot, 'test', 'e2e', 'hostIndex.cjs'),
        logFile: join(artifacts, 'host', 'host-tests.log'),
      });
      const results = r.log.filter((l: string) => l.includes('[host-test]'));
      console.log(results.join('\n'));
      assert.equal(r.exitCode, 0, `extension-host tests failed:\n${results.join('\n')}`);
      assert.ok(results.some((l: string) => /\d+ passing, 0 failing/.test(l)), results.join('\n'));
    } finally {
      await browser.close();
      await server.stop();
    }
  });

  test('browser: the packaged .vsix ingests from the palette, answers with clickable citations, re-embeds from the Explorer, and falls back when Ollama is down', async () => {
    const vsix = await packagedVsix({ log: (line: string) => console.log(line) });
    console.log(`packaged ${basename(vsix)}: ${(statSync(vsix).size / 1048576).toFixed(1)} MiB`);
    const server = await startCodeServer({ tools, runDir: join(artifacts, 'ui-server'), userSettings: settingsFor(modelDir, ollama), vsix });
    servers.push(server);
    const shots = join(artifacts, 'ui');
    const browser = await openBrowser({ artifactsDir: shots });
    const { page } = browser;
    const ws = sampleWorkspace();
    // What must not get in: a note holding a token (rejected by what it contains, never stored), and a
    // link out of the workspace (not followed, listed as skipped).
    const token = `ghp_${randomBytes(27).toString('base64').replace(/[^A-Za-z0-9]/g, 'x').slice(0, 36)}`;
    writeFileSync(join(ws, 'docs', 'config-notes.md'), `# Config notes\n\nThe deploy job reads the registry with\n\n    export GITHUB_TOKEN=${token}\n`);
    symlinkSync('/etc/hostname', join(ws, 'docs', 'hostname.md'));
    try {
      await captureOnFailure(page, shots, 'workbench', async () => {
        await openWorkbench(page, server.baseUrl, ws);
        await waitForActivityBarItem(page, 'RAG Ledger');
        await screenshot(page, shots, 'workbench');
      });

      // Palette → Ingest Workspace → the Documents view lists the files.
      await captureOnFailure(page, shots, 'ingest', async () => {
        await runCommand(page, 'RAG Ledger: Ingest Workspace');
        await waitForNotification(page, /11 files scanned: 11 new or changed, 0 unchanged, 4 rejected/, { timeoutMs: 120_000 });
        await (await waitForActivityBarItem(page, 'RAG Ledger')).click();
        const documents = page.locator('.pane', { has: page.locator('.pane-header', { hasText: 'Documents' }) });
        const row = (label: string) => documents.locator('.monaco-list-row', { hasText: label }).first();
        await row('docs').waitFor({ timeout: 30_000 });
        await row('src').waitFor();
        await row('README.md').waitFor();
        await row('docs').click();
        await row('threads.md').waitFor();
        assert.match(await row('diagram.png').innerText(), /rejected: binary/);
        assert.match(await row('config-notes.md').innerText(), /rejected: secret/);
        assert.match(await row('hostname.md').innerText(), /skipped: link not followed/);
        const storeDir = findStore(server.userDataDir)!;
        assert.ok(!JSON.stringify(await storeEvents(storeDir)).includes(token), 'the token is in the log');
        assert.match(await row('threads.md').innerText(), /indexed/);
        await screenshot(page, shots, 'documents-view');
      });

      // Palette → Ask a Question → the answer view streams the answer with citations; a citation opens the file at its lines.
      await captureOnFailure(page, shots, 'ask', async () => {
        await ask(page, 'how do threads send messages over a channel?');
        const frame = answerFrame(page);
        await frame.locator('#answer', { hasText: 'Threads send messages over a channel' }).waitFor({ timeout: 60_000 });
        await frame.locator('#meta', { hasText: 'answered by good' }).waitFor({ timeout: 30_000 });
        const sources = await frame.locator('#sources a.cite').allInnerTexts();
        assert.ok(sources.length > 0 && sources.every((s) => /^\[\d+\] \S+:\d+-\d+$/.test(s)), JSON.stringify(sources));
        await screenshot(page, shots, 'answer');
        const first = frame.locator('#answer a.cite').first();
        const where = (await first.getAttribute('title')) ?? '';
        const [, path, start] = /^(.*):(\d+)-(\d+)$/.exec(where) ?? [];
        assert.ok(path && start, `citation title ${where}`);
        await first.click();
        await page.locator('.tabs-container .tab.active', { hasText: basename(path) }).waitFor({ timeout: 15_000 });
        // The chunk is selected with the cursor at its first line: the status bar says "Ln <start>, Col 1 (N selected)".
        await page.locator('.statusbar-item', { hasText: new RegExp(`Ln ${start}, Col 1 \\(\\d+ selected\\)`) }).first().waitFor({ timeout: 15_000 });
        // The source opens in the other group: the answer stays visible beside it, and nothing split again.
        await page.locator('.tabs-container .tab.active', { hasText: 'RAG Ledger: Answer' }).waitFor({ timeout: 5_000 });
        assert.equal(await page.locator('.editor-group-container').count(), 2);
        await screenshot(page, shots, 'citation-opened');
      });

      // An answer citing a passage the model was not given: [42] is marked text with a warning, never a link.
      await captureOnFailure(page, shots, 'unmatched-citation', async () => {
        await ask(page, 'which phantom passage says how threads send messages?');
        const frame = answerFrame(page);
        await frame.locator('#answer .unmatched', { hasText: '[42]' }).waitFor({ timeout: 60_000 });
        await frame.locator('#meta', { hasText: 'answered by good' }).waitFor({ timeout: 30_000 });
        assert.deepEqual(await frame.locator('#answer a.cite').allInnerTexts(), ['[1]']);
        assert.match((await frame.locator('#answer .unmatched').getAttribute('title')) ?? '', /no passage|not given|match/i);
        await frame.locator('.notice', { hasText: /\[42\]/ }).waitFor({ timeout: 10_000 });
        await screenshot(page, shots, 'unmatched-citation');
      });

      // Explorer → right-click a file → Re-embed Document → new events for that document in the log.
      await captureOnFailure(page, shots, 're-embed', async () => {
        const storeDir = findStore(server.userDataDir);
        assert.ok(storeDir, 'no store under the workspace storage');
        const before = await storeEvents(storeDir);
        await runCommand(page, 'View: Show Explorer');
        const explorer = page.locator('.explorer-folders-view');
        const row = (label: string) => explorer.locator('.monaco-list-row', { has: page.locator('.label-name', { hasText: new RegExp(`^${label.replace('.', '\\.')}$`) }) }).first();
        await row('docs').waitFor({ timeout: 15_000 });
        if ((await row('docs').getAttribute('aria-expanded')) !== 'true') await row('docs').click();
        await row('storage.md').click({ button: 'right' });
        const item = page.locator('.monaco-menu .action-item', { hasText: 'Re-embed Document' }).first();
        await item.waitFor({ state: 'visible', timeout: 10_000 });
        await screenshot(page, shots, 'explorer-context-menu');
        console.log(`explorer context menu: ${JSON.stringify(await page.locator('.monaco-menu .action-label').allInnerTexts())}`);
        // The menu animates in; hover first so the click lands on the item, not on its way in.
        await item.hover();
        await item.click();
        await waitForNotification(page, /re-embedded \d+ chunks of 1 document \(docs\/storage\.md\)/, { timeoutMs: 60_000 });
        await screenshot(page, shots, 're-embedded');
        const sealed = (await storeEvents(storeDir)).slice(before.length);
        // The operation ends with a seal of the log's head; the rest is the document's.
        assert.equal(sealed.at(-1)?.type, 'HeadSigned');
        const after = sealed.filter((e) => e.type !== 'HeadSigned');
        const storage = before.find((e) => e.type === 'DocumentSubmitted' && e.data.source === 'docs/storage.md')!;
        assert.ok(after.length > 0, 'no new events');
        assert.deepEqual([...new Set(after.map((e) => e.streamId))], [storage.streamId]);
        assert.ok(after.some((e) => e.type === 'ChunkEmbedded'));
      });

      // Cancel while the model is thinking: the answer view says so, and the log records the cancellation.
      await captureOnFailure(page, shots, 'cancel', async () => {
        const storeDir = findStore(server.userDataDir)!;
        await ask(page, 'explain slowly how a segment is deleted');
        const frame = answerFrame(page);
        await frame.locator('#cancel').waitFor({ state: 'visible', timeout: 15_000 });
        await frame.locator('#cancel').click();
        await frame.locator('.notice', { hasText: 'Cancelled' }).waitFor({ timeout: 15_000 });
        await screenshot(page, shots, 'cancelled');
        const events = await storeEvents(storeDir);
        const asked = events.filter((e) => e.type === 'QueryReceived').at(-1)!;
        const chain = events.filter((e) => e.streamId === asked.streamId);
        assert.equal(asked.type === 'QueryReceived' && asked.data.query_text, 'explain slowly how a segment is deleted');
        const last = chain.at(-1)!;
        assert.ok(last.type === 'InferenceFailed' && last.data.reason === 'cancelled', JSON.stringify(chain.map((e) => e.type)));
      });

      // The window goes away while the model is answering (a reload ends the extension host as closing
      // the window does): the question's chain ends with InferenceFailed(cancelled), and the seals made
      // before and after carry the one key kept in VS Code's secret storage.
      await captureOnFailure(page, shots, 'reload-mid-answer', async () => {
        const storeDir = findStore(server.userDataDir)!;
        const question = 'explain slowly why a window that closes keeps its record';
        await ask(page, question);
        await answerFrame(page).locator('#cancel').waitFor({ state: 'visible', timeout: 15_000 });
        const pending = (await storeEvents(storeDir)).filter((e) => e.type === 'QueryReceived' && e.data.query_text === question);
        assert.equal(pending.length, 1, 'the question was recorded before the window went away');
        await runCommand(page, 'Developer: Reload Window');
        await waitForActivityBarItem(page, 'RAG Ledger', { timeoutMs: 60_000 });
        let chain: Awaited<ReturnType<typeof storeEvents>> = [];
        const deadline = Date.now() + 30_000;
        while (Date.now() < deadline) {
          chain = (await storeEvents(storeDir)).filter((e) => e.streamId === pending[0]!.streamId);
          if (chain.at(-1)?.type === 'InferenceFailed') break;
          await page.waitForTimeout(500);
        }
        const last = chain.at(-1)!;
        assert.ok(last.type === 'InferenceFailed' && last.data.reason === 'cancelled', JSON.stringify(chain.map((e) => e.type)));
        assert.ok(!chain.some((e) => e.type === 'InferenceCompleted'), 'no answer was recorded for the abandoned question');
        // After the reload, one more operation seals again, with the key the first window used.
        await ask(page, 'how long is a segment kept?');
        await answerFrame(page).locator('#meta', { hasText: 'answered by' }).waitFor({ timeout: 60_000 });
        // The seal follows the answer's events; wait for it.
        let events: Awaited<ReturnType<typeof storeEvents>> = [];
        const sealedBy = Date.now() + 30_000;
        while (Date.now() < sealedBy) {
          events = await storeEvents(storeDir);
          if (events.findLastIndex((e) => e.type === 'HeadSigned') > events.findLastIndex((e) => e.type === 'QueryReceived')) break;
          await page.waitForTimeout(500);
        }
        const seals = events.filter((e) => e.type === 'HeadSigned');
        assert.ok(events.findLastIndex((e) => e.type === 'HeadSigned') > events.findLastIndex((e) => e.type === 'QueryReceived'), `the question asked after the reload was not sealed (${seals.length} seals)`);
        const keys = new Set(seals.map((e) => (e.type === 'HeadSigned' ? e.data.public_key : '')));
        assert.equal(keys.size, 1, 'every seal, before and after the reload, uses the key kept in secret storage');
        // The view that was streaming when the window went away was closed, not left as an empty group.
        await assertOneAnswerViewNoEmptyGroup(page);
        // A finished answer comes back after a reload, read from the log.
        const meta = await answerFrame(page).locator('#meta').innerText();
        await runCommand(page, 'Developer: Reload Window');
        await waitForActivityBarItem(page, 'RAG Ledger', { timeoutMs: 60_000 });
        await answerFrame(page).locator('#meta', { hasText: meta.replace(/^answered by \S+ · /, '') }).waitFor({ timeout: 60_000 });
        assert.match(await answerFrame(page).locator('#question').innerText(), /how long is a segment kept\?/);
        await assertOneAnswerViewNoEmptyGroup(page);
        await screenshot(page, shots, 'answer-restored-after-reload');
      });

      // Ollama goes down: a clear message, and the extractive answer is still shown with citations.
      await captureOnFailure(page, shots, 'ollama-down', async () => {
        await ollama.close();
        await ask(page, 'how long is a segment kept?');
        const frame = answerFrame(page);
        await frame.locator('.notice', { hasText: 'Ollama is not running' }).waitFor({ timeout: 60_000 });
        await frame.locator('#meta', { hasText: 'answered by extractive' }).waitFor({ timeout: 30_000 });
        assert.ok((await frame.locator('#sources a.cite').count()) > 0);
        await waitForNotification(page, /Ollama is not running/, { timeoutMs: 15_000 });
        await screenshot(page, shots, 'ollama-down');
        // Questions, citations and reloads later: one answer view, and no editor group left empty.
        await assertOneAnswerViewNoEmptyGroup(page);
      });

      // Documents view → right-click → Forget Document…: a confirmation that says what happens, a reason,
      // then the row says forgotten and the log holds none of the text.
      await captureOnFailure(page, shots, 'forget', async () => {
        await (await waitForActivityBarItem(page, 'RAG Ledger')).click();
        const documents = page.locator('.pane', { has: page.locator('.pane-header', { hasText: 'Documents' }) });
        const row = (label: string) => documents.locator('.monaco-list-row', { hasText: label }).first();
        // A reload folds the tree: open the folder first.
        await row('docs').waitFor({ timeout: 15_000 });
        if ((await row('docs').getAttribute('aria-expanded')) !== 'true') await row('docs').click();
        await row('threads.md').click({ button: 'right' });
        const item = page.locator('.monaco-menu .action-item', { hasText: 'Forget Document' }).first();
        await item.waitFor({ state: 'visible', timeout: 10_000 });
        await item.hover();
        await item.click();
        const dialog = page.locator('.monaco-dialog-box');
        await dialog.waitFor({ timeout: 10_000 });
        assert.match(await dialog.innerText(), /irreversibl/i);
        await screenshot(page, shots, 'forget-confirmation');
        await dialog.locator('.monaco-button', { hasText: 'Forget Document' }).click();
        const input = page.locator('.quick-input-widget input').first();
        await input.waitFor({ state: 'visible', timeout: 10_000 });
        await input.fill('shared by mistake');
        await page.keyboard.press('Enter');
        await waitForNotification(page, /forgot docs\/threads\.md: \d+ events emptied/, { timeoutMs: 60_000 });
        await documents.locator('.monaco-list-row', { hasText: /threads\.md.*forgotten/s }).first().waitFor({ timeout: 15_000 });
        await screenshot(page, shots, 'forgotten');
        const events = await storeEvents(findStore(server.userDataDir)!);
        assert.ok(events.some((e) => e.type === 'DocumentForgotten' && JSON.stringify(e.data).includes('shared by mistake')));
        assert.ok(!JSON.stringify(events).includes('the receiver takes ownership of it'), 'the forgotten text is still in the log');
      });
      console.log(`screenshots: ${readdirSync(shots).filter((f) => f.endsWith('.png')).join(', ')} in ${shots}`);
    } finally {
      await browser.close();
      await server.stop();
    }
  });
});
