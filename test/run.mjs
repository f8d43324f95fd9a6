// Runs the test tiers with Node's built-in test runner (TypeScript through tsx).
//   node test/run.mjs                 unit + integration + end-to-end (a real VS Code)
//   node test/run.mjs unit|int|e2e    some tiers
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const tiers = process.argv.slice(2);
const TIERS = { unit: ['.unit.test.ts'], int: ['.int.test.ts'], e2e: ['.e2e.test.mts', '.e2e.test.mjs'] };
for (const t of tiers) {
  if (!TIERS[t]) {
    console.error(`unknown tier ${t}; use ${Object.keys(TIERS).join(', ')}`);
    process.exit(2);
  }
}
const suffixes = (tiers.length > 0 ? tiers : Object.keys(TIERS)).flatMap((t) => TIERS[t]);

function walk(dir) {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? walk(p) : [p];
  });
}

const files = walk(join(root, 'test'))
  .filter((f) => suffixes.some((s) => f.endsWith(s)))
  .map((f) => relative(root, f))
  .sort();
if (files.length === 0) {
  console.error(`no test files matching ${suffixes.join(', ')}`);
  process.exit(2);
}
// dist/ (the CLI the integration tests run as a process) is built once for the run, not by each file.
const build = spawnSync(process.execPath, ['esbuild.mjs'], { cwd: root, stdio: 'inherit' });
if (build.status !== 0) {
  console.error('the build (node esbuild.mjs) failed; the tests need dist/');
  process.exit(1);
}
const result = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=spec', '--test-concurrency=2', ...files], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, NODE_OPTIONS: '', RAG_LEDGER_TEST_DIST_BUILT: '1' },
});
process.exit(result.status ?? 1);
