import { existsSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Database, SqlValue, Statement } from 'sql.js';
import { CorruptStoreError, ForgetInProgressError, JournalChangedError, StoreNotEmptyError, ValidationError, StoreNotFoundError, StoreReadOnlyError } from '../../core/errors.js';
import type { Hasher } from '../../core/eventLog.js';
import { ChainVerifier, checkImport, decodeRaw, planAppendMany, planForgetAppend } from '../../core/eventLog.js';
import type {
  AppendOptions,
  AppendResult,
  EventStore,
  LogHead,
  NewEvent,
  RawEvent,
  ReadAllOptions,
  ReadStreamOptions,
  RecordedEvent,
  StoreStats,
  VerifyReport,
  StreamWrite,
} from '../../core/eventStore.js';
import { checkedPositions } from '../../core/eventStore.js';
import { newUuid, sha256, systemClock } from '../node/sha256.js';
import { JOURNAL_HEADER, JournalWriter, createJournal, cutTornTail, encodeRecord, fsyncDir, hasJournalHeader } from './journal.js';
import { EVENT_COLUMNS, INSERT_EVENT_SQL, JOURNAL_FILE, PACKED_COLUMNS, RECOVER_MARKER_FILE, SNAPSHOT_FILE, createSchema, packedRowToRaw, rawToParams, rowToRaw, tuneConnection } from './schema.js';
import { replaceFileAtomically } from './atomicFile.js';
import { SNAPSHOT_CHECK_FILE, checkImage, checkedDigestsFile, crossCheckJournal, imageDigest, isDamagedImage, openSnapshot, readCheckedDigests, readHead, readSnapshotBytes, replayJournal } from './storeFiles.js';
import { loadSqlJs } from './sqlJsLoader.js';
import type { ForgetStep } from './forgetFiles.js';
import { forgetPending, installRewrittenLog, settleForget } from './forgetFiles.js';
import { StoreLock } from './storeLock.js';
import type { HeadSigner } from '../../core/signing.js';
import { SEAL_STREAM, headMessage } from '../../core/signing.js';
import { defaultHeadSigner, defaultSealSkipped, ed25519Check } from '../node/signing.js';

export interface SqlJsEventStoreOptions {
  /** `write` takes the store's single-writer lock; `read` never blocks and never writes. Default `write`. */
  readonly mode?: 'write' | 'read';
  /** Create the store when missing (write mode only). Default true. */
  readonly create?: boolean;
  /** Who holds the lock, for the message another writer sees (e.g. "the rag-ledger CLI"). */
  readonly owner?: string;
  /** Snapshot the database once the journal has grown this much since the last snapshot. Default 64 MiB. */
  readonly snapshotEveryBytes?: number;
  readonly clock?: () => string;
  readonly newId?: () => string;
  readonly hasher?: Hasher;
  /** Told after each step of a forget's file replacement (crash tests stop the process there). */
  readonly onForgetStep?: (step: ForgetStep) => void;
  /**
   * Seals the head (a HeadSigned event) on close when this writer appended. Default: the
   * process's signer (setDefaultHeadSigner); null signs nothing.
   */
  readonly headSigner?: HeadSigner | null;
  /** Told when the head could not be sealed (the log is signed with another key). */
  readonly onSealSkipped?: (reason: string) => void;
}

const PAGE = 2000;
/** Import writes journal records of about this size. */
const IMPORT_BATCH_BYTES = 32 * 1024 * 1024;

/**
 * The event store on disk: sql.js holds the log in memory and answers queries; durability
 * comes from an fdatasync'd append-only journal (one record per append call) plus periodic
 * snapshots of the SQLite image that record which journal offset they cover.
 * See docs/architecture.md, "Persistence".
 */
export class SqlJsEventStore implements EventStore {
  private queue: Promise<unknown> = Promise.resolve();
  private readonly statements = new Map<string, Statement>();
  private closed = false;
  private snapshotScheduled = false;
  private inflight: Promise<void> | null = null;
  private snapshotWrite: Promise<void> = Promise.resolve();
  private snapshotError: Error | undefined;
  /** Journal offset covered by the newest exported image (written or still being written). */
  private exportedOffset: number;
  /** SHA-256 of the snapshot image on disk, when it is known to agree with the journal. */
  private checkedDigest: string | null = null;
  /**
   * Set when a reader found that the snapshot disagrees with the journal (a writer refuses such
   * a store): one line for the user, naming the file and what to run.
   */
  integrityWarning: string | null = null;

