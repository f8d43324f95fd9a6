import pg from 'pg';
import type { PoolClient, QueryResultRow } from 'pg';
import { StoreNotEmptyError, StoreReadOnlyError, TeamLedgerUnavailableError, ValidationError } from '../../core/errors.js';
import type { Hasher } from '../../core/eventLog.js';
import { ChainVerifier, GENESIS_HASH, ImportChecker, planAppendMany, planForgetAppend } from '../../core/eventLog.js';
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
  StreamWrite,
  VerifyReport,
} from '../../core/eventStore.js';
import { checkedPositions, streamCategory } from '../../core/eventStore.js';
import { decodePage } from '../../core/chunkTexts.js';
import type { HeadSigner } from '../../core/signing.js';
import { SEAL_STREAM, headMessage } from '../../core/signing.js';
import { newUuid, sha256 } from '../node/sha256.js';
import { defaultHeadSigner, defaultSealSkipped, ed25519Check } from '../node/signing.js';
import { teamLedgerFailure } from './pgErrors.js';
import type { EventRow } from './pgRows.js';
import { COLUMNS, correlationOf, toRaw } from './pgRows.js';
import type { TeamLockOptions } from './pgTeamLock.js';
import { withTeamLock } from './pgTeamLock.js';
import { ledgerLockKey, migrate, NewerSchemaError, SCHEMA_VERSION, schemaVersion } from './pgSchema.js';
import type { TeamLedgerAddress } from './pgUrl.js';
import { parseTeamLedgerUrl } from './pgUrl.js';

export interface PgEventStoreOptions {
  /** `read` never writes (nor creates the schema). Default `write`. */
  readonly mode?: 'read' | 'write';
  /** The password when the URL has none (VS Code's SecretStorage); PGPASSWORD and ~/.pgpass otherwise. */
  readonly password?: string;
  /** recordedAt of appended events. Default: the server's clock, read under the append lock (one clock for the team). */
  readonly clock?: () => string;
  readonly newId?: () => string;
  readonly hasher?: Hasher;
  /** Signs the head after a writer's operations (see core/signing.ts). */
  readonly headSigner?: HeadSigner | null;
  /** Connections in the pool (default 4). */
  readonly poolSize?: number;
  /**
   * How long an operation keeps retrying while the server cannot be reached (a restart, a failover,
   * a dropped connection), before TeamLedgerUnavailableError. Default 20 s. Retrying an append is
   * safe: its events get their ids before the first attempt, so an attempt that did commit makes
   * the retry a no-op (appends are idempotent by event id).
   */
  readonly retryWindowMs?: number;
  /** Test hook: runs inside an append's transaction after its rows are written, before it commits. */
  readonly beforeCommit?: (records: readonly RawEvent[]) => Promise<void>;
}

/** Rows per page when reading the log. */
const PAGE = 1000;
/** Rows per INSERT when importing. */
const IMPORT_BATCH = 2000;

/**
 * The event store on PostgreSQL: one shared log for a team (see docs/architecture.md, "The team
 * ledger"). Same contract as the sql.js store.
 *
 * Global order without gaps: every append takes the ledger's transaction-scoped advisory lock,
 * reads the head, writes its events at the next positions and commits, releasing the lock. Appends
 * are therefore serialised, a position is never taken by a transaction that might still roll back,
 * and positions become visible in order: a reader that sees position n sees every position before
 * it. The hash chain's "previous hash" is simply the last row. Batching (appendMany) keeps the
 * throughput high.
 */
export class PgEventStore implements EventStore {
  readonly location: string;
  /** The server's rows have no second copy to disagree with: verify checks the chain. */
  readonly integrityWarning = null;
  private closed = false;
  private readonly hasher: Hasher;
  private readonly newId: () => string;
  private readonly lockKey: number;
  private readonly s: string;
  private sealedAt = 0;

  private constructor(
    readonly address: TeamLedgerAddress,
    private readonly pool: pg.Pool,
    private readonly options: PgEventStoreOptions,
  ) {
    this.location = address.display;
    this.s = address.schema;
    this.hasher = options.hasher ?? sha256;
    this.newId = options.newId ?? newUuid;
    this.lockKey = ledgerLockKey(address.schema);
  }

