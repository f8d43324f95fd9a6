import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import nodeFs, { rmSync, appendFileSync, existsSync, mkdirSync, readFileSync, readdirSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { join } from 'node:path';
import { test } from 'node:test';
import initSqlJs from 'sql.js';
import { sha256 } from '../../src/adapters/node/sha256.js';
import { JOURNAL_HEADER, encodeRecord, scanJournal } from '../../src/adapters/sqljs/journal.js';
import type { RecoveryReport } from '../../src/adapters/sqljs/recoverStore.js';
import { RECOVER_MARKER_FILE, recoverStore } from '../../src/adapters/sqljs/recoverStore.js';
import { SqlJsEventStore } from '../../src/adapters/sqljs/sqljsEventStore.js';
import { StoreNotFoundError, UnsupportedFormatError } from '../../src/core/errors.js';
import { hashEvent } from '../../src/core/eventLog.js';
import type { RawEvent } from '../../src/core/eventStore.js';
import { submitted } from '../support/events.js';
import { tempDir } from '../support/tmp.js';
import { journalRecords, writeLegacySnapshot } from '../support/legacyStore.js';

const root = join(__dirname, '../..');
const JOURNAL = 'events.journal';
const SNAPSHOT = 'events.sqlite';
const PROJECTIONS = 'projections.sqlite';

/**
 * A store of `total` events, one append (one journal record) each, left as a crashed writer leaves
 * it (no close). With `snapshotAfter`, it is a store of format 1 (before the index format), whose
 * `events.sqlite` holds a second copy of the first `snapshotAfter` events: `recover` uses that copy
 * where the journal's is damaged. A format-2 store has one copy of each event, in the journal.
 */
async function makeStore(dir: string, total: number, snapshotAfter?: number): Promise<void> {
  const store = await SqlJsEventStore.open(dir, { headSigner: null });
  for (let i = 1; i <= total; i++) await store.append(`document-${i}`, [submitted(`${i}`)]);
  await store.close();
  rmSync(join(dir, SNAPSHOT), { force: true });
  if (snapshotAfter !== undefined) await writeLegacySnapshot(dir, snapshotAfter);
}

const records = journalRecords;

/** Flips a bit inside the payload (or the header) of each of the given journal records (1-based). */
function damageRecords(dir: string, ...which: (number | { header: number })[]): void {
  const all = records(dir);
  const path = join(dir, JOURNAL);
  const bytes = readFileSync(path);
  for (const w of which) {
    const r = typeof w === 'number' ? all[w - 1]! : all[w.header - 1]!;
    const at = typeof w === 'number' ? r.start + Math.floor(((r.end - r.start) * 2) / 3) : r.start + 1;
    bytes[at] = bytes[at]! ^ 0x10;
  }
  writeFileSync(path, bytes);
}

/** The events the journal holds, read on their own: [count, scan result]. */
function journalEvents(dir: string): [number, string] {
  let n = 0;
  const end = scanJournal(join(dir, JOURNAL), JOURNAL_HEADER.length, (events) => (n += events.length));
  return [n, end.kind];
}

async function snapshotRows(dir: string): Promise<number> {
  const SQL = await initSqlJs();
  const db = new SQL.Database(readFileSync(join(dir, SNAPSHOT)));
  try {
    return db.exec('SELECT count(*) FROM events')[0]!.values[0]![0] as number;
  } finally {
    db.close();
  }
}

/** The recovered store: every event's document id in order, and whether verify passes. */
async function contents(dir: string): Promise<{ documents: string[]; positions: number[]; ok: boolean }> {
  const store = await SqlJsEventStore.open(dir, { mode: 'read' });
  try {
    const documents: string[] = [];
    const positions: number[] = [];
    for await (const e of store.readAll()) {
      positions.push(e.position);
      if (e.type === 'DocumentSubmitted') documents.push(e.data.document_id);
    }
    return { documents, positions, ok: (await store.verify()).ok };
  } finally {
    await store.close();
  }
}

const ids = (n: number): string[] => Array.from({ length: n }, (_, i) => `${i + 1}`);

/** Every file in the directory with a digest of its content. */
function listing(dir: string): Record<string, string> {
  return Object.fromEntries(
    readdirSync(dir)
      .sort()
      .map((f) => [f, statSync(join(dir, f)).isDirectory() ? 'dir' : createHash('sha256').update(readFileSync(join(dir, f))).digest('hex')]),
  );
}

/** The report names the originals, kept byte for byte; recover leaves no temporary files behind. */
function assertKept(dir: string, report: RecoveryReport, originals: Record<string, Buffer>): void {
  for (const [file, bytes] of Object.entries(originals)) {
    const kept = report.keptFiles.filter((p) => p.startsWith(join(dir, `${file}.before-recover-`)));
    assert.equal(kept.length, 1, `${file} is kept once: ${report.keptFiles.join(', ')}`);
    assert.ok(readFileSync(kept[0]!).equals(bytes), `${kept[0]} holds the original ${file}`);
  }
  const kept = readdirSync(dir).filter((f) => f.includes('.before-recover-'));
  assert.equal(kept.length, Object.keys(originals).length, `one kept copy per original: ${kept.join(', ')}`);
  assert.deepEqual(
    readdirSync(dir).filter((f) => f.includes('.recovering') || f.startsWith(RECOVER_MARKER_FILE) || f === 'store.lock'),
    [],
    'no temporary files, marker or lock are left',
  );
}

function originalsOf(dir: string, files = [JOURNAL, SNAPSHOT]): Record<string, Buffer> {
  return Object.fromEntries(files.map((f) => [f, readFileSync(join(dir, f))]));
}

test('recover splices the snapshot and the intact journal records around a damaged record', async (t) => {
  const dir = tempDir(t);
  await makeStore(dir, 10, 5);
  assert.equal(await snapshotRows(dir), 5, 'the snapshot covers events 1-5');
  assert.equal(records(dir).length, 10, 'the journal holds events 1-10, one record each');
  damageRecords(dir, 3);
  const originals = originalsOf(dir);

  const report = await recoverStore(dir);

  assert.equal(report.events, 10);
  assert.equal(report.highestPosition, 10);
  assert.equal(report.dropped, 0);
  assert.equal(report.droppedPositions, null);
  assert.deepEqual(report.unreadablePositions, []);
  assert.equal(report.source, 'snapshot and journal');
  assert.deepEqual(report.intact, { snapshot: 5, journal: 2 });
  assert.match(report.notes.join('\n'), /the journal is damaged at byte \d+ .*reading resumed at byte \d+/);
  assert.doesNotMatch(report.notes.join('\n'), /could not be recovered/);
  assertKept(dir, report, originals);
  assert.deepEqual(await contents(dir), { documents: ids(10), positions: ids(10).map(Number), ok: true });
  assert.deepEqual(journalEvents(dir), [10, 'clean'], 'the new journal holds the whole log too');
});

test('a damaged journal without a snapshot: the intact prefix is kept and the loss is reported', async (t) => {
  const dir = tempDir(t);
  await makeStore(dir, 10);
  assert.equal(existsSync(join(dir, SNAPSHOT)), false);
  damageRecords(dir, 4);
  const originals = originalsOf(dir, [JOURNAL]);

  const report = await recoverStore(dir);

  assert.equal(report.events, 3);
  assert.equal(report.highestPosition, 10, 'records 5-10 were read even though they cannot be chained');
  assert.equal(report.dropped, 7);
  assert.deepEqual(report.droppedPositions, { from: 4, to: 10 });
  assert.deepEqual(report.unreadablePositions, [{ from: 4, to: 4 }]);
  assert.equal(report.source, 'journal');
  assert.deepEqual(report.intact, { snapshot: 0, journal: 3 });
  assert.match(report.notes.join('\n'), /7 events after position 3 could not be recovered \(positions 4-10\): no intact copy of position 4 was found/);
  assertKept(dir, report, originals);
  assert.deepEqual(await contents(dir), { documents: ids(3), positions: [1, 2, 3], ok: true });
});

test('records after damage that still continue the chain are recovered (junk between records)', async (t) => {
  const dir = tempDir(t);
  await makeStore(dir, 10);
  const journal = join(dir, JOURNAL);
  const bytes = readFileSync(journal);
  const cut = records(dir)[2]!.end; // after record 3
  writeFileSync(journal, Buffer.concat([bytes.subarray(0, cut), Buffer.alloc(37, 0xab), bytes.subarray(cut)]));
  const originals = originalsOf(dir, [JOURNAL]);

  const report = await recoverStore(dir);

  assert.equal(report.events, 10);
  assert.equal(report.dropped, 0);
  assert.deepEqual(report.intact, { snapshot: 0, journal: 10 });
  assert.match(report.notes.join('\n'), new RegExp(`damaged at byte ${cut} .*reading resumed at byte ${cut + 37}`));
  assertKept(dir, report, originals);
  assert.deepEqual(await contents(dir), { documents: ids(10), positions: ids(10).map(Number), ok: true });
});

test('several damaged records: the chain is extended across each one that another copy covers', async (t) => {
  const dir = tempDir(t);
  await makeStore(dir, 10, 5);
  damageRecords(dir, 3, { header: 8 }); // the snapshot has event 3; nothing else has event 8
  const originals = originalsOf(dir);

  const report = await recoverStore(dir);

  assert.equal(report.events, 7);
  assert.equal(report.highestPosition, 10);
  assert.equal(report.dropped, 3);
  assert.deepEqual(report.droppedPositions, { from: 8, to: 10 });
  assert.deepEqual(report.unreadablePositions, [{ from: 8, to: 8 }]);
  assert.equal((report.notes.join('\n').match(/the journal is damaged at byte/g) ?? []).length, 2);
  assert.match(report.notes.join('\n'), /3 events after position 7 could not be recovered \(positions 8-10\)/);
  assertKept(dir, report, originals);
  assert.deepEqual(await contents(dir), { documents: ids(7), positions: ids(7).map(Number), ok: true });
  assert.deepEqual(journalEvents(dir), [7, 'clean']);
});

interface PatchableFs {
  openSync: (path: unknown, ...rest: unknown[]) => number;
  writeSync: (fd: number, ...rest: unknown[]) => number;
  renameSync: (from: unknown, to: unknown) => void;
}

/** Replaces fs functions for the duration of `run` (recover's modules call them through the fs module). */
async function withFs<T>(patch: (fs: PatchableFs) => void, run: () => Promise<T>): Promise<T> {
  const fs = nodeFs as unknown as PatchableFs;
  const saved = { ...fs };
  patch(fs);
  syncBuiltinESMExports();
  try {
    return await run();
  } finally {
    Object.assign(fs, { openSync: saved.openSync, writeSync: saved.writeSync, renameSync: saved.renameSync });
    syncBuiltinESMExports();
  }
}

const ioError = (code: string): Error => Object.assign(new Error(`${code}: simulated`), { code });

test('a write failure (disk full) during recover leaves the original files in place and usable; recover then succeeds', async (t) => {
  const dir = tempDir(t);
  await makeStore(dir, 10, 5);
  writeFileSync(join(dir, PROJECTIONS), 'read models');
  const before = listing(dir);
  const originals = originalsOf(dir, [JOURNAL, SNAPSHOT, PROJECTIONS]);

  await assert.rejects(
    withFs(
      (fs) => {
        const { openSync, writeSync } = fs;
        const paths = new Map<number, string>();
        fs.openSync = (path, ...rest) => {
          const fd = openSync(path, ...rest);
          paths.set(fd, String(path));
          return fd;
        };
        fs.writeSync = (fd, ...rest) => {
          if (paths.get(fd)?.endsWith(`${SNAPSHOT}.recovering`)) throw ioError('ENOSPC');
          return writeSync(fd, ...rest);
        };
      },
      () => recoverStore(dir),
    ),
    /ENOSPC/,
  );

  assert.deepEqual(listing(dir), before, 'every file is as it was, and nothing was added');
  assert.deepEqual(await contents(dir), { documents: ids(10), positions: ids(10).map(Number), ok: true });
  const report = await recoverStore(dir);
  assert.equal(report.events, 10);
  assertKept(dir, report, originals);
  assert.deepEqual(await contents(dir), { documents: ids(10), positions: ids(10).map(Number), ok: true });
});

test('a rename failure half-way through replacing the files puts the originals back; recover then succeeds', async (t) => {
  const dir = tempDir(t);
  await makeStore(dir, 10, 5);
  writeFileSync(join(dir, PROJECTIONS), 'read models');
  const before = listing(dir);
  const originals = originalsOf(dir, [JOURNAL, SNAPSHOT, PROJECTIONS]);

  await assert.rejects(
    withFs(
      (fs) => {
        const { renameSync } = fs;
        fs.renameSync = (from, to) => {
          // The new journal is in place by now; the new snapshot cannot be.
          if (String(from).endsWith(`${SNAPSHOT}.recovering`)) throw ioError('EIO');
          renameSync(from, to);
        };
      },
      () => recoverStore(dir),
    ),
    /EIO/,
  );

  assert.deepEqual(listing(dir), before, 'the originals are back in place and nothing was added');
  assert.deepEqual(await contents(dir), { documents: ids(10), positions: ids(10).map(Number), ok: true });
  const report = await recoverStore(dir);
  assert.equal(report.events, 10);
  assertKept(dir, report, originals);
});

/**
 * Runs recover in a child process that kills itself (SIGKILL) at one step: a crash exactly there.
 * `at`: which fs call, and a fragment of the path it acts on.
 */
async function crashRecoverAt(dir: string, at: { call: 'linkSync' | 'renameSync' | 'unlinkSync'; path: string }): Promise<void> {
  const code = `
    const fs = require('node:fs');
    const original = fs[process.env.CRASH_CALL];
    fs[process.env.CRASH_CALL] = function (path, ...rest) {
      if (String(path).endsWith(process.env.CRASH_PATH)) process.kill(process.pid, 'SIGKILL');
      return original.call(this, path, ...rest);
    };
    require('node:module').syncBuiltinESMExports();
    require(${JSON.stringify(join(root, 'src/adapters/sqljs/recoverStore.ts'))})
      .recoverStore(process.env.CRASH_DIR)
      .then(() => process.exit(3), (err) => { console.error(err); process.exit(4); });
  `;
  const child = spawn(process.execPath, ['--import', 'tsx', '-e', code], {
    cwd: root,
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, NODE_OPTIONS: '', CRASH_CALL: at.call, CRASH_PATH: at.path, CRASH_DIR: dir },
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  const { code: exit, signal } = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (c, s) => resolve({ code: c, signal: s }));
  });
  assert.equal(signal, 'SIGKILL', `the child crashed at ${at.call} ${at.path} (exit ${exit}): ${stderr}`);
}

