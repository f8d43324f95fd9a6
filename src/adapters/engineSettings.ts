import type { EmbedReport } from '../app/embedding/embedService.js';
import type { SyncReport } from '../app/indexing/indexService.js';
import type { IngestProgress, IngestReport } from '../app/ingest/ingestService.js';
import type { WalkRules } from '../app/ingest/workspaceSource.js';
import type { BuildReport } from '../app/pipelines/buildService.js';
import type { DocumentRules } from '../core/ingest/documentCheck.js';
import type { NamedFolder } from '../core/ingest/folderLabels.js';
import type { PipelineConfig } from '../core/pipeline/pipelineConfig.js';
import type { EmbedderChoice } from './transformers/modelDimensions.js';

/**
 * The pipeline the settings describe. The embedding dimensions may be left out: they are then read
 * from the model's config.json (see settleEmbedderDimensions) each time the version is needed.
 */
export type PipelineSettings = Omit<PipelineConfig, 'embedder'> & { readonly embedder: EmbedderChoice };

/** Everything the engine needs from the editor's settings (or the command line's flags). */
export interface EngineSettings {
  /** The store directory (created when missing); with `team`, it holds only this member's projections. */
  readonly storeDir: string;
  /** The team ledger on PostgreSQL that holds the log, when the store is shared (see adapters/ledger.ts). */
  readonly team?: { readonly url: string; readonly password?: string };
  /** The workspace folder files are ingested from (the first one when `folders` is given). */
  readonly workspaceRoot: string;
  /**
   * Every folder of the workspace, in workspace order (default: `workspaceRoot` alone). With
   * several, document paths start with each folder's label (see `folderLabels`).
   */
  readonly folders?: readonly NamedFolder[];
  /** The pipeline the settings describe (chunking, embedder, retrieval, prompt, generator). */
  readonly pipeline: PipelineSettings;
  readonly walk: WalkRules;
  readonly documents: DocumentRules;
  /** A folder holding local model copies (<model id>/...), or undefined to download once. */
  readonly modelDir?: string;
  readonly ollama: { readonly host?: string; readonly idleTimeoutMs?: number; readonly answerTimeoutMs?: number; readonly maxAnswerChars?: number; readonly contextTokens?: number };
  /** Deadline for one batch of texts in the embedding model (default 120 s). */
  readonly embedBatchTimeoutMs?: number;
  /** Deadline for building or optimising a LanceDB index (default 600 s). */
  readonly indexBuildTimeoutMs?: number;
  /** Who acts, in every event's metadata. */
  readonly actor: string;
  /** Written into the store's lock file, shown to a second window. */
  readonly owner: string;
}

/** `wait`: another process (a second window, the CLI) runs this store's pipeline; this one waits its turn. */
export type EnginePhase = IngestProgress['phase'] | 'embed' | 'index' | 'compare' | 'wait';

export interface EngineProgress {
  readonly phase: EnginePhase;
  readonly done: number;
  readonly total?: number;
  /** For `wait`: whom it waits for (owner, pid, host). */
  readonly detail?: string;
}

export interface WorkOptions {
  readonly signal?: AbortSignal;
  readonly onProgress?: (p: EngineProgress) => void;
  /**
   * Told why, when a version is built without its embedding model (its table stays lexical until
   * it is built again): what failed, and the hint that says what to do.
   */
  readonly onEmbedderUnavailable?: (why: { readonly message: string; readonly hint: string }) => void;
}

export interface EngineIngestOptions extends WorkOptions {
  /** Workspace-relative files and folders: only they are ingested (and only documents in scope can be deleted). */
  readonly scope?: readonly string[];
  /** Ingest a folder that shares no file with the store's documents (they are all deleted). */
  readonly replaceAll?: boolean;
  /** False: chunk and index only; the chunks are embedded by a later ingest. */
  readonly embed?: boolean;
}

export interface EngineIngestReport {
  /** The version the settings describe, which the ingest chunked, embedded and indexed. */
  readonly pipelineVersion: string;
  readonly ingest: IngestReport;
  /** null when embedding was skipped or the embedding model could not be loaded (retrieval stays lexical). */
  readonly embedding: EmbedReport | null;
  readonly indexing: SyncReport;
  /** Why embedding was skipped, in words for the user. */
  readonly embeddingUnavailable?: { readonly message: string; readonly hint: string };
  /** The versions built in the shadow that followed the workspace (from the log: chunk, embed, index). */
  readonly shadows: readonly BuildReport[];
}
