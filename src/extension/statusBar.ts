import * as vscode from 'vscode';
import type { EngineHost } from './engineHost.js';

/** The status-bar item: indexing x/y while work runs, else ready with the document count, or errors. */
export class StatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('ragLedger.status', vscode.StatusBarAlignment.Left, 50);
  private working: string | null = null;

  constructor(private readonly host: EngineHost) {
    this.item.name = 'RAG Ledger';
    this.item.command = 'ragLedger.showStatusMenu';
    this.refresh();
    this.item.show();
  }

  busy(label: string): void {
    this.working = label;
    this.refresh();
  }

  idle(): void {
    this.working = null;
    this.refresh();
  }

  refresh(): void {
    if (this.working) {
      this.item.text = `$(sync~spin) RAG Ledger: ${this.working}`;
      this.item.tooltip = 'RAG Ledger is working; see the progress notification to cancel.';
      this.item.backgroundColor = undefined;
      return;
    }
    const engine = this.host.current;
    if (!engine) {
      this.item.text = '$(database) RAG Ledger';
      this.item.tooltip = 'RAG Ledger: nothing ingested in this workspace yet. Click for the RAG Ledger menu: the event log explorer, the views, ask, ingest.';
      this.item.backgroundColor = undefined;
      return;
    }
    // Running totals kept by the document-status projection: no pass over the documents.
    const totals = engine.ledger.readModels.documentTotals();
    const { live, rejected } = totals;
    const active = engine.ledger.readModels.activePipeline();
    const current = active ? totals.pipelines[active] : undefined;
    const pending = live - (current?.complete ?? 0);
    const failed = current?.failing ?? 0;
    this.item.text = failed > 0 ? `$(warning) RAG Ledger: ${failed} with errors` : pending > 0 ? `$(circle-outline) RAG Ledger: ${pending} pending` : `$(database) RAG Ledger: ${live} documents`;
    this.item.tooltip = `RAG Ledger: ${live} documents ready${pending ? `, ${pending} pending` : ''}${rejected ? `, ${rejected} rejected` : ''}${failed ? `, ${failed} with embedding errors` : ''}. Active pipeline ${active ?? 'none'}. Click for the RAG Ledger menu: the event log explorer, the views, ask, ingest.`;
    this.item.backgroundColor = failed > 0 ? new vscode.ThemeColor('statusBarItem.warningBackground') : undefined;
  }

  dispose(): void {
    this.item.dispose();
  }
}
