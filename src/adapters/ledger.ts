import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { VectorIndex } from '../app/indexing/vectorIndex.js';
import { IndexMissingError } from '../core/errors.js';
import { Explorer } from '../app/explorer/explorer.js';
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

/** The event log, its projections and their queries, opened together on one store directory. */
export interface Ledger {
  readonly events: SqlJsEventStore;
  readonly projections: ProjectionStore;
  readonly runner: ProjectionRunner;
  readonly readModels: ReadModels;
  close(): Promise<void>;
}

export interface OpenLedgerOptions extends SqlJsEventStoreOptions {
  /** Told when a damaged projections file was moved aside to be rebuilt. */
  readonly onProjectionsDiscarded?: (movedTo: string, reason: string) => void;
}

/** Opens the store in `dir`: the composition root shared by the CLI and the extension. */
export async function openLedger(dir: string, options: OpenLedgerOptions = {}): Promise<Ledger> {
  const events = await SqlJsEventStore.open(dir, options);
  let projections: SqlJsProjectionStore;
  try {
    projections = await SqlJsProjectionStore.open(dir, { writable: events.writable, ...(options.onProjectionsDiscarded ? { onDiscarded: options.onProjectionsDiscarded } : {}) });
  } catch (err) {
    await events.close();
    throw err;
  }
  return composeLedger(events, projections);
}

function composeLedger(events: SqlJsEventStore, projections: SqlJsProjectionStore): Ledger {
  const runner = new ProjectionRunner(events, projections, standardProjections);
  return {
    events,
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
