import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { DEFAULT_MAX_BYTES } from '../../core/ingest/documentCheck.js';
import type { SecretPolicy } from '../../core/ingest/secretFindings.js';
import { SECRET_POLICIES } from '../../core/ingest/secretFindings.js';
import { DEFAULT_PIPELINE } from '../../core/pipeline/pipelineConfig.js';
import type { Command } from '../cliSupport.js';
import { UsageError } from '../cliSupport.js';
import { onSigint, openCliEngine } from '../cliEngine.js';
import { describeBuild } from './pipelinesCommand.js';
import { EMBEDDING_FLAGS, activeConfig, pipelineConfigFromFlags } from '../modelFlags.js';

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
                      [--allow-secrets] [--secrets reject|redact] [--no-gitignore] [--embedding-model ID] [--model-dir DIR]
                      [--embedding-dims N] [--embedding-dtype q8|fp32|fp16] [--embed-timeout SECONDS]
                      [--no-embed] [--replace-all] [--workspace ROOT] [--json]

  Walks DIR honouring .gitignore (every level), .ragledgerignore and the default excludes
  (.git, node_modules, build outputs, the store). Unchanged files append nothing; changed files
  become a new document version; files gone from the walk are deleted. A DIR inside the folder the
  store was last ingested from whole is ingested as part of it: paths stay relative to that folder
  and documents outside DIR are left as they are. Binary files, files over
  the size limit (default ${DEFAULT_MAX_BYTES} bytes), invalid UTF-8 and secrets (.env*, keys,
  certificates, private-key blocks) are rejected with the reason. A file whose content holds a
  secret (API keys, tokens, passwords in URLs: secretlint's recommended rules) is rejected with
  the rule and the line, never the secret; with --secrets redact each secret is replaced by
  [REDACTED:rule] and the rest is ingested. Links are judged by their target's name too; links
  leading outside DIR, into a loop or nowhere are listed as rejected. Globs are gitignore-style.
  --workspace ROOT names the folder paths are relative to (DIR is then a part of it, and only
  DIR's documents are touched); on a team ledger (--store postgres://…) the default is the git
  repository DIR is in, so members with different checkout paths name documents alike.
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
    workspace: { type: 'string' },
  },
  allowPositionals: 1,
  async run(args, io) {
    const dir = args.positionals[0];
    if (dir === undefined) throw new UsageError('ingest needs the folder to ingest');
    const maxBytes = positiveInt('max-file-size', args.values['max-file-size'], DEFAULT_MAX_BYTES);
    const secrets = args.values.secrets ?? 'reject';
    if (!SECRET_POLICIES.includes(secrets as SecretPolicy)) throw new UsageError(`--secrets must be reject or redact, got ${JSON.stringify(secrets)}`);
    const folder = resolve(io.cwd, dir);
    // A folder inside the one this store was ingested from is ingested as part of that workspace: its
    // documents keep their paths, and nothing outside it is touched (two ingests of overlapping
    // folders then agree on every document).
    const workspace = args.values.workspace === undefined ? null : resolve(io.cwd, String(args.values.workspace));
    if (workspace !== null && workspace !== folder && !isInside(folder, workspace)) throw new UsageError(`${folder} is not inside --workspace ${workspace}`);
    // A member of a team ledger names documents by their path in the repository, wherever it is checked out.
    const recorded = workspace ?? rememberedWorkspace(args.store) ?? (args.team ? repositoryRoot(folder) : null);
    const root = recorded !== null && (recorded === folder || isInside(folder, recorded)) && existsSync(recorded) ? recorded : folder;
    const scope = root === folder ? undefined : [relative(root, folder).split(sep).join('/')];
    const why = workspace !== null ? '--workspace' : args.team && recorded !== null && rememberedWorkspace(args.store) === null ? 'its git repository' : 'the folder this store was ingested from';
    if (scope) io.err(`rag-ledger ingest: ${scope[0]}/ of ${root} (${why}); documents outside it are left as they are\n`);
    // The engine the extension runs, over this folder alone: the same ingest, embedding, indexing and shadow builds.
    const cli = await openCliEngine(args, io, 'ingest', {
      workspaceRoot: root,
      folders: [{ name: basename(root), path: root }],
      walk: { include: list(args.values.include), exclude: list(args.values.exclude), respectGitignore: args.values['no-gitignore'] !== true },
      documents: { maxBytes, allowSecrets: args.values['allow-secrets'] === true, secrets: secrets as SecretPolicy },
    });
    const { engine } = cli;
    try {
      // The active version, or the embedding flags applied to it (a new version, built here).
      engine.updateSettings({ ...cli.settings, pipeline: pipelineConfigFromFlags(args, (await activeConfig(engine.ledger)).config) });
      const noEmbed = args.values['no-embed'] === true;
      const r = await onSigint((signal) =>
        engine.ingest({ signal, replaceAll: args.values['replace-all'] === true, embed: !noEmbed, onProgress: cli.onProgress, onEmbedderUnavailable: cli.onEmbedderUnavailable, ...(scope ? { scope } : {}) }).finally(cli.progressDone),
      );
      if (!scope || workspace !== null) rememberWorkspace(args.store, root);
      if (r.embeddingUnavailable) cli.onEmbedderUnavailable(r.embeddingUnavailable);
      if (r.embedding !== null || r.shadows.some((s) => s.embedding !== null)) cli.modelLoaded();
      const { pipelineVersion, ingest: report, indexing: indexed, shadows } = r;
      const embedded = noEmbed ? null : (r.embedding ?? { unavailable: true as const });
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
      await engine.close();
    }
  },
};

/**
 * The folder this store's last whole ingest read (`<store>/workspace.json`; never in the log: a path
 * is local to one machine).
 */
const WORKSPACE_FILE = 'workspace.json';

function rememberedWorkspace(store: string): string | null {
  try {
    const root = (JSON.parse(readFileSync(join(store, WORKSPACE_FILE), 'utf8')) as { root?: unknown }).root;
    return typeof root === 'string' && isAbsolute(root) ? root : null;
  } catch {
    return null;
  }
}

function rememberWorkspace(store: string, root: string): void {
  try {
    if (rememberedWorkspace(store) !== root) writeFileSync(join(store, WORKSPACE_FILE), `${JSON.stringify({ root })}\n`);
  } catch {
    // A convenience: without it a sub-folder is ingested as a workspace of its own.
  }
}

/** The git repository `folder` is in (the nearest folder above it holding `.git`), or null. */
function repositoryRoot(folder: string): string | null {
  for (let dir = folder; ; dir = dirname(dir)) {
    if (existsSync(join(dir, '.git'))) return dir;
    if (dirname(dir) === dir) return null;
  }
}

/** Whether `path` is strictly inside the folder `root`. */
function isInside(path: string, root: string): boolean {
  const rel = relative(root, path);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel);
}
