import * as vscode from 'vscode';
import type { DocumentStatus } from '../../core/projections/documentStatus.js';
import type { ExplorerTarget } from '../../shared/explorerProtocol.js';
import type { EngineHost } from '../engineHost.js';
import { UserError } from '../engineHost.js';
import type { PipelineNode } from '../views/pipelinesView.js';
import type { QuestionNode } from '../views/questionsView.js';
import { ExplorerPanel } from './explorerPanel.js';

/** Registers a command (errors become messages: see extension.ts). */
export type RegisterCommand = (id: string, fn: (...args: never[]) => Promise<unknown>) => void;

/**
 * The commands that open the event-log explorer on a target: the explorer itself, a question's
 * provenance and replay, a document's history, comparisons, and the status-bar menu.
 */
export function registerExplorerCommands(context: vscode.ExtensionContext, host: EngineHost, command: RegisterCommand): { showProvenance: (queryId: string, options?: { besides?: vscode.ViewColumn | undefined }) => Promise<void> } {
  /** Opens the event-log explorer on a target (the timeline when none is given). */
  const openExplorer = async (target?: ExplorerTarget, options: { besides?: vscode.ViewColumn | undefined } = {}): Promise<void> => {
    await host.get();
    ExplorerPanel.show(context, host, target ?? { view: 'timeline' }, options);
  };
  command('openExplorer', async (target?: ExplorerTarget) => {
    // Only a target this extension built is followed (menus pass tree nodes and URIs, not targets).
    const valid = target && typeof target === 'object' && 'view' in target && ['timeline', 'replay', 'compare', 'document'].includes(target.view);
    await openExplorer(valid ? target : undefined);
  });

  /** A question's provenance: its chain in the explorer, the question selected. */
  const showProvenance = async (queryId: string, options: { besides?: vscode.ViewColumn | undefined } = {}): Promise<void> => {
    const engine = await host.get();
    const asked = engine.ledger.readModels.query(queryId);
    await openExplorer({ view: 'timeline', filter: { correlation: queryId }, ...(asked ? { position: asked.position } : {}) }, options);
  };
  command('showProvenance', async (node?: QuestionNode | string) => {
    const id = typeof node === 'string' ? node : node?.kind === 'question' ? node.query.query_id : undefined;
    if (!id) throw new UserError('RAG Ledger: pick a question in the Questions view.');
    await showProvenance(id);
  });

  command('showDocumentHistory', async (node?: { kind: 'document'; doc: DocumentStatus } | vscode.Uri) => {
    const engine = await host.get();
    let documentId: string | undefined;
    if (node && 'kind' in node && node.kind === 'document') documentId = node.doc.document_id;
    else {
      const uri = node instanceof vscode.Uri ? node : vscode.window.activeTextEditor?.document.uri;
      const path = uri ? host.pathOf(uri) : undefined;
      if (path !== undefined) {
        documentId = engine.ledger.readModels.documents().find((d) => d.source === path)?.document_id;
      }
    }
    if (!documentId) throw new UserError('RAG Ledger: pick an ingested document in the Documents view (or open one in an editor).');
    await openExplorer({ view: 'document', documentId });
  });

  command('replayQuestion', async (node?: QuestionNode | string, versionArg?: string) => {
    const engine = await host.get();
    let queryId = typeof node === 'string' ? node : node?.kind === 'question' ? node.query.query_id : undefined;
    if (!queryId) {
      const questions = engine.ledger.readModels.queries(200);
      if (questions.length === 0) throw new UserError('RAG Ledger: no question has been asked yet, so there is nothing to replay.', 'Ask a Question', 'ragLedger.ask');
      const picked = await vscode.window.showQuickPick(
        questions.map((q) => ({ label: q.query_text, description: new Date(q.received_at).toLocaleString(), id: q.query_id })),
        { title: 'RAG Ledger: Replay which question?' },
      );
      queryId = picked?.id;
    }
    if (!queryId) return undefined;
    await openExplorer({ view: 'replay', queryId, ...(typeof versionArg === 'string' ? { pipelineVersion: versionArg } : {}) });
    return queryId;
  });

  command('comparePipelines', async (node?: PipelineNode | string, toArg?: string) => {
    const from = typeof node === 'string' ? node : node?.kind === 'pipeline' ? node.record.pipeline_version : undefined;
    await openExplorer({ view: 'compare', ...(from ? { from } : {}), ...(typeof toArg === 'string' ? { to: toArg } : {}) });
  });

  command('compareWithActive', async (node?: PipelineNode | string) => {
    const engine = await host.get();
    const to = typeof node === 'string' ? node : node?.kind === 'pipeline' ? node.record.pipeline_version : undefined;
    const active = engine.ledger.readModels.activePipeline();
    await openExplorer({ view: 'compare', ...(active ? { from: active } : {}), ...(to ? { to } : {}) });
  });

  command('showStatusMenu', async () => {
    const items: (vscode.QuickPickItem & { command: string })[] = [
      { label: '$(list-tree) Open Event Log Explorer', description: 'browse every event, replay questions, compare pipelines', command: 'ragLedger.openExplorer' },
      { label: '$(database) Show the RAG Ledger Views', description: 'documents, questions, pipelines', command: 'ragLedger.showStatus' },
      { label: '$(comment-discussion) Ask a Question', command: 'ragLedger.ask' },
      { label: '$(cloud-upload) Ingest Workspace', command: 'ragLedger.ingestWorkspace' },
      { label: '$(verified) Verify Event Log', command: 'ragLedger.verifyLog' },
    ];
    const picked = await vscode.window.showQuickPick(items, { title: 'RAG Ledger' });
    if (picked) await vscode.commands.executeCommand(picked.command);
  });

  return { showProvenance };
}