  private constructor(
    readonly location: string,
    private db: Database,
    private journal: JournalWriter | null,
    private readonly lock: StoreLock | null,
    private headState: LogHead,
    private snapshotOffset: number,
    private journalEnd: number,
    private readonly options: Required<Pick<SqlJsEventStoreOptions, 'snapshotEveryBytes' | 'clock' | 'newId' | 'hasher'>> & Pick<SqlJsEventStoreOptions, 'onForgetStep' | 'onSealSkipped'> & { readonly headSigner: HeadSigner | null },
  ) {
    this.exportedOffset = snapshotOffset;
    this.sealedAt = headState.position;
  }

  /** The head when opened or last sealed: a writer that moved it seals the new head (sealHead, close). */
  private sealedAt: number;

  /** Opens (or creates) the store in `dir`. */
  static async open(dir: string, options: SqlJsEventStoreOptions = {}): Promise<SqlJsEventStore> {
    const mode = options.mode ?? 'write';
    // Before anything is created or locked, so a bad signing key fails first.
    const headSigner = mode === 'write' ? (options.headSigner === undefined ? defaultHeadSigner() : options.headSigner) : null;
    const snapshotPath = join(dir, SNAPSHOT_FILE);
    const journalPath = join(dir, JOURNAL_FILE);
    if (mode === 'read' || options.create === false) {
      if (!existsSync(snapshotPath) && !existsSync(journalPath)) throw new StoreNotFoundError(dir);
    } else {
      mkdirSync(dir, { recursive: true });
    }
    if (existsSync(join(dir, RECOVER_MARKER_FILE))) {
      throw new CorruptStoreError(join(dir, RECOVER_MARKER_FILE), 'a recovery of this store was interrupted');
    }
    const lock = mode === 'write' ? StoreLock.acquire(dir, options.owner ?? `rag-ledger (pid ${process.pid})`) : null;
    let db: Database | undefined;
    try {
      // A forget interrupted while it replaced the files: a writer completes it, a reader waits for that.
      if (lock) settleForget(dir);
      else if (forgetPending(dir)) throw new ForgetInProgressError(dir);
      const SQL = await loadSqlJs();
      let offset = JOURNAL_HEADER.length;
      let digest: string | null = null;
      if (existsSync(snapshotPath)) {
        const bytes = readSnapshotBytes(snapshotPath);
        ({ db, offset } = openSnapshot(new SQL.Database(bytes), snapshotPath));
        digest = imageDigest(bytes);
      } else {
        db = new SQL.Database();
        createSchema(db);
      }
      if (!existsSync(journalPath)) {
        if (offset > JOURNAL_HEADER.length) throw new CorruptStoreError(journalPath, `the journal is missing but the snapshot covers ${offset} bytes of it`);
        if (mode === 'write') {
          createJournal(journalPath);
          fsyncDir(dir);
        }
      } else if (!hasJournalHeader(journalPath)) {
        throw new CorruptStoreError(journalPath, 'the file does not start with a RAG Ledger journal header');
      } else if (statSync(journalPath).size < offset) {
        throw new CorruptStoreError(journalPath, `the journal is ${statSync(journalPath).size} bytes but the snapshot covers ${offset}`);
      }
      const hasher = options.hasher ?? sha256;
      // The image must agree with the journal it claims to cover (see storeFiles.ts, SNAPSHOT_CHECK_FILE).
      let warning: string | null = null;
      let checkedDigest: string | null = null;
      if (digest !== null && readCheckedDigests(dir).includes(digest)) checkedDigest = digest;
      else if (digest !== null) {
        const failure = checkImage(db, journalPath, offset, hasher);
        if (failure) {
          const inJournal = failure.detail.startsWith('journal: ');
          const file = inJournal ? journalPath : snapshotPath;
          const detail = inJournal ? failure.detail.slice('journal: '.length) : `the snapshot disagrees with the journal at position ${failure.position} (${failure.detail})`;
          if (mode === 'write') throw new CorruptStoreError(file, detail);
          warning = `warning: the event store file ${file} is damaged: ${detail}; what is shown may not match the journal. Run \`rag-ledger verify\` or \`rag-ledger recover --store ${dir}\`.`;
        } else if (mode === 'write') {
          checkedDigest = digest;
          await replaceFileAtomically(dir, SNAPSHOT_CHECK_FILE, checkedDigestsFile([digest])).catch(() => undefined); // only a shortcut for the next open
        }
      }
      tuneConnection(db);
      let head = readHead(db);
      let end = offset;
      if (existsSync(journalPath)) {
        const replay = replayJournal(db, journalPath, offset, head);
        head = replay.head;
        end = replay.end.offset;
        if (replay.end.kind === 'corrupt') throw new CorruptStoreError(journalPath, replay.end.detail);
        if (replay.end.kind === 'torn' && mode === 'write') cutTornTail(journalPath, replay.end.offset);
      }
      const journal = mode === 'write' ? await JournalWriter.open(journalPath, end) : null;
      const store = new SqlJsEventStore(dir, db, journal, lock, head, offset, end, {
        snapshotEveryBytes: options.snapshotEveryBytes ?? 64 * 1024 * 1024,
        clock: options.clock ?? systemClock,
        newId: options.newId ?? newUuid,
        hasher,
        ...(options.onForgetStep ? { onForgetStep: options.onForgetStep } : {}),
        onSealSkipped: options.onSealSkipped ?? defaultSealSkipped,
        headSigner,
      });
      store.checkedDigest = checkedDigest;
      store.integrityWarning = warning;
      store.maybeScheduleSnapshot();
      return store;
    } catch (err) {
      db?.close();
      lock?.release();
      if (isDamagedImage(err)) throw new CorruptStoreError(snapshotPath, `the snapshot cannot be read (${(err as Error).message})`);
      throw err;
    }
  }

