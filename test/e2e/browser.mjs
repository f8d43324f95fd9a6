// Drives the VS Code workbench served by code-server with Debian's Chromium through playwright-core.
//
// The helpers here know the workbench's DOM: the activity bar, the command palette (quick input) and
// the notification centre. The server runs with the smoke-test driver enabled, which suppresses
// notification toasts; messages are still announced through the screen-reader alert element
// (.monaco-alert) and listed in the notification centre, and notifications() reads both.

import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { CHROMIUM } from './tools.mjs';

/** @typedef {import('playwright-core').Page} Page */
/** @typedef {import('playwright-core').Locator} Locator */
/** @typedef {import('playwright-core').BrowserContext} BrowserContext */

/** Chromium flags for a headless, offline, container-friendly browser. */
export const CHROMIUM_ARGS = Object.freeze([
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
]);

/**
 * Log lines that are expected on an offline machine and say nothing about the extension: look-ups
 * of the extension gallery (open-vsx.org) and telemetry hosts, the missing `vsda` signing module,
 * the GitHub sign-in provider timing out, chat/agent features that are switched off, work that VS Code
 * cancels when a page is left (the harness reloads the workbench between runs), and a harmless
 * complaint of Debian's chromium wrapper script.
 */
export const NOISE_PATTERNS = Object.freeze([
  /open-vsx\.org/i,
  /telemetry/i,
  /vsda/i,
  /github.*(auth|sign|session)|(auth|sign|session).*github/i,
  /ChatModelSelection|AgentHost|AccountPolicyGate|RemoteAgentHostProtocol/,
  /ENOTFOUND|ERR_NAME_NOT_RESOLVED|ERR_INTERNET_DISCONNECTED/,
  /Canceled: Canceled/,
  /Long running operations during shutdown/,
  /IndexedDB database '[^']*' is closed/,
  /unexpected operator/,
]);

/**
 * True for a log line matched by one of NOISE_PATTERNS.
 * @param {string} line
 * @returns {boolean}
 */
export function isNoise(line) {
  return NOISE_PATTERNS.some((re) => re.test(line));
}

/**
 * Launches Chromium with a fresh profile (removed again by close()).
 * Console errors and uncaught page errors (minus NOISE_PATTERNS) are appended to <artifactsDir>/console.log.
 *
 * @param {{ artifactsDir: string, headless?: boolean, viewport?: { width: number, height: number }, extraArgs?: string[] }} options
 * @returns {Promise<{ context: BrowserContext, page: Page, close: () => Promise<void> }>}
 */
export async function openBrowser({ artifactsDir, headless = true, viewport = { width: 1400, height: 900 }, extraArgs = [] }) {
  mkdirSync(artifactsDir, { recursive: true });
  const consoleLog = join(artifactsDir, 'console.log');
  const profileDir = mkdtempSync(join(tmpdir(), 'rag-ledger-chromium-'));
  const context = await chromium.launchPersistentContext(profileDir, {
    executablePath: CHROMIUM,
    headless,
    viewport,
    args: [...CHROMIUM_ARGS, ...extraArgs],
    // Chromium keeps crash reports and caches under XDG folders, not in the profile: keep them there too.
    env: { ...process.env, XDG_CONFIG_HOME: join(profileDir, 'xdg-config'), XDG_CACHE_HOME: join(profileDir, 'xdg-cache') },
  });
  const record = (kind, text) => {
    if (!isNoise(text)) appendFileSync(consoleLog, `${new Date().toISOString()} ${kind} ${text}\n`);
  };
  const watch = (page) => {
    page.on('console', (msg) => {
      if (msg.type() !== 'error') return;
      const where = msg.location()?.url;
      record('console.error', where ? `${msg.text()} (${where})` : msg.text());
    });
    page.on('pageerror', (err) => record('pageerror', err.stack ?? String(err)));
  };
  context.pages().forEach(watch);
  context.on('page', watch);
  const page = context.pages()[0] ?? (await context.newPage());
  // Should the process end without close() (a signal), Playwright kills Chromium on exit; the
  // profile folder goes as well.
  const removeProfile = () => rmSync(profileDir, { recursive: true, force: true, maxRetries: 3 });
  process.on('exit', removeProfile);

  let closing;
  const close = () => {
    closing ??= (async () => {
      try {
        await context.close();
      } finally {
        process.off('exit', removeProfile);
        removeProfile();
      }
    })();
    return closing;
  };
  return { context, page, close };
}

/**
 * The vscode-remote URI of an absolute path on the server (for payload entries).
 * @param {string} baseUrl
 * @param {string} absPath
 * @returns {string}
 */
