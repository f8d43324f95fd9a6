// Stores for bench/explorer.bench.ts, built once and cached under .cache/bench-explorer/ (keyed by
// what they are built from, so a changed builder or option builds a new one). A store is built into a
// `.partial-<pid>` folder and renamed into place when complete, with a `bench-store.json` describing it;
// an interrupted build leaves nothing that looks like a store.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openLedger } from '../src/adapters/ledger.js';
import type { SyntheticLogOptions } from '../test/support/syntheticLog.js';
import { buildSyntheticStore, syntheticLog } from '../test/support/syntheticLog.js';
import { dirBytes, peakRss } from './benchUtil.js';

export const repoRoot = join(__dirname, '..');
export const CACHE_ROOT = join(repoRoot, '.cache', 'bench-explorer');
/** What a cached store is described by (written last: its presence means the store is complete). */
export const STORE_META = 'bench-store.json';

export interface SyntheticStoreMeta {
  readonly kind: 'synthetic';
  readonly options: SyntheticLogOptions;
  readonly events: number;
  readonly buildMs: number;
  /** Catching the standard read models up once (the extension would do it on its first open). */
  readonly readModelsMs: number;
  readonly buildPeakRss: number;
  readonly bytes: number;
  readonly builtAt: string;
}

/** A short key for everything a cached artifact depends on (values, and the text of files). */
export function cacheKey(values: unknown, files: readonly string[] = []): string {
  const h = createHash('sha256').update(JSON.stringify(values));
  for (const f of files) h.update('\0').update(readFileSync(f));
  return h.digest('hex').slice(0, 12);
}

/**
 * What the synthetic log generator produces, in short: the whole log of a small store with the same
 * other options. A change to the generator that changes its output changes this (a refactoring does not).
 */
function generatorFingerprint(options: SyntheticLogOptions): string {
  const h = createHash('sha256');
  for (const batch of syntheticLog({ ...options, documents: 300, questions: 200 })) {
    h.update(batch.time);
    for (const w of batch.writes) {
      h.update(w.streamId);
      for (const e of w.events) h.update(JSON.stringify([e.type, e.eventId ?? null, e.metadata ?? null, e.data]));
    }
  }
  return h.digest('hex');
}

/** The cache folder of a synthetic store with these options: `<root>/synthetic-<docs>d-<questions>q-<key>`. */
export function syntheticStoreDir(options: SyntheticLogOptions): string {
  const key = cacheKey({ options, generator: generatorFingerprint(options) });
  return join(CACHE_ROOT, `synthetic-${options.documents}d-${options.questions}q-${key}`);
}

export function readMeta<T>(dir: string): T | null {
  const file = join(dir, STORE_META);
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as T) : null;
}

/**
 * The cached artifact in `dir` if it is complete (its description is there); otherwise a fresh
 * `.partial-<pid>` folder to build it in (rename it to `dir` when done), stale partial builds removed.
 */
export function cachedOrPartial<T>(dir: string): { readonly cached: T } | { readonly partial: string } {
  const cached = readMeta<T>(dir);
  if (cached) return { cached };
  removeStalePartials();
  rmSync(dir, { recursive: true, force: true });
  const partial = `${dir}.partial-${process.pid}`;
  rmSync(partial, { recursive: true, force: true });
  mkdirSync(partial, { recursive: true });
  return { partial };
}

/** Removes partial builds left by processes that are gone. */
export function removeStalePartials(): void {
  if (!existsSync(CACHE_ROOT)) return;
  for (const name of readdirSync(CACHE_ROOT)) {
    const m = /\.partial-(\d+)$/.exec(name);
    if (!m) continue;
    let alive = true;
    try {
      process.kill(Number(m[1]), 0);
    } catch {
      alive = false;
    }
    if (!alive) rmSync(join(CACHE_ROOT, name), { recursive: true, force: true });
  }
}

/**
 * Builds the synthetic store for `options` into the cache unless it is there, and returns its folder
 * (the store is `<folder>/store`) and description. Runs in the calling process: call it from a child
 * process when its peak RSS matters.
 */
export async function ensureSyntheticStore(options: SyntheticLogOptions, log: (line: string) => void): Promise<{ dir: string; meta: SyntheticStoreMeta; built: boolean }> {
  const dir = syntheticStoreDir(options);
  const slot = cachedOrPartial<SyntheticStoreMeta>(dir);
  if ('cached' in slot) return { dir, meta: slot.cached, built: false };
  const { partial } = slot;
  const store = join(partial, 'store');
  let lastReport = 0;
  const t0 = performance.now();
  const events = await buildSyntheticStore(store, options, (n) => {
    if (performance.now() - lastReport > 15_000) {
      lastReport = performance.now();
      log(`    building: ${n.toLocaleString('en-US')} events after ${((performance.now() - t0) / 1000).toFixed(0)} s`);
    }
  });
  const buildMs = performance.now() - t0;
  // The read models, caught up once: the extension opens a store whose projections are current.
  const t1 = performance.now();
  const ledger = await openLedger(store, { mode: 'write', owner: 'bench:explorer (read models)' });
  try {
    await ledger.runner.catchUp();
    await ledger.projections.flush();
  } finally {
    await ledger.close();
  }
  const readModelsMs = performance.now() - t1;
  const meta: SyntheticStoreMeta = { kind: 'synthetic', options, events, buildMs, readModelsMs, buildPeakRss: peakRss(), bytes: dirBytes(store), builtAt: new Date().toISOString() };
  writeFileSync(join(partial, STORE_META), `${JSON.stringify(meta, null, 2)}\n`);
  renameSync(partial, dir);
  return { dir, meta, built: true };
}
