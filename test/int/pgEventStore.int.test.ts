import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import pgLib from 'pg';
import { after, test } from 'node:test';
import { generateSigningKeyPem, signerFromPem } from '../../src/adapters/node/signing.js';
import { PgEventStore } from '../../src/adapters/postgres/pgEventStore.js';
import type { Migration } from '../../src/adapters/postgres/pgSchema.js';
import { MIGRATIONS, migrate } from '../../src/adapters/postgres/pgSchema.js';
import { TeamLedgerAccessError, TeamLedgerUnavailableError } from '../../src/core/errors.js';
import type { RecordedEvent } from '../../src/core/eventStore.js';
import { eventStoreContract } from '../support/eventStoreContract.js';
import { submitted } from '../support/events.js';
import { freePort, testPostgres } from '../support/postgres.js';

after(async () => (await testPostgres()).stop());

eventStoreContract('PostgreSQL', async (t, { clock }) => {
  const pg = await testPostgres();
  const store = await PgEventStore.open(pg.freshLedger(), clock ? { clock } : {});
  t.after(() => store.close());
  return store;
});

async function all(store: PgEventStore): Promise<RecordedEvent[]> {
  const out: RecordedEvent[] = [];
  for await (const e of store.readAll()) out.push(e);
  return out;
}

/** Reads the log the way a projection does: from a checkpoint, page after page, and never again before it. */
async function pollFrom(store: PgEventStore, checkpoint: number): Promise<number[]> {
  const seen: number[] = [];
  for await (const e of store.readAll({ fromPosition: checkpoint + 1 })) seen.push(e.position);
  return seen;
}

