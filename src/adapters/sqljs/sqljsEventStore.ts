import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { SqlJsStatic, SqlValue } from 'sql.js';
import { shareWithGroup } from '../node/sharedFolder.js';
import { CorruptStoreError, ForgetInProgressError, JournalChangedError, StoreLockedError, StoreNotEmptyError, ValidationError, StoreNotFoundError, StoreReadOnlyError } from '../../core/errors.js';
import type { Hasher } from '../../core/eventLog.js';
import { ChainVerifier, checkImport, planAppendMany, planForgetAppend } from '../../core/eventLog.js';
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
import { JournalWriter, createJournal, cutTornTail, encodeRecordSpans, fsyncDir, hasJournalHeader } from './journal.js';
import { JournalReader } from './journalReader.js';
import type { Located } from './logIndex.js';
import { LogIndex } from './logIndex.js';
import { JOURNAL_FILE, RECOVER_MARKER_FILE, SNAPSHOT_FILE, tuneConnection } from './schema.js';
import { replaceFileAtomically } from './atomicFile.js';
import { SNAPSHOT_CHECK_FILE, checkedDigestsFile, catchUpIndex, imageDigest, isDamagedImage, saveIndexImage, saveLazyIndexImage, verifyJournal } from './storeFiles.js';
import { loadSqlJs } from './sqlJsLoader.js';
import { decodePage } from '../../core/chunkTexts.js';
import type { ForgetStep } from './forgetFiles.js';
import { forgetLeftovers, forgetPending, installRewrittenLog, settleForget } from './forgetFiles.js';
import { loadOrBuildIndex, withLock } from './storeOpen.js';
import { byteBounded, slackBytes } from './storePages.js';
import { indexStats } from './storeStats.js';
import type { HeadSigner } from '../../core/signing.js';
import { SEAL_STREAM, headMessage } from '../../core/signing.js';
import { defaultHeadSigner, defaultSealSkipped, ed25519Check } from '../node/signing.js';

export interface SqlJsEventStoreOptions {
  /** `write` may append (taking the store's lock for each append only); `read` never writes. Default `write`. */
  readonly mode?: 'write' | 'read';
  /** Create the store when missing (write mode only). Default true. */
  readonly create?: boolean;
  /** Who appends, for the message another process sees while waiting (e.g. "the rag-ledger CLI"). */
  readonly owner?: string;
  /** How long an append waits for another process's append to finish before StoreLockedError. Default 15 s. */
  readonly lockWaitMs?: number;
  /** Save the index once the journal has grown this much since it was saved. Default 256 MiB. */
  readonly snapshotEveryBytes?: number;
  /** …or once this many events were appended since (default: the larger of 20,000 and an eighth of the log). */
  readonly snapshotEveryEvents?: number;
  /** A writer closing with at least this many events unsaved in the index saves it (default 20,000). */
  readonly closeSaveEvents?: number;
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
  /** Told, as one line each, about slow one-off work on open (upgrading an old store, rebuilding a damaged index). */
  readonly onNotice?: (message: string) => void;
}

let defaultNotice: ((message: string) => void) | undefined;

/**
 * Where stores opened without `onNotice` report slow one-off work (upgrading a store of an older
 * format, rebuilding a damaged index): the CLI prints it on stderr, the extension logs and shows it.
 */
export function setDefaultStoreNotice(sink: ((message: string) => void) | undefined): void {
  defaultNotice = sink;
}

const PAGE = 2000;
/** Import writes journal records of about this size. */
const IMPORT_BATCH_BYTES = 32 * 1024 * 1024;

export type Settings = Required<Pick<SqlJsEventStoreOptions, 'snapshotEveryBytes' | 'clock' | 'newId' | 'hasher' | 'lockWaitMs' | 'owner'>> &
  Pick<SqlJsEventStoreOptions, 'onForgetStep' | 'onSealSkipped' | 'onNotice' | 'snapshotEveryEvents' | 'closeSaveEvents'> & { readonly headSigner: HeadSigner | null };

/** Events a writer may leave unsaved in the index when it closes (a reader catches them up: ~20 µs each). */
const CLOSE_SAVE_EVENTS = 20_000;

