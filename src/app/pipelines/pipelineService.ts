import { ValidationError } from '../../core/errors.js';
import type { JsonValue } from '../../core/events/eventCatalog.js';
import { checkChunkerConfig } from '../../core/chunking/chunker.js';
import type { PipelineConfig } from '../../core/pipeline/pipelineConfig.js';
import { pipelineVersionOf } from '../../core/pipeline/pipelineConfig.js';
import type { EngineDeps } from '../engineDeps.js';

export type PipelineDeps = EngineDeps;

export const pipelineStream = (version: string): string => `pipeline-${version}`;

/** Defines and activates pipeline versions. Defining the same configuration twice is a no-op. */
export class PipelineService {
  constructor(private readonly deps: PipelineDeps) {}

  /** Appends PipelineVersionDefined unless this configuration is already defined; returns its version. */
  async define(config: PipelineConfig, label: string): Promise<string> {
    const problems = checkChunkerConfig(config.chunker);
    if (!Number.isSafeInteger(config.embedder.dimensions) || config.embedder.dimensions < 1) problems.push(`embedder.dimensions must be a positive integer, got ${config.embedder.dimensions}`);
    if (problems.length > 0) throw new ValidationError('invalid pipeline configuration', problems, 'Fix the listed settings and define the pipeline again.');
    const version = pipelineVersionOf(config, this.deps.hasher);
    await this.deps.events.append(
      pipelineStream(version),
      [
        {
          type: 'PipelineVersionDefined',
          eventId: `define-${version}`,
          data: { pipeline_version: version, label, config: config as unknown as JsonValue, defined_at: this.deps.clock() },
          metadata: { actor: this.deps.actor },
        },
      ],
      { expectedVersion: 'any' },
    );
    return version;
  }

  /**
   * Makes a defined version the active one. A version that is not fully built (documents not
   * chunked, chunks not indexed) would answer from part of the workspace, so it is refused unless
   * `force` is set.
   */
  async activate(version: string, options: { readonly force?: boolean } = {}): Promise<void> {
    await this.deps.runner.catchUp();
    if (!this.deps.readModels.pipeline(version)) {
      throw new ValidationError(`pipeline version ${version} is not defined`, [], 'Run `rag-ledger pipelines` to list the defined versions.');
    }
    const progress = this.deps.readModels.pipelineProgress(version);
    if (!progress.complete && options.force !== true) {
      throw new ValidationError(
        `pipeline version ${version} is not fully built: ${progress.documents} of ${progress.liveDocuments} documents chunked, ${progress.indexed} of ${progress.chunks} chunks indexed`,
        [],
        `Build it first (rag-ledger pipelines build ${version}), or activate it anyway with --force.`,
      );
    }
    await this.deps.events.append(pipelineStream(version), [{ type: 'PipelineVersionActivated', data: { pipeline_version: version, activated_at: this.deps.clock() }, metadata: { actor: this.deps.actor } }], {
      expectedVersion: 'stream_exists',
    });
  }

  /** Defines the configuration and activates it when no version is active yet; returns its version. */
  async defineAndActivateIfNone(config: PipelineConfig, label: string): Promise<string> {
    const version = await this.define(config, label);
    await this.deps.runner.catchUp();
    if (this.deps.readModels.activePipeline() === undefined) await this.activate(version, { force: true });
    return version;
  }
}
