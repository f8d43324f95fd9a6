/** A file the walker found: a workspace-relative path with forward slashes, and its size. */
export interface SourceFile {
  readonly path: string;
  readonly size: number;
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

/** Why a file could not be read. */
export class SourceReadError extends Error {
  constructor(
    readonly path: string,
    readonly kind: 'vanished' | 'unreadable',
    detail: string,
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

/** The port the ingest service reads a workspace through. */
export interface WorkspaceSource {
  /** Where the workspace is (for messages). */
  readonly root: string;
  /** Every file to consider, in a stable order, honouring the ignore rules; symlink loops are skipped. */
  walk(rules: WalkRules, signal?: AbortSignal): AsyncIterable<SourceFile>;
  /** The file's bytes; throws SourceReadError when it vanished or cannot be read. */
  read(path: string): Promise<Uint8Array>;
  /** Whether the path still exists (to tell a deleted file from an ignored one). */
  exists(path: string): Promise<boolean>;
  /**
   * Why a document the walk did not return is gone, when the source knows better than `exists`
   * (its workspace folder was removed; the workspace's folders changed and the file now has
   * another path); undefined to decide by `exists`.
   */
  whyGone?(path: string): Promise<WhyGone | undefined>;
}
