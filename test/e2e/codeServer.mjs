// Starts and stops code-server (a real VS Code server + workbench) for the end-to-end tests.
//
// Each server is isolated in a run folder:
//
//   <runDir>/user-data/         --user-data-dir (User/settings.json written fresh; VS Code logs in logs/)
//   <runDir>/extensions/        --extensions-dir (unless another folder is passed)
//   <runDir>/xdg/{config,data,cache,state}   XDG_* of the server and its children
//   <runDir>/tmp                TMPDIR of the server and its children; VS Code puts Unix sockets there,
//                               whose paths may not exceed 107 bytes, so for a runDir deeper than
//                               MAX_TMPDIR_LENGTH a short folder under /tmp is used instead (removed
//                               by stop()) and <runDir>/tmp is a symbolic link to it
//   <runDir>/server.log         the server's stdout and stderr
//
// The server listens on a free loopback port without authentication and is started in its own process
// group, so stop() can end it together with its helpers (extension hosts, pty host, file watcher).
// Every started server is also stopped when the Node process exits or gets SIGINT/SIGTERM.

import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { get } from 'node:http';
import { createServer } from 'node:net';
import { delimiter, dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { repoRoot, spawnGuarded, withoutNpmVariables } from './tools.mjs';

/** Settings that keep a fresh VS Code quiet and offline-friendly. */
export const DEFAULT_USER_SETTINGS = Object.freeze({
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'workbench.secondarySideBar.defaultVisibility': 'hidden',
  'chat.disableAIFeatures': true,
  'telemetry.telemetryLevel': 'off',
  'extensions.autoUpdate': false,
  'extensions.autoCheckUpdates': false,
});

const HEALTH_TIMEOUT_MS = 60_000;
const STOP_GRACE_MS = 5_000;

/**
 * Starts code-server and waits until it answers /healthz.
 *
 * @param {object} options
 * @param {{ node24Bin: string, codeServerBin: string }} options.tools from ensureTools()
 * @param {string} options.runDir folder for everything the server writes (created if missing)
 * @param {string} [options.extensionsDir] defaults to <runDir>/extensions
 * @param {Record<string, unknown>} [options.userSettings] merged over DEFAULT_USER_SETTINGS
 * @param {Record<string, string | undefined>} [options.env] extra environment for the server and
 *   therefore for the extension host (undefined removes a variable)
 * @param {string | string[]} [options.vsix] .vsix file(s) to install into the extensions folder first
 * @param {boolean} [options.workspaceTrust] keep VS Code's workspace trust on (default off: every
 *   workspace is trusted); with the user setting `security.workspace.trust.startupPrompt: never`,
 *   a workspace then opens in Restricted Mode
 * @returns {Promise<{ port: number, baseUrl: string, userDataDir: string, extensionsDir: string,
 *   runDir: string, logFile: string, pid: number, stop: () => Promise<void>,
 *   processes: () => { pid: number, args: string }[],
 *   waitForExtensionHostsToExit: (timeoutMs?: number) => Promise<void> }>}
 *   pid: the process group of the server (its leader watches this process and ends the group if it
 *   dies); stop(): ends the group (SIGTERM, SIGKILL after 5 s), can be called more than once;
 *   processes(): the server's live processes (its process group), e.g. to find `--type=extensionHost`;
 *   waitForExtensionHostsToExit(): resolves once no extension host runs any more (after the page
 *   left the workbench), so the next window's extension does not meet the previous one's files/locks.
 */
export async function startCodeServer({ tools, runDir, extensionsDir, userSettings = {}, env = {}, vsix = [], workspaceTrust = false }) {
  runDir = resolve(runDir);
  const userDataDir = join(runDir, 'user-data');
  extensionsDir = resolve(extensionsDir ?? join(runDir, 'extensions'));
  mkdirSync(join(userDataDir, 'User'), { recursive: true });
  mkdirSync(extensionsDir, { recursive: true });
  writeFileSync(join(userDataDir, 'User', 'settings.json'), `${JSON.stringify({ ...DEFAULT_USER_SETTINGS, ...userSettings }, null, 2)}\n`);

  for (const file of [vsix].flat()) installVsix({ tools, userDataDir, extensionsDir, vsix: file });

  const isolated = isolatedEnv(tools, runDir, env);
  const logFile = join(runDir, 'server.log');

  // The free port is found by binding port 0 and closing again; another process could take it in
  // between, so a start that fails with EADDRINUSE is retried on a new port.
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const server = launch(tools, port, userDataDir, extensionsDir, isolated.env, logFile, workspaceTrust);
    try {
      await waitForHealth(server, port, logFile);
    } catch (err) {
      await server.stop();
      if (attempt < 3 && /EADDRINUSE/.test(tail(logFile, 20))) continue;
      isolated.cleanup();
      throw err;
    }
    const stop = async () => {
      await server.stop();
      isolated.cleanup();
    };
    const processes = () => groupProcesses(server.pid);
    const waitForExtensionHostsToExit = async (timeoutMs = 15_000) => {
      const deadline = Date.now() + timeoutMs;
      const hosts = () => processes().filter((p) => p.args.includes('--type=extensionHost'));
      while (hosts().length > 0) {
        if (Date.now() > deadline) throw new Error(`e2e: extension host(s) still running after ${timeoutMs / 1000} s: ${hosts().map((p) => p.pid).join(', ')}`);
        await sleep(100);
      }
    };
    return {
      port,
      baseUrl: `http://127.0.0.1:${port}`,
      userDataDir,
      extensionsDir,
      runDir,
      logFile,
      pid: server.pid,
      stop,
      processes,
      waitForExtensionHostsToExit,
    };
  }
}