  /** The NOTIFY channel that carries the new head position after each append. */
  static channelOf(schema: string): string {
    return `${schema.slice(0, 50)}_events`;
  }

  /**
   * Connects to the ledger at `url`, creating or migrating its schema when opened for writing.
   * @throws TeamLedgerUnavailableError when the server cannot be reached.
   * @throws TeamLedgerAccessError for a wrong password, a missing role or missing privileges.
   */
  static async open(url: string, options: PgEventStoreOptions = {}): Promise<PgEventStore> {
    const address = parseTeamLedgerUrl(url, options.password);
    const pool = new pg.Pool({ ...address.config, max: options.poolSize ?? 4, idleTimeoutMillis: 30_000 });
    // An idle connection the server dropped must not crash the process; the next query reconnects.
    pool.on('error', () => undefined);
    const store = new PgEventStore(address, pool, options);
    try {
      const client = await pool.connect();
      try {
        if (store.writable) await migrate(client, address.schema);
        else {
          const found = await schemaVersion(client, address.schema);
          if (found === 0) throw new ValidationError(`the team ledger ${address.display} has no ledger in schema "${address.schema}" yet`, [], 'A member with write access creates it on first use (or run `rag-ledger migrate-store`).');
          if (found > SCHEMA_VERSION) throw new NewerSchemaError(found);
        }
      } finally {
        client.release();
      }
      store.sealedAt = (await store.head()).position;
    } catch (err) {
      await pool.end().catch(() => undefined);
      throw teamLedgerFailure(err, address.display);
    }
    return store;
  }

  get writable(): boolean {
    return !this.closed && this.options.mode !== 'read';
  }

  /** The schema's tables, qualified. */
  private t(name: 'events' | 'streams'): string {
    return `${this.s}.${name}`;
  }

  private query<R extends QueryResultRow>(sql: string, params: unknown[] = []): Promise<R[]> {
    return this.retrying(async () => {
      if (this.closed) throw new StoreReadOnlyError(this.location, 'the store is closed');
      try {
        return (await this.pool.query<R>(sql, params)).rows;
      } catch (err) {
        throw teamLedgerFailure(err, this.location);
      }
    });
  }

  /** Runs `fn` again, with backoff, while the server cannot be reached, for up to retryWindowMs. */
  private async retrying<T>(fn: () => Promise<T>): Promise<T> {
    const deadline = Date.now() + (this.options.retryWindowMs ?? 20_000);
    let delay = 100;
    for (;;) {
      try {
        return await fn();
      } catch (err) {
        if (!(err instanceof TeamLedgerUnavailableError) || this.closed || Date.now() + delay > deadline) throw err;
        await new Promise((r) => setTimeout(r, delay));
        delay = Math.min(delay * 2, 2000);
      }
    }
  }