/**
 * The event store on disk. The journal (`events.journal`, append-only, fdatasync'd per append)
 * holds every event once and is the truth; sql.js holds only the log's index (positions, streams,
 * types, id keys and where each event lies in the journal), saved now and then as `events.sqlite`.
 * Events are read from the journal by offset, so memory follows what is read, not the log.
 * Many processes share one store: each append takes the store's lock for that append only, first
 * catches up with what the others appended, and every read first picks up their new events.
 * See docs/architecture.md, "Persistence" and "Many processes, one store".
 */
export class SqlJsEventStore implements EventStore {
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;
  private inflight: Promise<void> | null = null;
  /** Set when a reader found something worth one line to the user (kept for the CLI's warnIfDamaged). */
  integrityWarning: string | null = null;
  /** The head when opened or last sealed: a writer that moved it seals the new head (sealHead, close). */
  private sealedAt: number;
  /** Events in the index when the saved image was written. */
  private snapshotEvents: number;
  private indexedEvents: number;
  /** Digest of the saved index image, when this process loaded or wrote it. */
  private savedDigest: string | null = null;

  private constructor(
    readonly location: string,
    private index: LogIndex,
    private reader: JournalReader,
    private journal: JournalWriter | null,
    private headState: LogHead,
    private snapshotOffset: number,
    private journalEnd: number,
    private readonly SQL: SqlJsStatic,
    private readonly options: Settings,
  ) {
    this.sealedAt = headState.position;
    this.indexedEvents = index.count();
    this.snapshotEvents = this.indexedEvents;
  }

  /** Opens (or creates) the store in `dir`. */
  static async open(dir: string, options: SqlJsEventStoreOptions = {}): Promise<SqlJsEventStore> {
    const mode = options.mode ?? 'write';
    // Before anything is created, so a bad signing key fails first.
    const headSigner = mode === 'write' ? (options.headSigner === undefined ? defaultHeadSigner() : options.headSigner) : null;
    const snapshotPath = join(dir, SNAPSHOT_FILE);
    const journalPath = join(dir, JOURNAL_FILE);
    if (mode === 'write') shareWithGroup(dir);
    if (mode === 'read' || options.create === false) {
      if (!existsSync(snapshotPath) && !existsSync(journalPath)) throw new StoreNotFoundError(dir);
    } else {
      mkdirSync(dir, { recursive: true });
    }
    if (existsSync(join(dir, RECOVER_MARKER_FILE))) {
      throw new CorruptStoreError(join(dir, RECOVER_MARKER_FILE), 'a recovery of this store was interrupted');
    }
    const settings: Settings = {
      snapshotEveryBytes: options.snapshotEveryBytes ?? 256 * 1024 * 1024,
      ...(options.snapshotEveryEvents !== undefined ? { snapshotEveryEvents: options.snapshotEveryEvents } : {}),
      ...(options.closeSaveEvents !== undefined ? { closeSaveEvents: options.closeSaveEvents } : {}),
      lockWaitMs: options.lockWaitMs ?? 15_000,
      owner: options.owner ?? `rag-ledger (pid ${process.pid})`,
      clock: options.clock ?? systemClock,
      newId: options.newId ?? newUuid,
      hasher: options.hasher ?? sha256,
      ...(options.onForgetStep ? { onForgetStep: options.onForgetStep } : {}),
      onSealSkipped: options.onSealSkipped ?? defaultSealSkipped,
      ...(options.onNotice ?? defaultNotice ? { onNotice: options.onNotice ?? defaultNotice } : {}),
      headSigner,
    };
    if (forgetPending(dir)) {
      // A forget interrupted while it replaced the files: a writer completes it, a reader waits for that.
      if (mode !== 'write') throw new ForgetInProgressError(dir);
      await withLock(dir, settings, () => Promise.resolve(settleForget(dir)));
    } else if (mode === 'write' && forgetLeftovers(dir)) {
      // Files of a forget that never reached its commit point: removed holding the lock (a forget in progress holds it).
      await withLock(dir, settings, () => Promise.resolve(forgetPending(dir) || settleForget(dir)));
    }
    if (!existsSync(journalPath)) {
      if (mode !== 'write') throw new CorruptStoreError(journalPath, 'the journal is missing');
      if (existsSync(snapshotPath)) throw new CorruptStoreError(journalPath, 'the journal is missing but the index (events.sqlite) is present');
      try {
        createJournal(journalPath);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err; // another process created it first
      }
      fsyncDir(dir);
    } else if (!hasJournalHeader(journalPath)) {
      throw new CorruptStoreError(journalPath, 'the file does not start with a RAG Ledger journal header');
    }
    const SQL = await loadSqlJs();
    const reader = new JournalReader(journalPath);
    try {
      const loaded = await loadOrBuildIndex(dir, SQL, reader, mode, settings);
      const journal = mode === 'write' ? await JournalWriter.open(journalPath, loaded.end) : null;
      const store = new SqlJsEventStore(dir, loaded.index, reader, journal, loaded.head, loaded.savedOffset, loaded.end, SQL, settings);
      store.integrityWarning = loaded.warning;
      store.savedDigest = loaded.digest;
      // A writer takes the lock once on open: a crashed writer's lock is taken over, and a partial last
      // record (a crashed append, now that nobody else can be writing it) is cut off and kept aside.
      if (journal) {
        try {
          await store.exclusive(() => store.locked(() => Promise.resolve()));
        } catch (err) {
          await store.close().catch(() => undefined);
          throw err;
        }
      }
      return store;
    } catch (err) {
      reader.close();
      if (isDamagedImage(err)) throw new CorruptStoreError(snapshotPath, `the index cannot be read (${(err as Error).message})`);
      throw err;
    }
  }