export function remoteUri(baseUrl, absPath) {
  return `vscode-remote://${new URL(baseUrl).host}${absPath}`;
}

/**
 * The workbench URL for a folder (null: an empty window) and an optional payload: the list of
 * [name, value] pairs the workbench accepts from its URL when the server runs with the smoke-test
 * driver, e.g. [['extensionDevelopmentPath', remoteUri(...)], ['skipWelcome', 'true']].
 * @param {string} baseUrl
 * @param {string | null | undefined} folder
 * @param {[string, string][]} [payload]
 * @returns {string}
 */
export function workbenchUrl(baseUrl, folder, payload) {
  const url = new URL('/', baseUrl);
  if (folder) url.searchParams.set('folder', folder);
  else url.searchParams.set('ew', 'true');
  if (payload && payload.length > 0) url.searchParams.set('payload', JSON.stringify(payload));
  return url.toString();
}

/**
 * Opens the workbench on a folder and waits until it is rendered.
 * extensionDevelopmentPath (an absolute path on this machine) loads an extension from its folder
 * without packaging it, as "Run Extension" does; it is added to the payload.
 *
 * @param {Page} page
 * @param {string} baseUrl from startCodeServer()
 * @param {string | null} folder absolute path of the workspace folder
 * @param {{ payload?: [string, string][], extensionDevelopmentPath?: string, timeoutMs?: number }} [options]
 * @returns {Promise<number>} milliseconds until the workbench was there
 */
export async function openWorkbench(page, baseUrl, folder, { payload = [], extensionDevelopmentPath, timeoutMs = 60_000 } = {}) {
  const entries = [...payload];
  if (extensionDevelopmentPath) entries.push(['extensionDevelopmentPath', remoteUri(baseUrl, extensionDevelopmentPath)]);
  if (entries.length > 0 && !entries.some(([k]) => k === 'skipWelcome')) entries.push(['skipWelcome', 'true']);
  const started = Date.now();
  await page.goto(workbenchUrl(baseUrl, folder, entries), { timeout: timeoutMs });
  await page.locator('.monaco-workbench').first().waitFor({ timeout: timeoutMs });
  return Date.now() - started;
}

/**
 * Waits for the activity-bar item whose accessible label starts with `label` (a view container's
 * title) and returns its locator, e.g. to click it.
 * @param {Page} page
 * @param {string} label
 * @param {{ timeoutMs?: number }} [options] default 60 s
 * @returns {Promise<Locator>}
 */
export async function waitForActivityBarItem(page, label, { timeoutMs = 60_000 } = {}) {
  const item = page.locator(`.activitybar [aria-label^="${cssString(label)}"]`).first();
  await item.waitFor({ state: 'visible', timeout: timeoutMs });
  return item;
}

/**
 * Runs a command through the command palette: F1, type `>title`, wait for the row whose label is
 * exactly `title` ("Category: Title" as the palette shows it), run it.
 * Retries while the command is not listed yet (extension contributions arrive shortly after the
 * workbench shows), up to timeoutMs.
 * @param {Page} page
 * @param {string} title
 * @param {{ timeoutMs?: number }} [options] default 30 s
 * @returns {Promise<void>}
 */
export async function runCommand(page, title, { timeoutMs = 30_000 } = {}) {
  const widget = page.locator('.quick-input-widget').first();
  const input = widget.locator('input').first();
  const exact = new RegExp(`^\\s*${escapeRegExp(title)}\\s*$`);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await widget.isVisible()) {
      await page.keyboard.press('Escape');
      await widget.waitFor({ state: 'hidden', timeout: 5_000 });
    }
    await page.keyboard.press('F1');
    try {
      await input.waitFor({ state: 'visible', timeout: 3_000 });
    } catch (err) {
      // A key can be swallowed while focus moves (an editor closing, a webview taking it): try again.
      if (Date.now() >= deadline) throw err;
      debug(`runCommand: the palette did not open for "${title}", pressing F1 again`);
      continue;
    }
    try {
      await input.fill(`>${title}`, { timeout: 3_000 });
    } catch (err) {
      // The palette closed as it opened (focus moving into a webview that became visible): open it again.
      if (Date.now() >= deadline) throw err;
      debug(`runCommand: the palette closed before "${title}" was typed, opening it again`);
      continue;
    }
    const row = widget.locator('.monaco-list-row').filter({ has: page.locator('.label-name', { hasText: exact }) }).first();
    try {
      await row.waitFor({ state: 'visible', timeout: Math.min(2_500, Math.max(1, deadline - Date.now())) });
    } catch (err) {
      if (Date.now() >= deadline) {
        const shown = await widget.locator('.monaco-list-row .label-name').allInnerTexts().catch(() => []);
        await page.keyboard.press('Escape').catch(() => {});
        throw new Error(`e2e: command "${title}" is not in the command palette (showing: ${JSON.stringify(shown.slice(0, 10))})`, { cause: err });
      }
      debug(`runCommand: "${title}" not listed yet, reopening the palette`);
      continue; // reopen the palette: its list is computed when it opens
    }
    if ((await row.getAttribute('class'))?.includes('focused')) await page.keyboard.press('Enter');
    else await row.click();
    await widget.waitFor({ state: 'hidden', timeout: 10_000 });
    return;
  }
}

