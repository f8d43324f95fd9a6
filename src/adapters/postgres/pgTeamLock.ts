import { hostname, userInfo } from 'node:os';
import pg from 'pg';
import type { ClientConfig } from 'pg';
import { CancelledError, StoreLockedError } from '../../core/errors.js';
import type { LockHolder } from '../../core/errors.js';
import { teamLedgerFailure } from './pgErrors.js';

export interface TeamLockOptions {
  /** Who runs the pipeline, shown to the members that wait. */
  readonly owner: string;
  /** When to stop waiting (epoch ms). */
  readonly deadline: number;
  readonly signal?: AbortSignal;
  /** Told, about twice a second, while another member holds the lock. */
  readonly onWait?: (holder: LockHolder) => void;
}

/**
 * Runs `fn` holding a team ledger's pipeline lock: a session-level advisory lock (the ledger's key,
 * sub-key 2) on a connection of its own, so that members take turns ingesting and embedding (each
 * finds the others' work in the log and does only what is missing: nothing is embedded twice). The
 * server releases it when the session ends, so a member that dies never leaves it behind. Waits,
 * polling, until `deadline`.
 * @throws StoreLockedError naming the member that holds it, when the deadline passes.
 * @throws CancelledError when `signal` aborts the wait.
 */
export async function withTeamLock<T>(config: ClientConfig, lockKey: number, location: string, fn: () => Promise<T>, options: TeamLockOptions): Promise<T> {
  const client = new pg.Client({ ...config, application_name: `${options.owner} (${userInfo().username}@${hostname()}, pid ${process.pid})`.slice(0, 63) });
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (err) {
    throw teamLedgerFailure(err, location);
  }
  try {
    for (;;) {
      if (options.signal?.aborted) throw new CancelledError('waiting for another member of the team ledger to finish its ingest');
      const got = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1, 2) AS ok', [lockKey]);
      if (got.rows[0]!.ok) break;
      const holder = await pipelineHolder(client, lockKey);
      if (Date.now() >= options.deadline) throw new StoreLockedError(location, holder);
      options.onWait?.(holder);
      await new Promise((r) => setTimeout(r, 500));
    }
    return await fn();
  } catch (err) {
    throw teamLedgerFailure(err, location);
  } finally {
    // Ending the session releases the lock.
    await client.end().catch(() => undefined);
  }
}

/** Who holds the team's pipeline lock, from the server's activity view. */
async function pipelineHolder(client: pg.Client, lockKey: number): Promise<LockHolder> {
  const r = await client.query<{ app: string | null; addr: string | null; since: string | null }>(
    `SELECT a.application_name AS app, a.client_addr::text AS addr, to_char(a.backend_start AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS since
       FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
      WHERE l.locktype = 'advisory' AND l.granted AND l.classid = ($1::int8 & 4294967295)::oid AND l.objid = 2 LIMIT 1`,
    [lockKey],
  );
  const row = r.rows[0];
  // The server's pid is not the member's: the member's own pid and host are in its application name.
  return { pid: 0, hostname: row?.addr ?? 'the server', owner: row?.app ?? 'another member of the team ledger', acquiredAt: row?.since ?? 'a moment ago' };
}