/**
 * Installs a packaged extension with `code-server --install-extension` (takes about a second).
 * The server does not need to run; install before startCodeServer() so the workbench sees it at once.
 * XDG folders and TMPDIR are put in the folder that contains userDataDir.
 *
 * @param {{ tools: { node24Bin: string, codeServerBin: string }, userDataDir: string, extensionsDir: string, vsix: string }} options
 * @returns {string} code-server's output
 */
export function installVsix({ tools, userDataDir, extensionsDir, vsix }) {
  const isolated = isolatedEnv(tools, dirname(resolve(userDataDir)), {});
  let r;
  try {
    r = spawnSync(
      tools.node24Bin,
      [tools.codeServerBin, '--user-data-dir', resolve(userDataDir), '--extensions-dir', resolve(extensionsDir), '--install-extension', resolve(vsix), '--force'],
      { env: isolated.env, encoding: 'utf8', timeout: 120_000 },
    );
  } finally {
    isolated.cleanup();
  }
  const output = `${r.stdout ?? ''}${r.stderr ?? ''}`;
  if (r.error || r.status !== 0) {
    throw new Error(`e2e: installing ${vsix} failed (${r.error?.message ?? `exit ${r.status}`}):\n${output}`);
  }
  return output;
}

/**
 * Packages an extension folder into a .vsix with @vscode/vsce from the repository's node_modules.
 * `args` are extra vsce arguments, e.g. ['--no-dependencies'].
 *
 * @param {{ extensionDir: string, outFile: string, args?: string[] }} options
 * @returns {string} outFile
 */
export function packageVsix({ extensionDir, outFile, args = [] }) {
  const vsce = join(repoRoot, 'node_modules', '@vscode', 'vsce', 'vsce');
  const r = spawnSync(process.execPath, [vsce, 'package', '--allow-missing-repository', '--skip-license', '-o', resolve(outFile), ...args], {
    cwd: extensionDir,
    encoding: 'utf8',
    timeout: 300_000,
  });
  if (r.error || r.status !== 0) {
    throw new Error(`e2e: vsce package failed in ${extensionDir} (${r.error?.message ?? `exit ${r.status}`}):\n${r.stdout}${r.stderr}`);
  }
  return resolve(outFile);
}

// ---------------------------------------------------------------------------------------------------

/** Process groups of servers that are running; stopped on exit and on SIGINT/SIGTERM. */
const running = new Set();
/** Short TMPDIR folders outside a runDir that still exist; removed on exit too. */
const outsideTmpDirs = new Set();
let hooksInstalled = false;

function killGroupNow(pgid, signal) {
  try {
    process.kill(-pgid, signal);
  } catch {
    // already gone
  }
}

function onSignal(signal) {
  onExit();
  // Keep the usual meaning of the signal: the process ends (128 + signal number).
  process.exit(signal === 'SIGINT' ? 130 : 143);
}

function onExit() {
  for (const pgid of running) killGroupNow(pgid, 'SIGKILL');
  running.clear();
  for (const dir of outsideTmpDirs) rmSync(dir, { recursive: true, force: true });
  outsideTmpDirs.clear();
}

function track(pgid) {
  running.add(pgid);
  if (!hooksInstalled) {
    hooksInstalled = true;
    process.on('exit', onExit);
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  }
}

function untrack(pgid) {
  running.delete(pgid);
  if (running.size === 0 && hooksInstalled) {
    // Without servers the signals get their default behaviour back.
    hooksInstalled = false;
    process.off('exit', onExit);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/** Live (not zombie) processes of a process group, read from /proc. */
function groupProcesses(pgid) {
  const found = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      // pid (comm) state ppid pgrp ...: comm may contain spaces, so split after the last ')'.
      const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(pgrp) !== pgid || state === 'Z') continue;
      const args = readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0').join(' ').trim();
      found.push({ pid: Number(name), args });
    } catch {
      // the process ended while we looked
    }
  }
  return found;
}

/** True while a process of the group runs (zombies waiting to be reaped do not count). */
function groupAlive(pgid) {
  return groupProcesses(pgid).length > 0;
}

/**
 * Longest TMPDIR that leaves room for VS Code's socket names (vscode-ipc-<uuid>.sock: 52 bytes)
 * within the 107 bytes a Unix socket path may have.
 */
const MAX_TMPDIR_LENGTH = 50;

