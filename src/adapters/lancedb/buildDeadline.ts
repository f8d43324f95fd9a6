import { IndexBuildTimeoutError } from '../../core/errors.js';

/** Default deadline for building or optimising one LanceDB index. */
export const DEFAULT_BUILD_TIMEOUT_MS = 600_000;

/** The deadline: the option, else $RAG_LEDGER_INDEX_BUILD_TIMEOUT (seconds), else 600 s. */
export function buildTimeoutMsFrom(option: number | undefined): number {
  if (option !== undefined && option > 0) return option;
  const env = Number(process.env.RAG_LEDGER_INDEX_BUILD_TIMEOUT);
  return Number.isFinite(env) && env > 0 ? env * 1000 : DEFAULT_BUILD_TIMEOUT_MS;
}

/**
 * Runs an index build (LanceDB createIndex / optimize) with a deadline: past it, rejects with
 * IndexBuildTimeoutError. A native build cannot be cancelled; it goes on in the background, its
 * outcome is ignored, and the index (a projection of the log) can be rebuilt later.
 */
export async function withBuildDeadline<T>(what: string, location: string, ms: number, build: () => Promise<T>): Promise<T> {
  // TEST HOOK ONLY: RAG_LEDGER_TEST_INDEX_STALL=1 makes every index build stall forever (as the
  // full-text build did on 2-core machines), so tests can exercise this deadline. Nothing else reads it.
  const running = process.env.RAG_LEDGER_TEST_INDEX_STALL === '1' ? new Promise<T>(() => undefined) : build();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new IndexBuildTimeoutError(what, location, Math.round(ms / 100) / 10)), ms);
  });
  // An abandoned build's late failure must not become an unhandled rejection.
  running.catch(() => undefined);
  try {
    return await Promise.race([running, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
