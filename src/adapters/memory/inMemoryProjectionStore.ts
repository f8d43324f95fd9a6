import type { JsonValue } from '../../core/events/eventCatalog.js';
import type { Checkpoint, ProjectionStore } from '../../core/projections/projection.js';

/** Projection documents held in memory (as JSON text, so callers never share objects). */
export class InMemoryProjectionStore implements ProjectionStore {
  private readonly docs = new Map<string, Map<string, string>>();
  private readonly checkpoints = new Map<string, Checkpoint>();

  checkpoint(name: string): Checkpoint | undefined {
    return this.checkpoints.get(name);
  }

  get(name: string, key: string): JsonValue | undefined {
    const text = this.docs.get(name)?.get(key);
    return text === undefined ? undefined : (JSON.parse(text) as JsonValue);
  }

  *list(name: string, prefix = ''): Iterable<readonly [string, JsonValue]> {
    const keys = [...(this.docs.get(name)?.keys() ?? [])].filter((k) => k.startsWith(prefix)).sort();
    for (const k of keys) yield [k, this.get(name, k)!] as const;
  }

  topBy(name: string, prefix: string, field: string, limit: number): (readonly [string, JsonValue])[] {
    const value = (d: JsonValue): number => Number((d as Record<string, unknown>)[field] ?? 0);
    return [...this.list(name, prefix)].sort((a, b) => value(b[1]) - value(a[1]) || (a[0] < b[0] ? -1 : 1)).slice(0, limit);
  }

  countBy(name: string, prefix: string, field?: string): Map<string, number> {
    const out = new Map<string, number>();
    for (const [, d] of this.list(name, prefix)) {
      const v = field === undefined ? '' : (d as Record<string, unknown>)[field];
      const k = typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? String(v) : '';
      out.set(k, (out.get(k) ?? 0) + 1);
    }
    return out;
  }

  commit(name: string, changes: ReadonlyMap<string, JsonValue | null>, checkpoint: Checkpoint): void {
    const docs = this.docs.get(name) ?? new Map<string, string>();
    const encoded = [...changes].map(([k, v]) => [k, v === null ? null : JSON.stringify(v)] as const);
    for (const [k, v] of encoded) {
      if (v === null) docs.delete(k);
      else docs.set(k, v);
    }
    this.docs.set(name, docs);
    this.checkpoints.set(name, checkpoint);
  }

  truncate(name: string): void {
    this.docs.delete(name);
    this.checkpoints.delete(name);
  }

  flush(): Promise<void> {
    return Promise.resolve();
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