const crashPoints = [
  { name: 'while writing its marker', at: { call: 'renameSync', path: `${RECOVER_MARKER_FILE}.tmp` }, marker: false },
  { name: 'before keeping the originals', at: { call: 'linkSync', path: JOURNAL }, marker: true },
  { name: 'before installing the new journal', at: { call: 'renameSync', path: `${JOURNAL}.recovering` }, marker: true },
  { name: 'between installing the journal and the snapshot', at: { call: 'renameSync', path: `${SNAPSHOT}.recovering` }, marker: true },
  { name: 'before moving the read models aside', at: { call: 'renameSync', path: PROJECTIONS }, marker: true },
  { name: 'before removing its marker', at: { call: 'unlinkSync', path: RECOVER_MARKER_FILE }, marker: true },
] as const;

for (const point of crashPoints) {
  test(`a recover that crashed ${point.name} is completed by the next recover`, async (t) => {
    const dir = tempDir(t);
    await makeStore(dir, 10, 5);
    damageRecords(dir, 3);
    writeFileSync(join(dir, PROJECTIONS), 'read models');
    const originals = originalsOf(dir, [JOURNAL, SNAPSHOT, PROJECTIONS]);

    await crashRecoverAt(dir, point.at);
    assert.equal(existsSync(join(dir, RECOVER_MARKER_FILE)), point.marker);

    const report = await recoverStore(dir);
    assert.equal(report.events, 10);
    assert.equal(report.dropped, 0);
    if (point.marker) assert.match(report.notes.join('\n'), /completes a recovery started at .* that was interrupted/);
    assertKept(dir, report, originals);
    assert.deepEqual(await contents(dir), { documents: ids(10), positions: ids(10).map(Number), ok: true });
  });
}

