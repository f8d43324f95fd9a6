import { TeamLedgerUnavailableError } from '../../core/errors.js';
import type { AppendResult, LogHead, RawEvent, RecordedEvent, StoreStats, VerifyReport } from '../../core/eventStore.js';
import type { LedgerEventStore } from '../ledger.js';

/**
 * The team ledger while its server cannot be reached: every read and write of the log fails with
 * TeamLedgerUnavailableError (nothing is written, nothing is lost), while the member's own
 * projections (read models, vector index) still answer. See Ledger.offline.
 */
export class OfflineTeamStore implements LedgerEventStore {
  readonly writable = false;
  readonly integrityWarning = null;

  constructor(
    readonly location: string,
    /** Why the server could not be reached. */
    readonly reason: string,
  ) {}

  private fail(): Promise<never> {
    return Promise.reject(new TeamLedgerUnavailableError(this.location, this.reason));
  }

  append(): Promise<AppendResult> {
    return this.fail();
  }
  appendMany(): Promise<readonly AppendResult[]> {
    return this.fail();
  }
  forget(): Promise<AppendResult> {
    return this.fail();
  }
  importRaw(): Promise<number> {
    return this.fail();
  }
  readPositions(): Promise<RawEvent[]> {
    return this.fail();
  }
  positionOf(): Promise<number | null> {
    return this.fail();
  }
  streamVersion(): Promise<number> {
    return this.fail();
  }
  head(): Promise<LogHead> {
    return this.fail();
  }
  stats(): Promise<StoreStats> {
    return this.fail();
  }
  verify(): Promise<VerifyReport> {
    return this.fail();
  }
  signingKey(): Promise<null> {
    return this.fail();
  }
  // eslint-disable-next-line require-yield
  async *readStream(): AsyncIterable<RecordedEvent> {
    await this.fail();
  }
  // eslint-disable-next-line require-yield
  async *readAll(): AsyncIterable<RecordedEvent> {
    await this.fail();
  }
  // eslint-disable-next-line require-yield
  async *readRaw(): AsyncIterable<RawEvent> {
    await this.fail();
  }
  refresh(): Promise<number> {
    return Promise.resolve(0);
  }
  sealHead(): Promise<void> {
    return Promise.resolve();
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}
