// The event-log explorer in a real VS Code (code-server + Chromium), against the packaged .vsix:
//   1. on an ingested workspace (with hostile file names and contents): the timeline, filters by type
//      and by text, an event's detail and its causation link, keyboard-only use, a second pipeline
//      version built in the shadow, a question replayed against it (rank moves, a re-chunked chunk),
//      re-answered, compared and activated, a document's history, markup rendered as text, light and
//      dark themes, and the panel restored after a window reload;
//   2. on a 100k-event log: scrolled end to end with the DOM and the webview's heap bounded.
// Screenshots land in .test-artifacts/e2e/<run>-explorer/.
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Frame, FrameLocator, Page } from 'playwright-core';
import type { OllamaTestServer } from '../support/ollamaServer.js';
import { startOllamaServer } from '../support/ollamaServer.js';
import { buildSyntheticStore } from '../support/syntheticLog.js';
import { TINY_MODEL_DIMS, TINY_MODEL_ID, ensureTinyModel } from '../support/tinyModel.js';
import { tempDir } from '../support/tmp.js';
import { captureOnFailure, openBrowser, openWorkbench, runCommand, screenshot, waitForActivityBarItem, waitForNotification, askQuestion as ask } from './browser.mjs';
import { startCodeServer } from './codeServer.mjs';
import { ensureTools, newArtifactsDir, packagedVsix, repoRoot } from './tools.mjs';

type Tools = Awaited<ReturnType<typeof ensureTools>>;
type Server = Awaited<ReturnType<typeof startCodeServer>>;

const HOSTILE_NAME = '<img src=x onerror=alert(1)>.md';

/** The sample workspace, plus a document whose name and content are markup. */
function workspace(): string {
  const ws = join(tempDir(undefined, 'rag-ledger-e2e-explorer-'), 'harbor');
  cpSync(join(repoRoot, 'test', 'fixtures', 'sample-workspace'), ws, { recursive: true });
  writeFileSync(join(ws, 'docs', HOSTILE_NAME), '# Beware of <script>document.title="pwned"</script>\n\nA segment of the log is <b onmouseover="document.title=1">kept</b> for seven days.\n');
  return ws;
}

const explorerFrame = (page: Page): FrameLocator => page.frameLocator('iframe.webview.ready').frameLocator('#active-frame');

/** The explorer's content frame, to evaluate in it (a webview is two frames deep). */
async function contentFrame(page: Page): Promise<Frame> {
  for (let i = 0; i < 100; i++) {
    for (const f of page.frames()) {
      if (!f.url().includes('fake.html')) continue;
      if (await f.locator('rl-explorer').count().catch(() => 0)) return f;
    }
    await page.waitForTimeout(100);
  }
  throw new Error('the explorer webview frame was not found');
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
    'workbench.colorTheme': 'Default Dark Modern',
  };
}

/**
 * Changes a numeric user setting in the Settings editor, as a user would, and waits until it is
 * written. (Editing settings.json from outside is not seen here: code-server's file watcher does
 * not report it, so the change has to go through the editor.)
 */
async function changeSetting(page: Page, userDataDir: string, id: string, title: RegExp, value: number): Promise<void> {
  const file = join(userDataDir, 'User', 'settings.json');
  const written = (): boolean => {
    try {
      return (JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>)[id] === value;
    } catch {
      return false; // caught while the editor rewrites it (empty or half-written): not yet
    }
  };
  await runCommand(page, 'Preferences: Open User Settings');
  const editor = page.locator('.settings-editor');
  await editor.locator('.settings-header').waitFor({ timeout: 15_000 });
  // The search box has the focus when the editor opens (it is a Monaco editor: typed into, not filled).
  await page.keyboard.type(id);
  // The row of that setting (while the search settles other rows come and go).
  const input = editor.locator('.setting-item-contents', { has: page.locator('.setting-item-title', { hasText: title }) }).locator('input').first();
  for (let attempt = 0; !written(); attempt++) {
    if (attempt === 3) throw new Error(`e2e: ${id} was not written to ${file}: ${readFileSync(file, 'utf8')}`);
    await input.waitFor({ timeout: 15_000 });
    await input.fill(String(value));
    await input.press('Tab');
    const deadline = Date.now() + 5_000;
    while (!written() && Date.now() < deadline) await page.waitForTimeout(200);
  }
  await runCommand(page, 'View: Close Editor');
  // The editor behind it (a webview) takes the focus back a moment later.
  await page.waitForTimeout(1500);
}

