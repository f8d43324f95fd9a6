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
    const summary = `${live} documents ready${pending ? `, ${pending} pending` : ''}${rejected ? `, ${rejected} rejected` : ''}${failed ? `, ${failed} with embedding errors` : ''}. Active pipeline ${active ?? 'none'}.`;
    this.item.tooltip = `RAG Ledger: ${summary} Click for the RAG Ledger menu: the event log explorer, the views, ask, ingest.`;
    this.item.backgroundColor = failed > 0 ? new vscode.ThemeColor('statusBarItem.warningBackground') : undefined;
    const team = this.host.team;
    this.item.accessibilityInformation = undefined;
    if (!team) return;
    // A member of a team ledger: which server, connected or not, and how far behind it this window is.
    if (team.offline !== null || !team.connected) {
      this.item.text = `$(debug-disconnect) RAG Ledger: offline · ${live} documents`;
      this.item.tooltip = `RAG Ledger team ledger ${team.server}: cannot be reached${team.offline ? ` (${team.offline})` : ''}. Questions are answered from this window's projections and recorded nowhere; ingesting waits until the server is back (this window reconnects by itself). ${summary}`;
      this.item.backgroundColor = new vscode.ThemeColor('statusBarItem.warningBackground');
      this.item.accessibilityInformation = { label: `RAG Ledger: offline, ${live} documents. Team ledger ${team.server} cannot be reached.` };
      return;
    }
    if (team.behind > 0) this.item.text = `$(sync~spin) RAG Ledger: behind by ${team.behind} events`;
    else if (failed === 0 && pending === 0) this.item.text = `$(organization) RAG Ledger: ${live} documents`;
    const state = `connected, ${team.behind > 0 ? `behind by ${team.behind} events (catching up)` : 'up to date'}`;
    this.item.tooltip = `RAG Ledger team ledger ${team.server}: ${state}. ${summary} Click for the RAG Ledger menu.`;
    // What the status bar shows, and which ledger it is, for screen readers (the text alone names no server).
    this.item.accessibilityInformation = { label: `${this.item.text.replace(/\$\([^)]*\) /, '')}. Team ledger ${team.server}: ${state}.` };
  }

  dispose(): void {
    this.item.dispose();
  }
}
