import assert from 'node:assert/strict';
import { rmSync, appendFileSync, closeSync, existsSync, readFileSync, readdirSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { test } from 'node:test';
import initSqlJs from 'sql.js';
import { SqlJsEventStore } from '../../src/adapters/sqljs/sqljsEventStore.js';
import { CorruptStoreError, StoreNotFoundError, StoreReadOnlyError, UnsupportedFormatError } from '../../src/core/errors.js';
import type { RecordedEvent } from '../../src/core/eventStore.js';
import { eventStoreContract } from '../support/eventStoreContract.js';
import { embedded, submitted } from '../support/events.js';
import { tempDir } from '../support/tmp.js';

eventStoreContract('sql.js on disk', async (t, { clock }) => {
  const store = await SqlJsEventStore.open(tempDir(t), clock ? { clock } : {});
  t.after(() => store.close());
  return store;
});

async function all(store: SqlJsEventStore): Promise<RecordedEvent[]> {
  const out: RecordedEvent[] = [];
  for await (const e of store.readAll()) out.push(e);
  return out;
}

/**
 * Leaves a store as a killed process would: nothing flushed or snapshotted, only the lock
 * file released (a dead holder's lock is taken over anyway; this keeps tests in one process).
 */
function abandon(store: SqlJsEventStore): void {
  void store; // locks are held per append: a killed process leaves none behind (its fds die with it)
}

async function storeWith(dir: string, n: number, options = {}): Promise<SqlJsEventStore> {
  const store = await SqlJsEventStore.open(dir, options);
  for (let i = 0; i < n; i++) await store.append(`document-${i}`, [submitted(`${i}`), embedded(`c${i}`)]);
  return store;
}

test('events survive close and reopen, from the snapshot and from the journal alone', async (t) => {
  const dir = tempDir(t);
  const store = await storeWith(dir, 5);
  await store.close();
  const reopened = await SqlJsEventStore.open(dir);
  assert.equal((await all(reopened)).length, 10);
  // Appends after a snapshot live only in the journal until the next snapshot.
  await reopened.append('document-x', [submitted('x')]);
  assert.ok(reopened.unsnapshottedBytes > 0);
  const head = await reopened.head();
  // Simulate a crash: no close(), so no snapshot. Release the lock as a dead process would.
  abandon(reopened);
  const again = await SqlJsEventStore.open(dir);
  t.after(() => again.close());
  assert.deepEqual(await again.head(), head);
  assert.equal((await again.verify()).ok, true);
});

test('the journal alone rebuilds the log when there is no snapshot', async (t) => {
  const dir = tempDir(t);
  const store = await storeWith(dir, 3);
  const head = await store.head();
  abandon(store);
  rmSync(join(dir, 'events.sqlite'));
  const reopened = await SqlJsEventStore.open(dir);
  t.after(() => reopened.close());
  assert.deepEqual(await reopened.head(), head);
});

test('snapshots are written once the journal grows past the threshold, and cover it', async (t) => {
  const dir = tempDir(t);
  const store = await storeWith(dir, 50, { snapshotEveryBytes: 4096 });
  await new Promise((r) => setTimeout(r, 50));
  await store.snapshot();
  assert.equal(store.unsnapshottedBytes, 0);
  assert.ok(existsSync(join(dir, 'events.sqlite')));
  await store.append('document-z', [submitted('z')]);
  const head = await store.head();
  abandon(store);
  const reopened = await SqlJsEventStore.open(dir);
  t.after(() => reopened.close());
  assert.deepEqual(await reopened.head(), head);
  assert.equal((await reopened.verify()).ok, true);
});

test('a writer closing with many events unsaved saves the index; with a few it writes nothing', async (t) => {
  const options = { snapshotEveryEvents: 1000, closeSaveEvents: 40 };
  const many = tempDir(t);
  const long = await storeWith(many, 25, options); // 50 events: under the save threshold, over the close one
  assert.ok(long.unsnapshottedBytes > 0);
  await long.close();
  const afterLong = await SqlJsEventStore.open(many, options);
  t.after(() => afterLong.close());
  assert.equal(afterLong.unsnapshottedBytes, 0, 'the index covers the whole journal: a reader catches up nothing');
  assert.equal((await afterLong.head()).position, 50);

  const few = tempDir(t);
  const short = await storeWith(few, 10, options); // 20 events
  const journalBytes = short.unsnapshottedBytes;
  assert.ok(journalBytes > 0);
  await short.close();
  const afterShort = await SqlJsEventStore.open(few, options);
  t.after(() => afterShort.close());
  assert.equal(afterShort.unsnapshottedBytes, journalBytes, 'closing after a few events wrote no index');
  assert.equal((await afterShort.head()).position, 20);
  assert.equal((await afterShort.verify()).ok, true);
});

test('a torn final journal record (a crash mid-write) is cut off and kept aside; nothing acknowledged is lost', async (t) => {
  const dir = tempDir(t);
  const store = await storeWith(dir, 3);
  const head = await store.head();
  abandon(store);
  const journal = join(dir, 'events.journal');
  const size = statSync(journal).size;
  appendFileSync(journal, Buffer.from([200, 0, 0, 0, 1, 2, 3, 4, 9, 9])); // a record header promising 200 bytes, then a crash
  const reopened = await SqlJsEventStore.open(dir);
  t.after(() => reopened.close());
  assert.deepEqual(await reopened.head(), head);
  assert.equal(statSync(journal).size, size);
  assert.ok(readdirSync(dir).some((f) => f.startsWith('events.journal.torn-at-')));
  await reopened.append('document-after', [submitted('after')]);
  assert.equal((await reopened.verify()).ok, true);
});

test('a damaged record in the middle of the journal is a CorruptStoreError and the file is left untouched', async (t) => {
  const dir = tempDir(t);
  const store = await storeWith(dir, 3);
  abandon(store);
  const journal = join(dir, 'events.journal');
  const bytes = readFileSync(journal);
  bytes[40] = bytes[40]! ^ 0xff; // inside the first record's payload
  writeFileSync(journal, bytes);
  await assert.rejects(SqlJsEventStore.open(dir), (err: unknown) => {
    assert.ok(err instanceof CorruptStoreError);
    assert.match(err.message, /events\.journal/);
    assert.match(err.hint, /rag-ledger recover/);
    return true;
  });
  assert.deepEqual(readFileSync(journal), bytes);
  assert.equal(existsSync(join(dir, 'store.lock')), false, 'a failed open releases the lock');
});

test('a damaged index is rebuilt from the journal: readers in memory, writers on disk keeping the old file', async (t) => {
  const dir = tempDir(t);
  const store = await storeWith(dir, 4);
  await store.snapshot();
  await store.close();
  const snapshot = join(dir, 'events.sqlite');
  truncateSync(snapshot, 50);
  const damaged = readFileSync(snapshot);
  const reader = await SqlJsEventStore.open(dir, { mode: 'read' });
  assert.equal((await all(reader)).length, 8);
  assert.match(reader.integrityWarning ?? '', /events\.sqlite does not match the journal/);
  await reader.close();
  assert.deepEqual(readFileSync(snapshot), damaged, 'a reader never writes');
  const notices: string[] = [];
  const writer = await SqlJsEventStore.open(dir, { onNotice: (m) => notices.push(m) });
  t.after(() => writer.close());
  assert.equal((await all(writer)).length, 8);
  assert.equal((await writer.verify()).ok, true);
  const kept = readdirSync(dir).find((f) => f.startsWith('events.sqlite.damaged-'));
  assert.ok(kept && readFileSync(join(dir, kept)).equals(damaged), 'the damaged file is kept beside the store');
  assert.ok(notices.some((n) => n.includes(kept)), notices.join('\n'));
});

test('a log of forty 1 MiB documents reads back whole and in order, attachments included', async (t) => {
  const dir = tempDir(t);
  const store = await SqlJsEventStore.open(dir);
  t.after(() => store.close());
  const big = 'x'.repeat(1024 * 1024 - 100);
  for (let i = 0; i < 40; i++) await store.append(`document-${i}`, [submitted(`${i}`, `${i}:${big}`), embedded(`c${i}`)]);
  const events: RecordedEvent[] = [];
  for await (const e of store.readAll()) events.push(e);
  assert.equal(events.length, 80);
  assert.deepEqual(
    events.map((e) => e.position),
    Array.from({ length: 80 }, (_, i) => i + 1),
  );
  const first = events[0]!;
  assert.ok(first.type === 'DocumentSubmitted' && first.data.raw_content.length === big.length + 2 && first.data.raw_content.startsWith('0:'));
  const vector = events[79]!;
  assert.ok(vector.type === 'ChunkEmbedded' && vector.data.vector.length > 0);
  assert.equal((await store.verify()).ok, true);
});

/** Rewrites the saved index with `sql` applied (the journal is untouched). */
async function tamperIndex(dir: string, sql: string): Promise<void> {
  const SQL = await initSqlJs();
  const db = new SQL.Database(readFileSync(join(dir, 'events.sqlite')));
  db.run(sql);
  writeFileSync(join(dir, 'events.sqlite'), db.export());
  db.close();
}

for (const [name, sql, position] of [
  ['rows removed from its end', 'DELETE FROM events WHERE position >= 5', 5],
  ['rows reordered', 'UPDATE events SET position = -1 WHERE position = 2; UPDATE events SET position = 2 WHERE position = 3; UPDATE events SET position = 3 WHERE position = -1;', 2],
  ['an offset moved', 'UPDATE events SET at = at + 1 WHERE position = 3', 3],
] as const) {
  test(`an index with ${name} is found by reads or verify, and rebuilt from the journal by the next writer`, async (t) => {
    const dir = tempDir(t);
    const store = await storeWith(dir, 3);
    await store.snapshot();
    await store.close();
    await tamperIndex(dir, sql);
    const reader = await SqlJsEventStore.open(dir, { mode: 'read' });
    assert.match(reader.integrityWarning ?? '', /does not match the journal/, 'an index this store did not write is not trusted');
    assert.deepEqual((await all(reader)).map((e) => e.position), [1, 2, 3, 4, 5, 6], 'the reader rebuilt it in memory');
    assert.equal((await reader.verify()).ok, true);
    await reader.close();
    void position;
    const writer = await SqlJsEventStore.open(dir);
    t.after(() => writer.close());
    const events = await all(writer);
    assert.deepEqual(events.map((e) => e.position), [1, 2, 3, 4, 5, 6]);
    assert.equal((await writer.verify()).ok, true);
    assert.ok(readdirSync(dir).some((f) => f.startsWith('events.sqlite.damaged-')), 'the tampered index is kept aside');
  });
}

test('read-only stores refuse to write; a missing store is a clear error', async (t) => {
  const dir = tempDir(t);
  await assert.rejects(SqlJsEventStore.open(join(dir, 'nothing-here'), { mode: 'read' }), StoreNotFoundError);
  await assert.rejects(SqlJsEventStore.open(join(dir, 'nothing-here'), { create: false }), StoreNotFoundError);
  const store = await storeWith(dir, 1);
  await store.close();
  const reader = await SqlJsEventStore.open(dir, { mode: 'read' });
  t.after(() => reader.close());
  assert.equal(reader.writable, false);
  await assert.rejects(reader.append('document-x', [submitted('x')]), StoreReadOnlyError);
});

test('a snapshot from a newer format is refused with an upgrade hint', async (t) => {
  const dir = tempDir(t);
  const store = await storeWith(dir, 1);
  await store.close();
  const SQL = await initSqlJs();
  const db = new SQL.Database(readFileSync(join(dir, 'events.sqlite')));
  db.run("UPDATE meta SET value = '99' WHERE key = 'format'");
  writeFileSync(join(dir, 'events.sqlite'), db.export());
  db.close();
  await assert.rejects(SqlJsEventStore.open(dir, { mode: 'read' }), (err: unknown) => err instanceof UnsupportedFormatError && /format 99/.test(err.message) && /Upgrade/.test(err.hint));
});

test('if the journal write fails, the append is rolled back and no reader ever sees it', async (t) => {
  const dir = tempDir(t);
  const store = await storeWith(dir, 1);
  const journal = (store as unknown as { journal: { fd: number } }).journal;
  closeSync(journal.fd); // the next write fails with EBADF, as a failing disk would
  const seen: number[] = [];
  const appending = store.append('document-x', [submitted('x'), submitted('x', 'y')]);
  const reading = (async () => {
    for await (const e of store.readAll()) seen.push(e.position);
  })();
  await assert.rejects(appending);
  await reading;
  assert.deepEqual(seen, [1, 2]);
  assert.deepEqual((await all(store)).map((e) => e.position), [1, 2]);
  assert.equal(await store.streamVersion('document-x'), 0);
  assert.equal((await store.head()).position, 2);
  abandon(store);
});

test('the journal round-trips every stored byte: non-ASCII text, empty strings, metadata and vectors', async (t) => {
  const dir = tempDir(t);
  const store = await SqlJsEventStore.open(dir);
  await store.append('document-u', [
    { ...submitted('ü', 'Grüße, 世界 🦀 "quoted" \\ back\nslash\u2028'), metadata: { actor: 'zoë', correlation_id: 'c-1' } },
    submitted('empty', ''),
    embedded('c-ü', [1.5, -0, 2e-38]),
  ]);
  const before: unknown[] = [];
  for await (const r of store.readRaw()) before.push(r);
  abandon(store);
  const reopened = await SqlJsEventStore.open(dir, { mode: 'read' }); // no snapshot: journal only
  t.after(() => reopened.close());
  const after: unknown[] = [];
  for await (const r of reopened.readRaw()) after.push(r);
  assert.deepEqual(after, before);
  assert.equal((await reopened.verify()).ok, true);
});

test('a damaged length field in the middle of the journal is corruption, not a torn tail; nothing is cut', async (t) => {
  const dir = tempDir(t);
  const store = await storeWith(dir, 4);
  abandon(store);
  const journal = join(dir, 'events.journal');
  const bytes = readFileSync(journal);
  const second = 16 + 16 + bytes.readUInt32LE(16 + 4); // file header, then record 1 (16-byte header + payload)
  bytes[second + 6] = bytes[second + 6]! ^ 0x40; // record 2's length now runs past the end of the file
  writeFileSync(journal, bytes);
  await assert.rejects(SqlJsEventStore.open(dir), (err: unknown) => err instanceof CorruptStoreError && /intact record follows/.test(err.message));
  assert.deepEqual(readFileSync(journal), bytes, 'the journal is left exactly as it was');
  assert.equal(readdirSync(dir).some((f) => f.includes('torn')), false);
});

test('an append whose fdatasync fails is reported, and the store refuses further appends until reopened', async (t) => {
  const dir = tempDir(t);
  const store = await storeWith(dir, 1);
  // Simulate a disk error on the next fdatasync (the journal calls fs.fdatasync at run time).
  const fs = createRequire(__filename)('node:fs') as { fdatasync: (fd: number, cb: (err: Error | null) => void) => void };
  const original = fs.fdatasync;
  fs.fdatasync = (_fd, cb) => cb(Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' }));
  try {
    await assert.rejects(store.append('document-x', [submitted('x')]), /EIO/);
  } finally {
    fs.fdatasync = original;
  }
  assert.equal((await store.head()).position, 2, 'the failed append is not visible');
  await assert.rejects(store.append('document-y', [submitted('y')]), (err: unknown) => err instanceof StoreReadOnlyError && /could not be made durable.*reopen/.test(err.message));
  await store.close();
  const reopened = await SqlJsEventStore.open(dir);
  t.after(() => reopened.close());
  assert.equal((await reopened.verify()).ok, true);
  // The record had been written before its fdatasync failed, so the journal holds it and a reopen replays it.
  assert.equal((await reopened.head()).position, 3);
});

test('a read-only store cannot snapshot', async (t) => {
  const dir = tempDir(t);
  const store = await storeWith(dir, 1);
  await store.close();
  const reader = await SqlJsEventStore.open(dir, { mode: 'read' });
  t.after(() => reader.close());
  await assert.rejects(reader.snapshot(), StoreReadOnlyError);
});

test('a store whose recovery was interrupted is not opened until recover completes it', async (t) => {
  const dir = tempDir(t);
  const store = await storeWith(dir, 1);
  await store.close();
  writeFileSync(join(dir, 'recover-in-progress.json'), '{}');
  await assert.rejects(SqlJsEventStore.open(dir, { mode: 'read' }), (err: unknown) => err instanceof CorruptStoreError && /recovery of this store was interrupted/.test(err.message) && /rag-ledger recover/.test(err.hint));
});
