// One store shared by a VS Code window and the CLI in its integrated terminal, for real: code-server
// with the packaged .vsix, the store in the workspace (`ragLedger.store.location: workspaceFolder`,
// so <workspace>/.rag-ledger), and `node dist/cli.js` run beside the open window with the same
// embedding model. The window ingests first; while it stays open the CLI ingests new files, asks and
// verifies (each exits 0); the window's Documents and Questions views show the CLI's events without
// any reload or refresh command; the window appends again and `verify` still finds one intact chain.
// Screenshots land in .test-artifacts/e2e/<run>-sharedstore/.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Page } from 'playwright-core';
import type { OllamaTestServer } from '../support/ollamaServer.js';
import { startOllamaServer } from '../support/ollamaServer.js';
import { storeEvents } from '../support/storeEvents.js';
import { TINY_MODEL_DIMS, TINY_MODEL_ID, ensureTinyModel } from '../support/tinyModel.js';
import { tempDir } from '../support/tmp.js';
import { captureOnFailure, clearNotifications, openBrowser, openWorkbench, ragLedgerView, runCommand, screenshot, waitForActivityBarItem, waitForNotification } from './browser.mjs';
import { startCodeServer } from './codeServer.mjs';
import { ensureTools, newArtifactsDir, packagedVsix, repoRoot } from './tools.mjs';

type Server = Awaited<ReturnType<typeof startCodeServer>>;
type Browser = Awaited<ReturnType<typeof openBrowser>>;

const CLI_QUESTION = 'when does the night ferry leave the harbour?';

/** A small workspace of two notes. */
function workspace(): string {
  const ws = join(tempDir(undefined, 'rag-ledger-e2e-shared-'), 'notes');
  mkdirSync(join(ws, 'docs'), { recursive: true });
  writeFileSync(join(ws, 'README.md'), '# Notes\n\nHow the harbour office works: opening hours and keys.\n');
  writeFileSync(join(ws, 'docs', 'keys.md'), '# Keys\n\nThe key cabinet is in the back room; sign the book when you take one.\n');
  return ws;
}

/** `node dist/cli.js ARGS` in the workspace, as the integrated terminal would run it; bounded. */
function cli(cwd: string, args: string[], timeoutMs = 180_000): Promise<{ code: number | null; out: string; err: string; ms: number }> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(repoRoot, 'dist', 'cli.js'), ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out, err, ms: Date.now() - started });
    });
  });
}

/** A row of a side-bar view whose label is exactly `label`. */
function row(page: Page, view: Awaited<ReturnType<typeof ragLedgerView>>, label: string) {
  const exact = new RegExp(`^${label.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`);
  return view.locator('.monaco-list-row', { has: page.locator('.label-name', { hasText: exact }) }).first();
}

/** A folder row of a tree, expanded unless it is already. */
async function expand(folder: ReturnType<typeof row>): Promise<void> {
  await folder.waitFor({ timeout: 30_000 });
  if ((await folder.getAttribute('aria-expanded')) === 'false') await folder.click();
}

let server: Server | undefined;
let browser: Browser | undefined;
let ollama: OllamaTestServer | undefined;
let artifacts: string;
let modelDir: string;

