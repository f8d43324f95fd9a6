import type { EventStore, StreamWrite } from '../core/eventStore.js';

/** Limits of one batched write: whichever is reached first flushes it. */
export interface WriteBatchLimits {
  /** Streams per durable write (default 64). */
  readonly streams?: number;
  /** Approximate payload bytes per durable write (default 8 MiB). */
  readonly bytes?: number;
}

/**
 * Collects stream writes of bulk work (ingesting a folder, chunking, embedding) and appends them
 * with `appendMany`, so many documents cost one durable write instead of one each. Nothing is
 * acknowledged before its flush: work cut off before a flush is simply done again next time,
 * which every processor tolerates (event ids are deterministic, unchanged content is skipped).
 */
export class WriteBatch {
  private writes: StreamWrite[] = [];
  private bytes = 0;
  private readonly maxStreams: number;
  private readonly maxBytes: number;

  constructor(
    private readonly events: EventStore,
    limits: WriteBatchLimits = {},
  ) {
    this.maxStreams = limits.streams ?? 64;
    this.maxBytes = limits.bytes ?? 8 * 1024 * 1024;
  }

  get size(): number {
    return this.writes.length;
  }

  /**
   * Queues one stream's events (a stream already queued is flushed first, so its events keep
   * their order), flushing when a limit is reached.
   */
  async add(write: StreamWrite, bytes: number): Promise<void> {
    if (this.writes.some((w) => w.streamId === write.streamId)) await this.flush();
    this.writes.push(write);
    this.bytes += bytes;
    if (this.writes.length >= this.maxStreams || this.bytes >= this.maxBytes) await this.flush();
  }

  async flush(): Promise<void> {
    if (this.writes.length === 0) return;
    const writes = this.writes;
    this.writes = [];
    this.bytes = 0;
    await this.events.appendMany(writes);
  }
}
