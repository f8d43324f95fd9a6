import type { Io } from '../../src/cli/cliSupport.js';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

export const repoRoot = join(__dirname, '..', '..');
export const cliPath = join(repoRoot, 'dist', 'cli.js');

/**
 * Builds dist/ (extension and CLI) from the current sources, unless test/run.mjs built it for the
 * whole run (RAG_LEDGER_TEST_DIST_BUILT). A build replaces each file whole, so a CLI started by
 * another test file meanwhile runs the old bundle or the new one.
 */
export function buildDist(): void {
  if (process.env.RAG_LEDGER_TEST_DIST_BUILT === '1') return;
  const r = spawnSync(process.execPath, ['esbuild.mjs'], { cwd: repoRoot, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`build failed: ${r.stderr}`);
}

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the bundled CLI as a real process. */
export function cli(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): CliResult {
  const r = spawnSync(process.execPath, [cliPath, ...args], {
    cwd: options.cwd ?? repoRoot,
    env: { ...process.env, RAG_LEDGER_STORE: '', ...options.env },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** An in-process Io for runCli that records what the command writes. */
export function recordingIo(cwd: string): Io & { readonly stdout: () => string; readonly stderr: () => string } {
  let out = '';
  let err = '';
  return {
    out: (text) => {
      out += text;
      return true;
    },
    drain: async () => {},
    err: (text) => {
      err += text;
    },
    env: { RAG_LEDGER_STORE: '' },
    cwd,
    tty: false,
    stdout: () => out,
    stderr: () => err,
  };
}
