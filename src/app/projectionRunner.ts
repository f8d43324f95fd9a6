import { CancelledError } from '../core/errors.js';
import type { JsonValue } from '../core/events/eventCatalog.js';
import type { EventStore, RecordedEvent } from '../core/eventStore.js';
import type { Projection, ProjectionStore, ProjectionView } from '../core/projections/projection.js';

/** Progress of one projection while it catches up. */
export interface ProjectionProgress {
  readonly projection: string;
  /** Last global position processed. */
  readonly position: number;
  /** The log head when the run started. */
  readonly head: number;
  /** Events handled so far in this run. */
  readonly handled: number;
}

export interface RunOptions {
  readonly onProgress?: (p: ProjectionProgress) => void;
  readonly signal?: AbortSignal;
  /** Events per committed batch (default 2000). */
  readonly batchSize?: number;
}

/** What one projection did in a run. */
export interface RunResult {
  readonly projection: string;
  readonly version: number;
  /** True when the projection was truncated and replayed from position 1. */
  readonly rebuilt: boolean;
  readonly handled: number;
  readonly fromPosition: number;
  readonly checkpoint: number;
  readonly millis: number;
}

const CACHE_LIMIT = 20_000;
/** Keys remembered as written during a rebuild (see Run.commit). */
const WRITTEN_LIMIT = 100_000;

/**
 * Runs named, versioned projections over the log. Each projection keeps a checkpoint that
 * is committed together with its documents, so a crash leaves it consistent and it resumes
 * from the checkpoint. A version bump truncates and replays it.
 */
export class ProjectionRunner {
  constructor(
    private readonly events: EventStore,
    private readonly store: ProjectionStore,
    readonly projections: readonly Projection[],
  ) {
    const names = new Set<string>();
    for (const p of projections) {
      if (names.has(p.name)) throw new Error(`two projections are named ${p.name}`);
      names.add(p.name);
    }
  }

  /** Brings every projection up to the log head, in one pass over the log. */
  async catchUp(options: RunOptions = {}): Promise<RunResult[]> {
    return this.runAll(this.projections, false, options);
  }

  /** Truncates and replays one projection (or all, when `name` is omitted). */
  async rebuild(name?: string, options: RunOptions = {}): Promise<RunResult[]> {
    const selected = name === undefined ? this.projections : this.projections.filter((p) => p.name === name);
    if (selected.length === 0) throw new Error(`no projection named ${name}; known: ${this.projections.map((p) => p.name).join(', ')}`);
    if (!this.store.unload || selected.length === 1) return this.runAll(selected, true, options);
    // One projection at a time, each written and let go before the next: memory holds the largest
    // read model, not all of them (a pass over the log per projection, reading only its types).
    const results: RunResult[] = [];
    for (const p of selected) {
      results.push(...(await this.runAll([p], true, options)));
      await this.store.unload(p.name);
    }
    return results;
  }