test('a reader never skips an event whose transaction commits after a later one became visible (advisory lock)', async (t) => {
  const pg = await testPostgres();
  const url = pg.freshLedger();
  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  let holding!: () => void;
  const isHolding = new Promise<void>((r) => (holding = r));
  // Member A's append stops inside its transaction, rows written, not committed.
  const a = await PgEventStore.open(url, { beforeCommit: async () => {
    holding();
    await held;
  } });
  const b = await PgEventStore.open(url);
  const reader = await PgEventStore.open(url, { mode: 'read' });
  t.after(async () => {
    await a.close();
    await b.close();
    await reader.close();
  });
  await b.append('document-0', [submitted('0')]);
  const seen = await pollFrom(reader, 0);
  assert.deepEqual(seen, [1]);
  const first = a.append('document-a', [submitted('a'), submitted('a', 'again')]);
  await isHolding;
  // Member B appends while A's transaction is open: it must not take a position A may still commit.
  let bDone = false;
  const second = b.append('document-b', [submitted('b')]).then((r) => {
    bDone = true;
    return r;
  });
  const deadline = Date.now() + 600;
  while (Date.now() < deadline) {
    // The reader keeps polling from its checkpoint: it sees nothing new while A is open.
    assert.deepEqual(await pollFrom(reader, seen.at(-1)!), []);
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.equal(bDone, false, 'B committed a later position while A held an earlier one open');
  release();
  const [ra, rb] = await Promise.all([first, second]);
  assert.deepEqual(ra.positions, [2, 3]);
  assert.deepEqual(rb.positions, [4]);
  // Polled from the checkpoint, in order, no gap: and the chain verifies on the server's rows.
  seen.push(...(await pollFrom(reader, seen.at(-1)!)));
  assert.deepEqual(seen, [1, 2, 3, 4]);
  const report = await reader.verify();
  assert.equal(report.ok, true);
  assert.equal(report.checked, 4);
});

test('many members appending at once: positions are gapless, the chain verifies, every acknowledged event is there', async (t) => {
  const pg = await testPostgres();
  const url = pg.freshLedger();
  const members = await Promise.all([0, 1, 2, 3].map(() => PgEventStore.open(url)));
  t.after(() => Promise.all(members.map((m) => m.close())));
  const acked: string[] = [];
  await Promise.all(
    members.map(async (m, i) => {
      for (let n = 0; n < 25; n++) {
        const id = `00000000-0000-4000-8000-${String(i).padStart(4, '0')}${String(n).padStart(8, '0')}`;
        await m.appendMany([{ streamId: `document-${i}-${n}`, events: [{ ...submitted(`${i}-${n}`), eventId: id }] }]);
        acked.push(id);
      }
    }),
  );
  const events = await all(members[0]!);
  assert.deepEqual(events.map((e) => e.position), Array.from({ length: 100 }, (_, i) => i + 1));
  assert.deepEqual(new Set(events.map((e) => e.eventId)), new Set(acked));
  assert.equal((await members[1]!.verify()).ok, true);
});

test('verify recomputes the chain on the server: an edited or deleted row is reported at its position', async (t) => {
  const pg = await testPostgres();
  const url = pg.freshLedger();
  const schema = new URL(url).searchParams.get('schema')!;
  const store = await PgEventStore.open(url);
  t.after(() => store.close());
  for (let i = 0; i < 6; i++) await store.append(`document-${i}`, [submitted(`${i}`)]);
  assert.equal((await store.verify()).ok, true);
  await pg.admin(`UPDATE ${schema}.events SET data = replace(data, 'content of 2', 'content of X') WHERE position = 3`);
  let report = await store.verify();
  assert.equal(report.ok, false);
  assert.deepEqual([report.firstFailure?.position, report.firstFailure?.kind], [3, 'modified']);
  await pg.admin(`UPDATE ${schema}.events SET data = replace(data, 'content of X', 'content of 2') WHERE position = 3`);
  await pg.admin(`DELETE FROM ${schema}.events WHERE position = 5`);
  report = await store.verify();
  assert.deepEqual([report.ok, report.firstFailure?.position, report.firstFailure?.kind], [false, 5, 'removed']);
});

test('the schema is created once, versioned, one per ledger; a newer schema is refused', async (t) => {
  const pg = await testPostgres();
  const url = pg.freshLedger();
  const schema = new URL(url).searchParams.get('schema')!;
  await assert.rejects(PgEventStore.open(url, { mode: 'read' }), /has no ledger in schema/);
  const one = await PgEventStore.open(url);
  const two = await PgEventStore.open(url);
  const other = await PgEventStore.open(pg.freshLedger());
  t.after(async () => {
    await one.close();
    await two.close();
    await other.close();
  });
  const versions = await pg.admin(`SELECT version FROM ${schema}.migrations ORDER BY version`);
  assert.deepEqual(versions.rows.map((r: { version: number }) => r.version), [1]);
  await one.append('document-a', [submitted('a')]);
  assert.equal((await other.head()).position, 0, 'ledgers in different schemas share nothing');
  const indexes = await pg.admin(`SELECT indexname FROM pg_indexes WHERE schemaname = $1 ORDER BY indexname`, [schema]);
  assert.deepEqual(
    indexes.rows.map((r: { indexname: string }) => r.indexname),
    ['events_category', 'events_correlation', 'events_event_id_key', 'events_pkey', 'events_stream_id_stream_version_key', 'events_type', 'migrations_pkey', 'streams_pkey'],
  );
  await pg.admin(`INSERT INTO ${schema}.migrations (version, description) VALUES (99, 'from the future')`);
  await assert.rejects(PgEventStore.open(url), (err: Error) => /version 99, newer than this RAG Ledger knows/.test(err.message));
});

test('a wrong password, a role without privileges and an unreachable server each get their own clear error', async (t) => {
  const pg = await testPostgres();
  const url = pg.freshLedger();
  const schema = new URL(url).searchParams.get('schema')!;
  const owner = await PgEventStore.open(url);
  t.after(() => owner.close());
  const wrong = new URL(url);
  wrong.password = 'not-the-password';
  await assert.rejects(PgEventStore.open(wrong.toString()), (err: Error) => {
    assert.ok(err instanceof TeamLedgerAccessError, String(err));
    assert.match(err.message, /password authentication failed/);
    assert.match(err.hint, /Set Team Ledger Password/);
    assert.doesNotMatch(err.message, /not-the-password/);
    return true;
  });
  const none = new URL(url);
  none.password = '';
  await assert.rejects(PgEventStore.open(none.toString()), (err: Error) => {
    assert.ok(err instanceof TeamLedgerAccessError, String(err));
    assert.match(err.message, /refused access: the server asks for a password and none was given/);
    assert.match(err.hint, /Set Team Ledger Password.*PGPASSWORD or ~\/\.pgpass/);
    return true;
  });
  const role = `nopriv_${process.pid}`;
  await pg.admin(`DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '${role}') THEN CREATE ROLE ${role} LOGIN PASSWORD 'pw'; END IF; END $$`);
  const noPriv = new URL(url);
  noPriv.username = role;
  noPriv.password = 'pw';
  await assert.rejects(PgEventStore.open(noPriv.toString()), (err: Error) => {
    assert.ok(err instanceof TeamLedgerAccessError, String(err));
    assert.match(err.message, new RegExp(`permission denied for (schema|table) ${schema}`));
    assert.match(err.hint, /grant this role/);
    return true;
  });
  const down = new URL(url);
  down.port = String(await freePort());
  await assert.rejects(PgEventStore.open(down.toString()), (err: Error) => {
    assert.ok(err instanceof TeamLedgerUnavailableError, String(err));
    assert.match(err.message, /cannot be reached/);
    assert.match(err.hint, /Nothing was written/);
    return true;
  });
});

test("the README's least-privilege setup (docs/team-ledger.sql) works: a member appends, reads and verifies, and can neither delete nor drop", async (t) => {
  const pg = await testPostgres();
  const script = readFileSync(join(__dirname, '..', '..', 'docs', 'team-ledger.sql'), 'utf8');
  const [part1, part2] = script.split('-- @part2');
  const statements = (sql: string): string[] =>
    sql
      .split('\n')
      .filter((line) => !line.trim().startsWith('--'))
      .join('\n')
      .split(/;\s*\n/)
      .map((s) => s.trim())
      .filter((s) => s.length > 0);
  for (const sql of statements(part1!)) await pg.admin(sql);
  const base = new URL(pg.baseUrl);
  const as = (user: string, database: string, schema?: string): string => {
    const u = new URL(base.toString());
    u.username = user;
    u.password = 'change-me';
    u.pathname = `/${database}`;
    if (schema) u.searchParams.set('schema', schema);
    return u.toString();
  };
  const admin = new pgLib.Client({ connectionString: as('rag_ledger_admin', 'rag_ledger') });
  await admin.connect();
  try {
    for (const sql of statements(part2!)) await admin.query(sql);
  } finally {
    await admin.end();
  }
  const alice = await PgEventStore.open(as('alice', 'rag_ledger', 'team_a'));
  const bob = await PgEventStore.open(as('bob', 'rag_ledger', 'team_a'));
  t.after(async () => {
    await alice.close();
    await bob.close();
  });
  await alice.append('document-a', [submitted('a')]);
  await bob.append('document-b', [submitted('b')]);
  assert.deepEqual((await all(alice)).map((e) => e.position), [1, 2]);
  assert.equal((await bob.verify()).ok, true);
  const member = new pgLib.Client({ connectionString: as('alice', 'rag_ledger') });
  await member.connect();
  try {
    await assert.rejects(member.query('DELETE FROM team_a.events'), /permission denied for table events/);
    await assert.rejects(member.query('DROP TABLE team_a.events'), /must be owner of table events/);
    await assert.rejects(member.query('UPDATE team_a.events SET hash = $1', ['0']), /permission denied for table events/);
  } finally {
    await member.end();
  }
  // What the script creates is what the adapter's migration creates.
  const adapterMade = await PgEventStore.open(pg.freshLedger());
  t.after(() => adapterMade.close());
  const indexes = async (url: string, schema: string): Promise<string[]> => {
    const c = new pgLib.Client({ connectionString: url });
    await c.connect();
    try {
      const r = await c.query<{ indexdef: string }>('SELECT indexdef FROM pg_indexes WHERE schemaname = $1 ORDER BY indexname', [schema]);
      return r.rows.map((x) => x.indexdef.replaceAll(`${schema}.`, 'S.'));
    } finally {
      await c.end();
    }
  };
  assert.deepEqual(await indexes(as('rag_ledger_admin', 'rag_ledger'), 'team_a'), await indexes(pg.baseUrl, adapterMade.address.schema));
});

test('a member with the ledger\'s key seals the team ledger\'s head; a member with another key does not, and verify checks every seal on the server', async (t) => {
  const pg = await testPostgres();
  const url = pg.freshLedger();
  const key = signerFromPem(generateSigningKeyPem(), 'a test key');
  const other = signerFromPem(generateSigningKeyPem(), 'a test key');
  const alice = await PgEventStore.open(url, { headSigner: key });
  const bob = await PgEventStore.open(url, { headSigner: other });
  t.after(async () => {
    await alice.close();
    await bob.close();
  });
  await alice.append('document-a', [submitted('a')]);
  await alice.sealHead();
  await bob.append('document-b', [submitted('b')]);
  await bob.sealHead();
  await alice.append('document-c', [submitted('c')]);
  await alice.sealHead();
  const types = (await all(alice)).map((e) => e.type);
  assert.deepEqual(types, ['DocumentSubmitted', 'HeadSigned', 'DocumentSubmitted', 'DocumentSubmitted', 'HeadSigned']);
  const report = await bob.verify();
  assert.equal(report.ok, true, JSON.stringify(report.firstFailure));
  assert.equal(report.signed?.count, 2);
  assert.equal(report.signed?.keyId, key.keyId);
  assert.equal(report.signed?.last?.position, 4);
});

test('a later migration runs exactly once on a ledger that holds events, even with members starting together; the events stay and verify; an older build then refuses the ledger', async (t) => {
  const pg = await testPostgres();
  const url = pg.freshLedger();
  const schema = new URL(url).searchParams.get('schema')!;
  const store = await PgEventStore.open(url);
  await store.append('document-a', [submitted('a'), submitted('a', 'again')]);
  await store.close();
  const next: Migration = {
    version: 2,
    description: 'a column and a guard that a second run would break',
    sql: (s) => `ALTER TABLE ${s}.events ADD COLUMN note text; CREATE TABLE ${s}.once (n integer PRIMARY KEY); INSERT INTO ${s}.once VALUES (1);`,
  };
  const clients = await Promise.all([0, 1, 2].map(async () => {
    const c = new pgLib.Client({ connectionString: pg.baseUrl });
    await c.connect();
    return c;
  }));
  try {
    const applied = await Promise.all(clients.map((c) => migrate(c, schema, [...MIGRATIONS, next])));
    assert.deepEqual(applied.map((a) => a.join(',')).sort(), ['', '', '2'], 'one member applies version 2, the others find it applied');
  } finally {
    await Promise.all(clients.map((c) => c.end()));
  }
  const versions = await pg.admin(`SELECT version FROM ${schema}.migrations ORDER BY version`);
  assert.deepEqual(versions.rows.map((r: { version: number }) => r.version), [1, 2]);
  // This build knows version 1 only: it refuses to write to (or read) a ledger it does not understand.
  await assert.rejects(PgEventStore.open(url), /version 2, newer than this RAG Ledger knows \(1\)/);
  await assert.rejects(PgEventStore.open(url, { mode: 'read' }), /version 2, newer than this RAG Ledger knows \(1\)/);
  // The events survived the migration: read and verified as they were.
  await pg.admin(`DELETE FROM ${schema}.migrations WHERE version = 2`);
  const reader = await PgEventStore.open(url, { mode: 'read' });
  t.after(() => reader.close());
  assert.deepEqual((await all(reader)).map((e) => e.position), [1, 2]);
  assert.equal((await reader.verify()).ok, true);
});
