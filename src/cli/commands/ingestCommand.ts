import { resolve } from 'node:path';
import { FsWorkspaceSource } from '../../adapters/fs/fsWorkspaceSource.js';
import { openLedger } from '../../adapters/ledger.js';
import { sha256 } from '../../adapters/node/sha256.js';
import { openVectorIndex } from '../../adapters/ledger.js';
import type { EmbedReport } from '../../app/embedding/embedService.js';
import { EmbedService } from '../../app/embedding/embedService.js';
import { IngestService } from '../../app/ingest/ingestService.js';
import { PipelineService } from '../../app/pipelines/pipelineService.js';
import { IndexService } from '../../app/indexing/indexService.js';
import { EmbeddingModelUnavailableError } from '../../core/errors.js';
import { DEFAULT_MAX_BYTES } from '../../core/ingest/documentCheck.js';
import type { SecretPolicy } from '../../core/ingest/secretFindings.js';
import { SECRET_POLICIES } from '../../core/ingest/secretFindings.js';
import { SecretlintScanner } from '../../adapters/secretlint/secretlintScanner.js';
import type { PipelineConfig } from '../../core/pipeline/pipelineConfig.js';
import { DEFAULT_PIPELINE } from '../../core/pipeline/pipelineConfig.js';
import type { Command, Io, ParsedArgs } from '../cliSupport.js';
import { UsageError, progressReporter } from '../cliSupport.js';
import { build, describeBuild } from './pipelinesCommand.js';
import { EMBEDDING_FLAGS, activeConfig, loadEmbedder, pipelineConfigFromFlags } from '../modelFlags.js';

const list = (v: unknown): string[] => (Array.isArray(v) ? (v as string[]) : typeof v === 'string' ? [v] : []);

function positiveInt(name: string, raw: unknown, fallback: number): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 1) throw new UsageError(`--${name} must be a positive integer, got ${JSON.stringify(raw)}`);
  return n;
}

/** Embeds what the ingest chunked; without a loadable model, says so and leaves retrieval lexical. */
async function embedStep(args: ParsedArgs, io: Io, service: EmbedService, config: PipelineConfig, pipelineVersion: string): Promise<EmbedReport | { unavailable: true }> {
  const embedder = await loadEmbedder(args, io, 'ingest', config.embedder, { remember: true });
  if (embedder === null) return { unavailable: true };
  try {
    const progress = progressReporter(io, 'embed (chunks)');
    return await service
      .embedPending({ pipelineVersion, embedder, onProgress: (p) => progress.update(p.done, p.total) })
      .finally(() => progress.done())
      .catch((err: unknown) => {
        if (!(err instanceof EmbeddingModelUnavailableError)) throw err;
        io.err(`rag-ledger ingest: ${err.message.replace(/\.$/, '')}. ${err.hint}\n`);
        return { unavailable: true as const };
      });
  } finally {
    await embedder.close();
  }
}

