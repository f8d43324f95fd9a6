import { resolve } from 'node:path';
import type { EngineProgress, EngineSettings } from '../adapters/engineSettings.js';
import { WorkspaceEngine } from '../adapters/workspaceEngine.js';
import { DEFAULT_MAX_BYTES } from '../core/ingest/documentCheck.js';
import { DEFAULT_PIPELINE } from '../core/pipeline/pipelineConfig.js';
import type { Io, ParsedArgs } from './cliSupport.js';
import { intOption, progressReporter } from './cliSupport.js';
import type { ModelFolder } from './modelFlags.js';
import { modelFolder, modelUnavailableLine, rememberModelDir } from './modelFlags.js';

/** The engine a command drives, with where its model comes from and how to report on it. */
export interface CliEngine {
  readonly engine: WorkspaceEngine;
  readonly settings: EngineSettings;
  readonly models: ModelFolder;
  /** Progress of every phase on stderr (one line per phase, redrawn on a terminal). */
  readonly onProgress: (p: EngineProgress) => void;
  /** Ends the current progress line. */
  readonly progressDone: () => void;
  /** Says on stderr, in one line, that the model could not be loaded. */
  readonly onEmbedderUnavailable: (why: { readonly message: string; readonly hint: string }) => void;
  /** Remembers an explicit model folder for later commands, once a model was loaded from it. */
  readonly modelLoaded: () => void;
}

const PHASES: Record<EngineProgress['phase'], string> = {
  scan: 'scan (files)',
  submit: 'read (files)',
  chunk: 'chunk (documents)',
  delete: 'delete (documents)',
  embed: 'embed (chunks)',
  index: 'index (documents)',
  compare: 'compare (questions)',
  wait: 'waiting for another process to finish its ingest',
};

/**
 * Opens the same engine the extension runs (`WorkspaceEngine`) for one command: the store with
 * the write lock (`create: false` for commands that need an existing store), the vector index,
 * and the embedding model from --model-dir, $RAG_LEDGER_MODEL_DIR or the folder the store
 * remembers. The pipeline is the store's default until the command sets it (`updateSettings`).
 */
export async function openCliEngine(args: ParsedArgs, io: Io, command: string, overrides: Partial<EngineSettings> = {}, options: { readonly create?: boolean } = {}): Promise<CliEngine> {
  const models = modelFolder(args);
  const timeout = intOption(args.values['embed-timeout'], 'embed-timeout', 1);
  const settings: EngineSettings = {
    storeDir: args.store,
    ...(args.team ? { team: { url: args.team } } : {}),
    workspaceRoot: resolve(io.cwd),
    pipeline: DEFAULT_PIPELINE,
    walk: { include: [], exclude: [], respectGitignore: true },
    documents: { maxBytes: DEFAULT_MAX_BYTES, allowSecrets: false },
    ...(models.modelDir !== null ? { modelDir: models.modelDir } : {}),
    ...(timeout !== undefined ? { embedBatchTimeoutMs: timeout * 1000 } : {}),
    ollama: {},
    actor: 'cli',
    owner: `the rag-ledger CLI (${command})`,
    ...overrides,
  };
  const engine = await WorkspaceEngine.open(settings, options);
  let phase: { readonly name: string; readonly reporter: ReturnType<typeof progressReporter> } | null = null;
  const progressDone = (): void => {
    phase?.reporter.done();
    phase = null;
  };
  return {
    engine,
    settings,
    models,
    onProgress: (p) => {
      if (p.phase === 'wait') {
        if (phase?.name !== 'wait') {
          progressDone();
          io.err(`rag-ledger ${command}: waiting for ${p.detail ?? 'another process'} to finish its ingest…\n`);
          phase = { name: 'wait', reporter: progressReporter(io, PHASES.wait) };
        }
        return;
      }
      if (phase?.name !== p.phase) {
        progressDone();
        phase = { name: p.phase, reporter: progressReporter(io, PHASES[p.phase]) };
      }
      phase.reporter.update(p.done, p.total);
    },
    progressDone,
    onEmbedderUnavailable: (why) => {
      progressDone();
      io.err(modelUnavailableLine(models, command, why));
    },
    modelLoaded: () => {
      if (models.explicit !== null) rememberModelDir(args.store, models.explicit);
    },
  };
}

/** An AbortSignal that Ctrl+C aborts while `fn` runs (the operation stops cleanly and exits 130). */
export async function onSigint<T>(fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const abort = (): void => controller.abort();
  process.once('SIGINT', abort);
  try {
    return await fn(controller.signal);
  } finally {
    process.removeListener('SIGINT', abort);
  }
}
