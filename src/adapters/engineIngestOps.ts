import { randomUUID } from 'node:crypto';
import type { EmbedReport } from '../app/embedding/embedService.js';
import { EmbedService } from '../app/embedding/embedService.js';
import type { EngineDeps } from '../app/engineDeps.js';
import type { SyncReport } from '../app/indexing/indexService.js';
import { IndexService } from '../app/indexing/indexService.js';
import { IngestService, documentIdFor, inScope } from '../app/ingest/ingestService.js';
import type { WorkspaceSource } from '../app/ingest/workspaceSource.js';
import type { BuildReport } from '../app/pipelines/buildService.js';
import { EmbeddingModelUnavailableError, ValidationError } from '../core/errors.js';
import type { PipelineConfig } from '../core/pipeline/pipelineConfig.js';
import type { EmbedderCache } from './engineEmbedders.js';
import type { EngineIngestOptions, EngineIngestReport, EnginePhase, EngineSettings, WorkOptions } from './engineSettings.js';
import type { LanceVectorIndex } from './lancedb/lanceVectorIndex.js';
import type { Ledger } from './ledger.js';
import { sha256 } from './node/sha256.js';
import type { SecretlintScanner } from './secretlint/secretlintScanner.js';

/**
 * What keeping the workspace's documents current asks of the engine: ingest, re-embed and retire
 * a folder. The engine runs each in its queue; they share its store, index and embedding model.
 */
export interface IngestOpsContext {
  readonly ledger: Ledger;
  readonly index: LanceVectorIndex;
  readonly embedders: EmbedderCache;
  readonly settings: EngineSettings;
  readonly secretScanner: SecretlintScanner;
  deps(): EngineDeps;
  source(): WorkspaceSource;
  /** The version the settings describe and its configuration (defined on first use, activated when none is). */
  settingsVersion(): Promise<{ version: string; config: PipelineConfig }>;
  /** Builds a version from the log (chunk, embed, index), inside the running operation. */
  buildVersion(version: string, options: WorkOptions): Promise<BuildReport>;
}

export interface ReembedReport {
  readonly documents: number;
  readonly embedding: EmbedReport;
  readonly indexing: SyncReport;
  readonly requestId: string;
}

/** A phase's progress and the caller's signal, in the form the services take. */
export function work(phase: EnginePhase, options: WorkOptions): { signal?: AbortSignal; onProgress: (p: { done: number; total: number }) => void } {
  return { ...(options.signal ? { signal: options.signal } : {}), onProgress: (p) => options.onProgress?.({ phase, done: p.done, total: p.total }) };
}

