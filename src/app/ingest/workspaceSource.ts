/** A file the walker found: a workspace-relative path with forward slashes, and its size. */
export interface SourceFile {
  readonly path: string;
  readonly size: number;
  /**
   * Set when the walker will not read the entry and says why: a symbolic link that leads outside
   * the workspace, into a loop or nowhere (`link`), or to a file that looks like a secret by its
   * name (`secret`). It is recorded as rejected rather than silently left out.
   */
  readonly skip?: { readonly reason: 'link' | 'secret'; readonly detail: string };
}

/** What the walker honours besides `.gitignore` and `.ragledgerignore` files. */
export interface WalkRules {
  /** gitignore-style patterns; when non-empty, only matching files are ingested. */
  readonly include: readonly string[];
  /** gitignore-style patterns that are never ingested (on top of the default excludes). */
  readonly exclude: readonly string[];
  /** Honour `.gitignore` files at every level (default true). */
  readonly respectGitignore: boolean;
}

/** Why a file could not be read (or was not, because what is there now is not what was listed). */
export class SourceReadError extends Error {
  constructor(
    readonly path: string,
    readonly kind: 'vanished' | 'unreadable' | 'too_large' | 'secret' | 'link',
    detail: string,
    /** The file's size when it is known. */
    readonly size: number | null = null,
  ) {
    super(`${path}: ${detail}`);
    this.name = 'SourceReadError';
  }
}

/** Why a known document is missing from the walk, when the source can tell (see `WorkspaceSource.whyGone`). */
export interface WhyGone {
  /** Recorded as the DocumentDeleted event's reason. */
  readonly reason: string;
  /** The path the same file has now, when the workspace's layout changed (it is ingested there). */
  readonly movedTo?: string;
}

/** Bounds on one read. */
export interface ReadLimits {
  /** A file larger than this is not read (SourceReadError `too_large`). */
  readonly maxBytes: number;
}

/** The port the ingest service reads a workspace through. */
export interface WorkspaceSource {
  /** Where the workspace is (for messages). */
  readonly root: string;
  /** Folders (workspace-relative, '' for the root) the last walk could not read (permissions). */
  readonly unreadable?: readonly string[];
  /** Every file to consider, in a stable order, honouring the ignore rules; symlink loops are skipped. */
  walk(rules: WalkRules, signal?: AbortSignal): AsyncIterable<SourceFile>;
  /**
   * The file's bytes; throws SourceReadError when it vanished, cannot be read, is over the limit,
   * or is no longer the regular file inside the workspace the walk listed (swapped for a link or a FIFO).
   */
  read(path: string, limits: ReadLimits): Promise<Uint8Array>;
  /** Whether the path still exists (to tell a deleted file from an ignored one). */
  exists(path: string): Promise<boolean>;
  /**
   * Why a document the walk did not return is gone, when the source knows better than `exists`
   * (its workspace folder was removed; the workspace's folders changed and the file now has
   * another path); undefined to decide by `exists`.
   */
  whyGone?(path: string): Promise<WhyGone | undefined>;
}