/**
 * Runs a palette command that opens a quick pick of its own, and picks the item with `item` in it by
 * keyboard (typed into the filter, Enter on the focused row). A pick that closes before it is used
 * (a webview taking the focus back) is opened again.
 */
async function commandThenPick(page: Page, command: string, item: string): Promise<void> {
  const widget = page.locator('.quick-input-widget');
  const input = widget.locator('input').first();
  const exact = new RegExp(`^\\s*${command.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s*$`);
  for (let attempt = 1; ; attempt++) {
    try {
      if (await widget.isVisible()) await page.keyboard.press('Escape');
      await page.keyboard.press('F1');
      await input.waitFor({ state: 'visible' });
      await input.fill(`>${command}`);
      await widget.locator('.monaco-list-row').filter({ has: page.locator('.label-name', { hasText: exact }) }).first().click({ timeout: 10_000 });
      // The command's own pick replaces the palette (its filter is empty, not ">…"); the list only
      // renders the rows in view, so the item is typed before it is looked for.
      const deadline = Date.now() + 15_000;
      while ((await input.inputValue()).startsWith('>') || !(await widget.isVisible())) {
        if (Date.now() > deadline) throw new Error(`e2e: ${command} opened no pick`);
        await page.waitForTimeout(100);
      }
      await widget.locator('.monaco-list-row').first().waitFor({ timeout: 15_000 });
      await input.fill(item);
      await widget.locator('.monaco-list-row.focused', { hasText: item }).first().waitFor({ timeout: 10_000 });
      await page.keyboard.press('Enter');
      await widget.waitFor({ state: 'hidden', timeout: 10_000 });
      return;
    } catch (err) {
      if (attempt === 3) throw err;
    }
  }
}

/** The rows the timeline grid has in the DOM, with their texts. */
async function gridRows(x: FrameLocator): Promise<string[]> {
  return x.locator('[role="grid"][aria-label="Events"] [role="row"]:not(.header):not(.loading)').allInnerTexts();
}

/** Nothing from the log ran as markup: no injected elements, no changed title, no dialog. */
async function assertInert(page: Page, frame: Frame): Promise<void> {
  // A string, not a function: the test runner's transpiler adds helpers that do not exist in the page.
  const report = await frame.evaluate<{ title: string; images: number; handlers: string[]; scripts: string[]; bold: number }>(`(() => {
    const all = [];
    const walk = (root) => {
      for (const el of Array.from(root.querySelectorAll('*'))) {
        all.push(el);
        if (el.shadowRoot) walk(el.shadowRoot);
      }
    };
    walk(document);
    return {
      title: document.title,
      images: all.filter((e) => e.tagName === 'IMG').length,
      handlers: all.filter((e) => Array.from(e.attributes).some((a) => /^on/i.test(a.name))).map((e) => e.outerHTML.slice(0, 120)),
      scripts: all.filter((e) => e.tagName === 'SCRIPT').map((e) => e.getAttribute('src') || e.textContent.slice(0, 200)),
      bold: all.filter((e) => e.tagName === 'B').length,
    };
  })()`);
  assert.notEqual(report.title, 'pwned');
  assert.deepEqual([report.images, report.handlers, report.bold], [0, [], 0], JSON.stringify(report));
  assert.ok(report.scripts.some((src) => src.endsWith('explorer.js')), JSON.stringify(report.scripts));
  assert.ok(!report.scripts.some((src) => src.includes('pwned')), 'no script from the log');
  assert.notEqual(await page.title(), 'pwned');
}