test('an interrupted recover whose new files are damaged is undone, and the store recovered again', async (t) => {
  const dir = tempDir(t);
  await makeStore(dir, 10, 5);
  damageRecords(dir, 3);
  const originals = originalsOf(dir);

  await crashRecoverAt(dir, { call: 'renameSync', path: `${SNAPSHOT}.recovering` });
  truncateSync(join(dir, `${SNAPSHOT}.recovering`), 100);

  const report = await recoverStore(dir);
  assert.equal(report.events, 10);
  assert.match(report.notes.join('\n'), /interrupted before its new files were complete; it was undone/);
  assertKept(dir, report, originals);
  assert.deepEqual(await contents(dir), { documents: ids(10), positions: ids(10).map(Number), ok: true });
});

test('recover refuses a directory without a store, and leaves it untouched', async (t) => {
  const empty = tempDir(t);
  await assert.rejects(recoverStore(empty), StoreNotFoundError);
  assert.deepEqual(readdirSync(empty), []);

  const other = tempDir(t);
  writeFileSync(join(other, 'notes.txt'), 'not a store');
  mkdirSync(join(other, 'sub'));
  const before = listing(other);
  await assert.rejects(recoverStore(other), StoreNotFoundError);
  assert.deepEqual(listing(other), before);

  const missing = join(tempDir(t), 'no-such-dir');
  await assert.rejects(recoverStore(missing), StoreNotFoundError);
  assert.equal(existsSync(missing), false);

  await assert.rejects(recoverStore(join(other, 'notes.txt')), StoreNotFoundError);
  assert.deepEqual(listing(other), before);
});

