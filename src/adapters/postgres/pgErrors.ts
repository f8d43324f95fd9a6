import { RagLedgerError, TeamLedgerAccessError, TeamLedgerUnavailableError, UnsupportedFormatError } from '../../core/errors.js';
import { NewerSchemaError } from './pgSchema.js';

const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE', '57P01', '57P02', '57P03', '08000', '08001', '08003', '08006']);

function codeOf(err: unknown): string | undefined {
  const e = err as { code?: unknown; errors?: unknown[] };
  if (typeof e?.code === 'string') return e.code;
  // A host name with several addresses fails with one error per address.
  if (Array.isArray(e?.errors)) for (const inner of e.errors) if (typeof (inner as { code?: unknown })?.code === 'string') return (inner as { code: string }).code;
  return undefined;
}

/**
 * Turns what node-postgres throws into the product's errors: an unreachable or restarting server,
 * a refused password or role, missing privileges, a schema from a newer version. Anything else
 * (a constraint the store's own checks should have caught) is passed on as it is.
 */
export function teamLedgerFailure(err: unknown, server: string): unknown {
  if (err instanceof RagLedgerError) return err;
  if (err instanceof NewerSchemaError) return new UnsupportedFormatError(`${err.message}; update RAG Ledger to use this ledger`);
  const code = codeOf(err);
  const message = (err as Error)?.message ?? String(err);
  if (code === '28P01' || code === '28000') {
    return new TeamLedgerAccessError(server, message, 'Set the password with "RAG Ledger: Set Team Ledger Password" in VS Code, or PGPASSWORD or ~/.pgpass for the CLI; the server\'s administrator can check the role and pg_hba.conf.');
  }
  // node-postgres's own words when the server asks for a password and none was given (not in the URL,
  // secret storage, PGPASSWORD or ~/.pgpass).
  if (/client password must be a string|password authentication|no password supplied/i.test(message)) {
    return new TeamLedgerAccessError(server, 'the server asks for a password and none was given', 'Set the password with "RAG Ledger: Set Team Ledger Password" in VS Code, or PGPASSWORD or ~/.pgpass for the CLI.');
  }
  if (code === '42501') {
    return new TeamLedgerAccessError(server, message, 'Ask the server\'s administrator to grant this role a member\'s privileges on the ledger\'s schema (README, "Use it as a team").');
  }
  if (code === '3D000') return new TeamLedgerAccessError(server, message, 'Create the database first (README, "Use it as a team"), or fix the database name in the URL.');
  if (code === 'SELF_SIGNED_CERT_IN_CHAIN' || code === 'DEPTH_ZERO_SELF_SIGNED_CERT' || code === 'ERR_TLS_CERT_ALTNAME_INVALID' || code === 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' || code === 'CERT_HAS_EXPIRED') {
    return new TeamLedgerAccessError(server, `the server's TLS certificate was refused (${code}): ${message}`, 'Give the certificate authority with sslrootcert=PATH in the URL, and make sure the host name matches the certificate (sslmode=verify-full).');
  }
  if ((code && UNREACHABLE.has(code)) || /timeout|terminated|Connection ended|not queryable/i.test(message)) return new TeamLedgerUnavailableError(server, message);
  return err;
}