  get writable(): boolean {
    return this.journal !== null && !this.closed;
  }

  /** Bytes of journal not yet covered by a snapshot. */
  get unsnapshottedBytes(): number {
    return this.journalEnd - this.snapshotOffset;
  }

  /** One stream's append is an appendMany of one write: same planning, same single durable record. */
  async append(streamId: string, events: readonly NewEvent[], options: AppendOptions = {}): Promise<AppendResult> {
    const [result] = await this.appendMany([{ streamId, events, expectedVersion: options.expectedVersion ?? 'any' }]);
    return result!;
  }

  appendMany(writes: readonly StreamWrite[]): Promise<readonly AppendResult[]> {
    return this.exclusive(async () => {
      const journal = this.assertWritable();
      const plan = planAppendMany(writes, {
        streamVersion: (streamId) => this.currentStreamVersion(streamId),
        headPosition: this.headState.position,
        headHash: this.headState.hash,
        now: this.options.clock(),
        newId: this.options.newId,
        hasher: this.options.hasher,
        existingPositions: (ids) => this.positionsOf(ids),
      });
      if (plan.records.length > 0) await this.persist(journal, plan.records);
      return plan.results;
    });
  }

  /**
   * Makes records durable and visible. The journal write and its fdatasync run in the
   * background while the rows are inserted inside an open transaction; the transaction commits
   * only once the journal is durable. Readers wait for `inflight`, so they never see rows
   * that are not yet durable. If either step fails, both are undone.
   */
  private async persist(journal: JournalWriter, records: readonly RawEvent[]): Promise<void> {
    const before = journal.bytes;
    let record: Buffer;
    try {
      record = encodeRecord(records);
    } catch (err) {
      if (err instanceof RangeError) throw new ValidationError(`this append is too large for one journal record: ${err.message}`, [], 'Append fewer or smaller events per call.');
      throw err;
    }
    const durable = journal.append(record);
    let insertError: unknown;
    try {
      this.db.exec('BEGIN');
      const insert = this.statement(INSERT_EVENT_SQL);
      for (const r of records) insert.run(rawToParams(r));
    } catch (err) {
      insertError = err;
      this.rollbackQuietly();
    }
    let done!: () => void;
    this.inflight = new Promise<void>((resolve) => (done = resolve));
    try {
      try {
        await durable;
      } catch (err) {
        if (insertError === undefined) this.rollbackQuietly();
        throw err;
      }
      if (insertError !== undefined) {
        await journal.undo(before);
        throw this.damaged(insertError) as Error;
      }
      try {
        this.db.exec('COMMIT');
      } catch (err) {
        this.rollbackQuietly();
        await journal.undo(before);
        throw this.damaged(err);
      }
    } finally {
      this.inflight = null;
      done();
    }
    const last = records[records.length - 1]!;
    this.headState = { position: last.position, hash: last.hash };
    this.journalEnd = journal.bytes;
    this.maybeScheduleSnapshot();
  }