test('recover of a healthy store keeps every event and the originals', async (t) => {
  const dir = tempDir(t);
  const store = await SqlJsEventStore.open(dir);
  for (let i = 1; i <= 4; i++) await store.append(`document-${i}`, [submitted(`${i}`)]);
  await store.close();
  const originals = originalsOf(dir);
  const report = await recoverStore(dir);
  assert.equal(report.events, 4);
  // A format-2 store keeps one copy of each event, in the journal; its index is rebuilt from it.
  assert.equal(report.source, 'journal');
  assert.ok(report.notes.some((n) => n.includes('the journal is the only copy')), report.notes.join('; '));
  assert.equal(report.dropped, 0);
  assertKept(dir, report, originals);
  assert.deepEqual(await contents(dir), { documents: ids(4), positions: [1, 2, 3, 4], ok: true });
});

test('an intact event of a newer schema version is not dropped: recover refuses and changes nothing', async (t) => {
  const dir = tempDir(t);
  await makeStore(dir, 3);
  const reader = await SqlJsEventStore.open(dir, { mode: 'read' });
  const raws: RawEvent[] = [];
  for await (const r of reader.readRaw()) raws.push(r);
  await reader.close();
  const last = raws[raws.length - 1]!;
  const future = { ...last, position: 4, eventId: 'future-event', streamId: 'document-future', streamVersion: 1, schemaVersion: 99, prevHash: last.hash };
  appendFileSync(join(dir, JOURNAL), encodeRecord([{ ...future, hash: hashEvent(sha256, future) }]));
  const before = listing(dir);
  await assert.rejects(recoverStore(dir), (err: unknown) => err instanceof UnsupportedFormatError && /newer RAG Ledger/.test(err.message));
  assert.deepEqual(listing(dir), before);
});