/**
 * Texts of the notifications: everything in the notification centre plus the latest screen-reader
 * alerts (.monaco-alert), without duplicates. The centre is opened for reading and hidden again if
 * it was hidden before.
 *
 * @param {Page} page
 * @returns {Promise<string[]>}
 */
export async function notifications(page) {
  const texts = [];
  // The centre's element is created the first time it is shown, so count instead of waiting for it.
  const wasVisible = (await page.locator('.notifications-center.visible').count()) > 0;
  // The palette command is occasionally lost while the workbench is busy (an ingest running): asked again.
  for (let attempt = 1; ; attempt++) {
    if (!wasVisible) await runCommand(page, 'Notifications: Show Notifications');
    try {
      await page.locator('.notifications-center.visible').waitFor({ timeout: 10_000 });
      break;
    } catch (err) {
      if (wasVisible || attempt >= 3) throw err;
    }
  }
  texts.push(...(await page.locator('.notifications-center .notification-list-item-message').allInnerTexts()));
  if (!wasVisible) await hideNotificationCentre(page);
  for (const alert of await page.locator('.monaco-alert').allTextContents()) {
    const text = alert.trim();
    if (text && !texts.some((t) => text.includes(t.trim()))) texts.push(text);
  }
  return texts.map((t) => t.trim()).filter((t, i, all) => t && all.indexOf(t) === i);
}

/**
 * Hides the notification centre. Its "Hide Notifications" button is the first choice; while the
 * centre is still animating in (or a toast covers the header) the button can be present but not
 * visible, so Escape inside the centre and then the palette command are the fallbacks.
 * @param {Page} page
 * @returns {Promise<void>}
 */
async function hideNotificationCentre(page) {
  const open = page.locator('.notifications-center.visible');
  const closed = async (timeout) => {
    try {
      await open.waitFor({ state: 'detached', timeout });
      return true;
    } catch {
      return false;
    }
  };
  const attempts = [
    () => page.locator('.notifications-center-header .codicon-notifications-hide').first().click({ timeout: 3_000 }),
    async () => {
      await open.first().focus({ timeout: 3_000 });
      await page.keyboard.press('Escape');
    },
    () => runCommand(page, 'Notifications: Hide Notifications', { timeoutMs: 10_000 }),
  ];
  for (const attempt of attempts) {
    try {
      await attempt();
    } catch {
      // try the next way
    }
    if (await closed(3_000)) return;
  }
  throw new Error('e2e: the notification centre stayed open (button, Escape and the palette command all failed)');
}

/**
 * Forgets the notifications shown so far ("Notifications: Clear All Notifications", and the
 * screen-reader alerts emptied), so that the next waitForNotification() only sees new ones.
 * @param {Page} page
 * @returns {Promise<void>}
 */
export async function clearNotifications(page) {
  await runCommand(page, 'Notifications: Clear All Notifications');
  await page.locator('.monaco-alert').evaluateAll((alerts) => alerts.forEach((a) => (a.textContent = '')));
}

/**
 * Waits until a notification containing `text` (a string or RegExp) has been shown and returns its
 * text. Watches the screen-reader alert (instant) and the notification centre (checked every few
 * seconds, since a later alert can replace the one we want). Notifications shown earlier count too:
 * call clearNotifications() first when the same message can appear twice.
 * @param {Page} page
 * @param {string | RegExp} text
 * @param {{ timeoutMs?: number }} [options] default 30 s
 * @returns {Promise<string>}
 */
export async function waitForNotification(page, text, { timeoutMs = 30_000 } = {}) {
  const deadline = Date.now() + timeoutMs;
  const matches = (t) => (typeof text === 'string' ? t.includes(text) : text.test(t));
  const alert = page.locator('.monaco-alert', { hasText: text });
  for (;;) {
    try {
      await alert.first().waitFor({ state: 'attached', timeout: Math.min(3_000, Math.max(1, deadline - Date.now())) });
      return (await alert.first().textContent())?.trim() ?? '';
    } catch {
      // not announced (or already replaced): look in the notification centre
    }
    const found = (await notifications(page)).find(matches);
    if (found !== undefined) return found;
    if (Date.now() >= deadline) throw new Error(`e2e: no notification matching ${String(text)} within ${timeoutMs / 1000} s (seen: ${JSON.stringify(await notifications(page))})`);
  }
}

