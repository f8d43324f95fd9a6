import * as vscode from 'vscode';

/**
 * Where RAG Ledger opens things so that the editor area does not keep splitting: the answer view
 * and the explorer stay in the group they were first opened in, and a source opened from one of
 * them goes to another existing group (the leftmost one), so the view that opened it stays visible.
 * Only when the view is the sole group is a group created beside it.
 */
export function columnBeside(avoid: vscode.ViewColumn | undefined): vscode.ViewColumn {
  return pickColumn(
    vscode.window.tabGroups.all.map((g) => g.viewColumn),
    avoid,
  );
}

/** The leftmost group that is not `avoid`, or Beside when there is none (pure, for tests). */
export function pickColumn(columns: readonly vscode.ViewColumn[], avoid: vscode.ViewColumn | undefined): vscode.ViewColumn {
  const other = [...columns].filter((c) => c !== avoid).sort((a, b) => a - b)[0];
  return other ?? vscode.ViewColumn.Beside;
}
