import { StoreNotEmptyError, StoreReadOnlyError } from '../../core/errors.js';
import type { Hasher } from '../../core/eventLog.js';
import { ChainVerifier, GENESIS_HASH, checkImport, planAppendMany, planForgetAppend } from '../../core/eventLog.js';
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
import { decodePage } from '../../core/chunkTexts.js';
import { newUuid, sha256, systemClock } from '../node/sha256.js';
import { ed25519Check } from '../node/signing.js';
import { matchesFilter, summarize } from './rawFilters.js';

export interface InMemoryEventStoreOptions {
  readonly clock?: () => string;
  readonly newId?: () => string;
  readonly hasher?: Hasher;
}

/** An event store held in memory. Same contract as the sql.js store; nothing survives the process. */
export class InMemoryEventStore implements EventStore {
  readonly location = 'memory';
  private readonly events: RawEvent[] = [];
  private readonly byId = new Map<string, number>();
  private readonly streams = new Map<string, number[]>();
  private closed = false;
  private readonly clock: () => string;
  private readonly newId: () => string;
  private readonly hasher: Hasher;

  constructor(options: InMemoryEventStoreOptions = {}) {
    this.clock = options.clock ?? systemClock;
    this.newId = options.newId ?? newUuid;
    this.hasher = options.hasher ?? sha256;
  }

  get writable(): boolean {
    return !this.closed;
  }

  /** Test hook: the stored events, for tampering in verify tests. */
  get rawEvents(): RawEvent[] {
    return this.events;
  }

  /** One stream's append is an appendMany of one write: same planning, same single durable record. */
  async append(streamId: string, events: readonly NewEvent[], options: AppendOptions = {}): Promise<AppendResult> {
    const [result] = await this.appendMany([{ streamId, events, expectedVersion: options.expectedVersion ?? 'any' }]);
    return result!;
  }

  appendMany(writes: readonly StreamWrite[]): Promise<readonly AppendResult[]> {
    return Promise.resolve().then(() => {
      if (this.closed) throw new StoreReadOnlyError(this.location, 'the store is closed');
      const last = this.events.at(-1);
      const plan = planAppendMany(writes, {
        streamVersion: (streamId) => this.streams.get(streamId)?.length ?? 0,
        headPosition: last?.position ?? 0,
        headHash: last?.hash ?? GENESIS_HASH,
        now: this.clock(),
        newId: this.newId,
        hasher: this.hasher,
        existingPositions: (ids) => new Map(ids.flatMap((id) => (this.byId.has(id) ? [[id, this.byId.get(id)!] as const] : []))),
      });
      for (const r of plan.records) this.add(r);
      return plan.results;
    });
  }

  forget(attestation: StreamWrite, replacements: readonly RawEvent[]): Promise<AppendResult> {
    return Promise.resolve().then(() => {
      if (this.closed) throw new StoreReadOnlyError(this.location, 'the store is closed');
      const current = new Map(replacements.flatMap((r) => (this.events[r.position - 1] ? [[r.position, this.events[r.position - 1]!] as const] : [])));
      const last = this.events.at(-1);
      const { records, result } = planForgetAppend(attestation, replacements, current, {
        streamVersion: (streamId) => this.streams.get(streamId)?.length ?? 0,
        headPosition: last?.position ?? 0,
        headHash: last?.hash ?? GENESIS_HASH,
        now: this.clock(),
        newId: this.newId,
        hasher: this.hasher,
        existingPositions: (ids) => new Map(ids.flatMap((id) => (this.byId.has(id) ? [[id, this.byId.get(id)!] as const] : []))),
      });
      if (records.length === 0) return result;
      for (const r of replacements) this.events[r.position - 1] = r;
      for (const r of records) this.add(r);
      return result;
    });
  }

  private add(r: RawEvent): void {
    this.events.push(r);
    this.byId.set(r.eventId, r.position);
    const list = this.streams.get(r.streamId) ?? [];
    list.push(r.position);
    this.streams.set(r.streamId, list);
  }

  async *readStream(streamId: string, options: ReadStreamOptions = {}): AsyncIterable<RecordedEvent> {
    const positions = this.streams.get(streamId) ?? [];
    const from = Math.max(1, options.fromVersion ?? 1);
    const end = options.limit === undefined ? positions.length : Math.min(positions.length, from - 1 + options.limit);
    for (let i = from - 1; i < end; i++) yield* await this.decode(this.events[positions[i]! - 1]!);
  }

  async *readAll(options: ReadAllOptions = {}): AsyncIterable<RecordedEvent> {
    let emitted = 0;
    for (let i = Math.max(0, (options.fromPosition ?? 1) - 1); i < this.events.length; i++) {
      if (options.limit !== undefined && emitted >= options.limit) return;
      const raw = this.events[i]!;
      if (!matchesFilter(raw, options)) continue;
      emitted++;
      yield* await this.decode(raw);
    }
  }

  /** One stored event as read (a chunking with its texts restored from its submission). */
  private decode(raw: RawEvent): Promise<RecordedEvent[]> {
    return decodePage([raw], (ids) => Promise.resolve(ids.flatMap((id) => (this.byId.has(id) ? [this.events[this.byId.get(id)! - 1]!] : []))));
  }

  async *readRaw(fromPosition = 1): AsyncIterable<RawEvent> {
    for (let i = Math.max(0, fromPosition - 1); i < this.events.length; i++) yield this.events[i]!;
  }

  async readPositions(positions: readonly number[]): Promise<RawEvent[]> {
    return checkedPositions(positions)
      .filter((p) => p <= this.events.length)
      .map((p) => this.events[p - 1]!);
  }

  async positionOf(eventId: string): Promise<number | null> {
    return this.byId.get(eventId) ?? null;
  }

  async importRaw(events: AsyncIterable<RawEvent> | Iterable<RawEvent>): Promise<number> {
    if (this.events.length > 0) throw new StoreNotEmptyError(this.location, this.events.length);
    const accepted = await checkImport(events, this.hasher, ed25519Check);
    for (const r of accepted) this.add(r);
    return accepted.length;
  }

  streamVersion(streamId: string): Promise<number> {
    return Promise.resolve(this.streams.get(streamId)?.length ?? 0);
  }

  head(): Promise<LogHead> {
    const last = this.events.at(-1);
    return Promise.resolve({ position: last?.position ?? 0, hash: last?.hash ?? GENESIS_HASH });
  }

  stats(): Promise<StoreStats> {
    return Promise.resolve({ ...summarize(this.events, this.streams.size), location: this.location, files: {} });
  }

  verify(): Promise<VerifyReport> {
    const verifier = new ChainVerifier(this.hasher, ed25519Check);
    for (const raw of this.events) if (!verifier.check(raw)) break;
    return Promise.resolve(verifier.report());
  }

  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }
}
