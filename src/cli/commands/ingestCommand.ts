import { resolve } from 'node:path';
import { FsWorkspaceSource } from '../../adapters/fs/fsWorkspaceSource.js';
import { openLedger } from '../../adapters/ledger.js';
import { sha256 } from '../../adapters/node/sha256.js';
import { IngestService } from '../../app/ingest/ingestService.js';
import { checkChunkerConfig } from '../../core/chunking/chunker.js';
import { DEFAULT_MAX_BYTES } from '../../core/ingest/documentCheck.js';
import { DEFAULT_PIPELINE, pipelineVersionOf } from '../../core/pipeline/pipelineConfig.js';
import type { Command } from '../cliSupport.js';
import { UsageError } from '../cliSupport.js';

const list = (v: unknown): string[] => (Array.isArray(v) ? (v as string[]) : typeof v === 'string' ? [v] : []);

function positiveInt(name: string, raw: unknown, fallback: number): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 1) throw new UsageError(`--${name} must be a positive integer, got ${JSON.stringify(raw)}`);
  return n;
}

export const ingestCommand: Command = {
  name: 'ingest',
  summary: 'ingest a folder: submit new and changed files, delete missing ones, chunk',
  usage: `rag-ledger ingest DIR [--include GLOB]... [--exclude GLOB]... [--max-file-size BYTES]
                      [--allow-secrets] [--no-gitignore] [--json]

  Walks DIR honouring .gitignore (every level), .ragledgerignore and the default excludes
  (.git, node_modules, build outputs, the store). Unchanged files append nothing; changed files
  become a new document version; files gone from the walk are deleted. Binary files, files over
  the size limit (default ${DEFAULT_MAX_BYTES} bytes), invalid UTF-8 and secrets (.env*, keys,
  certificates, private-key blocks) are rejected with the reason. Globs are gitignore-style.`,
  options: {
    include: { type: 'string', multiple: true },
    exclude: { type: 'string', multiple: true },
    'max-file-size': { type: 'string' },
    'allow-secrets': { type: 'boolean' },
    'no-gitignore': { type: 'boolean' },
  },
  allowPositionals: 1,
  async run(args, io) {
    const dir = args.positionals[0];
    if (dir === undefined) throw new UsageError('ingest needs the folder to ingest');
    const maxBytes = positiveInt('max-file-size', args.values['max-file-size'], DEFAULT_MAX_BYTES);
    const problems = checkChunkerConfig(DEFAULT_PIPELINE.chunker);
    if (problems.length > 0) throw new UsageError(problems.join('; '));
    const ledger = await openLedger(args.store, { mode: 'write', owner: 'the rag-ledger CLI (ingest)' });
    try {
      const service = new IngestService({ events: ledger.events, runner: ledger.runner, readModels: ledger.readModels, hasher: sha256, clock: () => new Date().toISOString(), actor: 'cli' });
      const source = new FsWorkspaceSource(resolve(dir), [resolve(args.store)]);
      let lastShown = 0;
      const report = await service.ingest(source, {
        walk: { include: list(args.values.include), exclude: list(args.values.exclude), respectGitignore: args.values['no-gitignore'] !== true },
        documents: { maxBytes, allowSecrets: args.values['allow-secrets'] === true },
        chunker: DEFAULT_PIPELINE.chunker,
        pipelineVersion: pipelineVersionOf(DEFAULT_PIPELINE, sha256),
        onProgress: (p) => {
          const now = Date.now();
          if (now - lastShown < 250) return;
          lastShown = now;
          io.err(`${p.phase}: ${p.done}${p.total ? `/${p.total}` : ''} ${p.path ?? ''}\n`);
        },
      });
      await ledger.projections.flush();
      if (args.json) {
        io.out(`${JSON.stringify(report)}\n`);
        return;
      }
      io.out(
        `scanned ${report.scanned} files: ${report.submitted} submitted, ${report.unchanged} unchanged, ${report.rejected.length} rejected, ${report.deleted} deleted; ` +
          `chunked ${report.chunked} documents into ${report.chunks} chunks\n`,
      );
      for (const r of report.rejected) io.out(`rejected ${r.path}: ${r.reason}: ${r.detail}\n`);
    } finally {
      await ledger.close();
    }
  },
};
