import type { LedgerEventStore } from '../adapters/ledger.js';
import { PgEventStore } from '../adapters/postgres/pgEventStore.js';
import type { SqlJsEventStoreOptions } from '../adapters/sqljs/sqljsEventStore.js';
import { SqlJsEventStore } from '../adapters/sqljs/sqljsEventStore.js';
import type { ParsedArgs } from './cliSupport.js';

/** The event log --store names: a store directory, or the team ledger at a postgres:// URL. */
export function openEventStore(args: Pick<ParsedArgs, 'store' | 'team'>, options: Pick<SqlJsEventStoreOptions, 'mode' | 'owner' | 'create'>): Promise<LedgerEventStore> {
  if (args.team) return PgEventStore.open(args.team, { mode: options.mode === 'read' ? 'read' : 'write' });
  return SqlJsEventStore.open(args.store, options);
}