  /**
   * Folds the log into several projections at once: one read from the lowest checkpoint,
   * each event handed to the projections that consume its type and have not seen it yet.
   */
  private async runAll(projections: readonly Projection[], forceRebuild: boolean, options: RunOptions): Promise<RunResult[]> {
    const started = Date.now();
    const head = (await this.events.head()).position;
    // A checkpoint beyond the head means the log lost its tail (e.g. restored from an older
    // copy): the projection holds documents for events that no longer exist, so rebuild it.
    // A projection with no event of its types since its checkpoint is left alone: not loaded, not
    // written (its checkpoint stays where it is, which is as good as the head for it).
    const idle: RunResult[] = [];
    const active: Projection[] = [];
    for (const p of projections) {
      const cp = forceRebuild ? undefined : this.store.checkpoint(p.name);
      if (cp && cp.version === p.version && cp.position <= head && !(await this.hasEvents(p, cp.position + 1))) {
        idle.push({ projection: p.name, version: p.version, rebuilt: false, handled: 0, fromPosition: cp.position + 1, checkpoint: head, millis: 0 });
      } else {
        active.push(p);
      }
    }
    const runs = active.map((p) => new Run(p, this.store, forceRebuild || (this.store.checkpoint(p.name)?.position ?? 0) > head));
    if (runs.length === 0) return this.inOrder(projections, idle);
    const batchSize = options.batchSize ?? 2000;
    const fromPosition = Math.min(...runs.map((r) => r.fromPosition));
    const types = [...new Set(runs.flatMap((r) => r.projection.eventTypes))];
    const label = runs.map((r) => r.projection.name).join(', ');
    let seen = 0;
    let last = fromPosition - 1;
    for await (const e of this.events.readAll({ fromPosition, types })) {
      for (const run of runs) run.offer(e);
      last = e.position;
      if (++seen % batchSize === 0) {
        for (const run of runs) run.commit(last);
        options.onProgress?.({ projection: label, position: last, head, handled: seen });
        if (options.signal?.aborted) throw new CancelledError(`catching up projections (${label})`);
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    }
    // The checkpoint advances to the head even when no event of these types was there, so
    // the next run does not scan the same stretch again.
    const end = Math.max(last, head);
    for (const run of runs) run.commit(end);
    options.onProgress?.({ projection: label, position: end, head, handled: seen });
    const millis = Date.now() - started;
    return this.inOrder(projections, [...idle, ...runs.map((r) => ({ projection: r.projection.name, version: r.projection.version, rebuilt: r.rebuilt, handled: r.handled, fromPosition: r.fromPosition, checkpoint: end, millis }))]);
  }

  /** Whether the log holds an event of the projection's types at or after `fromPosition`. */
  private async hasEvents(p: Projection, fromPosition: number): Promise<boolean> {
    for await (const _ of this.events.readAll({ fromPosition, types: p.eventTypes, limit: 1 })) return true;
    return false;
  }

  private inOrder(projections: readonly Projection[], results: RunResult[]): RunResult[] {
    const at = new Map(projections.map((p, i) => [p.name, i]));
    return results.sort((a, b) => at.get(a.projection)! - at.get(b.projection)!);
  }
}

/** One projection's state during a run: its write-back cache and progress. */
class Run {
  readonly rebuilt: boolean;
  readonly fromPosition: number;
  handled = 0;
  private readonly types: ReadonlySet<string>;
  private readonly cache = new Map<string, JsonValue | null>();
  private readonly dirty = new Set<string>();
  /** During a rebuild the store starts empty: keys never written in this run need no lookup. */
  private written: Set<string> | null;
  private readonly view: ProjectionView;

  constructor(
    readonly projection: Projection,
    private readonly store: ProjectionStore,
    forceRebuild: boolean,
  ) {
    const cp = store.checkpoint(projection.name);
    this.rebuilt = forceRebuild || (cp !== undefined && cp.version !== projection.version);
    if (this.rebuilt) store.truncate(projection.name);
    this.fromPosition = this.rebuilt ? 1 : (cp?.position ?? 0) + 1;
    this.written = this.rebuilt || cp === undefined ? new Set<string>() : null;
    this.types = new Set(projection.eventTypes);
    this.view = {
      get: (key) => {
        if (this.cache.has(key)) return this.cache.get(key) ?? undefined;
        if (this.written && !this.written.has(key)) return undefined;
        const doc = this.store.get(this.projection.name, key);
        this.cache.set(key, doc ?? null);
        return doc;
      },
      put: (key, doc) => this.set(key, doc),
      delete: (key) => this.set(key, null),
    };
  }

  private set(key: string, doc: JsonValue | null): void {
    this.cache.set(key, doc);
    this.dirty.add(key);
    this.written?.add(key);
  }

  offer(e: RecordedEvent): void {
    if (e.position < this.fromPosition || !this.types.has(e.type)) return;
    this.projection.handle(e, this.view);
    this.handled++;
  }

  /** Commits the documents changed since the last commit together with the checkpoint. */
  commit(position: number): void {
    if (position < this.fromPosition - 1) return;
    const changes = new Map<string, JsonValue | null>();
    for (const key of this.dirty) changes.set(key, this.cache.get(key) ?? null);
    this.store.commit(this.projection.name, changes, { version: this.projection.version, position });
    this.dirty.clear();
    if (this.cache.size > CACHE_LIMIT) this.cache.clear();
    // The set of keys written saves lookups of absent keys while a rebuild starts from empty; past a
    // bound it costs more memory than the lookups cost time, so it is dropped (lookups resume).
    if (this.written && this.written.size > WRITTEN_LIMIT) this.written = null;
  }
}
