// An SQLite image that sql.js reads from disk page by page (src/adapters/sqljs/lazyImage.ts).
import assert from 'node:assert/strict';
import { closeSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Database, SqlJsStatic } from 'sql.js';
import { LazyImage } from '../../src/adapters/sqljs/lazyImage.js';
import { loadSqlJs } from '../../src/adapters/sqljs/sqlJsLoader.js';
import { tempDir } from '../support/tmp.js';

const ROWS = 20_000;

/** A database file of about 5 MB: rows of 200 bytes, with an index. */
function writeDatabase(SQL: SqlJsStatic, path: string): void {
  const db = new SQL.Database();
  db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, k TEXT NOT NULL, v TEXT NOT NULL); CREATE INDEX t_k ON t (k);');
  db.exec('BEGIN');
  const put = db.prepare('INSERT INTO t VALUES (?, ?, ?)');
  for (let i = 0; i < ROWS; i++) put.run([i, `key-${(i * 7919) % ROWS}`, `${i}`.padEnd(200, '.')]);
  put.free();
  db.exec('COMMIT');
  writeFileSync(path, db.export());
  db.close();
}

const count = (db: Database, where = '1'): number => db.exec(`SELECT COUNT(*) FROM t WHERE ${where}`)[0]!.values[0]![0] as number;

function open(SQL: SqlJsStatic, path: string): { db: Database; image: LazyImage } {
  const image = LazyImage.open(path);
  const db = new SQL.Database(image as unknown as Uint8Array);
  db.exec('PRAGMA locking_mode = EXCLUSIVE; PRAGMA journal_mode = MEMORY; PRAGMA synchronous = OFF;');
  return { db, image };
}

test('reads come from the file and only written pages are held; a save writes the whole image and leaves the original untouched', async (t) => {
  const SQL = await loadSqlJs();
  const dir = tempDir(t);
  const path = join(dir, 'a.sqlite');
  writeDatabase(SQL, path);
  const original = readFileSync(path);
  const { db, image } = open(SQL, path);
  t.after(() => image.dispose());
  assert.equal(count(db), ROWS);
  assert.equal(count(db, "k = 'key-7919'"), 1);
  assert.equal(image.changedBytes, 0, 'reading changes nothing');
  db.run('INSERT INTO t VALUES (?, ?, ?)', [ROWS, 'new', 'row']);
  db.run('UPDATE t SET v = ? WHERE id = 5', ['changed']);
  assert.ok(image.changedBytes > 0 && image.changedBytes <= 16 * 4096, `a few pages changed, not the file: ${image.changedBytes}`);
  assert.ok(image.backs(db));

  const saved = join(dir, 'b.sqlite');
  const pages = (db.exec('PRAGMA page_count')[0]!.values[0]![0] as number) * 4096;
  const fd = openSync(saved, 'wx+');
  image.writeTo(fd, pages, saved);
  closeSync(fd);
  assert.equal(image.changedBytes, 0, 'after a save the new file is the base');
  assert.deepEqual(readFileSync(path), original, 'the file it was opened from is never written');
  const copy = new SQL.Database(readFileSync(saved));
  assert.equal(count(copy), ROWS + 1);
  assert.equal(copy.exec('SELECT v FROM t WHERE id = 5')[0]!.values[0]![0], 'changed');
  copy.close();
  // Still usable after the save: reads now come from the new file.
  db.run('DELETE FROM t WHERE id < 100');
  assert.equal(count(db), ROWS + 1 - 100);
  db.close();
});

test('a rolled-back transaction that grew the file truncates it: the image says it no longer backs the database, which stays correct', async (t) => {
  const SQL = await loadSqlJs();
  const dir = tempDir(t);
  const path = join(dir, 'a.sqlite');
  writeDatabase(SQL, path);
  const { db, image } = open(SQL, path);
  t.after(() => image.dispose());
  db.exec('BEGIN');
  for (let i = 0; i < 20_000; i++) db.run('INSERT INTO t VALUES (?, ?, ?)', [ROWS + i, `grow-${i}`, ''.padEnd(500, 'x')]); // more than the page cache: spilled to the file
  db.exec('ROLLBACK');
  db.run('INSERT INTO t VALUES (?, ?, ?)', [ROWS, 'after', 'rollback']);
  assert.equal(image.backs(db), false, 'MEMFS replaced the storage when SQLite truncated the file');
  assert.equal(count(db), ROWS + 1);
  const copy = new SQL.Database(db.export());
  assert.equal(count(copy), ROWS + 1, 'the database exports what it holds');
  copy.close();
  db.close();
});
