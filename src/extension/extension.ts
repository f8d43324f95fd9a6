import * as vscode from 'vscode';

/** Activates RAG Ledger. The commands, views and services are wired here as they arrive. */
export function activate(context: vscode.ExtensionContext): void {
  const log = vscode.window.createOutputChannel('RAG Ledger', { log: true });
  context.subscriptions.push(log);
  log.info(`RAG Ledger ${(context.extension.packageJSON as { version?: string }).version ?? 'dev'} activated`);
}

export function deactivate(): void {
  // Everything registered is disposed through context.subscriptions.
}
