import assert from 'node:assert/strict';
import { appendFileSync, closeSync, existsSync, readFileSync, readdirSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { test } from 'node:test';
import initSqlJs from 'sql.js';
import { SqlJsEventStore } from '../../src/adapters/sqljs/sqljsEventStore.js';
import { recoverStore } from '../../src/adapters/sqljs/recoverStore.js';
import { CorruptStoreError, StoreNotFoundError, StoreReadOnlyError, UnsupportedFormatError } from '../../src/core/errors.js';
import type { RawEvent, RecordedEvent } from '../../src/core/eventStore.js';
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
  (store as unknown as { lock: { release(): void } }).lock.release();
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
  assert.equal(existsSync(join(dir, 'events.sqlite')), false);
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

test('a corrupt or truncated snapshot is never overwritten; recover rebuilds from the journal and keeps the original', async (t) => {
  const dir = tempDir(t);
  const store = await storeWith(dir, 4);
  await store.close();
  const snapshot = join(dir, 'events.sqlite');
  truncateSync(snapshot, 50);
  const damaged = readFileSync(snapshot);
  await assert.rejects(SqlJsEventStore.open(dir), CorruptStoreError);
  await assert.rejects(SqlJsEventStore.open(dir, { mode: 'read' }), CorruptStoreError);
  assert.deepEqual(readFileSync(snapshot), damaged);
  const report = await recoverStore(dir);
  assert.equal(report.events, 8);
  assert.equal(report.source, 'journal');
  const kept = report.keptFiles.find((f) => f.includes('events.sqlite.before-recover-'));
  assert.ok(kept && readFileSync(kept).equals(damaged));
  const reopened = await SqlJsEventStore.open(dir);
  t.after(() => reopened.close());
  assert.equal((await all(reopened)).length, 8);
  assert.equal((await reopened.verify()).ok, true);
});

test('verify finds an event modified in the database file, and recover restores it from the journal', async (t) => {
  const dir = tempDir(t);
  const store = await storeWith(dir, 3);
  await store.close();
  const SQL = await initSqlJs();
  const db = new SQL.Database(readFileSync(join(dir, 'events.sqlite')));
  db.run("UPDATE events SET data = replace(data, 'content of 1', 'forged') WHERE position = 3");
  writeFileSync(join(dir, 'events.sqlite'), db.export());
  db.close();
  const reader = await SqlJsEventStore.open(dir, { mode: 'read' });
  const report = await reader.verify();
  await reader.close();
  assert.equal(report.ok, false);
  assert.deepEqual([report.firstFailure?.position, report.firstFailure?.kind], [3, 'modified']);
  const recovered = await recoverStore(dir);
  assert.equal(recovered.events, 6);
  const reopened = await SqlJsEventStore.open(dir);
  t.after(() => reopened.close());
  assert.equal((await reopened.verify()).ok, true);
  const third = (await all(reopened))[2]!;
  assert.ok(third.type === 'DocumentSubmitted' && third.data.raw_content === 'content of 1');
});

test('a row tampered with to hold the packing separator is read exactly as stored and reported by verify', async (t) => {
  const dir = tempDir(t);
  const store = await storeWith(dir, 3);
  await store.close();
  const SQL = await initSqlJs();
  const db = new SQL.Database(readFileSync(join(dir, 'events.sqlite')));
  db.run("UPDATE events SET data = replace(data, 'content of 1', 'forged' || char(31) || 'x'), metadata = 'not' || char(31) || 'json' WHERE position = 3");
  writeFileSync(join(dir, 'events.sqlite'), db.export());
  db.close();
  const reader = await SqlJsEventStore.open(dir, { mode: 'read' });
  t.after(() => reader.close());
  const raws: RawEvent[] = [];
  for await (const r of reader.readRaw()) raws.push(r);
  assert.equal(raws.length, 6);
  assert.equal(raws[2]!.metadataJson, 'not\x1fjson');
  assert.ok(raws[2]!.dataJson.includes(`"raw_content":"forged\x1fx"`));
  assert.equal(raws[3]!.position, 4); // the rows after it are unaffected
  const report = await reader.verify();
  assert.deepEqual([report.ok, report.firstFailure?.position, report.firstFailure?.kind], [false, 3, 'modified']);
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

test('verify finds events removed from the end of the database (the journal still has them)', async (t) => {
  const dir = tempDir(t);
  const store = await storeWith(dir, 3);
  await store.close();
  const SQL = await initSqlJs();
  const db = new SQL.Database(readFileSync(join(dir, 'events.sqlite')));
  db.run('DELETE FROM events WHERE position >= 5');
  // Pretend the snapshot covers the whole journal, so reopening does not replay the rows back.
  writeFileSync(join(dir, 'events.sqlite'), db.export());
  db.close();
  const reader = await SqlJsEventStore.open(dir, { mode: 'read' });
  t.after(() => reader.close());
  const report = await reader.verify();
  assert.equal(report.ok, false);
  assert.deepEqual([report.firstFailure?.position, report.firstFailure?.kind], [5, 'removed']);
});

test('verify finds reordered rows', async (t) => {
  const dir = tempDir(t);
  const store = await storeWith(dir, 3);
  await store.close();
  const SQL = await initSqlJs();
  const db = new SQL.Database(readFileSync(join(dir, 'events.sqlite')));
  db.run('UPDATE events SET position = -1 WHERE position = 2; UPDATE events SET position = 2 WHERE position = 3; UPDATE events SET position = 3 WHERE position = -1;');
  writeFileSync(join(dir, 'events.sqlite'), db.export());
  db.close();
  const reader = await SqlJsEventStore.open(dir, { mode: 'read' });
  t.after(() => reader.close());
  const report = await reader.verify();
  assert.equal(report.ok, false);
  assert.equal(report.firstFailure?.position, 2);
});

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

test('text columns are stored as SQLite TEXT holding the exact UTF-8 bytes, whatever the insert path', async (t) => {
  const dir = tempDir(t);
  const store = await SqlJsEventStore.open(dir);
  const content = 'Grüße, 世界 🦀 "quoted" \\ back\nslash\u2028';
  await store.append('document-u1', [{ ...submitted('ü', content), metadata: { actor: 'zoë' } }, embedded('c-ü')]);
  await store.close(); // writes the snapshot
  const SQL = await initSqlJs();
  const db = new SQL.Database(readFileSync(join(dir, 'events.sqlite')));
  t.after(() => db.close());
  const [row] = db.exec(
    `SELECT typeof(event_id), typeof(stream_id), typeof(type), typeof(data), typeof(metadata), typeof(recorded_at), typeof(prev_hash), typeof(hash),
            typeof(attachment), stream_id, hex(CAST(data AS BLOB)), data FROM events WHERE position = 1`,
  )[0]!.values;
  assert.deepEqual(row!.slice(0, 9), ['text', 'text', 'text', 'text', 'text', 'text', 'text', 'text', 'null']);
  assert.equal(row![9], 'document-u1');
  const data = row![11] as string;
  assert.equal(row![10], Buffer.from(data, 'utf8').toString('hex').toUpperCase());
  assert.equal((JSON.parse(data) as { raw_content: string }).raw_content, content);
  // A type filter (an index lookup on the text column) finds the rows.
  const reopened = await SqlJsEventStore.open(dir, { mode: 'read' });
  t.after(() => reopened.close());
  const types: string[] = [];
  for await (const e of reopened.readAll({ types: ['ChunkEmbedded'] })) types.push(e.type);
  assert.deepEqual(types, ['ChunkEmbedded']);
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