  /**
   * Runs `fn` in a transaction holding the ledger's append lock. A transaction that fails is rolled
   * back (nothing of it is visible); a connection that broke is discarded.
   */
  private async locked<T>(fn: (c: PoolClient) => Promise<T>): Promise<T> {
    if (!this.writable) throw new StoreReadOnlyError(this.location, this.closed ? 'the store is closed' : 'it was opened read-only');
    let client: PoolClient;
    try {
      client = await this.pool.connect();
    } catch (err) {
      throw teamLedgerFailure(err, this.location);
    }
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      await client.query('SELECT pg_advisory_xact_lock($1)', [this.lockKey]);
      const result = await fn(client);
      await client.query('COMMIT');
      return result;
    } catch (err) {
      await client.query('ROLLBACK').catch((e: unknown) => {
        broken = e as Error;
      });
      throw teamLedgerFailure(err, this.location);
    } finally {
      client.release(broken);
    }
  }

  /** The head and the server's clock, read under the lock. */
  private async headIn(c: PoolClient): Promise<{ position: number; hash: string; now: string }> {
    const r = await c.query<{ position: string | null; hash: string | null; now: string }>(
      `SELECT (SELECT position::int8 FROM ${this.t('events')} ORDER BY position DESC LIMIT 1) AS position,
              (SELECT hash FROM ${this.t('events')} ORDER BY position DESC LIMIT 1) AS hash,
              to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS now`,
    );
    const row = r.rows[0]!;
    return { position: row.position === null ? 0 : Number(row.position), hash: row.hash ?? GENESIS_HASH, now: this.options.clock?.() ?? row.now };
  }

  private async planContext(c: PoolClient, writes: readonly StreamWrite[]): Promise<Parameters<typeof planAppendMany>[1]> {
    const head = await this.headIn(c);
    const streamIds = writes.map((w) => w.streamId);
    const versions = new Map((await c.query<{ stream_id: string; version: number }>(`SELECT stream_id, version FROM ${this.t('streams')} WHERE stream_id = ANY($1)`, [streamIds])).rows.map((r) => [r.stream_id, r.version]));
    const ids = writes.flatMap((w) => w.events.flatMap((e) => (typeof e.eventId === 'string' ? [e.eventId] : [])));
    const existing = new Map<string, number>();
    if (ids.length > 0) {
      for (const r of (await c.query<{ event_id: string; position: string }>(`SELECT event_id, position::int8 AS position FROM ${this.t('events')} WHERE event_id = ANY($1)`, [ids])).rows) existing.set(r.event_id, Number(r.position));
    }
    return {
      streamVersion: (id) => versions.get(id) ?? 0,
      headPosition: head.position,
      headHash: head.hash,
      now: head.now,
      newId: this.newId,
      hasher: this.hasher,
      existingPositions: (wanted) => new Map(wanted.flatMap((id) => (existing.has(id) ? [[id, existing.get(id)!] as const] : []))),
    };
  }

  /** Writes planned records (and their streams' versions), then notifies listeners on commit. */
  private async insert(c: PoolClient, records: readonly RawEvent[]): Promise<void> {
    if (records.length === 0) return;
    for (let i = 0; i < records.length; i += IMPORT_BATCH) {
      const batch = records.slice(i, i + IMPORT_BATCH);
      await c.query(
        `INSERT INTO ${this.t('events')} (position, event_id, stream_id, stream_version, category, type, schema_version, data, metadata, attachment, recorded_at, prev_hash, hash, correlation_id)
         SELECT * FROM unnest($1::int8[], $2::text[], $3::text[], $4::int4[], $5::text[], $6::text[], $7::int4[], $8::text[], $9::text[], $10::bytea[], $11::text[], $12::text[], $13::text[], $14::text[])`,
        [
          batch.map((r) => r.position),
          batch.map((r) => r.eventId),
          batch.map((r) => r.streamId),
          batch.map((r) => r.streamVersion),
          batch.map((r) => streamCategory(r.streamId)),
          batch.map((r) => r.type),
          batch.map((r) => r.schemaVersion),
          batch.map((r) => r.dataJson),
          batch.map((r) => r.metadataJson),
          batch.map((r) => (r.attachment === null ? null : Buffer.from(r.attachment.buffer, r.attachment.byteOffset, r.attachment.byteLength))),
          batch.map((r) => r.recordedAt),
          batch.map((r) => r.prevHash),
          batch.map((r) => r.hash),
          batch.map((r) => correlationOf(r.metadataJson)),
        ],
      );
    }
    const versions = new Map<string, number>();
    for (const r of records) versions.set(r.streamId, r.streamVersion);
    await c.query(
      `INSERT INTO ${this.t('streams')} (stream_id, version) SELECT * FROM unnest($1::text[], $2::int4[])
       ON CONFLICT (stream_id) DO UPDATE SET version = EXCLUDED.version`,
      [[...versions.keys()], [...versions.values()]],
    );
    await c.query('SELECT pg_notify($1, $2)', [PgEventStore.channelOf(this.s), String(records.at(-1)!.position)]);
    await this.options.beforeCommit?.(records);
  }

  async append(streamId: string, events: readonly NewEvent[], options: AppendOptions = {}): Promise<AppendResult> {
    const [result] = await this.appendMany([{ streamId, events, expectedVersion: options.expectedVersion ?? 'any' }]);
    return result!;
  }

  appendMany(writes: readonly StreamWrite[]): Promise<readonly AppendResult[]> {
    // Ids first, so that a retry after a commit whose acknowledgement was lost finds them stored.
    const identified = writes.map((w) => ({ ...w, events: w.events.map((e) => (e.eventId === undefined ? { ...e, eventId: this.newId() } : e)) }));
    return this.retrying(() =>
      this.locked(async (c) => {
        const plan = planAppendMany(identified, await this.planContext(c, identified));
        await this.insert(c, plan.records);
        return plan.results;
      }),
    );
  }

  forget(attestation: StreamWrite, replacements: readonly RawEvent[]): Promise<AppendResult> {
    return this.retrying(() => this.locked(async (c) => {
      const ctx = await this.planContext(c, [attestation]);
      const rows = await c.query<EventRow>(`SELECT ${COLUMNS} FROM ${this.t('events')} WHERE position = ANY($1::int8[])`, [replacements.map((r) => r.position)]);
      const current = new Map(rows.rows.map((r) => [Number(r.position), toRaw(r)] as const));
      const { records, result } = planForgetAppend(attestation, replacements, current, ctx);
      if (records.length === 0) return result;
      for (const r of replacements) {
        await c.query(`UPDATE ${this.t('events')} SET data = $2, metadata = $3, attachment = $4, correlation_id = $5 WHERE position = $1`, [
          r.position,
          r.dataJson,
          r.metadataJson,
          r.attachment === null ? null : Buffer.from(r.attachment),
          correlationOf(r.metadataJson),
        ]);
      }
      await this.insert(c, records);
      return result;
    }));
  }

  async *readStream(streamId: string, options: ReadStreamOptions = {}): AsyncIterable<RecordedEvent> {
    let from = Math.max(1, options.fromVersion ?? 1);
    let left = options.limit ?? Number.POSITIVE_INFINITY;
    while (left > 0) {
      const rows = await this.query<EventRow>(`SELECT ${COLUMNS} FROM ${this.t('events')} WHERE stream_id = $1 AND stream_version >= $2 ORDER BY stream_version LIMIT $3`, [streamId, from, Math.min(PAGE, left)]);
      if (rows.length === 0) return;
      yield* await this.decode(rows.map(toRaw));
      from = rows.at(-1)!.stream_version + 1;
      left -= rows.length;
      if (rows.length < PAGE) return;
    }
  }

  async *readAll(options: ReadAllOptions = {}): AsyncIterable<RecordedEvent> {
    const where: string[] = ['position >= $1'];
    const params: unknown[] = [0];
    const add = (sql: string, value: unknown): void => {
      params.push(value);
      where.push(sql.replace('?', `$${params.length}`));
    };
    if (options.types) add('type = ANY(?)', options.types);
    if (options.category !== undefined) add('category = ?', options.category);
    if (options.streamId !== undefined) add('stream_id = ?', options.streamId);
    if (options.since !== undefined) add('recorded_at >= ?', options.since);
    if (options.until !== undefined) add('recorded_at < ?', options.until);
    let from = Math.max(1, options.fromPosition ?? 1);
    let left = options.limit ?? Number.POSITIVE_INFINITY;
    params.push(0);
    const sql = `SELECT ${COLUMNS} FROM ${this.t('events')} WHERE ${where.join(' AND ')} ORDER BY position LIMIT $${params.length}`;
    while (left > 0) {
      params[0] = from;
      params[params.length - 1] = Math.min(PAGE, left);
      const rows = await this.query<EventRow>(sql, params);
      if (rows.length === 0) return;
      yield* await this.decode(rows.map(toRaw));
      from = Number(rows.at(-1)!.position) + 1;
      left -= rows.length;
      if (rows.length < PAGE) return;
    }
  }

  /** Decodes a page, restoring chunk texts from their submissions (see core/chunkTexts.ts). */
  private decode(raws: readonly RawEvent[]): Promise<RecordedEvent[]> {
    return decodePage(raws, async (ids) => (await this.query<EventRow>(`SELECT ${COLUMNS} FROM ${this.t('events')} WHERE event_id = ANY($1)`, [ids])).map(toRaw));
  }

  async *readRaw(fromPosition = 1): AsyncIterable<RawEvent> {
    let from = Math.max(1, fromPosition);
    for (;;) {
      const rows = await this.query<EventRow>(`SELECT ${COLUMNS} FROM ${this.t('events')} WHERE position >= $1 ORDER BY position LIMIT $2`, [from, PAGE]);
      for (const r of rows) yield toRaw(r);
      if (rows.length < PAGE) return;
      from = Number(rows.at(-1)!.position) + 1;
    }
  }

  async readPositions(positions: readonly number[]): Promise<RawEvent[]> {
    const wanted = checkedPositions(positions);
    if (wanted.length === 0) return [];
    return (await this.query<EventRow>(`SELECT ${COLUMNS} FROM ${this.t('events')} WHERE position = ANY($1::int8[]) ORDER BY position`, [wanted])).map(toRaw);
  }

  async positionOf(eventId: string): Promise<number | null> {
    const rows = await this.query<{ position: string }>(`SELECT position::int8 AS position FROM ${this.t('events')} WHERE event_id = $1`, [eventId]);
    return rows[0] ? Number(rows[0].position) : null;
  }

  /**
   * Writes an archive into an empty ledger in one transaction, checking each event as it arrives:
   * a bad archive rolls back and leaves the ledger empty. Memory holds one batch.
   */
  importRaw(events: AsyncIterable<RawEvent> | Iterable<RawEvent>): Promise<number> {
    return this.locked(async (c) => {
      const found = await c.query<{ position: string }>(`SELECT position::int8 AS position FROM ${this.t('events')} ORDER BY position DESC LIMIT 1`);
      if (found.rows[0]) throw new StoreNotEmptyError(this.location, Number(found.rows[0].position));
      const checker = new ImportChecker(this.hasher, ed25519Check);
      let batch: RawEvent[] = [];
      let count = 0;
      const flush = async (): Promise<void> => {
        if (batch.length === 0) return;
        await this.insert(c, batch);
        count += batch.length;
        batch = [];
      };
      for await (const raw of events) {
        batch.push(checker.accept(raw));
        if (batch.length >= IMPORT_BATCH) await flush();
      }
      checker.finish();
      await flush();
      return count;
    });
  }

  async streamVersion(streamId: string): Promise<number> {
    const rows = await this.query<{ version: number }>(`SELECT version FROM ${this.t('streams')} WHERE stream_id = $1`, [streamId]);
    return rows[0]?.version ?? 0;
  }

  async head(): Promise<LogHead> {
    const rows = await this.query<{ position: string; hash: string }>(`SELECT position::int8 AS position, hash FROM ${this.t('events')} ORDER BY position DESC LIMIT 1`);
    return rows[0] ? { position: Number(rows[0].position), hash: rows[0].hash } : { position: 0, hash: GENESIS_HASH };
  }

  async stats(): Promise<StoreStats> {
    const [head, totals, byType, byCategory, size] = await Promise.all([
      this.head(),
      this.query<{ events: string; streams: string; first: string | null; last: string | null }>(
        `SELECT (SELECT count(*) FROM ${this.t('events')}) AS events, (SELECT count(*) FROM ${this.t('streams')}) AS streams,
                (SELECT recorded_at FROM ${this.t('events')} ORDER BY position LIMIT 1) AS first,
                (SELECT recorded_at FROM ${this.t('events')} ORDER BY position DESC LIMIT 1) AS last`,
      ),
      this.query<{ key: string; n: string }>(`SELECT type AS key, count(*) AS n FROM ${this.t('events')} GROUP BY type ORDER BY type`),
      this.query<{ key: string; n: string }>(`SELECT category AS key, count(*) AS n FROM ${this.t('events')} GROUP BY category ORDER BY category`),
      this.query<{ bytes: string }>(`SELECT pg_total_relation_size($1) + pg_total_relation_size($2) AS bytes`, [this.t('events'), this.t('streams')]),
    ]);
    const t = totals[0]!;
    const count = (rows: { key: string; n: string }[]): Record<string, number> => Object.fromEntries(rows.map((r) => [r.key, Number(r.n)]));
    return {
      location: this.location,
      events: Number(t.events),
      streams: Number(t.streams),
      headPosition: head.position,
      headHash: head.hash,
      firstRecordedAt: t.first,
      lastRecordedAt: t.last,
      byType: count(byType),
      byCategory: count(byCategory),
      files: { [`${this.s} (server tables)`]: Number(size[0]!.bytes) },
    };
  }

  /** Recomputes the hash chain over the server's rows, page by page (memory holds one page). */
  async verify(): Promise<VerifyReport> {
    const verifier = new ChainVerifier(this.hasher, ed25519Check);
    for await (const raw of this.readRaw()) if (!verifier.check(raw)) break;
    return verifier.report();
  }

  /** The log's signing key: the public key of its first HeadSigned, if any. */
  async signingKey(): Promise<{ readonly publicKey: string; readonly keyId: string } | null> {
    const rows = await this.query<{ data: string }>(`SELECT data FROM ${this.t('events')} WHERE type = 'HeadSigned' ORDER BY position LIMIT 1`);
    if (!rows[0]) return null;
    const d = JSON.parse(rows[0].data) as { public_key: string; key_id: string };
    return { publicKey: d.public_key, keyId: d.key_id };
  }

  /** Seals the head when this member moved it since it opened or last sealed (see core/signing.ts). */
  async sealHead(): Promise<void> {
    // As the file store: the process's signer (the CLI's key file, the extension's secret storage) unless told otherwise.
    const signer = this.options.headSigner === undefined ? defaultHeadSigner() : this.options.headSigner;
    if (!signer || !this.writable) return;
    await this.locked(async (c) => {
      const last = await c.query<EventRow>(`SELECT ${COLUMNS} FROM ${this.t('events')} ORDER BY position DESC LIMIT 1`);
      const head = last.rows[0] ? toRaw(last.rows[0]) : null;
      if (!head || head.position <= this.sealedAt || head.type === 'HeadSigned') return;
      const logKey = await this.signingKey();
      if (logKey !== null && logKey.publicKey !== signer.publicKey) {
        defaultSealSkipped(`this team ledger is signed with key ${logKey.keyId}, not with this member's key ${signer.keyId}: the head ${head.position} was not signed (members share the ledger's key to sign it)`);
        this.sealedAt = head.position;
        return;
      }
      const write: StreamWrite = {
        streamId: SEAL_STREAM,
        events: [{ type: 'HeadSigned', data: { position: head.position, hash: head.hash, key_id: signer.keyId, public_key: signer.publicKey, signature: signer.sign(headMessage(head.position, head.hash)), signed_at: new Date().toISOString() } }],
      };
      const plan = planAppendMany([write], await this.planContext(c, [write]));
      await this.insert(c, plan.records);
      this.sealedAt = plan.records.at(-1)!.position;
    });
  }

  /**
   * Runs `fn` holding the team's pipeline lock, so that members take turns ingesting and embedding
   * (see pgTeamLock.ts).
   */
  withTeamLock<T>(fn: () => Promise<T>, options: TeamLockOptions): Promise<T> {
    return withTeamLock(this.address.config, this.lockKey, this.location, fn, options);
  }

  /** Nothing to pick up: every read goes to the server. Returns 0 (for the file store's watcher API). */
  refresh(): Promise<number> {
    return Promise.resolve(0);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    try {
      await this.sealHead().catch(() => undefined);
    } finally {
      this.closed = true;
      await this.pool.end().catch(() => undefined);
    }
  }
}
