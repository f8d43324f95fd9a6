import { existsSync, mkdirSync } from 'node:fs';
import type { EventStore } from '../core/eventStore.js';
import { join } from 'node:path';
import type { VectorIndex } from '../app/indexing/vectorIndex.js';
import { IndexMissingError, TeamLedgerUnavailableError } from '../core/errors.js';
import type { LockHolder } from '../core/errors.js';
import { Explorer } from '../app/explorer/explorer.js';
import type { RunResult } from '../app/projectionRunner.js';
import { ProjectionRunner } from '../app/projectionRunner.js';
import { LanceTextIndex } from './lancedb/lanceTextIndex.js';
import type { LanceIndexOptions } from './lancedb/lanceVectorIndex.js';
import { LanceVectorIndex } from './lancedb/lanceVectorIndex.js';
import { ReadModels } from '../app/readModels.js';
import { standardProjections } from '../core/projections/catalog.js';
import type { ProjectionStore } from '../core/projections/projection.js';
import type { SqlJsEventStoreOptions } from './sqljs/sqljsEventStore.js';
import { SqlJsEventStore } from './sqljs/sqljsEventStore.js';
import { EXPLORER_DIR, SqlJsEventIndex } from './sqljs/sqljsEventIndex.js';
import { SqlJsProjectionStore } from './sqljs/sqljsProjectionStore.js';
import { PgEventStore } from './postgres/pgEventStore.js';
import { OfflineTeamStore } from './postgres/offlineTeamStore.js';

/** What the composition root needs of an event store beyond the port: both adapters provide it. */
export interface LedgerEventStore extends EventStore {
  /** Picks up events other processes appended (the file store); 0 for a server, read on every call. */
  refresh(): Promise<number>;
  /** Seals the head this writer moved (see core/signing.ts). */
  sealHead(): Promise<void>;
  /** The log's signing key: the public key of its first HeadSigned, if any. */
  signingKey(): Promise<{ readonly publicKey: string; readonly keyId: string } | null>;
  /**
   * Runs `fn` as the only member of a team ledger running a pipeline (absent for a local store,
   * whose pipeline lock is a file).
   */
  withTeamLock?<T>(fn: () => Promise<T>, options: { readonly owner: string; readonly deadline: number; readonly signal?: AbortSignal; readonly onWait?: (holder: LockHolder) => void }): Promise<T>;
  /** A reader's warning that the store's files disagree; null when they agree (always, for a server). */
  readonly integrityWarning: string | null;
}

/** The event log, its projections and their queries, opened together on one store directory. */
export interface Ledger {
  readonly events: LedgerEventStore;
  /** The team ledger's address (`user@host:port/database/schema`) when the log is on PostgreSQL. */
  readonly team: string | null;
  /**
   * Why the team ledger's server could not be reached, when this member opened it offline: the log
   * can be neither read nor written, the projections answer as they were (they are not caught up).
   */
  readonly offline: string | null;
  readonly projections: ProjectionStore;
  readonly runner: ProjectionRunner;
  readonly readModels: ReadModels;
  close(): Promise<void>;
}

export interface OpenLedgerOptions extends SqlJsEventStoreOptions {
  /** Told when a damaged projections file was moved aside to be rebuilt. */
  readonly onProjectionsDiscarded?: (movedTo: string, reason: string) => void;
  /**
   * The team ledger: the log lives on this PostgreSQL server (`postgres://…`) and `dir` holds only
   * this member's projections (read models, vector index, explorer), built from the shared log.
   */
  readonly team?: {
    readonly url: string;
    readonly password?: string;
    readonly poolSize?: number;
    /** When the server cannot be reached, open offline (see Ledger.offline) instead of failing. */
    readonly allowOffline?: boolean;
  };
}

/** Opens the store in `dir`: the composition root shared by the CLI and the extension. */
export async function openLedger(dir: string, options: OpenLedgerOptions = {}): Promise<Ledger> {
  if (options.team) return openTeamLedger(dir, options.team, options);
  const events = await SqlJsEventStore.open(dir, options);
  let projections: SqlJsProjectionStore;
  try {
    projections = await SqlJsProjectionStore.open(dir, { writable: events.writable, ...(options.onProjectionsDiscarded ? { onDiscarded: options.onProjectionsDiscarded } : {}) });
  } catch (err) {
    await events.close();
    throw err;
  }
  return composeLedger(events, projections, null);
}