before(async () => {
  const tools = await ensureTools({ log: (line: string) => console.log(line) });
  assert.ok(existsSync(join(repoRoot, 'dist', 'cli.js')), 'dist/cli.js is missing: run npm run build first');
  artifacts = newArtifactsDir('sharedstore');
  modelDir = ensureTinyModel(join(tempDir(undefined, 'rag-ledger-e2e-models-'), 'models'));
  ollama = await startOllamaServer();
  const vsix = await packagedVsix({ log: (line: string) => console.log(line) });
  server = await startCodeServer({
    tools,
    runDir: join(artifacts, 'server'),
    vsix,
    userSettings: {
      'ragLedger.store.location': 'workspaceFolder',
      // The window does not ingest files on its own: what the new files bring in comes from the CLI.
      'ragLedger.autoIngest': false,
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

test('the window stays open while the CLI ingests, asks and verifies on the same store: each exits 0, the views show the CLI\'s events, the window appends after it and the chain stays one', { timeout: 10 * 60_000 }, async () => {
  const { page } = browser!;
  const ws = workspace();
  const store = join(ws, '.rag-ledger');
  const shots = artifacts;
  const model = ['--embedding-model', TINY_MODEL_ID, '--embedding-dims', String(TINY_MODEL_DIMS), '--embedding-dtype', 'fp32', '--model-dir', modelDir];
  const timings: string[] = [];

  await captureOnFailure(page, shots, 'window-ingest', async () => {
    await openWorkbench(page, server!.baseUrl, ws);
    await waitForActivityBarItem(page, 'RAG Ledger');
    await runCommand(page, 'RAG Ledger: Ingest Workspace');
    await waitForNotification(page, /2 files scanned: 2 new or changed/, { timeoutMs: 120_000 });
    const documents = await ragLedgerView(page, 'Documents');
    await row(page, documents, 'README.md').waitFor({ timeout: 30_000 });
    await expand(row(page, documents, 'docs'));
    await row(page, documents, 'keys.md').waitFor({ timeout: 30_000 });
    await screenshot(page, shots, 'window-ingested');
  });
  // The window's store is the workspace's, and there is only that one.
  assert.ok(existsSync(join(store, 'events.journal')), `no store at ${store}: ${readdirSync(ws).join(', ')}`);
  const windowEvents = await storeEvents(store);
  const windowPipeline = new Set(windowEvents.flatMap((e) => (e.type === 'DocumentChunked' && e.metadata.pipeline_version ? [e.metadata.pipeline_version] : [])));
  assert.equal(windowPipeline.size, 1, `chunked under ${[...windowPipeline].join(', ')}`);

  // New files, ingested by the CLI while the window stays open.
  writeFileSync(join(ws, 'docs', 'ferry.md'), '# Ferry\n\nThe night ferry leaves the harbour at eleven and returns at dawn.\n');
  writeFileSync(join(ws, 'lighthouse.md'), '# Lighthouse\n\nThe lighthouse on the northern cape is lit at dusk.\n');
  const ingest = await cli(ws, ['ingest', ws, '--store', store, ...model]);
  timings.push(`cli ingest ${ingest.ms} ms`);
  assert.equal(ingest.code, 0, `ingest exited ${ingest.code}\n${ingest.out}\n${ingest.err}`);
  const ask = await cli(ws, ['ask', CLI_QUESTION, '--extractive', '--store', store, '--model-dir', modelDir]);
  timings.push(`cli ask ${ask.ms} ms`);
  assert.equal(ask.code, 0, `ask exited ${ask.code}\n${ask.out}\n${ask.err}`);
  const verify = await cli(ws, ['verify', '--store', store]);
  timings.push(`cli verify ${verify.ms} ms`);
  assert.equal(verify.code, 0, `verify exited ${verify.code}\n${verify.out}\n${verify.err}`);

  // The CLI recorded the new files under the same paths and the same pipeline version as the window.
  const afterCli = await storeEvents(store);
  const byCli = afterCli.filter((e) => e.metadata.actor === 'cli');
  assert.deepEqual(byCli.flatMap((e) => (e.type === 'DocumentSubmitted' ? [e.data.source] : [])).sort(), ['docs/ferry.md', 'lighthouse.md']);
  const cliPipelines = new Set(byCli.flatMap((e) => (e.type === 'DocumentChunked' && e.metadata.pipeline_version ? [e.metadata.pipeline_version] : [])));
  assert.deepEqual([...cliPipelines], [...windowPipeline], 'the CLI chunked under another pipeline version than the window');
  assert.ok(byCli.some((e) => e.type === 'QueryReceived'), `the CLI's question is not in the store: ${byCli.map((e) => e.type).join(', ')}`);

  // Without any reload or refresh command the window's views follow within seconds.
  await captureOnFailure(page, shots, 'views-follow', async () => {
    const started = Date.now();
    const documents = await ragLedgerView(page, 'Documents');
    await row(page, documents, 'lighthouse.md').waitFor({ timeout: 15_000 });
    await expand(row(page, documents, 'docs'));
    await row(page, documents, 'ferry.md').waitFor({ timeout: 15_000 });
    const questions = await ragLedgerView(page, 'Questions');
    await questions.locator('.monaco-list-row', { hasText: CLI_QUESTION }).first().waitFor({ timeout: 15_000 });
    timings.push(`views showed the CLI's events ${Date.now() - started} ms after the CLI finished`);
    await screenshot(page, shots, 'views-show-cli-events');
  });

  // The window appends after the CLI (its own ingest of a changed file), then verify: one chain.
  await captureOnFailure(page, shots, 'window-appends', async () => {
    await clearNotifications(page);
    writeFileSync(join(ws, 'README.md'), '# Notes\n\nHow the harbour office works: opening hours, keys and the ferry timetable.\n');
    await runCommand(page, 'RAG Ledger: Ingest Workspace');
    await waitForNotification(page, /4 files scanned: 1 new or changed, 3 unchanged/, { timeoutMs: 120_000 });
  });
  const again = await cli(ws, ['verify', '--store', store, '--json']);
  assert.equal(again.code, 0, `verify exited ${again.code}\n${again.out}\n${again.err}`);
  const final = await storeEvents(store);
  // The window appended after the CLI: its re-submitted README.md.
  const windowAfter = final.slice(afterCli.length).filter((e) => e.type === 'DocumentSubmitted');
  assert.deepEqual(windowAfter.map((e) => [e.type === 'DocumentSubmitted' ? e.data.source : '', /^vscode:/.test(e.metadata.actor ?? '')]), [['README.md', true]]);
  // Positions run 1..n without a gap or a fork: one chain, the window's and the CLI's events interleaved in it.
  assert.deepEqual(final.map((e) => e.position), final.map((_, i) => i + 1));
  const report = JSON.parse(again.out) as { ok: boolean; checked: number; headPosition: number };
  assert.deepEqual([report.ok, report.checked, report.headPosition], [true, final.length, final.length], again.out);
  await screenshot(page, shots, 'final');
  console.log(`${timings.join('; ')}\nscreenshots in ${shots}`);
});