  /**
   * Rewrites the whole store with the emptied rows and the DocumentForgotten appended: the new
   * chain is verified in full first, then written as a new journal and a new snapshot built from
   * scratch and installed under a marker (see forgetFiles.ts), then loaded in place of the old
   * database. Appends wait meanwhile. Cost: one pass over the log and one write of it.
   */
  forget(attestation: StreamWrite, replacements: readonly RawEvent[]): Promise<AppendResult> {
    return this.exclusive(async () => {
      this.assertWritable();
      await this.snapshotWrite;
      const positions = replacements.map((r) => r.position);
      const current = new Map<number, RawEvent>();
      for (let i = 0; i < positions.length; i += 500) for (const r of this.readPositionsNow(positions.slice(i, i + 500))) current.set(r.position, r);
      const { records, result } = planForgetAppend(attestation, replacements, current, {
        streamVersion: (streamId) => this.currentStreamVersion(streamId),
        headPosition: this.headState.position,
        headHash: this.headState.hash,
        now: this.options.clock(),
        newId: this.options.newId,
        hasher: this.options.hasher,
        existingPositions: (ids) => this.positionsOf(ids),
      });
      if (records.length === 0) return result;
      const byPosition = new Map(replacements.map((r) => [r.position, r]));
      const all: RawEvent[] = [];
      const verifier = new ChainVerifier(this.options.hasher, ed25519Check);
      const take = (raw: RawEvent): void => {
        if (!verifier.check(raw)) return;
        all.push(raw);
      };
      for (let from = 1; ; ) {
        const page = this.select(`SELECT ${PACKED_COLUMNS} FROM events WHERE position >= ? ORDER BY position LIMIT ?`, [from, PAGE]);
        for (const raw of page) take(byPosition.get(raw.position) ?? raw);
        if (page.length < PAGE) break;
        from = page[page.length - 1]!.position + 1;
      }
      for (const r of records) take(r);
      const report = verifier.report();
      if (!report.ok) {
        throw new ValidationError(`the log after this forget would not verify at position ${report.firstFailure?.position}: ${report.firstFailure?.detail}`, [], 'Run `rag-ledger verify`; nothing was changed.');
      }
      const SQL = await loadSqlJs();
      const { journalSize, image } = installRewrittenLog(this.location, SQL, all, this.options.onForgetStep);
      // The files are replaced: load the new image, and append to the new journal from now on.
      await this.journal?.close();
      this.journal = null;
      this.freeStatements();
      this.db.close();
      this.db = new SQL.Database(image);
      this.checkedDigest = imageDigest(image);
      tuneConnection(this.db);
      this.journal = await JournalWriter.open(join(this.location, JOURNAL_FILE), journalSize);
      const last = records[records.length - 1]!;
      this.headState = { position: last.position, hash: last.hash };
      this.journalEnd = journalSize;
      this.snapshotOffset = journalSize;
      this.exportedOffset = journalSize;
      return result;
    });
  }

  private readPositionsNow(positions: readonly number[]): RawEvent[] {
    const sorted = checkedPositions(positions);
    if (sorted.length === 0) return [];
    return this.select(`SELECT ${PACKED_COLUMNS} FROM events WHERE position IN (${sorted.map(() => '?').join(',')}) ORDER BY position`, sorted);
  }

  /** SQLite may already have rolled back by itself (after NOMEM, FULL, IOERR). */
  private rollbackQuietly(): void {
    try {
      this.db.exec('ROLLBACK');
    } catch {
      /* no transaction was open */
    }
  }