export async function ingestWorkspace(ctx: IngestOpsContext, options: EngineIngestOptions): Promise<EngineIngestReport> {
  const { version, config } = await ctx.settingsVersion();
  const deps = ctx.deps();
  const ingest = await new IngestService(deps).ingest(ctx.source(), {
    walk: ctx.settings.walk,
    documents: ctx.settings.documents,
    secretScanner: ctx.secretScanner,
    chunker: config.chunker,
    pipelineVersion: version,
    ...(options.scope ? { scope: options.scope } : {}),
    ...(options.replaceAll ? { replaceAll: true } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
    onProgress: (p) => options.onProgress?.(p),
  });
  const { embedding, unavailable } = options.embed === false ? { embedding: null, unavailable: undefined } : await embedPending(ctx, version, config, options);
  const indexer = new IndexService({ ...deps, index: ctx.index });
  const indexing = await indexer.sync(version, work('index', options));
  const shadows = await followOtherVersions(ctx, version, indexer, options);
  await ctx.ledger.projections.flush();
  return { pipelineVersion: version, ingest, embedding, indexing, ...(unavailable ? { embeddingUnavailable: unavailable } : {}), shadows };
}

export async function retireFolder(ctx: IngestOpsContext, label: string, options: WorkOptions): Promise<{ readonly retired: number; readonly indexing: SyncReport }> {
  if (label === '') throw new ValidationError('the only folder of a workspace cannot be retired', [], 'Remove the folder from the workspace first.');
  const { version } = await ctx.settingsVersion();
  const deps = ctx.deps();
  const retired = await new IngestService(deps).retire(label, 'the folder was removed from the workspace', options.signal ? { signal: options.signal } : {});
  const indexer = new IndexService({ ...deps, index: ctx.index });
  const indexing = await indexer.sync(version, work('index', options));
  await followOtherVersions(ctx, version, indexer, options);
  await ctx.ledger.projections.flush();
  return { retired, indexing };
}

/**
 * After an operation on `version`: the active version's table, when it is another one, follows
 * deletions (new documents reach it when an ingest with its settings chunks them), and every
 * version built in the shadow follows the workspace.
 */
async function followOtherVersions(ctx: IngestOpsContext, version: string, indexer: IndexService, options: WorkOptions): Promise<BuildReport[]> {
  await ctx.ledger.runner.catchUp();
  const active = ctx.ledger.readModels.activePipeline();
  if (active !== undefined && active !== version) await indexer.sync(active, work('index', options));
  const shadows: BuildReport[] = [];
  for (const shadow of ctx.ledger.readModels.shadowPipelines().filter((v) => v !== version)) shadows.push(await ctx.buildVersion(shadow, options));
  return shadows;
}

async function embedPending(ctx: IngestOpsContext, version: string, config: PipelineConfig, options: WorkOptions): Promise<{ embedding: EmbedReport | null; unavailable?: { message: string; hint: string } }> {
  try {
    const embedder = await ctx.embedders.embedderFor(config);
    return { embedding: await new EmbedService(ctx.deps()).embedPending({ pipelineVersion: version, embedder, ...work('embed', options) }) };
  } catch (err) {
    if (!(err instanceof EmbeddingModelUnavailableError)) throw err;
    return { embedding: null, unavailable: { message: err.message, hint: err.hint } };
  }
}

export async function reembedPaths(ctx: IngestOpsContext, paths: readonly string[], options: WorkOptions): Promise<ReembedReport> {
  const { version, config } = await ctx.settingsVersion();
  const deps = ctx.deps();
  const { ledger } = ctx;
  await new IngestService(deps).ingest(ctx.source(), { walk: ctx.settings.walk, documents: ctx.settings.documents, secretScanner: ctx.secretScanner, chunker: config.chunker, pipelineVersion: version, scope: paths, ...(options.signal ? { signal: options.signal } : {}) });
  await ledger.runner.catchUp();
  const ids = ledger.readModels
    .documents()
    .filter((d) => d.state !== 'deleted' && d.state !== 'rejected' && inScope(d.source, paths) && d.pipelines[version])
    .map((d) => d.document_id);
  if (ids.length === 0) {
    const one = paths.length === 1 ? paths[0]! : `${paths.length} paths`;
    const doc = paths.length === 1 ? ledger.readModels.document(documentIdFor(sha256, paths[0]!)) : undefined;
    const why = doc?.state === 'rejected' ? `it was rejected: ${doc.last_error ?? 'see the Documents view'}` : 'no ingested document is there (is it excluded by .gitignore, .ragledgerignore or the settings?)';
    throw new ValidationError(`nothing to re-embed at ${one}: ${why}`, [], 'Ingest the workspace, or check the include and exclude settings.');
  }
  const requestId = randomUUID();
  const embedder = await ctx.embedders.embedderFor(config);
  const embedding = await new EmbedService(deps).reembed(ids, { pipelineVersion: version, embedder, requestId, ...work('embed', options) });
  const indexing = await new IndexService({ ...deps, index: ctx.index }).reindex(version, ids, requestId, work('index', options));
  await ledger.projections.flush();
  return { documents: ids.length, embedding, indexing, requestId };
}
