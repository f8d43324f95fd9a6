import { createHash } from 'node:crypto';
import { parse } from 'pg-connection-string';
import type { ClientConfig } from 'pg';
import { ValidationError } from '../../core/errors.js';

/** The schema a ledger lives in when its URL names none. */
export const DEFAULT_LEDGER_SCHEMA = 'rag_ledger';

/** A team ledger's address: how to connect, which schema holds it, and how to name it in messages. */
export interface TeamLedgerAddress {
  readonly config: ClientConfig;
  /** The PostgreSQL schema that holds this ledger (one per ledger: several teams can share a server). */
  readonly schema: string;
  /** `user@host:port/database/schema`, never the password: for messages, the status bar and logs. */
  readonly display: string;
}

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** True for a store location that names a PostgreSQL server rather than a directory. */
export function isPostgresUrl(location: string): boolean {
  return /^postgres(ql)?:\/\//i.test(location.trim());
}

/**
 * Parses `postgres://user@host:port/database?schema=team_a&sslmode=verify-full&sslrootcert=ca.pem`.
 * `schema` picks the ledger's schema (default `rag_ledger`); the other parameters are PostgreSQL's
 * own (see node-postgres's connection strings). A password may come from the URL, `password`
 * (VS Code's SecretStorage), `PGPASSWORD` or `~/.pgpass`, in that order.
 * @throws ValidationError for a URL that cannot be parsed or a schema name that is not a plain identifier.
 */
export function parseTeamLedgerUrl(url: string, password?: string): TeamLedgerAddress {
  let u: URL;
  try {
    u = new URL(url.trim());
  } catch {
    throw new ValidationError(`"${redactUrl(url)}" is not a PostgreSQL URL`, [], 'Use postgres://USER@HOST:PORT/DATABASE (optionally ?schema=NAME&sslmode=verify-full).');
  }
  if (!/^postgres(ql)?:$/i.test(u.protocol)) throw new ValidationError(`"${redactUrl(url)}" is not a PostgreSQL URL`, [], 'Use postgres://USER@HOST:PORT/DATABASE.');
  const schema = (u.searchParams.get('schema') ?? DEFAULT_LEDGER_SCHEMA).toLowerCase();
  if (!SCHEMA_NAME.test(schema)) {
    throw new ValidationError(`the ledger schema "${schema}" is not a plain PostgreSQL identifier`, [], 'Use lower-case letters, digits and "_" (at most 63), starting with a letter or "_".');
  }
  u.searchParams.delete('schema');
  const parsed = parse(u.toString());
  const config: ClientConfig = {
    ...(parsed as ClientConfig),
    ...(parsed.port ? { port: Number(parsed.port) } : {}),
    ...(password !== undefined && !parsed.password ? { password } : {}),
    application_name: 'rag-ledger',
    connectionTimeoutMillis: 10_000,
    // No query may wait forever: the longest one (a page, an append of a batch) takes milliseconds.
    query_timeout: 60_000,
    statement_timeout: 60_000,
    keepAlive: true,
  };
  const host = parsed.host ?? 'localhost';
  const display = `${parsed.user ?? process.env['PGUSER'] ?? 'postgres'}@${host}:${parsed.port ?? 5432}/${parsed.database ?? ''}/${schema}`;
  return { config, schema, display };
}

/** The URL without its password, for messages. */
export function redactUrl(url: string): string {
  return url.replace(/(postgres(?:ql)?:\/\/[^:/@]*):[^@/]*@/i, '$1:***@');
}

/**
 * The folder name of a member's projections of this ledger (`<schema>-<hash of server, database,
 * schema>`): one folder per ledger, whatever the URL's other parameters.
 */
export function ledgerFolderName(url: string): string {
  const { display, schema } = parseTeamLedgerUrl(url);
  return `${schema}-${createHash('sha256').update(display).digest('hex').slice(0, 12)}`;
}

/** The key of the password in VS Code's secret storage: one per role and server (`user@host:port`). */
export function passwordKey(url: string): string {
  const { display } = parseTeamLedgerUrl(url);
  return `rag-ledger team ledger password: ${display.split('/')[0]}`;
}
