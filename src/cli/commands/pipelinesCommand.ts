import { openLedger, openVectorIndex } from '../../adapters/ledger.js';
import type { Ledger } from '../../adapters/ledger.js';
import { sha256 } from '../../adapters/node/sha256.js';
import type { BuildReport } from '../../app/pipelines/buildService.js';
import { PipelineBuildService } from '../../app/pipelines/buildService.js';
import { PipelineService } from '../../app/pipelines/pipelineService.js';
import type { EngineDeps } from '../../app/engineDeps.js';
import type { PipelineConfig } from '../../core/pipeline/pipelineConfig.js';
import type { Command, Io, ParsedArgs } from '../cliSupport.js';
import { CheckFailed, UsageError, progressReporter } from '../cliSupport.js';
import { PIPELINE_FLAGS, PIPELINE_FLAGS_HELP, activeConfig, loadEmbedder, pipelineConfigFromFlags } from '../modelFlags.js';

const ACTIONS = ['define', 'build', 'activate'] as const;

function engineDeps(ledger: Ledger): EngineDeps {
  return { events: ledger.events, runner: ledger.runner, readModels: ledger.readModels, hasher: sha256, clock: () => new Date().toISOString(), actor: 'cli' };
}

/** Builds a version from the log (chunk, embed, index), with progress and rate on stderr; Ctrl+C stops it cleanly. */
export async function build(ledger: Ledger, args: ParsedArgs, io: Io, version: string): Promise<BuildReport> {
  const record = ledger.readModels.pipeline(version);
  if (!record) throw new CheckFailed(`pipeline version ${version} is not defined; run rag-ledger pipelines to list them`);
  const config = record.config as unknown as PipelineConfig;
  const embedder = await loadEmbedder(args, io, 'pipelines build', config.embedder, { remember: true });
  const index = await openVectorIndex(args.store);
  const controller = new AbortController();
  const onSigint = (): void => controller.abort();
  process.once('SIGINT', onSigint);
  const phases = new Map<string, ReturnType<typeof progressReporter>>();
  try {
    return await new PipelineBuildService({ ...engineDeps(ledger), index }).build(version, {
      embedder,
      signal: controller.signal,
      onProgress: (p) => {
        let reporter = phases.get(p.phase);
        if (!reporter) {
          for (const r of phases.values()) r.done();
          reporter = progressReporter(io, { chunk: 'chunk (documents)', embed: 'embed (chunks)', index: 'index (documents)' }[p.phase]);
          phases.set(p.phase, reporter);
        }
        reporter.update(p.done, p.total);
      },
    });
  } finally {
    for (const r of phases.values()) r.done();
    process.removeListener('SIGINT', onSigint);
    await embedder?.close();
    await index.close();
  }
}

export function describeBuild(r: BuildReport): string {
  const embedding =
    r.embedding === null
      ? 'embedding model unavailable: the table is lexical only until it is built again'
      : `embedded ${r.embedding.embedded} chunks${r.embedding.failed > 0 ? ` (${r.embedding.failed} failed)` : ''}, ${r.totals.withVectors - r.embedding.embedded} reused stored vectors`;
  return `built ${r.pipelineVersion}: chunked ${r.chunked.documents} documents into ${r.chunked.chunks} chunks from the log; ${embedding}; indexed ${r.indexing.upserted} chunks of ${r.indexing.documents} documents; the version has ${r.totals.chunks} chunks, ${r.totals.withVectors} with vectors, ${r.totals.indexed} indexed\n`;
}

