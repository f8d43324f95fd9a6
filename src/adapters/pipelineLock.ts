import { StoreLockedError } from '../core/errors.js';
import { CancelledError } from '../core/errors.js';
import type { LockHolder } from '../core/errors.js';
import type { Ledger } from './ledger.js';
import { StoreLock } from './sqljs/storeLock.js';

/** The lock of a store's pipeline: one process at a time ingests, embeds and indexes. */
export const PIPELINE_LOCK_FILE = 'pipeline.lock';

export interface PipelineLockOptions {
  /** Who runs the pipeline (shown to the processes that wait). */
  readonly owner: string;
  /** Told, about once a second, while another process runs the pipeline. */
  readonly onWait?: (holder: LockHolder) => void;
  readonly signal?: AbortSignal;
  /** How long to wait for another process's run before giving up. Default 30 minutes. */
  readonly waitMs?: number;
}

/**
 * Runs `fn` as the only process running this store's pipeline. Two processes ingesting at once
 * (two windows on one workspace, a window and the CLI) would both see a new file as new and both
 * record and embed it: instead the second waits (saying who it waits for, cancellable), then
 * catches up with the log and the read models, so it finds the first one's work done and does only
 * what is still missing. The lock is renewed while held, so another host sharing the folder never
 * takes it for stale during a long run.
 */
export async function withPipelineLock<T>(storeDir: string, ledger: Ledger, options: PipelineLockOptions, fn: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + (options.waitMs ?? 30 * 60 * 1000);
  let lock: StoreLock | undefined;
  while (!lock) {
    if (options.signal?.aborted) throw new CancelledError('waiting for another process to finish its ingest');
    try {
      lock = await StoreLock.acquireAsync(storeDir, options.owner, { file: PIPELINE_LOCK_FILE, waitMs: Math.min(1000, Math.max(0, deadline - Date.now())) });
    } catch (err) {
      if (!(err instanceof StoreLockedError) || Date.now() >= deadline) throw err;
      options.onWait?.(err.holder);
    }
  }
  const renew = setInterval(() => lock.renew(), 10_000);
  renew.unref();
  try {
    const run = async (): Promise<T> => {
      await ledger.events.refresh();
      await ledger.runner.catchUp();
      return fn();
    };
    // A member of a team ledger also takes turns with the other members' pipelines (see PgEventStore.withTeamLock).
    if (ledger.events.withTeamLock) return await ledger.events.withTeamLock(run, { ...options, deadline });
    return await run();
  } finally {
    clearInterval(renew);
    lock.release();
  }
}
