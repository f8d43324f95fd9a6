import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { repoRoot } from '../support/cli.js';
import { tempDir } from '../support/tmp.js';

const hasTaskset = spawnSync('taskset', ['-c', '0', 'true']).status === 0;
const skip = hasTaskset ? false : 'taskset is not available on this machine (util-linux): cannot limit the process to 2 CPUs';

/** The environment without a LANCE_CPU_THREADS of the user's: the entry points must set it themselves. */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra };
  delete env.LANCE_CPU_THREADS;
  return env;
}

/**
 * Preloaded into a bundle's process: stubs `vscode`, and when `@lancedb/lancedb` (or its native
 * package, for a bundle that carries LanceDB's JavaScript inside) is first required
 * prints the LANCE_CPU_THREADS the native module would start its pool with, then exits.
 */
const HOOK = `
const Module = require('node:module');
const { availableParallelism } = require('node:os');
const load = Module._load;
const stub = new Proxy(function () {}, { get: (_t, k) => (k === '__esModule' ? false : k === 'then' ? undefined : stub), apply: () => stub, construct: () => stub });
Module._load = function (request, parent, isMain) {
  if (request === 'vscode') return stub;
  // '@lancedb/lancedb' in the development bundles; its native package where LanceDB is bundled inside.
  if (request === '@lancedb/lancedb' || (request.startsWith('@lancedb/lancedb-') && !request.endsWith('package.json'))) {
    process.stdout.write('LANCE ' + JSON.stringify({ threads: process.env.LANCE_CPU_THREADS ?? null, parallelism: availableParallelism() }) + '\\n');
    process.exit(0);
  }
  return load.apply(this, arguments);
};
`;

/**
 * A development build of its own, inside the repository (so that its external packages resolve from
 * node_modules): dist/ may hold the production build while the end-to-end tests package the extension.
 */
function developmentBuild(): string {
  const out = join(repoRoot, '.test-artifacts', `dev-build-${process.pid}`);
  rmSync(out, { recursive: true, force: true });
  const built = spawnSync(process.execPath, ['esbuild.mjs', '--outdir', out], { cwd: repoRoot, encoding: 'utf8', timeout: 120_000 });
  assert.equal(built.status, 0, built.stderr);
  return out;
}

test('every development bundle that loads LanceDB sets LANCE_CPU_THREADS before the native module loads, on a 2-CPU process', { skip }, (t) => {
  const dist = developmentBuild();
  t.after(() => rmSync(dist, { recursive: true, force: true }));
  const bundles = readdirSync(dist).filter((f) => f.endsWith('.js') && readFileSync(join(dist, f), 'utf8').includes('require("@lancedb/lancedb")'));
  assert.ok(bundles.includes('extension.js') && bundles.includes('cli.js'), `bundles that load LanceDB: ${bundles.join(', ')}`);
  const hook = join(tempDir(t), 'hook.cjs');
  writeFileSync(hook, HOOK);
  for (const bundle of bundles) {
    const r = spawnSync('taskset', ['-c', '0,1', process.execPath, '--require', hook, '-e', `require(${JSON.stringify(join(dist, bundle))})`], { env: cleanEnv(), encoding: 'utf8', timeout: 60_000 });
    const line = /^LANCE (.*)$/m.exec(r.stdout)?.[1];
    assert.ok(line, `${bundle} never loaded @lancedb/lancedb (exit ${r.status}): ${r.stderr.slice(0, 500)}`);
    const seen = JSON.parse(line) as { threads: string | null; parallelism: number };
    assert.equal(seen.parallelism, 2, 'taskset limits the process to 2 CPUs');
    assert.equal(seen.threads, '4', `${bundle} loads LanceDB before setting LANCE_CPU_THREADS`);
  }
});

test('the packaged extension bundle, which carries LanceDB inside, sets LANCE_CPU_THREADS before the native binary loads, on a 2-CPU process', { skip }, (t) => {
  const out = tempDir(t);
  const built = spawnSync(process.execPath, ['esbuild.mjs', '--production', '--outdir', out], { cwd: repoRoot, encoding: 'utf8', timeout: 120_000 });
  assert.equal(built.status, 0, built.stderr);
  assert.ok(!readFileSync(join(out, 'extension.js'), 'utf8').includes('require("@lancedb/lancedb")'), 'the production bundle carries LanceDB inside');
  const hook = join(tempDir(t), 'hook.cjs');
  writeFileSync(hook, HOOK);
  const r = spawnSync('taskset', ['-c', '0,1', process.execPath, '--require', hook, '-e', `require(${JSON.stringify(join(out, 'extension.js'))})`], { env: cleanEnv(), encoding: 'utf8', timeout: 60_000 });
  const line = /^LANCE (.*)$/m.exec(r.stdout)?.[1];
  assert.ok(line, `the production extension.js never loaded LanceDB's native package (exit ${r.status}): ${r.stderr.slice(0, 500)}`);
  const seen = JSON.parse(line) as { threads: string | null; parallelism: number };
  assert.equal(seen.parallelism, 2);
  assert.equal(seen.threads, '4', 'the production extension.js loads LanceDB before setting LANCE_CPU_THREADS');
});

test('a full-text index over 40,000 chunks builds on 2 CPUs with the real adapter and the thread pool the runtime module sets', { skip }, (t) => {
  const r = spawnSync('taskset', ['-c', '0,1', process.execPath, '--import', 'tsx', join(repoRoot, 'test', 'support', 'ftsBuildChild.ts'), join(tempDir(t), 'vectors'), '40000', '20'], {
    cwd: repoRoot,
    // A hang becomes IndexBuildTimeoutError (the adapter's deadline); the spawn's own timeout is the last resort.
    env: cleanEnv({ RAG_LEDGER_INDEX_BUILD_TIMEOUT: '300' }),
    encoding: 'utf8',
    timeout: 420_000,
  });
  assert.equal(r.status, 0, `exit ${r.status} ${r.signal ?? ''}: ${r.stderr.slice(0, 2000)}`);
  const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as { parallelism: number; lanceThreads: string | null; stats: { rows: number; textIndex: boolean }; hit: string | null };
  assert.equal(out.parallelism, 2);
  assert.equal(out.lanceThreads, '4');
  assert.equal(out.stats.rows, 40_000);
  assert.equal(out.stats.textIndex, true);
  assert.equal(out.hit, 'c12345');
});
