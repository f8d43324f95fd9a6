// Runs tests inside VS Code's extension host (mocha through test/e2e/hostIndex.cjs, or any module
// exporting run()), in code-server opened by Chromium.
//
// code-server does not accept --extensionDevelopmentPath/--extensionTestsPath on its command line, but
// with the smoke-test driver enabled the workbench reads them from the `payload` parameter of its URL.
// It then loads the extension from its folder, calls run() of the tests module in the extension host,
// forwards the extension host's console to window.codeAutomationLog(type, args) and reports the
// result through window.codeAutomationExit(code): 0 when run() resolved, 1 when it rejected.
// Both functions are provided by Playwright (exposeFunction) before the page navigates.

import { appendFileSync } from 'node:fs';
import { format } from 'node:util';
import { isNoise, remoteUri, workbenchUrl } from './browser.mjs';

/** Per page: the handlers of the run in progress (exposeFunction works only once per name and page). */
const hooks = new WeakMap();

async function installHooks(page) {
  let h = hooks.get(page);
  if (h) return h;
  h = { onLog: () => {}, onExit: () => {} };
  hooks.set(page, h);
  await page.exposeFunction('codeAutomationLog', (type, args) => h.onLog(type, args));
  await page.exposeFunction('codeAutomationExit', (code) => h.onExit(code));
  return h;
}

/** One console message of the workbench as plain text: printf-style formatting, CSS styling removed. */
function toLine(args) {
  const list = Array.isArray(args) ? args : [args];
  let line = format(...list);
  // "%c[Extension Host] color: blue message" -> "[Extension Host] message"
  line = line.replace(/%c/g, '').replace(/\s*(?:color|font-weight|background)\s*:\s*[^;\s]+;?/g, ' ').replace(/\s{2,}/g, ' ');
  return line.trim();
}

/**
 * Loads the extension from extensionDevelopmentPath in a fresh workbench on `folder`, runs the tests
 * module inside the extension host and waits for it to finish.
 *
 * Afterwards the page is navigated to about:blank, which ends the test window's extension host (the
 * extension's deactivate() runs) and keeps its shutdown chatter out of the next run's log; pass
 * keepPage: true to look at the test window instead (e.g. for a screenshot). Open the workbench again
 * (openWorkbench) before driving the UI. baseUrl or port identifies the server (one is enough).
 *
 * @param {object} options
 * @param {import('playwright-core').Page} options.page from openBrowser()
 * @param {string} [options.baseUrl] from startCodeServer()
 * @param {number} [options.port] from startCodeServer()
 * @param {string | null} options.folder absolute path of the workspace folder to open
 * @param {string} options.extensionDevelopmentPath absolute path of the extension's folder
 * @param {string} options.extensionTestsPath absolute path of a CommonJS module exporting run()
 * @param {number} [options.timeoutMs] default 180 000
 * @param {string} [options.logFile] every log line (noise included) is appended here
 * @param {(line: string) => void} [options.onLog] called with each line that is not noise
 * @param {boolean} [options.keepPage] leave the test window open (default false)
 * @returns {Promise<{ exitCode: number, log: string[] }>} log: the lines that are not noise
 */
export async function runExtensionHostTests({ page, baseUrl, port, folder, extensionDevelopmentPath, extensionTestsPath, timeoutMs = 180_000, logFile, onLog, keepPage = false }) {
  baseUrl ??= `http://127.0.0.1:${port}`;
  const hooksOfPage = await installHooks(page);
  const log = [];
  let settle;
  const finished = new Promise((resolve) => (settle = resolve));
  hooksOfPage.onLog = (_type, args) => {
    const line = toLine(args);
    if (logFile) appendFileSync(logFile, `${line}\n`);
    if (!line || isNoise(line)) return;
    log.push(line);
    onLog?.(line);
  };
  hooksOfPage.onExit = (code) => settle({ exitCode: Number(code) });
  const onCrash = () => settle({ error: new Error('e2e: the browser page crashed while the extension host tests ran') });
  const onClose = () => settle({ error: new Error('e2e: the browser page closed while the extension host tests ran') });
  page.on('crash', onCrash);
  page.on('close', onClose);

  const payload = [
    ['extensionDevelopmentPath', remoteUri(baseUrl, extensionDevelopmentPath)],
    ['extensionTestsPath', remoteUri(baseUrl, extensionTestsPath)],
    ['skipWelcome', 'true'],
  ];
  let timer;
  const timeout = new Promise((resolve) => {
    timer = setTimeout(() => resolve({ timedOut: true }), timeoutMs);
  });
  try {
    await page.goto(workbenchUrl(baseUrl, folder, payload), { timeout: timeoutMs });
    const result = await Promise.race([finished, timeout]);
    if (result.timedOut) {
      throw new Error(
        `e2e: extension host tests did not finish within ${timeoutMs / 1000} s (${extensionTestsPath}); last log lines:\n${log.slice(-30).join('\n') || '(none)'}`,
      );
    }
    if (result.error) throw result.error;
    return { exitCode: result.exitCode, log };
  } finally {
    clearTimeout(timer);
    page.off('crash', onCrash);
    page.off('close', onClose);
    hooksOfPage.onLog = () => {};
    hooksOfPage.onExit = () => {};
    if (!keepPage && !page.isClosed()) await page.goto('about:blank').catch(() => {});
  }
}
