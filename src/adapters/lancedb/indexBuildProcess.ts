import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type * as lancedb from '@lancedb/lancedb';
import { IndexBuildFailedError, IndexBuildTimeoutError } from '../../core/errors.js';
import { withBuildDeadline } from './buildDeadline.js';
import { applyIndexBuild } from './indexBuildOps.js';
import type { IndexBuildReply, IndexBuildRequest } from './indexBuildRequest.js';

/**
 * Tables with at least this many rows are indexed in a build process of their own: building over a
 * million rows holds hundreds of MB that a process keeps after the build (measured: the extension
 * host stayed ~300 MB larger), and a native build in this process cannot be stopped at its deadline.
 * Smaller tables are indexed here (starting a process costs about half a second).
 */
export const OUT_OF_PROCESS_FROM_ROWS = 50_000;

/** What starts the build process: the bundled dist/lanceBuild.js, or the source through tsx (tests, benchmarks). */
function childArgs(): string[] {
  const bundled = join(__dirname, 'lanceBuild.js');
  if (existsSync(bundled)) return [bundled];
  const source = join(__dirname, 'lanceBuildChild.ts');
  const tsx = createRequire(__filename).resolve('tsx/cjs');
  return ['-e', `require(${JSON.stringify(tsx)}); require(${JSON.stringify(source)});`];
}

/**
 * Builds an index (or optimises a table) with a deadline. With `outOfProcess`, in a child process
 * that is killed at the deadline; else here, where a build past its deadline is abandoned but goes on.
 */
export async function runIndexBuild(what: string, where: string, ms: number, request: IndexBuildRequest, here: { readonly table: lancedb.Table; readonly outOfProcess: boolean }): Promise<void> {
  if (!here.outOfProcess) return withBuildDeadline(what, where, ms, () => applyIndexBuild(here.table, request.op));
  return new Promise<void>((resolve, reject) => {
    // glibc's per-thread arenas kept ~250 MB more after an IVF build than two arenas; a child can set it.
    const env = { ...process.env, ELECTRON_RUN_AS_NODE: '1', MALLOC_ARENA_MAX: process.env.MALLOC_ARENA_MAX ?? '2' };
    const child = spawn(process.execPath, childArgs(), { stdio: ['ignore', 'ignore', 'pipe', 'ipc'], env, windowsHide: true });
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString('utf8')).slice(-4000);
    });
    let done = false;
    const finish = (err?: Error): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (err) reject(err);
      else resolve();
    };
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      finish(new IndexBuildTimeoutError(what, where, Math.round(ms / 100) / 10));
    }, ms);
    child.on('message', (m: IndexBuildReply) => finish(m.ok ? undefined : new IndexBuildFailedError(what, where, m.message)));
    child.on('error', (err) => finish(new IndexBuildFailedError(what, where, `its process could not run: ${err.message}`)));
    // 'close', not 'exit': it comes after the IPC channel has delivered every message the child sent.
    child.on('close', (code, signal) => {
      const last = stderr.trim().split('\n').filter((l) => !/\bWARN\b/.test(l)).at(-1);
      finish(new IndexBuildFailedError(what, where, `its process ended (${signal ?? `exit code ${code}`}) before it finished${last ? `: ${last.slice(0, 300)}` : ''}`));
    });
    child.send(request);
  });
}
