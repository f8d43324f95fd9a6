import type pg from 'pg';
import type { PoolClient } from 'pg';

/**
 * The team ledger's schema, created and migrated by the adapter. Each ledger lives in a schema of
 * its own (`?schema=` in the URL), so several teams can share one server. Migrations are numbered
 * and recorded in `<schema>.migrations`; each runs once, in its own transaction, under an advisory
 * lock, so members starting together do not race.
 *
 * Why the payloads are `text`, not `jsonb`: the hash chain covers each event's stored bytes, and
 * `jsonb` reorders keys and drops whitespace, so a hash could not be recomputed from it. The fields
 * the log is queried by (stream, category, type, correlation, time) are columns with indexes.
 */
export interface Migration {
  readonly version: number;
  readonly description: string;
  readonly sql: (schema: string) => string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'events, streams, and their indexes',
    sql: (s) => `
      CREATE TABLE ${s}.events (
        position bigint PRIMARY KEY CHECK (position > 0),
        event_id text NOT NULL UNIQUE,
        stream_id text NOT NULL,
        stream_version integer NOT NULL CHECK (stream_version > 0),
        category text NOT NULL,
        type text NOT NULL,
        schema_version integer NOT NULL,
        data text NOT NULL,
        metadata text NOT NULL,
        attachment bytea,
        recorded_at text NOT NULL,
        prev_hash text NOT NULL,
        hash text NOT NULL,
        correlation_id text,
        UNIQUE (stream_id, stream_version)
      );
      CREATE INDEX events_type ON ${s}.events (type, position);
      CREATE INDEX events_category ON ${s}.events (category, position);
      CREATE INDEX events_correlation ON ${s}.events (correlation_id, position) WHERE correlation_id IS NOT NULL;
      CREATE TABLE ${s}.streams (
        stream_id text PRIMARY KEY,
        version integer NOT NULL
      );`,
  },
];

/** The newest schema version this build knows. */
export const SCHEMA_VERSION = MIGRATIONS.at(-1)!.version;

/** The advisory lock key of a ledger's appends (and, with a different second key, of its migrations). */
export function ledgerLockKey(schema: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < schema.length; i++) h = Math.imul(h ^ schema.charCodeAt(i), 0x01000193);
  return h | 0;
}

/** Thrown when the server's ledger was migrated by a newer RAG Ledger. */
export class NewerSchemaError extends Error {
  constructor(readonly found: number) {
    super(`the team ledger's schema is at version ${found}, newer than this RAG Ledger knows (${SCHEMA_VERSION})`);
  }
}

/**
 * Brings the ledger's schema up to date (creating it on first use). A member without the right to
 * create it gets PostgreSQL's privilege error, which the store turns into a clear message.
 * Returns the migrations applied.
 */
export async function migrate(client: PoolClient | pg.Client, schema: string, migrations: readonly Migration[] = MIGRATIONS): Promise<number[]> {
  const newest = migrations.at(-1)?.version ?? 0;
  const applied: number[] = [];
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock($1, 1)', [ledgerLockKey(schema)]);
    if (!(await hasMigrations(client, schema))) {
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
      await client.query(`CREATE TABLE ${schema}.migrations (version integer PRIMARY KEY, description text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
    }
    const done = await client.query<{ v: number | null }>(`SELECT max(version) AS v FROM ${schema}.migrations`);
    const current = done.rows[0]!.v ?? 0;
    if (current > newest) throw new NewerSchemaError(current);
    for (const m of migrations) {
      if (m.version <= current) continue;
      await client.query(m.sql(schema));
      await client.query(`INSERT INTO ${schema}.migrations (version, description) VALUES ($1, $2)`, [m.version, m.description]);
      applied.push(m.version);
    }
    await client.query('COMMIT');
    return applied;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}

/** Whether the ledger's schema exists and is current, without changing anything (read-only members). */
export async function schemaVersion(client: PoolClient, schema: string): Promise<number> {
  if (!(await hasMigrations(client, schema))) return 0;
  const done = await client.query<{ v: number | null }>(`SELECT max(version) AS v FROM ${schema}.migrations`);
  return done.rows[0]!.v ?? 0;
}

/** Whether the schema has its migrations table (whatever this role may do with it: privileges are checked by using it). */
async function hasMigrations(client: PoolClient | pg.Client, schema: string): Promise<boolean> {
  const r = await client.query<{ found: string | null }>('SELECT to_regclass($1)::text AS found', [`${schema}.migrations`]);
  return r.rows[0]!.found !== null;
}