export const pipelinesCommand: Command = {
  name: 'pipelines',
  summary: 'list, define, build (in the shadow of the active one) and activate pipeline versions',
  usage: `rag-ledger pipelines [--json]
rag-ledger pipelines define [--label TEXT] [--from VERSION] [settings…] [--build] [--activate]
rag-ledger pipelines build VERSION [--model-dir DIR]
rag-ledger pipelines activate VERSION [--force]

  A pipeline version is a fingerprint of everything that changes results: chunking, embedding
  model, retrieval, prompt template and generator model. The list shows each version with its
  label, whether it is active, and how many documents and chunks it has chunked, embedded and
  indexed.

  define: a new version from --from (default: the active version) with the given settings
  changed. Defining the same settings twice gives the same version. --build builds it at once.
${PIPELINE_FLAGS_HELP}

  build: builds a version in the shadow of the active one, from the log alone: the documents'
  submitted content is re-chunked (no file is read), chunks are embedded unless a vector for the
  same text and embedder is already stored, and the version's own table is indexed. Questions
  keep using the active version meanwhile. Interrupted builds resume where they stopped.

  activate: makes a fully built version the one questions use (--force: even if it is not).`,
  options: { ...PIPELINE_FLAGS, label: { type: 'string' }, from: { type: 'string' }, build: { type: 'boolean' }, activate: { type: 'boolean' }, force: { type: 'boolean' }, 'model-dir': { type: 'string' } },
  allowPositionals: 2,
  async run(args, io) {
    const [action, version] = args.positionals;
    if (action !== undefined && !(ACTIONS as readonly string[]).includes(action)) throw new UsageError(`unknown action ${JSON.stringify(action)}; the actions are ${ACTIONS.join(', ')}`);
    if ((action === 'activate' || action === 'build') && version === undefined) throw new UsageError(`pipelines ${action} needs the VERSION`);
    if (action === 'define' && version !== undefined) throw new UsageError('pipelines define takes settings as flags, not a version');
    const ledger = await openLedger(args.store, action ? { mode: 'write', create: false, owner: `the rag-ledger CLI (pipelines ${action})` } : { mode: 'read' });
    try {
      await ledger.runner.catchUp();
      const service = new PipelineService(engineDeps(ledger));
      if (action === 'define') {
        const fromVersion = args.values.from as string | undefined;
        const base = fromVersion === undefined ? (await activeConfig(ledger)).config : ledger.readModels.pipeline(fromVersion)?.config;
        if (base === undefined) throw new CheckFailed(`pipeline version ${fromVersion!} is not defined; run rag-ledger pipelines to list them`);
        const config = pipelineConfigFromFlags(args, base as unknown as PipelineConfig);
        const defined = await service.define(config, (args.values.label as string | undefined) ?? 'defined from the command line');
        await ledger.runner.catchUp();
        const report = args.values.build === true || args.values.activate === true ? await build(ledger, args, io, defined) : null;
        if (args.values.activate === true) await service.activate(defined, { force: args.values.force === true });
        if (args.json) io.out(`${JSON.stringify({ pipelineVersion: defined, config, build: report, activated: args.values.activate === true })}\n`);
        else {
          io.out(`defined ${defined}\n`);
          if (report) io.out(describeBuild(report));
          if (args.values.activate === true) io.out(`activated ${defined}\n`);
          else if (!report) io.out(`build it with: rag-ledger pipelines build ${defined}\n`);
        }
        await ledger.projections.flush();
        return;
      }
      if (action === 'build') {
        const report = await build(ledger, args, io, version!);
        await ledger.projections.flush();
        io.out(args.json ? `${JSON.stringify(report)}\n` : describeBuild(report));
        return;
      }
      if (action === 'activate') {
        await service.activate(version!, { force: args.values.force === true });
        io.out(`activated ${version!}\n`);
        return;
      }
      const active = ledger.readModels.activePipeline();
      const rows = ledger.readModels.pipelines().map((p) => ({ ...p, active: p.pipeline_version === active, ...ledger.readModels.pipelineProgress(p.pipeline_version) }));
      if (args.json) {
        for (const r of rows) io.out(`${JSON.stringify(r)}\n`);
        return;
      }
      if (rows.length === 0) io.out('no pipeline versions yet; run rag-ledger ingest DIR\n');
      for (const r of rows) {
        io.out(
          `${r.active ? '*' : ' '} ${r.pipeline_version}  ${r.label}  chunked ${r.documents}/${r.liveDocuments} documents, ${r.chunks} chunks, embedded ${r.embedded}, indexed ${r.indexed}${r.complete ? '' : ' (not fully built)'}  (defined ${r.defined_at})\n`,
        );
      }
    } finally {
      await ledger.close();
    }
  },
};