/**
 * Saves a screenshot of the page as <artifactsDir>/<NN>-<name>.png (NN counts up per folder so the
 * files sort in the order they were taken) and returns the path.
 * @param {Page} page
 * @param {string} artifactsDir
 * @param {string} name
 * @returns {Promise<string>}
 */
export async function screenshot(page, artifactsDir, name) {
  mkdirSync(artifactsDir, { recursive: true });
  const n = (shotCounters.get(artifactsDir) ?? 0) + 1;
  shotCounters.set(artifactsDir, n);
  const file = join(artifactsDir, `${String(n).padStart(2, '0')}-${name.replace(/[^\w.-]+/g, '_')}.png`);
  await page.screenshot({ path: file });
  return file;
}

/**
 * Runs fn(); if it throws, saves a screenshot and the page's HTML as failure artifacts named after
 * `name` and rethrows.
 * @template T
 * @param {Page} page
 * @param {string} artifactsDir
 * @param {string} name
 * @param {() => Promise<T>} fn
 * @returns {Promise<T>}
 */
export async function captureOnFailure(page, artifactsDir, name, fn) {
  try {
    return await fn();
  } catch (err) {
    try {
      await screenshot(page, artifactsDir, `FAILED-${name}`);
      appendFileSync(join(artifactsDir, `FAILED-${name.replace(/[^\w.-]+/g, '_')}.html`), await page.content());
    } catch {
      // the page may be gone; the original error matters more
    }
    throw err;
  }
}

const shotCounters = new Map();

/** Progress details on stderr when RAG_LEDGER_E2E_DEBUG is set. */
function debug(message) {
  if (process.env.RAG_LEDGER_E2E_DEBUG) console.error(`[e2e ${new Date().toISOString()}] ${message}`);
}

function escapeRegExp(s) {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function cssString(s) {
  return s.replace(/["\\]/g, '\\$&');
}

/**
 * Palette → "RAG Ledger: Ask a Question" → the question typed into the input box the command opens.
 * @param {Page} page
 * @param {string} question
 * @returns {Promise<void>}
 */
export async function askQuestion(page, question) {
  const widget = page.locator('.quick-input-widget');
  const input = widget.locator('input').first();
  const deadline = Date.now() + 30_000;
  for (;;) {
    await page.keyboard.press('F1');
    await input.waitFor({ state: 'visible' });
    await input.fill('>RAG Ledger: Ask a Question');
    try {
      await widget.locator('.monaco-list-row', { hasText: 'RAG Ledger: Ask a Question' }).first().waitFor({ timeout: Math.min(2_500, Math.max(1, deadline - Date.now())) });
      break;
    } catch (err) {
      // The palette's list is computed when it opens: one opened while the extension host was still
      // starting (after a reload) never lists the command. Close it and open it again.
      if (Date.now() >= deadline) throw err;
      debug('askQuestion: the command is not listed yet, reopening the palette');
      await page.keyboard.press('Escape');
      await widget.waitFor({ state: 'hidden', timeout: 5_000 }).catch(() => {});
    }
  }
  await page.keyboard.press('Enter');
  // The command's own input box replaces the palette: its title says so.
  await widget.locator('.quick-input-title', { hasText: 'RAG Ledger: Ask a Question' }).waitFor({ timeout: 15_000 });
  await input.fill(question);
  await page.keyboard.press('Enter');
}

/**
 * The store the extension created under a code-server's data folder (a `store` folder holding an
 * events.journal), or null. Read-only: readers never wait for the window's lock.
 * @param {string} dir
 * @returns {string | null}
 */
export function findStore(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (!entry.isDirectory()) continue;
    if (entry.name === 'store' && existsSync(join(p, 'events.journal'))) return p;
    const found = findStore(p);
    if (found) return found;
  }
  return null;
}

/**
 * A view of the RAG Ledger side bar ("Documents", "Questions", …), the side bar opened unless it is
 * showing already (its activity-bar item toggles it).
 * @param {Page} page
 * @param {string} title
 * @returns {Promise<Locator>}
 */
export async function ragLedgerView(page, title) {
  const view = page.locator('.pane', { has: page.locator('.pane-header', { hasText: title }) });
  if (!(await view.first().isVisible())) await (await waitForActivityBarItem(page, 'RAG Ledger')).click();
  await view.first().waitFor({ timeout: 15_000 });
  return view;
}
