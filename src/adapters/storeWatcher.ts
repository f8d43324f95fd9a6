import { unwatchFile, watchFile } from 'node:fs';
import { join } from 'node:path';
import type { Ledger } from './ledger.js';
import { JOURNAL_FILE } from './sqljs/schema.js';

export interface StoreWatch {
  /** Stops watching. */
  dispose(): void;
}

/**
 * Watches a store's journal for appends by other processes (a second window, the CLI in the
 * terminal): when it grows, the ledger picks up the new events, catches its read models up and
 * `onChange` is told how many arrived. Polls the file's size (`intervalMs`, default 1 s), which
 * works on every file system, network shares included; one check runs at a time.
 */
export function watchStore(storeDir: string, ledger: Ledger, onChange: (added: number) => void, onError: (err: unknown) => void = () => undefined, intervalMs = 1000): StoreWatch {
  const journal = join(storeDir, JOURNAL_FILE);
  let running = false;
  let again = false;
  let disposed = false;
  const check = async (): Promise<void> => {
    if (running) {
      again = true;
      return;
    }
    running = true;
    try {
      do {
        again = false;
        const added = await ledger.events.refresh();
        if (disposed) return;
        if (added > 0) {
          await ledger.runner.catchUp();
          if (!disposed) onChange(added);
        }
      } while (again && !disposed);
    } catch (err) {
      if (!disposed) onError(err);
    } finally {
      running = false;
    }
  };
  const listener = (): void => void check();
  watchFile(journal, { interval: intervalMs, persistent: false }, listener);
  return {
    dispose() {
      disposed = true;
      unwatchFile(journal, listener);
    },
  };
}
