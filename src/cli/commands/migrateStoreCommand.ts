import { resolve } from 'node:path';
import type { LedgerEventStore } from '../../adapters/ledger.js';
import { isPostgresUrl, parseTeamLedgerUrl, redactUrl } from '../../adapters/postgres/pgUrl.js';
import { ValidationError } from '../../core/errors.js';
import type { RawEvent } from '../../core/eventStore.js';
import { openEventStore } from '../cliStores.js';
import type { Command, Io } from '../cliSupport.js';
import { CheckFailed, UsageError, progressReporter } from '../cliSupport.js';

function place(where: unknown, name: string, io: Io): { store: string; team?: string; label: string } {
  if (typeof where !== 'string' || where === '') throw new UsageError(`--${name} needs a store directory or a postgres:// URL`);
  if (isPostgresUrl(where)) {
    try {
      parseTeamLedgerUrl(where);
    } catch (err) {
      if (err instanceof ValidationError) throw new UsageError(`--${name}: ${err.message}. ${err.hint}`);
      throw err;
    }
    return { store: '', team: where, label: redactUrl(where) };
  }
  const store = resolve(io.cwd, where);
  return { store, label: store };
}

/** Reads both logs side by side and returns the first position where they differ, if any. */
async function firstDifference(a: LedgerEventStore, b: LedgerEventStore): Promise<{ position: number; detail: string } | null> {
  const left = a.readRaw()[Symbol.asyncIterator]();
  const right = b.readRaw()[Symbol.asyncIterator]();
  for (;;) {
    const [x, y] = await Promise.all([left.next(), right.next()]);
    if (x.done && y.done) return null;
    if (x.done || y.done) {
      const more = (x.done ? y.value : x.value) as RawEvent;
      return { position: more.position, detail: `only the ${x.done ? 'copy' : 'source'} has an event at position ${more.position}` };
    }
    const e = x.value;
    const f = y.value;
    if (e.position !== f.position || e.eventId !== f.eventId || e.hash !== f.hash || e.prevHash !== f.prevHash) {
      return { position: e.position, detail: `the source has event ${e.eventId} (hash ${e.hash.slice(0, 12)}…), the copy ${f.eventId} (hash ${f.hash.slice(0, 12)}…)` };
    }
  }
}

export const migrateStoreCommand: Command = {
  name: 'migrate-store',
  summary: 'copy a log between a store directory and a team ledger on PostgreSQL, and prove the copy',
  usage: `rag-ledger migrate-store [--from DIR|postgres://…] --to DIR|postgres://… [--json]

  Copies every event of --from (default: the store, --store) into --to, which must be empty (a new directory, or a ledger schema
  with no events: ?schema=NAME picks one), verbatim: same positions, ids, times and hashes. The
  copy is checked as it is written (an archive's rules), then proved: both hash chains are
  verified and compared event by event, and the heads must match. Projections are not copied:
  each member rebuilds its own from the log, embeddings included (nothing is embedded again).
  Use it to move a local log to a team ledger, or to take a team ledger's log back to one machine.
  Passwords: PGPASSWORD or ~/.pgpass rather than the URL (a URL is visible to other processes).`,
  options: { from: { type: 'string' }, to: { type: 'string' } },
  allowPositionals: 0,
  async run(args, io) {
    // Without --from: the store the other commands use (--store, RAG_LEDGER_STORE, .rag-ledger).
    const from = args.values.from === undefined ? { store: args.store, ...(args.team ? { team: args.team } : {}), label: args.team ? redactUrl(args.team) : args.store } : place(args.values.from, 'from', io);
    const to = place(args.values.to, 'to', io);
    if (from.label === to.label) throw new UsageError('--from and --to are the same store');
    const source = await openEventStore(from, { mode: 'read' });
    try {
      const target = await openEventStore(to, { mode: 'write', owner: 'the rag-ledger CLI (migrate-store)' });
      try {
        const head = await source.head();
        const progress = progressReporter(io, 'copying');
        let done = 0;
        const counted = async function* (): AsyncIterable<RawEvent> {
          for await (const raw of source.readRaw()) {
            if (raw.position > head.position) return;
            yield raw;
            progress.update(++done, head.position);
          }
        };
        const copied = await target.importRaw(counted()).finally(() => progress.done());
        const [a, b] = await Promise.all([source.verify(), target.verify()]);
        if (!a.ok) throw new CheckFailed(`the source's hash chain fails at position ${a.firstFailure?.position}: ${a.firstFailure?.detail}`);
        if (!b.ok) throw new CheckFailed(`the copy's hash chain fails at position ${b.firstFailure?.position}: ${b.firstFailure?.detail}; remove the copy and run migrate-store again`);
        const diff = await firstDifference(source, target);
        if (diff && diff.position <= head.position) throw new CheckFailed(`the copy differs from the source at position ${diff.position}: ${diff.detail}`);
        const copyHead = await target.head();
        if (copyHead.position !== head.position || copyHead.hash !== head.hash) throw new CheckFailed(`the copy's head (${copyHead.position}) is not the source's (${head.position})`);
        if (args.json) io.out(`${JSON.stringify({ copied, from: from.label, to: to.label, head: { position: head.position, hash: head.hash }, verified: true })}\n`);
        else io.out(`copied ${copied} events from ${from.label} to ${to.label}; both hash chains verify and match event by event, head ${head.position} ${head.hash}\n`);
      } finally {
        await target.close();
      }
    } finally {
      await source.close();
    }
  },
};
