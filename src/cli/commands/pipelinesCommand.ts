import { openLedger } from '../../adapters/ledger.js';
import type { BuildReport } from '../../app/pipelines/buildService.js';
import type { PipelineConfig } from '../../core/pipeline/pipelineConfig.js';
import type { Command } from '../cliSupport.js';
import { CheckFailed, UsageError, teamOptions } from '../cliSupport.js';
import type { CliEngine } from '../cliEngine.js';
import { onSigint, openCliEngine } from '../cliEngine.js';
import { PIPELINE_FLAGS, PIPELINE_FLAGS_HELP, activeConfig, pipelineConfigFromFlags } from '../modelFlags.js';

const ACTIONS = ['define', 'build', 'activate'] as const;

/** Builds a version from the log (chunk, embed, index) through the engine, with progress and rate on stderr; Ctrl+C stops it cleanly. */
async function build(cli: CliEngine, version: string): Promise<BuildReport> {
  if (!cli.engine.ledger.readModels.pipeline(version)) throw new CheckFailed(`pipeline version ${version} is not defined; run rag-ledger pipelines to list them`);
  const report = await onSigint((signal) => cli.engine.build(version, { signal, onProgress: cli.onProgress, onEmbedderUnavailable: cli.onEmbedderUnavailable }).finally(cli.progressDone));
  if (report.embedding !== null) cli.modelLoaded();
  return report;
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
    if (action !== undefined) {
      // Writes go through the engine the extension runs.
      const cli = await openCliEngine(args, io, `pipelines ${action}`, {}, { create: false });
      const { engine } = cli;
      try {
        await engine.ledger.runner.catchUp();
        if (action === 'define') {
          const fromVersion = args.values.from as string | undefined;
          const base = fromVersion === undefined ? (await activeConfig(engine.ledger)).config : engine.ledger.readModels.pipeline(fromVersion)?.config;
          if (base === undefined) throw new CheckFailed(`pipeline version ${fromVersion!} is not defined; run rag-ledger pipelines to list them`);
          const config = pipelineConfigFromFlags(args, base as unknown as PipelineConfig);
          engine.updateSettings({ ...cli.settings, pipeline: config });
          const defined = await engine.defineConfigured((args.values.label as string | undefined) ?? 'defined from the command line');
          const report = args.values.build === true || args.values.activate === true ? await build(cli, defined) : null;
          if (args.values.activate === true) await engine.activate(defined, { force: args.values.force === true });
          if (args.json) io.out(`${JSON.stringify({ pipelineVersion: defined, config, build: report, activated: args.values.activate === true })}\n`);
          else {
            io.out(`defined ${defined}\n`);
            if (report) io.out(describeBuild(report));
            if (args.values.activate === true) io.out(`activated ${defined}\n`);
            else if (!report) io.out(`build it with: rag-ledger pipelines build ${defined}\n`);
          }
          return;
        }
        if (action === 'build') {
          const report = await build(cli, version!);
          io.out(args.json ? `${JSON.stringify(report)}\n` : describeBuild(report));
          return;
        }
        await engine.activate(version!, { force: args.values.force === true });
        io.out(`activated ${version!}\n`);
        return;
      } finally {
        await engine.close();
      }
    }
    const ledger = await openLedger(args.store, { mode: 'read', ...teamOptions(args) });
    try {
      await ledger.runner.catchUp();
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
