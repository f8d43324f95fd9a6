import { CancelledError } from '../core/errors.js';
import type { JsonValue } from '../core/events/eventCatalog.js';
import type { EventStore } from '../core/eventStore.js';
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

const CACHE_LIMIT = 100_000;

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

  /** Brings every projection up to the log head. */
  async catchUp(options: RunOptions = {}): Promise<RunResult[]> {
    const results: RunResult[] = [];
    for (const p of this.projections) results.push(await this.run(p, false, options));
    return results;
  }

  /** Truncates and replays one projection (or all, when `name` is omitted). */
  async rebuild(name?: string, options: RunOptions = {}): Promise<RunResult[]> {
    const selected = name === undefined ? this.projections : this.projections.filter((p) => p.name === name);
    if (selected.length === 0) throw new Error(`no projection named ${name}; known: ${this.projections.map((p) => p.name).join(', ')}`);
    const results: RunResult[] = [];
    for (const p of selected) results.push(await this.run(p, true, options));
    return results;
  }

  private async run(p: Projection, forceRebuild: boolean, options: RunOptions): Promise<RunResult> {
    const started = Date.now();
    const cp = this.store.checkpoint(p.name);
    const rebuilt = forceRebuild || (cp !== undefined && cp.version !== p.version);
    if (rebuilt) this.store.truncate(p.name);
    const fromPosition = rebuilt ? 1 : (cp?.position ?? 0) + 1;
    const head = (await this.events.head()).position;
    const batchSize = options.batchSize ?? 2000;

    const cache = new Map<string, JsonValue | null>();
    const dirty = new Set<string>();
    const view: ProjectionView = {
      get: (key) => {
        if (cache.has(key)) return cache.get(key) ?? undefined;
        const doc = this.store.get(p.name, key);
        cache.set(key, doc ?? null);
        return doc;
      },
      put: (key, doc) => {
        cache.set(key, doc);
        dirty.add(key);
      },
      delete: (key) => {
        cache.set(key, null);
        dirty.add(key);
      },
    };
    const commit = (position: number): void => {
      const changes = new Map<string, JsonValue | null>();
      for (const key of dirty) changes.set(key, cache.get(key) ?? null);
      this.store.commit(p.name, changes, { version: p.version, position });
      dirty.clear();
      if (cache.size > CACHE_LIMIT) cache.clear();
    };

    let handled = 0;
    let last = fromPosition - 1;
    // The checkpoint advances to the head even when no event of this projection's types
    // was there, so the next run does not scan the same stretch again.
    const endOf = (): number => Math.max(last, head);
    for await (const e of this.events.readAll({ fromPosition, types: p.eventTypes })) {
      p.handle(e, view);
      handled++;
      last = e.position;
      if (handled % batchSize === 0) {
        commit(last);
        options.onProgress?.({ projection: p.name, position: last, head, handled });
        if (options.signal?.aborted) throw new CancelledError(`catching up projection ${p.name}`);
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    }
    const checkpoint = endOf();
    commit(checkpoint);
    options.onProgress?.({ projection: p.name, position: checkpoint, head, handled });
    return { projection: p.name, version: p.version, rebuilt, handled, fromPosition, checkpoint, millis: Date.now() - started };
  }
}
