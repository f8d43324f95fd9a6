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
}