  get writable(): boolean {
    return this.journal !== null && !this.closed;
  }

  /** Bytes of journal not covered by the saved index. */
  get unsnapshottedBytes(): number {
    return this.journalEnd - this.snapshotOffset;
  }

  /** One stream's append is an appendMany of one write: same planning, same single durable record. */
  async append(streamId: string, events: readonly NewEvent[], options: AppendOptions = {}): Promise<AppendResult> {
    const [result] = await this.appendMany([{ streamId, events, expectedVersion: options.expectedVersion ?? 'any' }]);
    return result!;
  }

  appendMany(writes: readonly StreamWrite[]): Promise<readonly AppendResult[]> {
    return this.exclusive(() =>
      this.locked(async (journal) => {
        const plan = planAppendMany(writes, this.planContext());
        if (plan.records.length > 0) await this.persist(journal, plan.records);
        return plan.results;
      }),
    );
  }

  private planContext(): Parameters<typeof planAppendMany>[1] {
    return {
      streamVersion: (streamId) => this.index.streamVersion(streamId),
      headPosition: this.headState.position,
      headHash: this.headState.hash,
      now: this.options.clock(),
      newId: this.options.newId,
      hasher: this.options.hasher,
      existingPositions: (ids) => this.positionsOf(ids),
    };
  }

  /**
   * Runs `fn` holding the store's lock, after catching up with every event another process
   * appended, and saves the index afterwards if it is due. The lock is held for this call only.
   */
  private async locked<T>(fn: (journal: JournalWriter) => Promise<T>): Promise<T> {
    this.assertWritable();
    return withLock(this.location, this.options, async () => {
      await this.catchUp(true);
      const journal = this.assertWritable();
      const result = await fn(journal);
      await this.maybeSaveIndex();
      return result;
    });
  }

