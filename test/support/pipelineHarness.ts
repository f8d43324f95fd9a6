import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { FsWorkspaceSource } from '../../src/adapters/fs/fsWorkspaceSource.js';
import { openVectorIndex } from '../../src/adapters/ledger.js';
import { sha256 } from '../../src/adapters/node/sha256.js';
import { TransformersEmbedder } from '../../src/adapters/transformers/transformersEmbedder.js';
import { EmbedService } from '../../src/app/embedding/embedService.js';
import { IndexService } from '../../src/app/indexing/indexService.js';
import { PipelineService } from '../../src/app/pipelines/pipelineService.js';
import { RetrievalService } from '../../src/app/retrieval/retrievalService.js';
import type { EngineSettings } from '../../src/adapters/engineSettings.js';
import { DEFAULT_MAX_BYTES } from '../../src/core/ingest/documentCheck.js';
import type { PipelineConfig } from '../../src/core/pipeline/pipelineConfig.js';
import { DEFAULT_PIPELINE } from '../../src/core/pipeline/pipelineConfig.js';
import { ingestOptions, openHarness, writeFiles } from './ingestHarness.js';
import { tempDir } from './tmp.js';
import { TINY_MODEL_DIMS, TINY_MODEL_ID, ensureTinyModel } from './tinyModel.js';

/** The default pipeline with the generated tiny embedding model. */
export const TINY_PIPELINE: PipelineConfig = { ...DEFAULT_PIPELINE, embedder: { ...DEFAULT_PIPELINE.embedder, model: TINY_MODEL_ID, dtype: 'fp32', dimensions: TINY_MODEL_DIMS } };

export const SAMPLE_FILES = {
  'guide/ownership.md': '# Ownership\n\nEach value in rust has an owner, and ownership moves.\n\n## Borrowing\n\nA reference borrows a value without taking ownership of it.\n',
  'guide/server.md': '# Web server\n\nA tcp listener accepts an http request and writes a response.\n',
  'guide/threads.md': '# Threads\n\nA thread runs code concurrently; a channel sends a message between threads.\n',
  'src/main.rs': 'fn main() {\n    println!("hello world");\n}\n',
};

/**
 * The whole engine on real components in temp folders: a sql.js ledger, LanceDB, the tiny
 * model through transformers.js, a workspace of SAMPLE_FILES, and the active tiny pipeline.
 */
export async function openPipelineHarness(t: TestContext, files: Record<string, string> = SAMPLE_FILES) {
  const workspace = tempDir(t);
  writeFiles(workspace, files);
  const h = await openHarness(t);
  const index = await openVectorIndex(h.storeDir);
  t.after(() => index.close());
  const deps = { events: h.ledger.events, runner: h.ledger.runner, readModels: h.ledger.readModels, hasher: sha256, clock: () => new Date().toISOString(), actor: 'test' };
  const embedder = await TransformersEmbedder.load({ model: TINY_MODEL_ID, modelDir: ensureTinyModel(join(tempDir(t), 'models')), dtype: 'fp32' });
  t.after(() => embedder.close());
  const pv = await new PipelineService(deps).defineAndActivateIfNone(TINY_PIPELINE, 'tiny');
  const indexer = new IndexService({ ...deps, index });
  const embed = new EmbedService(deps);
  const source = new FsWorkspaceSource(workspace);
  /** ingest + embed (unless lexical) + index, as the CLI does. */
  const run = async (withEmbedder = true) => {
    await h.service.ingest(source, ingestOptions({ pipelineVersion: pv }));
    if (withEmbedder) await embed.embedPending({ pipelineVersion: pv, embedder });
    return indexer.sync(pv);
  };
  return { h, deps, index, embedder, pv, indexer, run, workspace, retrieval: new RetrievalService(index) };
}

/** WorkspaceEngine settings over a temp workspace holding `files`, with the tiny model and pipeline, then `overrides`. */
export function engineTestSettings(t: TestContext, overrides: Partial<EngineSettings> = {}, files: Record<string, string> = SAMPLE_FILES): EngineSettings {
  const workspace = tempDir(t);
  writeFiles(workspace, files);
  return {
    storeDir: join(tempDir(t), 'store'),
    workspaceRoot: workspace,
    pipeline: TINY_PIPELINE,
    walk: { include: [], exclude: [], respectGitignore: true },
    documents: { maxBytes: DEFAULT_MAX_BYTES, allowSecrets: false },
    modelDir: ensureTinyModel(join(tempDir(t), 'models')),
    ollama: {},
    actor: 'test',
    owner: 'a test window',
    ...overrides,
  };
}