  /**
   * Runs a synchronous read once no append is between its insert and its commit. The check and
   * the read happen in the same synchronous step, so no append can start in between.
   */
  private async settled<T>(read: () => T): Promise<T> {
    while (this.inflight) await this.inflight;
    return read();
  }

  async *readStream(streamId: string, options: ReadStreamOptions = {}): AsyncIterable<RecordedEvent> {
    let from = Math.max(1, options.fromVersion ?? 1);
    let remaining = options.limit ?? Number.POSITIVE_INFINITY;
    while (remaining > 0) {
      const n = Math.min(PAGE, remaining);
      const page = await this.settled(() => this.select(`SELECT ${PACKED_COLUMNS} FROM events WHERE stream_id = ? AND stream_version >= ? ORDER BY stream_version LIMIT ?`, [streamId, from, n]));
      for (const raw of page) yield decodeRaw(raw);
      if (page.length < n) return;
      remaining -= page.length;
      from = page[page.length - 1]!.streamVersion + 1;
    }
  }

  async *readAll(options: ReadAllOptions = {}): AsyncIterable<RecordedEvent> {
    const where: string[] = ['position >= ?'];
    const params: SqlValue[] = [];
    if (options.types && options.types.length > 0) {
      where.push(`type IN (${options.types.map(() => '?').join(',')})`);
      params.push(...options.types);
    }
    if (options.streamId !== undefined) {
      where.push('stream_id = ?');
      params.push(options.streamId);
    }
    if (options.category !== undefined) {
      where.push('stream_id >= ? AND stream_id < ?');
      params.push(`${options.category}-`, `${options.category}.`);
    }
    if (options.since !== undefined) {
      where.push('recorded_at >= ?');
      params.push(options.since);
    }
    if (options.until !== undefined) {
      where.push('recorded_at < ?');
      params.push(options.until);
    }
    const sql = `SELECT ${PACKED_COLUMNS} FROM events WHERE ${where.join(' AND ')} ORDER BY position LIMIT ?`;
    let from = Math.max(1, options.fromPosition ?? 1);
    let remaining = options.limit ?? Number.POSITIVE_INFINITY;
    while (remaining > 0) {
      const n = Math.min(PAGE, remaining);
      const page = await this.settled(() => this.select(sql, [from, ...params, n]));
      for (const raw of page) yield decodeRaw(raw);
      if (page.length < n) return;
      remaining -= page.length;
      from = page[page.length - 1]!.position + 1;
    }
  }

  async *readRaw(fromPosition = 1): AsyncIterable<RawEvent> {
    let from = Math.max(1, fromPosition);
    for (;;) {
      const page = await this.settled(() => this.select(`SELECT ${PACKED_COLUMNS} FROM events WHERE position >= ? ORDER BY position LIMIT ?`, [from, PAGE]));
      yield* page;
      if (page.length < PAGE) return;
      from = page[page.length - 1]!.position + 1;
    }
  }

  async readPositions(positions: readonly number[]): Promise<RawEvent[]> {
    const sorted = checkedPositions(positions);
    if (sorted.length === 0) return [];
    const first = sorted[0]!;
    const last = sorted[sorted.length - 1]!;
    // A contiguous page (the unfiltered timeline) is one range scan; anything else a list of positions.
    if (last - first + 1 === sorted.length) return this.settled(() => this.select(`SELECT ${PACKED_COLUMNS} FROM events WHERE position BETWEEN ? AND ? ORDER BY position`, [first, last]));
    return this.settled(() => this.select(`SELECT ${PACKED_COLUMNS} FROM events WHERE position IN (${sorted.map(() => '?').join(',')}) ORDER BY position`, sorted));
  }

  positionOf(eventId: string): Promise<number | null> {
    return this.settled(() => this.positionsOf([eventId]).get(eventId) ?? null);
  }