export const ingestCommand: Command = {
  name: 'ingest',
  summary: 'ingest a folder: submit new and changed files, delete missing ones, chunk',
  usage: `rag-ledger ingest DIR [--include GLOB]... [--exclude GLOB]... [--max-file-size BYTES]
                      [--allow-secrets] [--secrets reject|redact] [--no-gitignore] [--embedding-model ID] [--model-dir DIR]
                      [--embedding-dims N] [--embedding-dtype q8|fp32|fp16] [--embed-timeout SECONDS]
                      [--no-embed] [--replace-all] [--json]

  Walks DIR honouring .gitignore (every level), .ragledgerignore and the default excludes
  (.git, node_modules, build outputs, the store). Unchanged files append nothing; changed files
  become a new document version; files gone from the walk are deleted. Binary files, files over
  the size limit (default ${DEFAULT_MAX_BYTES} bytes), invalid UTF-8 and secrets (.env*, keys,
  certificates, private-key blocks) are rejected with the reason. A file whose content holds a
  secret (API keys, tokens, passwords in URLs: secretlint's recommended rules) is rejected with
  the rule and the line, never the secret; with --secrets redact each secret is replaced by
  [REDACTED:rule] and the rest is ingested. Links are judged by their target's name too; links
  leading outside DIR, into a loop or nowhere are listed as rejected. Globs are gitignore-style.
  A folder that shares no file with the store's documents (another workspace, or an emptied
  folder) would delete them all: that is refused unless --replace-all.

  Chunks and vectors are made for the active pipeline version (the first ingest defines and
  activates it). Embedding flags that differ from it define another version and build it here,
  without activating it (see rag-ledger pipelines). The embedding model (default
  ${DEFAULT_PIPELINE.embedder.model}, ${DEFAULT_PIPELINE.embedder.dimensions} dimensions) is read from --model-dir or
  $RAG_LEDGER_MODEL_DIR when set (a folder holding <model id>/tokenizer.json, config.json,
  onnx/model*.onnx; the store remembers that folder for later commands), else downloaded once.
  Its vector size is read from its config.json (hidden_size, d_model, dim or n_embd, else
  1_Pooling/config.json) unless --embedding-dims N is given; a size the config.json contradicts,
  or an unknown one (another model, not downloaded yet, no --embedding-dims), stops ingest before
  anything is written, and so do vectors of another size. If the model cannot be loaded, ingest still completes,
  says why, and retrieval stays lexical until a later ingest embeds the chunks. A batch of chunks the
  model has not embedded within --embed-timeout seconds (default $RAG_LEDGER_EMBED_TIMEOUT, else 120)
  is recorded as failed and retried by the next ingest; the model is restarted for the next batch.`,
  options: {
    include: { type: 'string', multiple: true },
    exclude: { type: 'string', multiple: true },
    'max-file-size': { type: 'string' },
    'allow-secrets': { type: 'boolean' },
    secrets: { type: 'string' },
    'no-gitignore': { type: 'boolean' },
    ...EMBEDDING_FLAGS,
    'model-dir': { type: 'string' },
    'embed-timeout': { type: 'string' },
    'no-embed': { type: 'boolean' },
    'replace-all': { type: 'boolean' },
  },
  allowPositionals: 1,
  async run(args, io) {
    const dir = args.positionals[0];
    if (dir === undefined) throw new UsageError('ingest needs the folder to ingest');
    const maxBytes = positiveInt('max-file-size', args.values['max-file-size'], DEFAULT_MAX_BYTES);
    const secrets = args.values.secrets ?? 'reject';
    if (!SECRET_POLICIES.includes(secrets as SecretPolicy)) throw new UsageError(`--secrets must be reject or redact, got ${JSON.stringify(secrets)}`);
    const ledger = await openLedger(args.store, { mode: 'write', owner: 'the rag-ledger CLI (ingest)' });
    try {
      // The active version, or the embedding flags applied to it (a new version, built here).
      const config = pipelineConfigFromFlags(args, (await activeConfig(ledger)).config);
      const deps = { events: ledger.events, runner: ledger.runner, readModels: ledger.readModels, hasher: sha256, clock: () => new Date().toISOString(), actor: 'cli' };
      const pipelineVersion = await new PipelineService(deps).defineAndActivateIfNone(config, config.embedder.model);
      const service = new IngestService(deps);
      const source = new FsWorkspaceSource(resolve(dir), [resolve(args.store)]);
      const phases = new Map<string, ReturnType<typeof progressReporter>>();
      const report = await service.ingest(source, {
        walk: { include: list(args.values.include), exclude: list(args.values.exclude), respectGitignore: args.values['no-gitignore'] !== true },
        documents: { maxBytes, allowSecrets: args.values['allow-secrets'] === true, secrets: secrets as SecretPolicy },
        secretScanner: new SecretlintScanner(),
        chunker: config.chunker,
        pipelineVersion,
        replaceAll: args.values['replace-all'] === true,
        onProgress: (p) => {
          let reporter = phases.get(p.phase);
          if (!reporter) {
            for (const r of phases.values()) r.done();
            reporter = progressReporter(io, { scan: 'scan (files)', submit: 'read (files)', chunk: 'chunk (documents)', delete: 'delete (documents)' }[p.phase]);
            phases.set(p.phase, reporter);
          }
          reporter.update(p.done, p.total);
        },
      });
      for (const r of phases.values()) r.done();
      const embedded = args.values['no-embed'] === true ? null : await embedStep(args, io, new EmbedService(deps), config, pipelineVersion);
      const index = await openVectorIndex(args.store);
      let indexed;
      try {
        const indexer = new IndexService({ ...deps, index });
        indexed = await indexer.sync(pipelineVersion);
        // The active version's table must lose deleted, rejected and superseded documents too,
        // even when this ingest built another version (new documents reach it when an ingest
        // with its settings chunks and embeds them).
        const active = ledger.readModels.activePipeline();
        if (active !== undefined && active !== pipelineVersion) await indexer.sync(active);
      } finally {
        await index.close();
      }
      // Versions being built in the shadow follow the workspace too (from the log: chunk, embed, index).
      await ledger.runner.catchUp();
      const shadows = [];
      for (const shadow of ledger.readModels.shadowPipelines().filter((v) => v !== pipelineVersion)) shadows.push(await build(ledger, args, io, shadow));
      await ledger.runner.catchUp();
      await ledger.projections.flush();
      if (args.json) {
        io.out(`${JSON.stringify({ pipelineVersion, ...report, embedding: embedded, indexing: indexed, shadows })}\n`);
        return;
      }
      io.out(
        `scanned ${report.scanned} files: ${report.submitted} submitted, ${report.unchanged} unchanged, ${report.rejected.length} rejected, ${report.deleted} deleted; ` +
          `chunked ${report.chunked} documents into ${report.chunks} chunks\n`,
      );
      for (const r of report.rejected) io.out(`rejected ${r.path}: ${r.reason}: ${r.detail}\n`);
      for (const d of report.unreadable) io.err(`rag-ledger ingest: warning: cannot read the folder ${d || '.'} (permission denied): its documents are kept as they were; fix its permissions and ingest again\n`);
      if (embedded === null) io.out('embedding skipped (--no-embed)\n');
      else if ('unavailable' in embedded) io.out('embedding model unavailable: retrieval is lexical only until the chunks are embedded\n');
      else io.out(`embedded ${embedded.embedded} chunks (${embedded.copied} copied from identical text, ${embedded.reused} reused, ${embedded.failed} failed) for pipeline ${pipelineVersion}\n`);
      io.out(`indexed ${indexed.upserted} chunks of ${indexed.documents} documents\n`);
      for (const shadow of shadows) io.out(`shadow version: ${describeBuild(shadow)}`);
    } finally {
      await ledger.close();
    }
  },
};