describe('the event-log explorer in a real VS Code', { timeout: 25 * 60_000 }, () => {
  let tools: Tools;
  let artifacts: string;
  let modelDir: string;
  let ollama: OllamaTestServer;
  let vsix: string;
  const servers: Server[] = [];

  before(async () => {
    tools = await ensureTools({ log: (line: string) => console.log(line) });
    artifacts = newArtifactsDir('explorer');
    modelDir = ensureTinyModel(join(tempDir(undefined, 'rag-ledger-e2e-models-'), 'models'));
    ollama = await startOllamaServer({ slowMs: 8000 });
    vsix = await packagedVsix({ log: (line: string) => console.log(line) });
  });

  after(async () => {
    for (const s of servers) await s.stop();
    await ollama?.close().catch(() => undefined);
  });

  test('browse, filter, open, replay against a shadow version, compare and activate; markup stays text; light and dark; restored after a reload', async () => {
    const server = await startCodeServer({ tools, runDir: join(artifacts, 'server'), userSettings: settingsFor(modelDir, ollama), vsix });
    servers.push(server);
    const shots = join(artifacts, 'ui');
    const browser = await openBrowser({ artifactsDir: shots });
    const { page } = browser;
    const dialogs: string[] = [];
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    const ws = workspace();
    const x = explorerFrame(page);
    try {
      await captureOnFailure(page, shots, 'setup', async () => {
        await openWorkbench(page, server.baseUrl, ws);
        await waitForActivityBarItem(page, 'RAG Ledger');
        await runCommand(page, 'RAG Ledger: Ingest Workspace');
        await waitForNotification(page, /files scanned: \d+ new or changed/, { timeoutMs: 120_000 });
        await ask(page, 'how do threads send messages over a channel?');
        await page.frameLocator('iframe.webview.ready').frameLocator('#active-frame').locator('#meta', { hasText: 'answered by good' }).waitFor({ timeout: 60_000 });
        await ask(page, 'which markup does the segment doc hold?');
        await page.frameLocator('iframe.webview.ready').frameLocator('#active-frame').locator('#answer', { hasText: 'Beware' }).waitFor({ timeout: 60_000 });
        await runCommand(page, 'View: Close All Editors');
      });

      await captureOnFailure(page, shots, 'timeline', async () => {
        const started = Date.now();
        await runCommand(page, 'RAG Ledger: Open Event Log Explorer');
        await x.locator('[role="grid"][aria-label="Events"] [role="row"][aria-rowindex="2"]:not(.loading)').waitFor({ timeout: 30_000 });
        console.log(`explorer: command to first row ${Date.now() - started} ms (including the palette)`);
        const rows = await gridRows(x);
        assert.ok(rows.length > 10, `${rows.length} rows`);
        assert.match(rows[0]!, /PipelineVersionDefined|DocumentSubmitted/);
        // A new panel's page carries its first answers (init, the first pages) when the host had them
        // within 150 ms; the page then takes them instead of asking (the rows are the log's, as above).
        const opening = await (await contentFrame(page)).evaluate<{ carried: boolean; initAsked: number; initSent: number }>(
          `(() => ({ carried: document.getElementById('rl-boot') !== null, initAsked: performance.getEntriesByName('rl:init-asked').length, initSent: performance.getEntriesByName('rl:init-sent').length }))()`,
        );
        console.log(`explorer: the first answers were ${opening.carried ? 'carried by the page' : 'asked for (the host took longer than 150 ms)'}`);
        assert.deepEqual(opening, { carried: opening.carried, initAsked: 1, initSent: opening.carried ? 0 : 1 });
        await x.locator('rl-density svg').first().waitFor();
        await screenshot(page, shots, 'explorer-timeline-dark');
      });

      await captureOnFailure(page, shots, 'filters', async () => {
        // By text: the words of a question and its answer.
        const search = x.locator('rl-filter-bar vscode-textfield.search input').first();
        await search.fill('channel');
        await x.locator('.chip', { hasText: 'channel' }).waitFor({ timeout: 15_000 });
        await page.waitForTimeout(500);
        const texts = await gridRows(x);
        assert.ok(texts.length > 0 && texts.every((t) => /channel|Channel/.test(t) || /DocumentChunked|DocumentSubmitted|InferenceCompleted|QueryReceived/.test(t)), JSON.stringify(texts));
        assert.ok(texts.some((t) => t.includes('QueryReceived')), 'the question is found by its words');
        await screenshot(page, shots, 'explorer-search');
        await x.locator('button.link', { hasText: 'Clear all' }).click();
        // By type: only the questions' answers.
        const types = x.locator('rl-filter-bar vscode-multi-select').first();
        await types.click();
        await types.locator('li[role="option"]', { hasText: 'InferenceCompleted' }).first().click();
        await page.keyboard.press('Escape');
        await x.locator('.chip', { hasText: 'InferenceCompleted' }).waitFor({ timeout: 15_000 });
        await page.waitForTimeout(500);
        const answers = await gridRows(x);
        assert.equal(answers.length, 2, JSON.stringify(answers));
        assert.ok(answers.every((t) => t.includes('InferenceCompleted')));
        await screenshot(page, shots, 'explorer-type-filter');
      });

      await captureOnFailure(page, shots, 'detail', async () => {
        // Keyboard only: focus the grid, move, open, follow the causation link.
        await x.locator('[role="grid"][aria-label="Events"]').focus();
        await page.keyboard.press('Home');
        await page.keyboard.press('Enter');
        const detail = x.locator('rl-event-detail');
        await detail.locator('text=InferenceCompleted').first().waitFor({ timeout: 15_000 });
        for (const label of ['Event id', 'Hash', 'Previous hash', 'Schema']) await detail.getByText(label, { exact: false }).first().waitFor();
        await detail.locator('[role="tree"]').first().waitFor();
        await screenshot(page, shots, 'explorer-detail');
        // The answer's question chain: received, retrieved, prompted, answered.
        for (const step of ['QueryReceived', 'ContextRetrieved', 'InferenceRequested', 'InferenceCompleted']) await detail.getByText(step).first().waitFor();
        await page.keyboard.press('Escape');
        await x.locator('button.link', { hasText: 'Clear all' }).click();
        // A chunk's embedding: its causation is the chunking.
        const typesSelect = x.locator('rl-filter-bar vscode-multi-select').first();
        await typesSelect.click();
        await typesSelect.locator('li[role="option"]', { hasText: 'ChunkEmbedded' }).filter({ hasNotText: 'Failed' }).first().click();
        await page.keyboard.press('Escape');
        await x.locator('.chip', { hasText: 'ChunkEmbedded' }).waitFor({ timeout: 15_000 });
        await x.locator('[role="grid"][aria-label="Events"] [role="row"][aria-rowindex="2"]:not(.loading)').click();
        await detail.getByText('Causation').first().waitFor({ timeout: 15_000 });
        assert.equal(await detail.locator('h2').first().innerText(), 'ChunkEmbedded');
        await detail.locator('button[title="Go to the event that caused this one"]').click();
        await detail.locator('h2', { hasText: 'DocumentChunked' }).waitFor({ timeout: 15_000 });
        // Its chunks open the source file at their lines.
        await detail.locator('ul.chunks button').first().click();
        await page.locator('.tabs-container .tab.active', { hasNotText: /RAG Ledger/ }).waitFor({ timeout: 15_000 });
        await page.locator('.statusbar-item', { hasText: /Ln \d+, Col 1 \(\d+ selected\)/ }).first().waitFor({ timeout: 15_000 });
        await page.locator('.tabs-container .tab', { hasText: /Event Log|RAG Ledger/ }).first().click();
        await screenshot(page, shots, 'explorer-causation');
        await x.locator('button.link', { hasText: 'Clear all' }).click();
      });

      await captureOnFailure(page, shots, 'keyboard', async () => {
        // Keyboard only, from the view's tab strip: Tab into the grid, move, open, close, search.
        const frame = await contentFrame(page);
        const focused = (): Promise<string> =>
          frame.evaluate<string>(`(() => {
            let a = document.activeElement;
            while (a && a.shadowRoot && a.shadowRoot.activeElement) a = a.shadowRoot.activeElement;
            return a ? [a.getAttribute('role') || a.tagName.toLowerCase(), a.getAttribute('aria-label') || '', a.getAttribute('aria-activedescendant') || ''].join('|') : '';
          })()`);
        const activeRow = async (): Promise<string> => (await focused()).split('|')[2] ?? '';
        // The filters were just cleared: the grid counts the timeline again and finds the selected event.
        await x.locator('[role="grid"][aria-label="Events"][aria-busy="false"][aria-activedescendant]').waitFor({ timeout: 15_000 });
        await x.locator('[role="tab"][aria-selected="true"]').focus();
        for (let i = 0; i < 20 && !(await focused()).startsWith('grid|Events'); i++) await page.keyboard.press('Tab');
        assert.match(await focused(), /^grid\|Events/, 'Tab reaches the timeline grid');
        await page.keyboard.press('End');
        const total = Number(await x.locator('[role="grid"][aria-label="Events"]').getAttribute('aria-rowcount')) - 1;
        await x.locator(`[role="row"][aria-rowindex="${total + 1}"]:not(.loading)`).waitFor({ timeout: 15_000 });
        const last = await activeRow();
        assert.equal(await x.locator(`#${last}`).getAttribute('aria-rowindex'), String(total + 1), 'End: the last event is active');
        await page.keyboard.press('PageUp');
        assert.notEqual(await activeRow(), last, 'Page Up moves');
        await page.keyboard.press('Home');
        await x.locator('[role="row"][aria-rowindex="2"]:not(.loading)').waitFor();
        assert.equal(await x.locator(`#${await activeRow()}`).getAttribute('aria-rowindex'), '2', 'Home: the first event');
        await page.keyboard.press('ArrowDown');
        await page.keyboard.press('ArrowDown');
        await page.keyboard.press('Enter');
        await x.locator('rl-event-detail h2', { hasText: /^PipelineVersion|^Document/ }).waitFor({ timeout: 15_000 });
        await screenshot(page, shots, 'explorer-keyboard-detail');
        await page.keyboard.press('Escape');
        await x.locator('rl-event-detail').waitFor({ state: 'detached', timeout: 10_000 });
        assert.match(await focused(), /^grid\|Events/, 'Esc closes the detail and gives the grid the focus back');
        await page.keyboard.press('/');
        assert.match(await focused(), /^input\|/, '/ focuses the search field');
        await page.keyboard.type('segment');
        await x.locator('.chip', { hasText: 'segment' }).waitFor({ timeout: 15_000 });
        await x.locator('button.link', { hasText: 'Clear all' }).focus();
        await page.keyboard.press('Enter');
        await x.locator('.chip').first().waitFor({ state: 'detached', timeout: 10_000 });
      });

      await captureOnFailure(page, shots, 'markup', async () => {
        const search = x.locator('rl-filter-bar vscode-textfield.search input').first();
        await search.fill('onerror');
        await x.locator('.chip', { hasText: 'onerror' }).waitFor({ timeout: 15_000 });
        await page.waitForTimeout(800);
        const rows = await gridRows(x);
        assert.ok(rows.some((t) => t.includes(HOSTILE_NAME)), `the file name shows as text: ${JSON.stringify(rows)}`);
        assert.ok(rows.some((t) => t.includes('InferenceCompleted')), 'the answer with markup is found');
        await x.locator('[role="grid"][aria-label="Events"] [role="row"]', { hasText: 'InferenceCompleted' }).first().click();
        await x.locator('rl-event-detail').getByText('document.title', { exact: false }).first().waitFor({ timeout: 15_000 });
        await assertInert(page, await contentFrame(page));
        await screenshot(page, shots, 'explorer-markup-as-text');
        await x.locator('button.link', { hasText: 'Clear all' }).click();
      });

      await captureOnFailure(page, shots, 'shadow', async () => {
        // A second chunking: changing the setting defines a version; build it in the shadow.
        await changeSetting(page, server.userDataDir, 'ragLedger.chunking.markdownMaxChars', /Markdown Max Chars/i, 200);
        // The question names the new version; its buttons are in the toast (or the centre once it hides).
        await waitForNotification(page, /define pipeline version/, { timeoutMs: 90_000 });
        const build = page.locator('.notification-toast, .notifications-center', { hasText: 'Build in the Shadow' }).locator('a.monaco-button, .monaco-button', { hasText: 'Build in the Shadow' }).first();
        if (!(await build.isVisible())) await runCommand(page, 'Notifications: Show Notifications');
        await build.waitFor({ timeout: 60_000 });
        await build.click();
        await waitForNotification(page, /is built from the log/, { timeoutMs: 120_000 });
        await runCommand(page, 'Notifications: Clear All Notifications');
      });

      await captureOnFailure(page, shots, 'replay', async () => {
        await commandThenPick(page, 'RAG Ledger: Replay Question…', 'how do threads send messages');
        const replay = x.locator('rl-replay');
        await replay.locator('vscode-single-select').first().waitFor({ timeout: 20_000 });
        // The new version is not the active one.
        await replay.locator('vscode-single-select').first().click();
        await replay.locator('vscode-single-select [role="option"]', { hasText: /not built|settings/ }).first().click();
        await replay.locator('vscode-button', { hasText: /^Replay/ }).first().click();
        const pairs = replay.locator('[role="grid"][aria-label="Aligned pairs"] [role="row"]');
        await pairs.nth(1).waitFor({ timeout: 60_000 });
        // Custom elements keep their text in shadow roots: found with getByText, which looks inside them.
        for (const label of [/^overlap@\d+$/, /^Jaccard$/, /^RBO$/, /^mean rank shift$/]) await replay.getByText(label).first().waitFor();
        await replay.locator('[role="grid"][aria-label="Aligned pairs"]').getByText(/^(↑\d+|↓\d+|=|new|dropped)/).first().waitFor();
        await replay.locator('svg[role="img"]').first().waitFor();
        await screenshot(page, shots, 'explorer-replay-dark');
        // A re-chunked pair shows the word diff of the two texts.
        const rechunked = replay.locator('[role="grid"][aria-label="Aligned pairs"] [role="row"]', { hasText: 're-chunked' }).first();
        if (await rechunked.count()) {
          await rechunked.click();
          await replay.locator('ins, del').first().waitFor({ timeout: 10_000 });
          await screenshot(page, shots, 'explorer-replay-rechunked');
        }
        await replay.locator('vscode-button', { hasText: /Re-answer/ }).first().click();
        await replay.getByText(/similarity/i).first().waitFor({ timeout: 60_000 });
        await replay.getByText('Threads send messages').first().waitFor();
        await replay.getByText(/similarity/i).first().scrollIntoViewIfNeeded();
        await screenshot(page, shots, 'explorer-reanswer');
      });

      await captureOnFailure(page, shots, 'compare', async () => {
        await x.locator('[role="tab"]', { hasText: /Compare/i }).click();
        const compare = x.locator('rl-compare');
        await compare.locator('vscode-button', { hasText: 'Compare' }).first().click();
        await compare.locator('[role="grid"] [role="row"]').nth(1).waitFor({ timeout: 60_000 });
        await compare.getByText(/questions/i).first().waitFor();
        assert.equal(await compare.locator('[role="grid"] [role="row"]').count(), 3, 'a header and two questions');
        await compare.locator('svg').first().waitFor();
        await screenshot(page, shots, 'explorer-compare-dark');
        await compare.locator('vscode-button', { hasText: /^Activate/ }).click();
        const dialog = page.locator('.monaco-dialog-box');
        await dialog.waitFor({ timeout: 15_000 });
        assert.match(await dialog.innerText(), /mean overlap@\d/);
        await dialog.locator('a.monaco-button, .monaco-button', { hasText: /^Activate/ }).first().click();
        await compare.getByText(/Activated/).first().waitFor({ timeout: 30_000 });
      });

      await captureOnFailure(page, shots, 'document', async () => {
        await (await waitForActivityBarItem(page, 'RAG Ledger')).click();
        const documents = page.locator('.pane', { has: page.locator('.pane-header', { hasText: 'Documents' }) });
        const row = (label: string) => documents.locator('.monaco-list-row', { hasText: label }).first();
        await row('docs').waitFor({ timeout: 30_000 });
        if ((await row('docs').getAttribute('aria-expanded')) !== 'true') await row('docs').click();
        await row('threads.md').click({ button: 'right' });
        const item = page.locator('.monaco-menu .action-item', { hasText: 'Show History' }).first();
        await item.waitFor({ state: 'visible', timeout: 10_000 });
        await item.hover();
        await item.click();
        const history = x.locator('rl-document-history');
        await history.getByText('docs/threads.md').first().waitFor({ timeout: 20_000 });
        await history.getByText(/v1/).first().waitFor();
        await screenshot(page, shots, 'explorer-document');
      });

      await captureOnFailure(page, shots, 'light', async () => {
        await commandThenPick(page, 'Preferences: Color Theme', 'Light Modern');
        await page.locator('.monaco-workbench.vs').waitFor({ timeout: 15_000 });
        await page.waitForTimeout(1000);
        await screenshot(page, shots, 'explorer-document-light');
        await x.locator('[role="tab"]', { hasText: /Compare/i }).click();
        await page.waitForTimeout(800);
        await screenshot(page, shots, 'explorer-compare-light');
        await x.locator('[role="tab"]', { hasText: /Timeline/i }).click();
        await x.locator('[role="grid"][aria-label="Events"] [role="row"]:not(.header):not(.loading)').first().waitFor({ timeout: 60_000 });
        await screenshot(page, shots, 'explorer-timeline-light');
        // Both high-contrast themes: borders instead of fills, the selection outlined.
        for (const [theme, css, name] of [['Dark High Contrast', 'hc-black', 'dark-hc'], ['Light High Contrast', 'hc-light', 'light-hc']] as const) {
          await commandThenPick(page, 'Preferences: Color Theme', theme);
          await page.locator(`.monaco-workbench.${css}`).waitFor({ timeout: 15_000 });
          await x.locator(css === 'hc-light' ? 'body.vscode-high-contrast-light' : 'body.vscode-high-contrast').waitFor({ state: 'attached', timeout: 15_000 });
          await x.locator('[role="grid"][aria-label="Events"] [role="row"]:not(.header):not(.loading)').nth(2).click();
          await x.locator('rl-event-detail').waitFor({ timeout: 15_000 });
          await page.waitForTimeout(800);
          await screenshot(page, shots, `explorer-timeline-${name}`);
        }
      });

      await captureOnFailure(page, shots, 'reload', async () => {
        await runCommand(page, 'Developer: Reload Window');
        await waitForActivityBarItem(page, 'RAG Ledger', { timeoutMs: 60_000 });
        await explorerFrame(page).locator('[role="grid"][aria-label="Events"] [role="row"]:not(.header):not(.loading)').first().waitFor({ timeout: 60_000 });
        await screenshot(page, shots, 'explorer-restored');
      });
      assert.deepEqual(dialogs, [], 'no browser dialog was opened (nothing ran alert)');
      // The CSP allowed everything the explorer needs: no violation was reported by any frame.
      const consoleLog = join(shots, 'console.log');
      const violations = existsSync(consoleLog) ? readFileSync(consoleLog, 'utf8').split('\n').filter((l) => /Content Security Policy|Refused to (apply|load|execute|connect)/i.test(l)) : [];
      assert.deepEqual(violations, [], 'no Content Security Policy violation');
      console.log(`screenshots: ${readdirSync(shots).filter((f) => f.endsWith('.png')).join(', ')} in ${shots}`);
    } finally {
      await browser.close();
      await server.stop();
    }
  });

  test('a 100k-event log: scrolled end to end, the DOM and the webview heap stay bounded', async () => {
    const ws = join(tempDir(undefined, 'rag-ledger-e2e-big-'), 'big');
    mkdirSync(ws, { recursive: true });
    writeFileSync(join(ws, 'README.md'), '# A big ledger\n');
    const events = await buildSyntheticStore(join(ws, '.rag-ledger'), { documents: 10_000, questions: 3_000, dimensions: 16, documentChars: 400, seed: 3 });
    console.log(`synthetic log: ${events} events`);
    assert.ok(events >= 100_000, `${events} events`);
    const server = await startCodeServer({ tools, runDir: join(artifacts, 'big-server'), userSettings: { ...settingsFor(modelDir, ollama), 'ragLedger.store.location': 'workspaceFolder', 'ragLedger.autoIngest': false }, vsix });
    servers.push(server);
    const shots = join(artifacts, 'big');
    const browser = await openBrowser({ artifactsDir: shots, extraArgs: ['--enable-precise-memory-info', '--js-flags=--expose-gc'] });
    const { page } = browser;
    const x = explorerFrame(page);
    try {
      await captureOnFailure(page, shots, 'big', async () => {
        await openWorkbench(page, server.baseUrl, ws);
        await waitForActivityBarItem(page, 'RAG Ledger');
        await page.locator('.statusbar-item', { hasText: /RAG Ledger: [\d,]+ / }).first().waitFor({ timeout: 120_000 });
        await runCommand(page, 'RAG Ledger: Open Event Log Explorer');
        const grid = x.locator('[role="grid"][aria-label="Events"]');
        await grid.locator('[role="row"]:not(.header):not(.loading)').first().waitFor({ timeout: 60_000 });
        assert.equal(await grid.getAttribute('aria-rowcount'), String(events + 1));
        const frame = await contentFrame(page);
        const heap = (): Promise<number> => frame.evaluate<number>('(() => { globalThis.gc?.(); return performance.memory.usedJSHeapSize; })()');
        const before = await heap();
        let most = 0;
        // Scroll end to end in steps, as a user dragging through the log would, letting pages load.
        const scroller = grid.locator('lit-virtualizer').first();
        for (let step = 0; step < 400; step++) {
          const done = await scroller.evaluate('(s) => { s.scrollTop += 6000; return s.scrollTop + s.clientHeight >= s.scrollHeight - 2; }');
          if (step % 20 === 0) await page.waitForTimeout(60);
          most = Math.max(most, await grid.locator('[role="row"]').count());
          if (done) break;
        }
        // The window moves as the end nears: finish by keyboard.
        await grid.focus();
        await page.keyboard.press('End');
        await grid.locator(`[role="row"][aria-rowindex="${events + 1}"]:not(.loading)`).waitFor({ timeout: 30_000 });
        most = Math.max(most, await grid.locator('[role="row"]').count());
        const afterScroll = await heap();
        console.log(`100k log: at most ${most} rows in the DOM; webview heap ${(before / 1048576).toFixed(1)} MiB before, ${(afterScroll / 1048576).toFixed(1)} MiB after scrolling end to end`);
        assert.ok(most <= 300, `${most} rows in the DOM`);
        // In code-server the webview shares its renderer's JS heap with the workbench (about 80 MiB of
        // this figure): what must hold is that scrolling 100k events leaves it flat.
        assert.ok(afterScroll - before < 20 * 1048576, `the heap grew from ${before} to ${afterScroll}`);
        assert.ok(afterScroll < 150 * 1048576, `heap ${afterScroll}`);
        await screenshot(page, shots, 'explorer-100k-end');
      });
    } finally {
      await browser.close();
      await server.stop();
    }
  });
});