  importRaw(events: AsyncIterable<RawEvent> | Iterable<RawEvent>): Promise<number> {
    return this.exclusive(async () => {
      const journal = this.assertWritable();
      if (this.headState.position > 0) throw new StoreNotEmptyError(this.location, this.headState.position);
      // Check everything before writing anything, so a bad archive leaves the store empty.
      const all = await checkImport(events, this.options.hasher, ed25519Check);
      let batch: RawEvent[] = [];
      let bytes = 0;
      for (const raw of all) {
        batch.push(raw);
        bytes += raw.dataJson.length + raw.metadataJson.length + (raw.attachment?.byteLength ?? 0) + 256;
        if (bytes >= IMPORT_BATCH_BYTES) {
          await this.persist(journal, batch);
          batch = [];
          bytes = 0;
        }
      }
      if (batch.length > 0) await this.persist(journal, batch);
      return all.length;
    });
  }

  streamVersion(streamId: string): Promise<number> {
    return this.settled(() => this.currentStreamVersion(streamId));
  }

  head(): Promise<LogHead> {
    return Promise.resolve(this.headState);
  }

  stats(): Promise<StoreStats> {
    return this.settled(() => this.readStats());
  }

  private readStats(): StoreStats {
    const byType: Record<string, number> = {};
    for (const [type, n] of this.rows('SELECT type, COUNT(*) FROM events GROUP BY type ORDER BY type')) byType[type as string] = n as number;
    const byCategory: Record<string, number> = {};
    const catSql = "SELECT CASE WHEN instr(stream_id, '-') > 0 THEN substr(stream_id, 1, instr(stream_id, '-') - 1) ELSE stream_id END AS c, COUNT(*) FROM events GROUP BY c ORDER BY c";
    for (const [c, n] of this.rows(catSql)) byCategory[c as string] = n as number;
    const [summary] = this.rows('SELECT COUNT(*), COUNT(DISTINCT stream_id), MIN(recorded_at), MAX(recorded_at) FROM events');
    const files: Record<string, number> = {};
    for (const f of [SNAPSHOT_FILE, JOURNAL_FILE]) {
      const p = join(this.location, f);
      if (existsSync(p)) files[f] = statSync(p).size;
    }
    return {
      location: this.location,
      events: (summary?.[0] as number) ?? 0,
      streams: (summary?.[1] as number) ?? 0,
      headPosition: this.headState.position,
      headHash: this.headState.hash,
      firstRecordedAt: (summary?.[2] as string | null) ?? null,
      lastRecordedAt: (summary?.[3] as string | null) ?? null,
      byType,
      byCategory,
      files,
    };
  }

  /**
   * Checks the hash chain of the database, then cross-checks every journal record against
   * it, so that events removed from the end of either copy are found too.
   */
  verify(): Promise<VerifyReport> {
    return this.exclusive(async () => {
      const verifier = new ChainVerifier(this.options.hasher, ed25519Check);
      const hashes: string[] = [];
      for await (const raw of this.readRaw(1)) {
        if (!verifier.check(raw)) break;
        hashes.push(raw.hash);
      }
      const report = verifier.report();
      if (!report.ok) return report;
      // Only the part of the journal this store has loaded: a reader must not mistake a
      // writer's newer appends for events missing from its database.
      const mismatch = crossCheckJournal(join(this.location, JOURNAL_FILE), hashes, this.journalEnd);
      return mismatch ? { ...report, ok: false, firstFailure: mismatch } : report;
    });
  }

  /**
   * Picks up events another process appended since this (read-only) store was opened.
   * Returns how many were added.
   */
  refresh(): Promise<number> {
    return this.exclusive(() => {
      if (this.journal) return Promise.resolve(0);
      const journalPath = join(this.location, JOURNAL_FILE);
      if (statSync(journalPath).size < this.journalEnd) {
        throw new CorruptStoreError(journalPath, `the journal is now shorter than the ${this.journalEnd} bytes this reader loaded (the writer undid an append)`);
      }
      const before = this.headState.position;
      const replay = replayJournal(this.db, journalPath, this.journalEnd, this.headState);
      this.headState = replay.head;
      this.journalEnd = replay.end.kind === 'clean' ? replay.end.offset : replay.lastGoodOffset;
      if (replay.end.kind === 'corrupt') throw new CorruptStoreError(journalPath, replay.end.detail);
      return Promise.resolve(this.headState.position - before);
    });
  }

