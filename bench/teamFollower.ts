// Member B of bench/team.bench.ts. Not a benchmark itself.
//
//   node --import tsx bench/teamFollower.ts postgres|local <ledger URL or store dir> <projections dir>
//
// Follows a ledger as a member's window does: told of new events (LISTEN/NOTIFY on the team
// ledger; the store watcher on a local store), it catches its read models up and prints
// `caught <position> <epoch ms>` once its projections hold everything up to <position>. Prints
// `following` when ready; exits when its stdin ends.
import type { Ledger } from '../src/adapters/ledger.js';
import { openLedger } from '../src/adapters/ledger.js';
import { LedgerListener } from '../src/adapters/postgres/pgListener.js';
import { watchStore } from '../src/adapters/storeWatcher.js';

const [kind, where, projections] = process.argv.slice(2);

async function main(): Promise<void> {
  if ((kind !== 'postgres' && kind !== 'local') || !where || !projections) throw new Error('usage: teamFollower.ts postgres|local <where> <projections>');
  const ledger: Ledger = kind === 'postgres' ? await openLedger(projections, { mode: 'write', team: { url: where } }) : await openLedger(where, { mode: 'read' });
  await ledger.runner.catchUp();
  let running = false;
  let again = false;
  const follow = async (): Promise<void> => {
    if (running) {
      again = true;
      return;
    }
    running = true;
    try {
      do {
        again = false;
        const head = (await ledger.events.head()).position;
        await ledger.runner.catchUp();
        process.stdout.write(`caught ${head} ${performance.timeOrigin + performance.now()}\n`);
      } while (again);
    } finally {
      running = false;
    }
  };
  let stop: () => Promise<void>;
  if (kind === 'postgres') {
    const listener = new LedgerListener(where, { onHead: () => void follow() });
    await listener.start();
    stop = () => listener.stop();
  } else {
    // As the extension runs it (engineHost.ts): the watcher catches the read models up itself.
    // Its head moves only when the watcher refreshes it, just before that catch-up.
    const watch = watchStore(where, ledger, () => void ledger.events.head().then((h) => process.stdout.write(`caught ${h.position} ${performance.timeOrigin + performance.now()}\n`)));
    stop = () => Promise.resolve(watch.dispose());
  }
  process.stdout.write('following\n');
  process.stdin.resume();
  process.stdin.on('end', () => {
    void stop().then(() => ledger.close()).then(() => process.exit(0));
  });
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
