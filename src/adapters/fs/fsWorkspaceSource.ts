import type { Dirent } from 'node:fs';
import { promises as fs } from 'node:fs';
import { join, relative, sep } from 'node:path';
import type { Ignore } from 'ignore';
import ignore from 'ignore';
import type { SourceFile, WalkRules, WorkspaceSource } from '../../app/ingest/workspaceSource.js';
import { SourceReadError } from '../../app/ingest/workspaceSource.js';
import { FolderNotFoundError } from '../../core/errors.js';

/** Never ingested, at any depth: version control, dependencies, build outputs, caches, RAG Ledger's own store. */
export const DEFAULT_EXCLUDES: readonly string[] = [
  '.git/', '.hg/', '.svn/', 'node_modules/', 'bower_components/', '.rag-ledger/', 'dist/', 'out/', 'build/', 'target/',
  '.next/', '.nuxt/', '.turbo/', '.cache/', 'coverage/', '.venv/', 'venv/', '__pycache__/', '.mypy_cache/', '.pytest_cache/',
  '.gradle/', '.idea/', '.vscode-test/', '*.vsix', '.DS_Store',
  // Audit trails exported by the extension: the log's own content, never a source.
  'rag-ledger-audit-*/',
];

export const IGNORE_FILES = ['.gitignore', '.ragledgerignore'] as const;

interface Scope {
  /** Directory the rules are relative to ('' for the root), with a trailing slash otherwise. */
  readonly base: string;
  readonly rules: Ignore;
}

/**
 * Reads a workspace folder from disk. Ignore files apply at every level with git's semantics
 * (a deeper file can re-include with `!`); `.ragledgerignore` works like `.gitignore` but is
 * honoured even when `.gitignore` is not. Symbolic links are followed only when their target is
 * inside the workspace, each real directory once, so loops end.
 */
export class FsWorkspaceSource implements WorkspaceSource {
  private realRoot: string | undefined;

  constructor(
    readonly root: string,
    /** Absolute paths never to descend into (e.g. the store when it lives in the workspace). */
    private readonly skip: readonly string[] = [],
  ) {}

  async *walk(rules: WalkRules, signal?: AbortSignal): AsyncIterable<SourceFile> {
    let rootStat;
    try {
      rootStat = await fs.stat(this.root);
    } catch (err) {
      throw new FolderNotFoundError(this.root, `it does not exist or cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    }
    if (!rootStat.isDirectory()) throw new FolderNotFoundError(this.root, 'it is a file, not a folder');
    // Default excludes, configured excludes and skipped paths are absolute: no ignore file can re-include them.
    const hard = ignore().add([...DEFAULT_EXCLUDES, ...rules.exclude]);
    for (const abs of this.skip) {
      const rel = relative(this.root, abs);
      if (rel && !rel.startsWith('..') && !rel.startsWith(sep)) hard.add(`/${toPosix(rel)}/`);
    }
    const include = rules.include.length > 0 ? ignore().add([...rules.include]) : null;
    const visited = new Set<string>();
    yield* this.walkDir('', [], hard, include, rules, visited, signal);
  }

  private async *walkDir(
    dir: string,
    scopes: readonly Scope[],
    hard: Ignore,
    include: Ignore | null,
    rules: WalkRules,
    visited: Set<string>,
    signal?: AbortSignal,
  ): AsyncIterable<SourceFile> {
    if (signal?.aborted) return;
    const abs = join(this.root, dir);
    let real: string;
    let entries: Dirent[];
    try {
      real = await fs.realpath(abs);
      if (visited.has(real)) return;
      visited.add(real);
      entries = await fs.readdir(abs, { withFileTypes: true });
    } catch {
      return; // vanished or unreadable directory: nothing to ingest from it
    }
    const here = await this.scopesFor(dir, entries, rules);
    const all = here ? [...scopes, here] : scopes;
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      const rel = dir ? `${dir}/${entry.name}` : entry.name;
      const kind = await this.kindOf(entry, join(abs, entry.name));
      if (kind === null) continue;
      const candidate = kind === 'dir' ? `${rel}/` : rel;
      if (hard.ignores(candidate) || isIgnored(all, candidate)) continue;
      if (kind === 'dir') {
        yield* this.walkDir(rel, all, hard, include, rules, visited, signal);
      } else if (!include || include.ignores(rel)) {
        yield { path: rel, size: kind.size };
      }
    }
  }

  private async kindOf(entry: Dirent, abs: string): Promise<'dir' | { size: number } | null> {
    try {
      if (entry.isDirectory()) return 'dir';
      if (entry.isFile()) return { size: (await fs.stat(abs)).size };
      if (entry.isSymbolicLink()) {
        // Like git, never leave the workspace through a link: a link to ~/.aws or / is not content.
        this.realRoot ??= await fs.realpath(this.root);
        if (!isInside(this.realRoot, await fs.realpath(abs))) return null;
        const target = await fs.stat(abs); // follows the link; a dangling link throws
        if (target.isDirectory()) return 'dir';
        if (target.isFile()) return { size: target.size };
      }
    } catch {
      /* vanished, dangling or unreadable */
    }
    return null; // sockets, fifos, devices, dangling links
  }

  private async scopesFor(dir: string, entries: readonly Dirent[], rules: WalkRules): Promise<Scope | null> {
    const names = IGNORE_FILES.filter((n) => (n !== '.gitignore' || rules.respectGitignore) && entries.some((e) => e.name === n));
    if (names.length === 0) return null;
    const matcher = ignore();
    for (const name of names) {
      try {
        matcher.add(await fs.readFile(join(this.root, dir, name), 'utf8'));
      } catch {
        /* unreadable ignore file: nothing to add */
      }
    }
    return { base: dir ? `${dir}/` : '', rules: matcher };
  }

  async read(path: string): Promise<Uint8Array> {
    try {
      return await fs.readFile(join(this.root, ...path.split('/')));
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') throw new SourceReadError(path, 'vanished', 'the file disappeared while it was being ingested');
      throw new SourceReadError(path, 'unreadable', `the file cannot be read (${code ?? (err as Error).message}); check its permissions`);
    }
  }

  async exists(path: string): Promise<boolean> {
    try {
      await fs.lstat(join(this.root, ...path.split('/')));
      return true;
    } catch {
      return false;
    }
  }
}

/** git's rule: the deepest scope with an opinion wins, and a directory once ignored stays ignored. */
function isIgnored(scopes: readonly Scope[], rel: string): boolean {
  let ignored = false;
  for (const scope of scopes) {
    if (!rel.startsWith(scope.base)) continue;
    const r = scope.rules.test(rel.slice(scope.base.length));
    if (r.ignored) ignored = true;
    else if (r.unignored) ignored = false;
  }
  return ignored;
}

const toPosix = (p: string): string => p.split(sep).join('/');

const isInside = (root: string, path: string): boolean => {
  const rel = relative(root, path);
  return rel === '' || (!rel.startsWith('..') && !rel.startsWith(sep) && !/^[A-Za-z]:/.test(rel));
};