  /** Writes a snapshot now (normally done in the background and on close). */
  async snapshot(): Promise<void> {
    await this.exclusive(async () => {
      this.assertWritable();
      await this.snapshotWrite;
      this.startSnapshot();
    });
    await this.snapshotWrite;
    if (this.snapshotError) throw this.snapshotError;
  }

  close(): Promise<void> {
    return this.exclusive(async () => {
      if (this.closed) return;
      try {
        if (this.journal && this.options.headSigner && this.headState.position > this.sealedAt) await this.sealNow(this.journal, this.options.headSigner);
        await this.snapshotWrite;
        if (this.journal && this.journalEnd > this.snapshotOffset) {
          this.startSnapshot();
          await this.snapshotWrite;
        }
      } finally {
        this.closed = true;
        await this.journal?.close();
        this.freeStatements();
        this.db.close();
        this.lock?.release();
      }
    });
  }

  /**
   * Seals the head now if this writer moved it since it opened or last sealed (a long-lived writer
   * such as the extension's engine calls it after each operation; close does it too).
   */
  sealHead(): Promise<void> {
    return this.exclusive(async () => {
      if (this.closed || !this.journal || !this.options.headSigner || this.headState.position <= this.sealedAt) return;
      await this.sealNow(this.journal, this.options.headSigner);
    });
  }

  /** The log's signing key: the public key of its first HeadSigned, if any. */
  signingKey(): Promise<{ readonly publicKey: string; readonly keyId: string } | null> {
    return this.settled(() => this.firstSealKey());
  }

  private firstSealKey(): { readonly publicKey: string; readonly keyId: string } | null {
    const stmt = this.statement(`SELECT data FROM events WHERE type = 'HeadSigned' ORDER BY position LIMIT 1`);
    try {
      if (!stmt.step()) return null;
      const data = JSON.parse(stmt.get()[0] as string) as { public_key: string; key_id: string };
      return { publicKey: data.public_key, keyId: data.key_id };
    } finally {
      stmt.reset();
    }
  }

  /** Appends a HeadSigned for the current head, unless the head is one or the log is signed with another key. */
  private async sealNow(journal: JournalWriter, signer: HeadSigner): Promise<void> {
    const last = this.readPositionsNow([this.headState.position])[0];
    this.sealedAt = this.headState.position;
    if (last?.type === 'HeadSigned') return;
    const logKey = this.firstSealKey();
    if (logKey && logKey.publicKey !== signer.publicKey) {
      this.options.onSealSkipped?.(`this log is signed with key ${logKey.keyId}, not with the configured key ${signer.keyId}: the head ${this.headState.position} was not signed`);
      return;
    }
    const { position, hash } = this.headState;
    const plan = planAppendMany([{ streamId: SEAL_STREAM, events: [{ type: 'HeadSigned', data: { position, hash, key_id: signer.keyId, public_key: signer.publicKey, signature: signer.sign(headMessage(position, hash)), signed_at: this.options.clock() } }] }], {
      streamVersion: (streamId) => this.currentStreamVersion(streamId),
      headPosition: position,
      headHash: hash,
      now: this.options.clock(),
      newId: this.options.newId,
      hasher: this.options.hasher,
      existingPositions: (ids) => this.positionsOf(ids),
    });
    await this.persist(journal, plan.records);
    this.sealedAt = this.headState.position;
  }

  private maybeScheduleSnapshot(): void {
    if (!this.journal || this.snapshotScheduled || this.journalEnd - this.exportedOffset < this.options.snapshotEveryBytes) return;
    this.snapshotScheduled = true;
    setImmediate(() => {
      this.exclusive(async () => {
        await this.snapshotWrite;
        this.snapshotScheduled = false;
        if (!this.closed) this.startSnapshot();
      }).catch(() => {
        /* The journal still holds everything; the next snapshot will retry. */
      });
    });
  }

