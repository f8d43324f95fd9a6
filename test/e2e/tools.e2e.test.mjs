// The harness's tool check: `npm start` never opens a browser, so it must not require Chromium;
// the browser tests must say clearly that it is missing.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const tools = fileURLToPath(new URL('./tools.mjs', import.meta.url));

/** Runs ensureTools in a child whose Chromium is missing (and apt-get is never tried). */
function ensureWithoutChromium(browser) {
  const script = `import(${JSON.stringify(tools)}).then((t) => t.ensureTools({ browser: ${browser} })).then((r) => console.log('ready ' + r.codeServerBin), (e) => { console.log('failed ' + e.message); process.exitCode = 3; });`;
  return spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    env: { ...process.env, RAG_LEDGER_CHROMIUM: '/nonexistent/chromium', RAG_LEDGER_E2E_NO_APT: '1' },
    encoding: 'utf8',
    timeout: 900_000,
  });
}

test('npm start needs no browser: the tools are ready without Chromium', () => {
  const r = ensureWithoutChromium(false);
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /^ready .*code-server/m);
});

test('the browser tests name the missing Chromium and how to install it', () => {
  const r = ensureWithoutChromium(true);
  assert.equal(r.status, 3, r.stdout + r.stderr);
  assert.match(r.stdout, /failed .*missing \/nonexistent\/chromium \(package chromium\).*apt-get install/);
});
