// Test entry point inside VS Code's extension host (the module passed as extensionTestsPath).
//
// run() runs mocha over every test/e2e/host/*.host.test.cjs file, in name order. The files use
// mocha's TDD interface: suite(), test(), suiteSetup(), suiteTeardown(), setup(), teardown().
// They are CommonJS because the `vscode` module is only available through require() there:
//
//   const assert = require('node:assert/strict');
//   const vscode = require('vscode');
//   suite('commands', () => {
//     test('are registered', async () => { ... });
//   });
//
// Each test may take 60 s. Output goes through console.log, which the extension host forwards to
// the workbench and extensionHost.mjs collects: one line per test, then every failure with its error.
//
// Environment (of the code-server process, which the extension host inherits):
//   RAG_LEDGER_E2E_HOST_TESTS  another folder to take the *.host.test.cjs files from
//   RAG_LEDGER_E2E_GREP        only run tests whose full title matches this regular expression

'use strict';

const fs = require('node:fs');
const path = require('node:path');
const mochaModule = require('mocha');

/** mocha 12 is an ES module package; through require() its namespace object arrives. */
const Mocha = mochaModule.default || mochaModule.Mocha || mochaModule;
const { EVENT_RUN_BEGIN, EVENT_RUN_END, EVENT_SUITE_BEGIN, EVENT_TEST_FAIL, EVENT_TEST_PASS, EVENT_TEST_PENDING } = Mocha.Runner.constants;

const TEST_SUFFIX = '.host.test.cjs';
const PREFIX = '[host-test]';

/** The files run() picks up: *.host.test.cjs in `dir`, sorted by name. */
function hostTestFiles(dir) {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((name) => name.endsWith(TEST_SUFFIX))
    .sort()
    .map((name) => path.join(dir, name));
}

/**
 * A mocha reporter that prints through console.log only (the extension host forwards console, not
 * process.stdout) and without colours:
 *
 *   [host-test] suite title
 *   [host-test]   ✓ test title (12 ms)
 *   [host-test]   ✗ test title
 *   [host-test] 1 passing, 1 failing, 0 pending (1.2 s)
 *   [host-test] FAIL 1) suite title test title
 *   [host-test]   AssertionError: ...stack
 */
class ConsoleReporter {
  constructor(runner) {
    const failures = [];
    let passes = 0;
    let pending = 0;
    let started = Date.now();
    const say = (line) => console.log(`${PREFIX} ${line}`);
    runner.on(EVENT_RUN_BEGIN, () => {
      started = Date.now();
    });
    runner.on(EVENT_SUITE_BEGIN, (suite) => {
      if (suite.title) say(suite.fullTitle());
    });
    runner.on(EVENT_TEST_PASS, (test) => {
      passes++;
      say(`  ✓ ${test.title} (${test.duration ?? 0} ms)`);
    });
    runner.on(EVENT_TEST_PENDING, (test) => {
      pending++;
      say(`  - ${test.title} (skipped)`);
    });
    runner.on(EVENT_TEST_FAIL, (test, err) => {
      failures.push({ title: test.fullTitle(), err });
      say(`  ✗ ${test.title}`);
    });
    runner.on(EVENT_RUN_END, () => {
      say(`${passes} passing, ${failures.length} failing, ${pending} pending (${((Date.now() - started) / 1000).toFixed(1)} s)`);
      failures.forEach(({ title, err }, i) => {
        say(`FAIL ${i + 1}) ${title}`);
        const text = (err && (err.stack || err.message)) || String(err);
        for (const line of text.split('\n')) say(`  ${line}`);
        if (err && err.showDiff !== false && 'expected' in err && 'actual' in err) {
          say(`  expected: ${safeJson(err.expected)}`);
          say(`  actual:   ${safeJson(err.actual)}`);
        }
      });
    });
  }
}

function safeJson(value) {
  try {
    return JSON.stringify(value);
  } catch {
    return String(value);
  }
}

/**
 * Runs the given test files with mocha (TDD interface) and the console reporter.
 * Resolves when all passed; rejects with "N tests failed" otherwise (VS Code then reports exit code 1).
 *
 * @param {{ files: string[], grep?: string | RegExp, timeout?: number }} options
 * @returns {Promise<void>}
 */
function runMocha({ files, grep, timeout = 60_000 }) {
  const mocha = new Mocha({ ui: 'tdd', color: false, timeout, reporter: ConsoleReporter });
  if (grep) mocha.grep(grep instanceof RegExp ? grep : new RegExp(grep));
  for (const file of files) mocha.addFile(file);
  return new Promise((resolve, reject) => {
    try {
      mocha.run((failures) => (failures > 0 ? reject(new Error(`${failures} host test(s) failed`)) : resolve()));
    } catch (err) {
      // A test file that does not load (syntax error, missing module) ends up here.
      console.error(`${PREFIX} could not run the tests: ${(err && err.stack) || err}`);
      reject(err);
    }
  });
}

/** Entry point called by VS Code: runs test/e2e/host/*.host.test.cjs (or RAG_LEDGER_E2E_HOST_TESTS). */
function run() {
  const dir = process.env.RAG_LEDGER_E2E_HOST_TESTS || path.join(__dirname, 'host');
  const files = hostTestFiles(dir);
  if (files.length === 0) {
    const message = `no *${TEST_SUFFIX} files in ${dir}`;
    console.error(`${PREFIX} ${message}`);
    return Promise.reject(new Error(message));
  }
  return runMocha({ files, grep: process.env.RAG_LEDGER_E2E_GREP || undefined });
}

module.exports = { run, runMocha, hostTestFiles };