/**
 * A member of a team ledger: the events on PostgreSQL, the projections in `dir` (created when
 * missing: they are rebuilt from the shared log, embeddings included, never re-embedded).
 */
async function openTeamLedger(dir: string, team: NonNullable<OpenLedgerOptions['team']>, options: OpenLedgerOptions): Promise<Ledger> {
  const writable = options.mode !== 'read';
  if (writable) mkdirSync(dir, { recursive: true });
  let events: PgEventStore | OfflineTeamStore;
  try {
    events = await PgEventStore.open(team.url, {
      mode: writable ? 'write' : 'read',
      ...(team.password !== undefined ? { password: team.password } : {}),
      ...(team.poolSize !== undefined ? { poolSize: team.poolSize } : {}),
      ...(options.headSigner !== undefined ? { headSigner: options.headSigner } : {}),
      ...(options.clock ? { clock: options.clock } : {}),
    });
  } catch (err) {
    if (!(err instanceof TeamLedgerUnavailableError) || team.allowOffline !== true) throw err;
    events = new OfflineTeamStore(err.server, err.detail);
  }
  let projections: SqlJsProjectionStore;
  try {
    projections = await SqlJsProjectionStore.open(dir, { writable, ...(options.onProjectionsDiscarded ? { onDiscarded: options.onProjectionsDiscarded } : {}) });
  } catch (err) {
    await events.close();
    throw err;
  }
  return events instanceof OfflineTeamStore ? composeLedger(events, projections, events.location, events.reason) : composeLedger(events, projections, events.address.display);
}

/** The runner of an offline member: its projections stay as they were until the log can be read again. */
class OfflineRunner extends ProjectionRunner {
  override catchUp(): Promise<RunResult[]> {
    return Promise.resolve([]);
  }
}

function composeLedger(events: LedgerEventStore, projections: SqlJsProjectionStore, team: string | null, offline: string | null = null): Ledger {
  const runner = offline === null ? new ProjectionRunner(events, projections, standardProjections) : new OfflineRunner(events, projections, standardProjections);
  return {
    events,
    team,
    offline,
    projections,
    runner,
    readModels: new ReadModels(projections),
    async close() {
      try {
        await projections.close();
      } finally {
        await events.close();
      }
    },
  };
}

/** The vector index folder inside a store directory: a projection, safe to delete (rebuild restores it). */
export const VECTORS_DIR = 'vectors';

/** Opens the store's LanceDB vector index (one table per pipeline version). */
export function openVectorIndex(storeDir: string, options: LanceIndexOptions = {}): Promise<LanceVectorIndex> {
  return LanceVectorIndex.open(join(storeDir, VECTORS_DIR), options);
}

/**
 * Opens the event-log explorer's indexes over an open ledger (`explorer/` in the store: an SQLite
 * index and a LanceDB text index, both projections, safe to delete). A read-only ledger keeps the
 * index in memory and searches the text index as far as it was written.
 */
export async function openExplorer(storeDir: string, ledger: Ledger, options: { readonly onDiscarded?: (movedTo: string, reason: string) => void; readonly buildTimeoutMs?: number } = {}): Promise<Explorer> {
  const writable = ledger.events.writable;
  const index = await SqlJsEventIndex.open(storeDir, { writable, ...(options.onDiscarded ? { onDiscarded: options.onDiscarded } : {}) });
  const textDir = join(storeDir, EXPLORER_DIR, 'text');
  let text: LanceTextIndex | null = null;
  try {
    text = writable || existsSync(textDir) ? await LanceTextIndex.open(textDir, { writable, ...(options.buildTimeoutMs !== undefined ? { buildTimeoutMs: options.buildTimeoutMs } : {}) }) : null;
  } catch (err) {
    if (writable) {
      await index.close();
      throw err;
    }
    // A reader that cannot open the text index searches by reading the events instead.
    text = null;
  }
  return new Explorer({ events: ledger.events, readModels: ledger.readModels, index, text });
}

/**
 * Refuses to answer from an index that has lost what the log says it holds (its folder deleted or its
 * table gone): an empty result there would be mistaken for "nothing matches".
 */
export async function assertIndexPresent(ledger: Ledger, index: VectorIndex, pipelineVersion: string): Promise<void> {
  const indexed = ledger.readModels.pipelineProgress(pipelineVersion).indexed;
  if (indexed === 0) return;
  // The row count only: counting the rows with vectors would read every vector of the table.
  if ((await index.rowCount(pipelineVersion)) === 0) throw new IndexMissingError(pipelineVersion, index.location, indexed);
}
