import type { Dirent, Stats } from 'node:fs';
import { constants, promises as fs } from 'node:fs';
import { join, relative, sep } from 'node:path';
import type { Ignore } from 'ignore';
import ignore from 'ignore';
import type { ReadLimits, SourceFile, WalkRules, WorkspaceSource } from '../../app/ingest/workspaceSource.js';
import { SourceReadError } from '../../app/ingest/workspaceSource.js';
import { FolderNotFoundError } from '../../core/errors.js';
import { secretByName } from '../../core/ingest/documentCheck.js';

/** Never ingested, at any depth: version control, dependencies, build outputs, caches, RAG Ledger's own store. */
export const DEFAULT_EXCLUDES: readonly string[] = [
  '.git/', '.hg/', '.svn/', 'node_modules/', 'bower_components/', '.rag-ledger/', 'dist/', 'out/', 'build/', 'target/',
  '.next/', '.nuxt/', '.turbo/', '.cache/', 'coverage/', '.venv/', 'venv/', '__pycache__/', '.mypy_cache/', '.pytest_cache/',
  '.gradle/', '.idea/', '.vscode-test/', '*.vsix', '.DS_Store',
  // Audit trails exported by the extension: the log's own content, never a source.
  'rag-ledger-audit-*/',
];

export const IGNORE_FILES = ['.gitignore', '.ragledgerignore'] as const;

/** What the walker makes of a directory entry. */
type Kind = 'dir' | { readonly size: number } | { readonly skip: NonNullable<SourceFile['skip']> } | null;

interface Scope {
  /** Directory the rules are relative to ('' for the root), with a trailing slash otherwise. */
  readonly base: string;
  readonly rules: Ignore;
}

/**
 * Reads a workspace folder from disk. Ignore files apply at every level with git's semantics
 * (a deeper file can re-include with `!`); `.ragledgerignore` works like `.gitignore` but is
 * honoured even when `.gitignore` is not. Symbolic links are followed only when their target is
 * inside the workspace, each real directory once, so loops end; a link that is not followed is
 * listed with the reason (`skip`), and a link is judged by its target's name as well as its own.
 *
 * A read opens the file once without following a final link and without blocking, checks the
 * descriptor (a regular file, under the size limit, still inside the workspace, not a hard link
 * to a file that looks like a secret) and reads from that descriptor only: what is read is what
 * was checked, even when the file is swapped for a link or a FIFO after the walk.
 */
