// The team ledger over TLS: a real PostgreSQL with a certificate from a test authority (openssl),
// and members connecting with sslmode=verify-full: the right authority and host name connect (and
// the session is encrypted), another authority or another host name is refused with one clear error.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import pg from 'pg';
import { PgEventStore } from '../../src/adapters/postgres/pgEventStore.js';
import { TeamLedgerAccessError } from '../../src/core/errors.js';
import { submitted } from '../support/events.js';
import { startEmbeddedPostgres } from '../support/postgres.js';

let server: Awaited<ReturnType<typeof startEmbeddedPostgres>> | undefined;
let certs: string;
let port: number;

function openssl(args: string[]): void {
  execFileSync('openssl', args, { cwd: certs, stdio: 'pipe' });
}

/** A certificate authority and a certificate for `localhost` signed by it (and a second authority that signed nothing). */
function makeCertificates(): void {
  writeFileSync(join(certs, 'server.ext'), 'subjectAltName=DNS:localhost\n');
  for (const ca of ['ca', 'other-ca']) openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${ca}.key`, '-out', `${ca}.pem`, '-days', '2', '-subj', `/CN=RAG Ledger test ${ca}`]);
  openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=localhost']);
  openssl(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.pem', '-days', '2', '-extfile', 'server.ext']);
  // PostgreSQL wants its key readable by its own user only; as root the server runs as `postgres`.
  if (process.getuid?.() === 0) {
    const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
    for (const f of ['server.key', 'server.pem']) chownSync(join(certs, f), uid, gid);
  }
  chmodSync(join(certs, 'server.key'), 0o600);
}

before(async () => {
  certs = mkdtempSync(join(tmpdir(), 'rag-ledger-tls-'));
  chmodSync(certs, 0o711);
  // The server's user must exist before the key is given to it: a first server creates it when missing.
  if (process.getuid?.() === 0) {
    try {
      execFileSync('id', ['-u', 'postgres'], { stdio: 'pipe' });
    } catch {
      const first = await startEmbeddedPostgres();
      await first.server.stop();
      rmSync(first.dir, { recursive: true, force: true });
    }
  }
  makeCertificates();
  server = await startEmbeddedPostgres({ postgresFlags: ['-c', 'ssl=on', '-c', `ssl_cert_file=${join(certs, 'server.pem')}`, '-c', `ssl_key_file=${join(certs, 'server.key')}`] });
  port = server.port;
});

after(async () => {
  await server?.server.stop();
  if (server) rmSync(server.dir, { recursive: true, force: true });
  rmSync(certs, { recursive: true, force: true });
});

const ledgerUrl = (host: string, ca: string, schema: string): string =>
  `postgres://postgres:${encodeURIComponent(new URL(server!.baseUrl).password)}@${host}:${port}/postgres?schema=${schema}&sslmode=verify-full&sslrootcert=${encodeURIComponent(join(certs, ca))}`;

test('sslmode=verify-full with the server\'s authority and host name connects, and the session is encrypted', async (t) => {
  const store = await PgEventStore.open(ledgerUrl('localhost', 'ca.pem', 'tls_ok'));
  t.after(() => store.close());
  await store.append('document-a', [submitted('a')]);
  assert.equal((await store.verify()).ok, true);
  const admin = new pg.Client({ connectionString: server!.baseUrl });
  await admin.connect();
  try {
    const r = await admin.query<{ ssl: boolean }>("SELECT s.ssl FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) WHERE a.application_name = 'rag-ledger'");
    assert.ok(r.rows.length > 0, 'no connection of the store is open');
    assert.ok(r.rows.every((row) => row.ssl), 'a connection of the store is not encrypted');
  } finally {
    await admin.end();
  }
});

test('verify-full refuses a certificate from another authority, and a host name the certificate does not name', async () => {
  await assert.rejects(PgEventStore.open(ledgerUrl('localhost', 'other-ca.pem', 'tls_other')), (err: Error) => {
    assert.ok(err instanceof TeamLedgerAccessError, String(err));
    assert.match(err.message, /refused access: the server's TLS certificate was refused/);
    assert.match(err.hint, /sslrootcert=PATH/);
    return true;
  });
  await assert.rejects(PgEventStore.open(ledgerUrl('127.0.0.1', 'ca.pem', 'tls_host')), (err: Error) => {
    assert.ok(err instanceof TeamLedgerAccessError, String(err));
    assert.match(err.message, /TLS certificate was refused \(ERR_TLS_CERT_ALTNAME_INVALID\)/);
    return true;
  });
});
