import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { TestContext } from 'node:test';
import type { Ledger } from '../../src/adapters/ledger.js';
import { openLedger } from '../../src/adapters/ledger.js';
import { sha256 } from '../../src/adapters/node/sha256.js';
import type { IngestOptions } from '../../src/app/ingest/ingestService.js';
import { IngestService, documentIdFor, documentStream } from '../../src/app/ingest/ingestService.js';
import { DEFAULT_CHUNKER } from '../../src/core/chunking/chunker.js';
import type { RecordedEvent } from '../../src/core/eventStore.js';
import { DEFAULT_MAX_BYTES } from '../../src/core/ingest/documentCheck.js';
import { SecretlintScanner } from '../../src/adapters/secretlint/secretlintScanner.js';
import { tempDir } from './tmp.js';

/** A real sql.js ledger in a temporary directory and an ingest service wired like the CLI's. */
export interface IngestHarness {
  readonly storeDir: string;
  readonly ledger: Ledger;
  readonly service: IngestService;
  /** The log, or the part of it after `afterPosition`. */
  events(afterPosition?: number): Promise<RecordedEvent[]>;
  head(): Promise<number>;
}

export async function openHarness(t: TestContext, storeDir = tempDir(t)): Promise<IngestHarness> {
  const ledger = await openLedger(storeDir);
  t.after(() => ledger.close());
  const service = new IngestService({ events: ledger.events, runner: ledger.runner, readModels: ledger.readModels, hasher: sha256, clock: () => new Date().toISOString(), actor: 'test' });
  return {
    storeDir,
    ledger,
    service,
    async events(afterPosition = 0) {
      const out: RecordedEvent[] = [];
      for await (const e of ledger.events.readAll({ fromPosition: afterPosition + 1 })) out.push(e);
      return out;
    },
    async head() {
      return (await ledger.events.head()).position;
    },
  };
}

export const PIPELINE_A = 'pv-test-a';

const SCANNER = new SecretlintScanner();

export function ingestOptions(overrides: Partial<IngestOptions> = {}): IngestOptions {
  return {
    walk: { include: [], exclude: [], respectGitignore: true },
    documents: { maxBytes: DEFAULT_MAX_BYTES, allowSecrets: false },
    // Wired like the CLI and the extension: content is checked for secrets.
    secretScanner: SCANNER,
    chunker: DEFAULT_CHUNKER,
    pipelineVersion: PIPELINE_A,
    ...overrides,
  };
}

/** Writes files (path with forward slashes -> content) under root, creating folders. */
export function writeFiles(root: string, files: Record<string, string | Uint8Array>): void {
  for (const [path, content] of Object.entries(files)) {
    const abs = join(root, ...path.split('/'));
    mkdirSync(dirname(abs), { recursive: true });
    writeFileSync(abs, content);
  }
}

/** The stream of the document at a workspace-relative path. */
export const streamOf = (path: string): string => documentStream(documentIdFor(sha256, path));

/** Events grouped by stream, in log order. */
export function byStream(events: readonly RecordedEvent[]): Map<string, RecordedEvent[]> {
  const map = new Map<string, RecordedEvent[]>();
  for (const e of events) map.set(e.streamId, [...(map.get(e.streamId) ?? []), e]);
  return map;
}

/** Every DocumentChunked must be unique per stream, pipeline version and submission. */
export function duplicateChunkings(events: readonly RecordedEvent[]): string[] {
  const seen = new Set<string>();
  const duplicates: string[] = [];
  for (const e of events) {
    if (e.type !== 'DocumentChunked') continue;
    const key = `${e.streamId} ${String(e.metadata.pipeline_version)} ${String(e.metadata.causation_id)}`;
    if (seen.has(key)) duplicates.push(key);
    seen.add(key);
  }
  return duplicates;
}