  /**
   * Makes records durable and visible. The journal write and its fdatasync run in the
   * background while the index rows are inserted inside an open transaction; the transaction
   * commits only once the journal is durable. Readers wait for `inflight`, so they never see
   * events that are not yet durable. If either step fails, both are undone.
   */
  private async persist(journal: JournalWriter, records: readonly RawEvent[]): Promise<void> {
    const before = journal.bytes;
    let encoded: ReturnType<typeof encodeRecordSpans>;
    try {
      encoded = encodeRecordSpans(records);
    } catch (err) {
      if (err instanceof RangeError) throw new ValidationError(`this append is too large for one journal record: ${err.message}`, [], 'Append fewer or smaller events per call.');
      throw err;
    }
    const durable = journal.append(encoded.record);
    let insertError: unknown;
    try {
      this.index.db.exec('BEGIN');
      for (let i = 0; i < records.length; i++) this.index.add(records[i]!, { at: before + encoded.spans[i]!.at, len: encoded.spans[i]!.len });
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
        this.index.db.exec('COMMIT');
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
    this.indexedEvents += records.length;
  }

  /**
   * Rewrites the whole store with the emptied rows and the DocumentForgotten appended, holding the
   * lock throughout: the log is streamed, checked event by event, into a new journal; its index is
   * built from that journal; both are installed under a marker (see forgetFiles.ts). Other
   * processes see the journal replaced and reload. Cost: one pass over the log and one write of it.
   */
  forget(attestation: StreamWrite, replacements: readonly RawEvent[]): Promise<AppendResult> {
    return this.exclusive(() =>
      this.locked(async () => {
        const positions = replacements.map((r) => r.position);
        const current = new Map<number, RawEvent>();
        for (let i = 0; i < positions.length; i += 500) for (const r of this.readLocated(this.locatePositions(positions.slice(i, i + 500)))) current.set(r.position, r);
        const { records, result } = planForgetAppend(attestation, replacements, current, this.planContext());
        if (records.length === 0) return result;
        const byPosition = new Map(replacements.map((r) => [r.position, r]));
        const verifier = new ChainVerifier(this.options.hasher, ed25519Check);
        const { journalSize, image } = installRewrittenLog(this.location, this.SQL, this.rewrittenLog(byPosition, records, verifier), this.options.onForgetStep);
        // The files are replaced: load the new index, and read and append the new journal from now on.
        await this.journal?.close();
        this.journal = null;
        this.index.close();
        this.index = new LogIndex(new this.SQL.Database(image));
        tuneConnection(this.index.db);
        this.savedDigest = imageDigest(image);
        await replaceFileAtomically(this.location, SNAPSHOT_CHECK_FILE, checkedDigestsFile([this.savedDigest]));
        this.reader.reopen();
        this.journal = await JournalWriter.open(join(this.location, JOURNAL_FILE), journalSize);
        const last = records[records.length - 1]!;
        this.headState = { position: last.position, hash: last.hash };
        this.journalEnd = journalSize;
        this.snapshotOffset = journalSize;
        this.indexedEvents = this.index.count();
        this.snapshotEvents = this.indexedEvents;
        return result;
      }),
    );
  }

  /** The whole log with the replacements and the new records, checked event by event as it is streamed. */
  private *rewrittenLog(byPosition: ReadonlyMap<number, RawEvent>, records: readonly RawEvent[], verifier: ChainVerifier): Generator<RawEvent> {
    for (let from = 1; ; ) {
      const located = this.index.locate('SELECT position, at, len FROM events WHERE position >= ? ORDER BY position LIMIT ?', [from, PAGE]);
      const page = this.readLocated(byteBounded(located));
      for (const raw of page) {
        const out = byPosition.get(raw.position) ?? raw;
        if (!verifier.check(out)) throw chainBroken(verifier);
        yield out;
      }
      if (located.length < PAGE && page.length === located.length) break;
      from = page[page.length - 1]!.position + 1;
    }
    for (const r of records) {
      if (!verifier.check(r)) throw chainBroken(verifier);
      yield r;
    }
  }

  /** SQLite may already have rolled back by itself (after NOMEM, FULL, IOERR). */
  private rollbackQuietly(): void {
    try {
      this.index.db.exec('ROLLBACK');
    } catch {
      /* no transaction was open */
    }
    this.index.resetCaches();
  }

  /**
   * Runs a synchronous read once no append is between its insert and its commit, after picking
   * up what other processes appended. The check and the read happen in the same synchronous step.
   */
  private async settled<T>(read: () => T): Promise<T> {
    await this.idle();
    // After a failed fdatasync the journal may hold a record this process never acknowledged: stay as we are.
    if (!this.closed && !this.journal?.failure) await this.catchUp(false);
    await this.idle();
    return read();
  }

  /** Waits until no append is between its insert and its commit. */
  private async idle(): Promise<void> {
    while (this.inflight) await this.inflight;
  }

  async *readStream(streamId: string, options: ReadStreamOptions = {}): AsyncIterable<RecordedEvent> {
    let from = Math.max(1, options.fromVersion ?? 1);
    let remaining = options.limit ?? Number.POSITIVE_INFINITY;
    while (remaining > 0) {
      const n = Math.min(PAGE, remaining);
      const { located, page } = await this.settled(() => {
        const id = this.index.streamId(streamId);
        const rows = id === undefined ? [] : this.index.locate('SELECT position, at, len FROM events WHERE stream = ? AND stream_version >= ? ORDER BY stream_version LIMIT ?', [id, from, n]);
        return { located: rows, page: this.readLocated(byteBounded(rows)) };
      });
      yield* await this.decodePage(page);
      if (located.length < n && page.length === located.length) return;
      remaining -= page.length;
      from = page[page.length - 1]!.streamVersion + 1;
    }
  }

  async *readAll(options: ReadAllOptions = {}): AsyncIterable<RecordedEvent> {
    for await (const page of this.pages(options)) yield* await this.decodePage(page);
  }

  /** A page of stored events as read: chunkings get their texts back from their submissions (one lookup per page). */
  private decodePage(page: readonly RawEvent[]): Promise<RecordedEvent[]> {
    return decodePage(page, (ids) => this.settled(() => {
      const found = [...this.positionsOf(ids).values()];
      const out: RawEvent[] = [];
      for (let i = 0; i < found.length; i += 500) out.push(...this.readLocated(this.locatePositions(found.slice(i, i + 500))));
      return out;
    }));
  }

  /** Pages of raw events matching the filter, in log order. */
  private async *pages(options: ReadAllOptions): AsyncIterable<RawEvent[]> {
    let from = Math.max(1, options.fromPosition ?? 1);
    let remaining = options.limit ?? Number.POSITIVE_INFINITY;
    while (remaining > 0) {
      const n = Math.min(PAGE, remaining);
      const page = await this.settled(() => {
        const filter = this.filter(options);
        if (filter === null) return { located: [], events: [] };
        const located = this.index.locate(`SELECT position, at, len FROM events WHERE ${filter.where.join(' AND ')} ORDER BY position LIMIT ?`, [from, ...filter.params, n]);
        return { located, events: this.readLocated(byteBounded(located)) };
      });
      if (page.events.length > 0) yield page.events;
      if (page.located.length < n && page.events.length === page.located.length) return;
      remaining -= page.events.length;
      from = page.events[page.events.length - 1]!.position + 1;
    }
  }

  /** The WHERE clause of a readAll filter (`position >= ?` first), or null when nothing can match. */
  private filter(options: ReadAllOptions): { where: string[]; params: SqlValue[] } | null {
    const where: string[] = ['position >= ?'];
    const params: SqlValue[] = [];
    if (options.types && options.types.length > 0) {
      const ids = this.index.typeIdsOf(options.types);
      if (ids.length === 0) return null;
      where.push(`type IN (${ids.map(() => '?').join(',')})`);
      params.push(...ids);
    }
    if (options.streamId !== undefined) {
      const id = this.index.streamId(options.streamId);
      if (id === undefined) return null;
      where.push('stream = ?');
      params.push(id);
    }
    if (options.category !== undefined) {
      where.push('stream IN (SELECT id FROM streams WHERE name >= ? AND name < ?)');
      params.push(`${options.category}-`, `${options.category}.`);
    }
    if (options.since !== undefined) {
      where.push('recorded_ms >= ?');
      params.push(Date.parse(options.since));
    }
    if (options.until !== undefined) {
      where.push('recorded_ms < ?');
      params.push(Date.parse(options.until));
    }
    return { where, params };
  }

  async *readRaw(fromPosition = 1): AsyncIterable<RawEvent> {
    for await (const page of this.pages({ fromPosition })) yield* page;
  }

  async readPositions(positions: readonly number[]): Promise<RawEvent[]> {
    const sorted = checkedPositions(positions);
    if (sorted.length === 0) return [];
    return this.settled(() => this.readLocated(this.locatePositions(sorted)));
  }

  private locatePositions(positions: readonly number[]): Located[] {
    const sorted = checkedPositions(positions);
    if (sorted.length === 0) return [];
    const first = sorted[0]!;
    const last = sorted[sorted.length - 1]!;
    // A contiguous page (the unfiltered timeline) is one range scan; anything else a list of positions.
    if (last - first + 1 === sorted.length) return this.index.locate('SELECT position, at, len FROM events WHERE position BETWEEN ? AND ? ORDER BY position', [first, last]);
    return this.index.locate(`SELECT position, at, len FROM events WHERE position IN (${sorted.map(() => '?').join(',')}) ORDER BY position`, sorted);
  }

  private readLocated(located: readonly Located[]): RawEvent[] {
    return this.reader.read(located);
  }

  positionOf(eventId: string): Promise<number | null> {
    return this.settled(() => this.positionsOf([eventId]).get(eventId) ?? null);
  }

  /** Positions of the event ids present in the log (id keys confirmed against the journal). */
  private positionsOf(eventIds: readonly string[]): Map<string, number> {
    const found = new Map<string, number>();
    for (const [id, candidates] of this.index.candidates(eventIds)) {
      for (const raw of this.readLocated(candidates)) if (raw.eventId === id) found.set(id, raw.position);
    }
    return found;
  }

  importRaw(events: AsyncIterable<RawEvent> | Iterable<RawEvent>): Promise<number> {
    return this.exclusive(() =>
      this.locked(async (journal) => {
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
      }),
    );
  }

  streamVersion(streamId: string): Promise<number> {
    return this.settled(() => this.index.streamVersion(streamId));
  }

  head(): Promise<LogHead> {
    return this.settled(() => this.headState);
  }

  stats(): Promise<StoreStats> {
    return this.settled(() => this.readStats());
  }

  private readStats(): StoreStats {
    return indexStats(this.index, this.location, this.headState);
  }

  /**
   * Checks every record of the journal (checksums), the hash chain and seals of every event, and
   * that the index places each event where the journal holds it. Streams the journal: memory is
   * bounded by its largest record.
   */
  verify(): Promise<VerifyReport> {
    return this.exclusive(async () => {
      await this.settled(() => undefined);
      // Only the part of the journal this store has indexed: a concurrent append is not yet part of it.
      return verifyJournal(join(this.location, JOURNAL_FILE), this.index, this.journalEnd, this.options.hasher, ed25519Check);
    });
  }

  /** Picks up events other processes appended since this store last looked. Returns how many were added. */
  refresh(): Promise<number> {
    return this.exclusive(async () => {
      const before = this.headState.position;
      await this.settled(() => undefined);
      return this.headState.position - before;
    });
  }

  /** Saves the index now (normally done when due, after an append). */
  async snapshot(): Promise<void> {
    await this.exclusive(() => this.locked(() => this.saveIndex()));
  }

  close(): Promise<void> {
    return this.exclusive(async () => {
      if (this.closed) return;
      try {
        if (this.journal && this.options.headSigner && this.headState.position > this.sealedAt) {
          const signer = this.options.headSigner;
          await this.locked((journal) => this.sealNow(journal, signer)).catch((err: unknown) => {
            if (!(err instanceof StoreLockedError)) throw err;
            this.options.onSealSkipped?.(`the store stayed busy, so the head ${this.headState.position} was not signed on close; the next writer signs it`);
          });
        }
        // A writer leaving many events unsaved (a long run stays under its threshold of max(20k, n/8))
        // saves the index, so that no reader after it catches up more than that. A question (tens of
        // events) never does. Best effort: the journal holds everything.
        if (this.journal && this.indexedEvents - this.snapshotEvents >= (this.options.closeSaveEvents ?? CLOSE_SAVE_EVENTS)) {
          await this.locked(() => this.saveIndex()).catch(() => undefined);
        }
      } finally {
        this.closed = true;
        await this.journal?.close();
        this.reader.close();
        this.index.close();
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
      const signer = this.options.headSigner;
      await this.locked((journal) => this.sealNow(journal, signer));
    });
  }

  /** The log's signing key: the public key of its first HeadSigned, if any. */
  signingKey(): Promise<{ readonly publicKey: string; readonly keyId: string } | null> {
    return this.settled(() => this.firstSealKey());
  }

  private firstSealKey(): { readonly publicKey: string; readonly keyId: string } | null {
    const [type] = this.index.typeIdsOf(['HeadSigned']);
    if (type === undefined) return null;
    const [first] = this.readLocated(this.index.locate('SELECT position, at, len FROM events WHERE type = ? ORDER BY position LIMIT 1', [type]));
    if (!first) return null;
    const data = JSON.parse(first.dataJson) as { public_key: string; key_id: string };
    return { publicKey: data.public_key, keyId: data.key_id };
  }

  /** Appends a HeadSigned for the current head, unless the head is one or the log is signed with another key. */
  private async sealNow(journal: JournalWriter, signer: HeadSigner): Promise<void> {
    const last = this.readLocated(this.locatePositions([this.headState.position]))[0];
    this.sealedAt = this.headState.position;
    if (!last || last.type === 'HeadSigned') return;
    const logKey = this.firstSealKey();
    if (logKey && logKey.publicKey !== signer.publicKey) {
      this.options.onSealSkipped?.(`this log is signed with key ${logKey.keyId}, not with the configured key ${signer.keyId}: the head ${this.headState.position} was not signed`);
      return;
    }
    const { position, hash } = this.headState;
    const plan = planAppendMany(
      [{ streamId: SEAL_STREAM, events: [{ type: 'HeadSigned', data: { position, hash, key_id: signer.keyId, public_key: signer.publicKey, signature: signer.sign(headMessage(position, hash)), signed_at: this.options.clock() } }] }],
      this.planContext(),
    );
    await this.persist(journal, plan.records);
    this.sealedAt = this.headState.position;
  }

  /**
   * Picks up journal records other processes appended (and reloads everything if a forget or a
   * recovery replaced the journal). A writer holding the lock also cuts off a torn tail (a crashed
   * append: nobody else can be writing it); anyone else leaves it for the writer.
   */
  private async catchUp(holdingLock: boolean): Promise<void> {
    if (this.reader.replaced()) await this.reloadReplaced();
    const size = this.reader.size();
    if (size < this.journalEnd) throw new CorruptStoreError(join(this.location, JOURNAL_FILE), `the journal is now ${size} bytes, shorter than the ${this.journalEnd} bytes already read`);
    if (size > this.journalEnd) {
      const journalPath = join(this.location, JOURNAL_FILE);
      const result = catchUpIndex(this.index, journalPath, this.journalEnd, this.headState);
      this.headState = result.head;
      this.indexedEvents += result.added;
      if (result.end.kind === 'corrupt') throw new CorruptStoreError(journalPath, result.end.detail);
      this.journalEnd = result.end.kind === 'clean' ? result.end.offset : result.lastGoodOffset;
      if (result.end.kind === 'torn' && holdingLock && this.journal) cutTornTail(journalPath, result.end.offset);
    }
    if (holdingLock) this.journal?.adopt(this.journalEnd);
  }

  /** The journal was replaced (a forget or a recovery in another process): load it and its index afresh. */
  private async reloadReplaced(): Promise<void> {
    this.reader.reopen();
    const loaded = await loadOrBuildIndex(this.location, this.SQL, this.reader, 'read', this.options);
    this.index.close();
    this.index = loaded.index;
    this.headState = loaded.head;
    this.journalEnd = loaded.end;
    this.snapshotOffset = loaded.savedOffset;
    this.indexedEvents = this.index.count();
    this.snapshotEvents = this.indexedEvents;
    this.sealedAt = Math.min(this.sealedAt, this.headState.position);
    if (this.journal) {
      await this.journal.close();
      this.journal = await JournalWriter.open(join(this.location, JOURNAL_FILE), this.journalEnd);
    }
  }

  /** Saves the index when enough was appended since it was last saved. Called holding the lock. */
  private async maybeSaveIndex(): Promise<void> {
    const events = this.indexedEvents - this.snapshotEvents;
    const everyEvents = this.options.snapshotEveryEvents ?? Math.max(20_000, Math.floor(this.indexedEvents / 8));
    if (this.journalEnd - this.snapshotOffset >= this.options.snapshotEveryBytes || events >= everyEvents) {
      await this.saveIndex().catch(() => {
        /* The journal holds everything; the index is saved again later. */
      });
    }
  }

  /** Writes the index image atomically (temporary file, fsync, rename). Called holding the lock. */
  private async saveIndex(): Promise<void> {
    const covered = this.journalEnd;
    this.index.setMeta('journal_offset', String(covered));
    this.index.reserveSlack(slackBytes(this.indexedEvents));
    if (this.index.image?.backs(this.index.db)) {
      // On disk: written from the file and the changed pages, never whole in memory.
      const pragma = (name: string): number => (this.index.db.exec(`PRAGMA ${name}`)[0]?.values[0]?.[0] as number | undefined) ?? 0;
      const bytes = pragma('page_count') * pragma('page_size');
      this.savedDigest = await saveLazyIndexImage(this.location, this.index.image, bytes, this.savedDigest);
    } else {
      this.index.freeStatements();
      const image = this.index.db.export();
      tuneConnection(this.index.db);
      this.savedDigest = await saveIndexImage(this.location, image, this.savedDigest);
    }
    this.snapshotOffset = covered;
    this.snapshotEvents = this.indexedEvents;
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

  /** An SQLite error that means the index image is damaged, as one clear error. */
  private damaged(err: unknown): unknown {
    return isDamagedImage(err) ? new CorruptStoreError(join(this.location, SNAPSHOT_FILE), `the index cannot be read (${(err as Error).message})`) : err;
  }
}

function chainBroken(verifier: ChainVerifier): ValidationError {
  const report = verifier.report();
  return new ValidationError(`the log after this forget would not verify at position ${report.firstFailure?.position}: ${report.firstFailure?.detail}`, [], 'Run `rag-ledger verify`; nothing was changed.');
}