/** <runDir>/tmp, or a short folder it links to when that path is too long for sockets. */
function tmpDirFor(runDir) {
  const inRun = join(runDir, 'tmp');
  if (inRun.length <= MAX_TMPDIR_LENGTH) {
    mkdirSync(inRun, { recursive: true });
    return { dir: inRun, cleanup: () => {} };
  }
  const base = tmpdir().length <= 20 ? tmpdir() : '/tmp';
  const dir = mkdtempSync(join(base, 'rl-e2e-'));
  rmSync(inRun, { recursive: true, force: true });
  try {
    symlinkSync(dir, inRun);
  } catch {
    // only a convenience for looking around
  }
  outsideTmpDirs.add(dir);
  const cleanup = () => {
    rmSync(dir, { recursive: true, force: true });
    outsideTmpDirs.delete(dir);
  };
  return { dir, cleanup };
}

/**
 * Environment of code-server: XDG folders and TMPDIR in runDir, Node 24 first on PATH.
 * Returns the environment and a cleanup function for a TMPDIR outside runDir.
 */
function isolatedEnv(tools, runDir, extra) {
  const xdg = join(runDir, 'xdg');
  const tmp = tmpDirFor(runDir);
  const env = {
    ...withoutNpmVariables(process.env),
    XDG_CONFIG_HOME: join(xdg, 'config'),
    XDG_DATA_HOME: join(xdg, 'data'),
    XDG_CACHE_HOME: join(xdg, 'cache'),
    XDG_STATE_HOME: join(xdg, 'state'),
    TMPDIR: tmp.dir,
    PATH: `${dirname(tools.node24Bin)}${delimiter}${process.env.PATH ?? ''}`,
  };
  // Options of the test process must not leak into the server (npm's script variables under
  // `npm test`, tsx loaders, a surrounding VS Code's CLI hooks that would make code-server open the
  // folder there instead).
  delete env.NODE_OPTIONS;
  delete env.ELECTRON_RUN_AS_NODE;
  for (const key of Object.keys(env)) if (key.startsWith('VSCODE_')) delete env[key];
  for (const [key, value] of Object.entries(extra)) {
    if (value === undefined) delete env[key];
    else env[key] = value;
  }
  for (const dir of [env.XDG_CONFIG_HOME, env.XDG_DATA_HOME, env.XDG_CACHE_HOME, env.XDG_STATE_HOME]) mkdirSync(dir, { recursive: true });
  return { env, cleanup: tmp.cleanup };
}

function launch(tools, port, userDataDir, extensionsDir, env, logFile, workspaceTrust = false) {
  const fd = openSync(logFile, 'a');
  const args = [
    tools.codeServerBin,
    '--bind-addr', `127.0.0.1:${port}`,
    '--auth', 'none',
    '--disable-telemetry',
    '--disable-update-check',
    ...(workspaceTrust ? [] : ['--disable-workspace-trust']),
    '--vscode-option', 'enable-smoke-test-driver', // payload URLs, codeAutomation* hooks, no toasts
    '--user-data-dir', userDataDir,
    '--extensions-dir', extensionsDir,
  ];
  // A new process group (setsid) holding the server and all its helpers, so they can be killed
  // together, led by a guard that kills the group should this process die without stopping it.
  const child = spawnGuarded(tools.node24Bin, args, { env, stdio: ['ignore', fd, fd] });
  closeSync(fd);
  child.unref(); // the exit hook below kills it; it must not keep the test process alive
  const pgid = child.pid;
  let exited = child.exitCode !== null;
  child.on('exit', () => {
    exited = true;
  });
  child.on('error', () => {
    exited = true;
  });
  if (pgid !== undefined) track(pgid);

  let stopping;
  const stop = () => {
    stopping ??= (async () => {
      if (pgid === undefined) return;
      killGroupNow(pgid, 'SIGTERM');
      const deadline = Date.now() + STOP_GRACE_MS;
      while (groupAlive(pgid) && Date.now() < deadline) await sleep(100);
      if (groupAlive(pgid)) {
        killGroupNow(pgid, 'SIGKILL');
        const hardDeadline = Date.now() + 2_000;
        while (groupAlive(pgid) && Date.now() < hardDeadline) await sleep(50);
      }
      untrack(pgid);
    })();
    return stopping;
  };
  return { pid: pgid, stop, hasExited: () => exited };
}

async function waitForHealth(server, port, logFile) {
  const started = Date.now();
  while (Date.now() - started < HEALTH_TIMEOUT_MS) {
    if (server.hasExited()) {
      throw new Error(`e2e: code-server exited before it became ready; ${logFile} ends with:\n${tail(logFile, 30)}`);
    }
    if (await healthy(port)) return;
    await sleep(150);
  }
  throw new Error(`e2e: code-server did not answer http://127.0.0.1:${port}/healthz within ${HEALTH_TIMEOUT_MS / 1000} s; ${logFile} ends with:\n${tail(logFile, 30)}`);
}

function healthy(port) {
  return new Promise((resolveHealth) => {
    const req = get({ host: '127.0.0.1', port, path: '/healthz', timeout: 2_000 }, (res) => {
      res.resume();
      resolveHealth(res.statusCode === 200);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolveHealth(false));
  });
}

function freePort() {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolvePort(port));
    });
  });
}

function tail(file, lines) {
  if (!existsSync(file)) return '(no log)';
  return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
}