  /**
   * Exports the image (synchronous, inside the store's queue so no append is half done), then
   * writes it to disk in the background: temp file, fsync, rename. Appends continue meanwhile;
   * the snapshot covers the journal up to the offset recorded at export time.
   */
  private startSnapshot(): void {
    // Another process wrote the journal: its files are not this process's to replace any more.
    if (this.journal?.failure instanceof JournalChangedError || this.journal?.stopIfChanged()) return;
    const covered = this.journalEnd;
    this.exportedOffset = covered;
    this.db.run("INSERT OR REPLACE INTO meta (key, value) VALUES ('journal_offset', ?)", [String(covered)]);
    this.freeStatements();
    const image = this.db.export();
    tuneConnection(this.db);
    // The new image's digest is listed (with the current one, in case the rename never happens)
    // before the image replaces the snapshot, so the next open need not check it in full.
    const digest = imageDigest(image);
    const listed = checkedDigestsFile(this.checkedDigest ? [digest, this.checkedDigest] : [digest]);
    this.snapshotWrite = replaceFileAtomically(this.location, SNAPSHOT_CHECK_FILE, listed)
      .then(() => replaceFileAtomically(this.location, SNAPSHOT_FILE, image))
      .then(
      () => {
        this.checkedDigest = digest;
        this.snapshotOffset = covered;
        this.snapshotError = undefined;
      },
      (err: unknown) => {
        // Try again only after the journal has grown by another threshold.
        // Nothing is lost: the journal still holds everything, and the next snapshot retries.
        this.snapshotError = err instanceof Error ? err : new Error(String(err));
      },
    );
  }

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private assertWritable(): JournalWriter {
    if (this.closed) throw new StoreReadOnlyError(this.location, 'the store is closed');
    if (!this.journal) throw new StoreReadOnlyError(this.location, 'it was opened read-only');
    if (this.journal.failure instanceof JournalChangedError) throw this.journal.failure;
    if (this.journal.failure) {
      throw new StoreReadOnlyError(this.location, `an earlier append could not be made durable (${this.journal.failure.message}); close and reopen the store to see what reached the disk`);
    }
    return this.journal;
  }

  private currentStreamVersion(streamId: string): number {
    const s = this.statement('SELECT MAX(stream_version) FROM events WHERE stream_id = ?');
    s.bind([streamId]);
    const v = s.step() ? (s.get()[0] as number | null) : null;
    s.reset();
    return v ?? 0;
  }

  private positionsOf(eventIds: readonly string[]): Map<string, number> {
    const found = new Map<string, number>();
    for (let i = 0; i < eventIds.length; i += 500) {
      const chunk = eventIds.slice(i, i + 500);
      const rows = this.db.exec(`SELECT event_id, position FROM events WHERE event_id IN (${chunk.map(() => '?').join(',')})`, chunk)[0]?.values ?? [];
      for (const [id, position] of rows) found.set(id as string, position as number);
    }
    return found;
  }

  private statement(sql: string): Statement {
    if (this.closed) throw new StoreReadOnlyError(this.location, 'the store is closed');
    let s = this.statements.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      this.statements.set(sql, s);
    }
    return s;
  }

  private freeStatements(): void {
    for (const s of this.statements.values()) s.free();
    this.statements.clear();
  }

  /** Runs a PACKED_COLUMNS query. */
  private select(sql: string, params: SqlValue[]): RawEvent[] {
    const s = this.statement(sql);
    s.bind(params);
    const out: RawEvent[] = [];
    try {
      while (s.step()) {
        const row = s.get();
        out.push(packedRowToRaw(row) ?? this.selectOne(row[0] as number));
      }
    } catch (err) {
      throw this.damaged(err);
    } finally {
      s.reset();
    }
    return out;
  }

  /** One event read column by column (for a row whose packed text does not split cleanly). */
  private selectOne(position: number): RawEvent {
    const s = this.statement(`SELECT ${EVENT_COLUMNS} FROM events WHERE position = ?`);
    try {
      s.bind([position]);
      s.step();
      return rowToRaw(s.get());
    } finally {
      s.reset();
    }
  }

  private rows(sql: string): SqlValue[][] {
    try {
      return this.db.exec(sql)[0]?.values ?? [];
    } catch (err) {
      throw this.damaged(err);
    }
  }

  /** An SQLite error that means the image loaded from the snapshot is damaged, as one clear error. */
  private damaged(err: unknown): unknown {
    return isDamagedImage(err) ? new CorruptStoreError(join(this.location, SNAPSHOT_FILE), `the snapshot cannot be read (${(err as Error).message})`) : err;
  }
}
