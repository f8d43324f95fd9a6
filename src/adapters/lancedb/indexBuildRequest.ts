/**
 * One LanceDB index build, as the build process (lanceBuildChild.ts) receives it: the table to open
 * and what to build on it.
 */
export type IndexBuildOp =
  | { readonly kind: 'fts'; readonly column: string; readonly options: Record<string, string | number | boolean>; readonly name?: string }
  /** The IVF-RQ index over `vector` once the table holds `threshold` vectors, retrained as it grows (see indexBuildOps.ts). */
  | { readonly kind: 'ann'; readonly threshold: number }
  | { readonly kind: 'optimize' };

export interface IndexBuildRequest {
  readonly dir: string;
  readonly table: string;
  readonly op: IndexBuildOp;
}

export type IndexBuildReply = { readonly ok: true } | { readonly ok: false; readonly message: string };

/** TEST HOOK ONLY: RAG_LEDGER_TEST_INDEX_STALL=1 makes every index build stall forever (as the full-text build did on 2-core machines). */
export const stallRequested = (): boolean => process.env.RAG_LEDGER_TEST_INDEX_STALL === '1';