export class FsWorkspaceSource implements WorkspaceSource {
  private realRoot: string | undefined;
  /** Folders the last walk could not read (EACCES, EPERM): their documents are kept. */
  readonly unreadable: string[] = [];
  /** `dev:ino` of every file the walk saw whose name looks like a secret (ignored ones too) -> its path. */
  private readonly secretInodes = new Map<string, string>();

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
    this.secretInodes.clear();
    this.unreadable.length = 0;
    this.realRoot = await fs.realpath(this.root);
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
    } catch (err) {
      // A vanished folder has nothing to ingest; an unreadable one is reported and its documents kept.
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EACCES' || code === 'EPERM') this.unreadable.push(dir);
      return;
    }
    const here = await this.scopesFor(dir, entries, rules);
    const all = here ? [...scopes, here] : scopes;
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      const rel = dir ? `${dir}/${entry.name}` : entry.name;
      const kind = await this.kindOf(entry, join(abs, entry.name), visited);
      if (kind === null) continue;
      const candidate = kind === 'dir' ? `${rel}/` : rel;
      const ignored = hard.ignores(candidate) || isIgnored(all, candidate) || (kind !== 'dir' && 'skip' in kind && (hard.ignores(`${rel}/`) || isIgnored(all, `${rel}/`)));
      if (ignored) {
        if (kind !== 'dir' && secretByName(rel)) await this.rememberSecret(rel, join(abs, entry.name));
        continue;
      }
      if (kind === 'dir') {
        yield* this.walkDir(rel, all, hard, include, rules, visited, signal);
      } else if (!include || include.ignores(rel)) {
        yield 'skip' in kind ? { path: rel, size: 0, skip: kind.skip } : { path: rel, size: kind.size };
      }
    }
  }

  /** Notes the inode of a file whose name looks like a secret, so a hard link to it under another name is refused. */
  private async rememberSecret(rel: string, abs: string, stat?: Stats): Promise<void> {
    try {
      const st = stat ?? (await fs.lstat(abs));
      if (st.isFile()) this.secretInodes.set(`${st.dev}:${st.ino}`, rel);
    } catch {
      /* vanished */
    }
  }

  private async kindOf(entry: Dirent, abs: string, visited: ReadonlySet<string>): Promise<Kind> {
    try {
      if (entry.isDirectory()) return 'dir';
      if (entry.isFile()) {
        const st = await fs.stat(abs);
        if (secretByName(entry.name)) await this.rememberSecret(toPosix(relative(this.root, abs)), abs, st);
        return { size: st.size };
      }
      if (entry.isSymbolicLink()) {
        const target = await fs.readlink(abs).catch(() => '?');
        let real: string;
        try {
          real = await fs.realpath(abs);
        } catch (err) {
          const code = (err as NodeJS.ErrnoException).code;
          return { skip: { reason: 'link', detail: code === 'ELOOP' ? `the link (to ${target}) leads into a loop of links; it is not followed` : `the link's target (${target}) does not exist` } };
        }
        // Like git, never leave the workspace through a link: a link to ~/.aws or / is not content.
        this.realRoot ??= await fs.realpath(this.root);
        if (!isInside(this.realRoot, real)) return { skip: { reason: 'link', detail: `the link leads outside the workspace (to ${real}); links are followed only inside it` } };
        const st = await fs.stat(abs); // follows the link
        if (st.isDirectory()) {
          if (visited.has(real)) return { skip: { reason: 'link', detail: `the link leads to a folder already walked (${toPosix(relative(this.realRoot, real)) || '.'}): a loop or a second path to it; it is not followed` } };
          return 'dir';
        }
        if (st.isFile()) {
          // Judged by its target's name too: notes.txt -> .env is a secret.
          const named = secretByName(real);
          if (named && !secretByName(entry.name)) return { skip: { reason: 'secret', detail: `the link leads to ${named.replace(/ \(by its name\)$/, '')}; secrets are never ingested unless explicitly allowed` } };
          return { size: st.size };
        }
      }
    } catch {
      /* vanished or unreadable */
    }
    return null; // sockets, fifos, devices
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

  async read(path: string, limits: ReadLimits): Promise<Uint8Array> {
    const abs = join(this.root, ...path.split('/'));
    try {
      this.realRoot ??= await fs.realpath(this.root);
      const real = await fs.realpath(abs);
      if (!isInside(this.realRoot, real)) throw new SourceReadError(path, 'link', `it leads outside the workspace (to ${real}) now; links are followed only inside it`);
      const named = secretByName(real);
      if (named && !secretByName(path)) throw new SourceReadError(path, 'secret', `it leads to ${named.replace(/ \(by its name\)$/, '')}; secrets are never ingested unless explicitly allowed`);
      const handle = await fs.open(real, constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0) | (constants.O_NONBLOCK ?? 0));
      try {
        const st = await handle.stat();
        if (!st.isFile()) throw new SourceReadError(path, 'unreadable', `it is not a regular file now (${typeName(st)}); only regular files are read`);
        if (st.size > limits.maxBytes) throw new SourceReadError(path, 'too_large', `${st.size} bytes is over the limit of ${limits.maxBytes} bytes`, st.size);
        const where = await descriptorPath(handle.fd, real, st);
        if (where === null) throw new SourceReadError(path, 'vanished', 'the file was replaced while it was being read');
        if (!isInside(this.realRoot, where)) throw new SourceReadError(path, 'link', `it leads outside the workspace (to ${where}) now; links are followed only inside it`);
        const twin = st.nlink > 1 ? this.secretInodes.get(`${st.dev}:${st.ino}`) : undefined;
        if (twin !== undefined && twin !== path && !secretByName(path)) throw new SourceReadError(path, 'secret', `it is a hard link to "${twin}", which looks like a secret (by its name); secrets are never ingested unless explicitly allowed`, st.size);
        return await readBounded(handle, path, st.size, limits.maxBytes);
      } finally {
        await handle.close();
      }
    } catch (err) {
      if (err instanceof SourceReadError) throw err;
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') throw new SourceReadError(path, 'vanished', 'the file disappeared while it was being ingested');
      if (code === 'ELOOP') throw new SourceReadError(path, 'link', 'it was replaced by a link while being read; it is not followed');
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

function typeName(st: Stats): string {
  if (st.isFIFO()) return 'a FIFO';
  if (st.isSocket()) return 'a socket';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device';
  if (st.isDirectory()) return 'a folder';
  if (st.isSymbolicLink()) return 'a link';
  return 'not a file';
}

/**
 * Where an open descriptor really is: on Linux, what /proc says; elsewhere `expected` when the path
 * still names the same file (same device and inode), or null when it names another one now.
 */
async function descriptorPath(fd: number, expected: string, st: Stats): Promise<string | null> {
  if (process.platform === 'linux') {
    try {
      return await fs.readlink(`/proc/self/fd/${fd}`);
    } catch {
      /* no /proc: fall through */
    }
  }
  try {
    const now = await fs.stat(expected);
    return now.dev === st.dev && now.ino === st.ino ? expected : null;
  } catch {
    return null;
  }
}

/** Reads at most maxBytes + 1 bytes from the descriptor (a file can grow after its size was taken). */
async function readBounded(handle: fs.FileHandle, path: string, size: number, maxBytes: number): Promise<Uint8Array> {
  const cap = maxBytes + 1;
  let buf = Buffer.alloc(Math.min(cap, Math.max(size, 0) + 1));
  let length = 0;
  for (;;) {
    if (length === buf.length) {
      if (buf.length >= cap) break;
      const bigger = Buffer.alloc(Math.min(cap, buf.length * 2));
      buf.copy(bigger, 0, 0, length);
      buf = bigger;
    }
    const { bytesRead } = await handle.read(buf, length, buf.length - length, length);
    if (bytesRead === 0) break;
    length += bytesRead;
  }
  if (length > maxBytes) throw new SourceReadError(path, 'too_large', `the file grew over the limit of ${maxBytes} bytes while it was being read`, length);
  return buf.subarray(0, length);
}

const isInside = (root: string, path: string): boolean => {
  const rel = relative(root, path);
  return rel === '' || (!rel.startsWith('..') && !rel.startsWith(sep) && !/^[A-Za-z]:/.test(rel));
};
