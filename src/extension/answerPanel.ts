import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import { unmatchedCitationsWarning } from '../core/answer/citations.js';
import type { AnswerToHost, Citation, HostToAnswer } from '../shared/protocol.js';

/** One question shown in the answer view. Its posts are dropped once another question replaces it. */
export interface AnswerRun {
  readonly token: vscode.CancellationToken;
  post(message: HostToAnswer): void;
  /** Shows the finished answer; citations that match no passage are text with a warning, never links. */
  finish(result: { queryId: string; modelId: string; pipelineVersion: string; answer: string; citations: readonly Citation[]; unmatchedCitations: readonly number[] }): void;
}

/** The answer view: one webview panel, reused for every question. */
export class AnswerPanel implements vscode.Disposable {
  private static current: AnswerPanel | undefined;
  private readonly disposables: vscode.Disposable[] = [];
  private ready: Promise<void>;
  private markReady!: () => void;
  private citations: readonly Citation[] = [];
  private unmatched: readonly number[] = [];
  private queryId: string | undefined;
  private cancelSource: vscode.CancellationTokenSource | undefined;
  private run = 0;
  private disposed = false;

  private constructor(
    private readonly panel: vscode.WebviewPanel,
    extensionUri: vscode.Uri,
    private readonly handlers: { openCitation: (c: Citation) => void; openProvenance: (queryId: string) => void },
  ) {
    this.ready = new Promise((resolve) => (this.markReady = resolve));
    panel.webview.html = html(panel.webview, extensionUri);
    this.disposables.push(
      panel.webview.onDidReceiveMessage((m: unknown) => this.onMessage(m)),
      panel.onDidDispose(() => this.dispose()),
    );
  }

  /**
   * Restores the answer view after a window reload: the webview keeps the id of the question it
   * last showed in full, and `reshow` shows that question's answer again from the log. A view that
   * was still streaming (that answer was cancelled by the reload) is closed rather than left blank.
   */
  static register(extensionUri: vscode.Uri, handlers: AnswerPanel['handlers'], reshow: (queryId: string) => Promise<void>): vscode.Disposable {
    return vscode.window.registerWebviewPanelSerializer('ragLedger.answer', {
      deserializeWebviewPanel: async (panel: vscode.WebviewPanel, state: unknown) => {
        const queryId = typeof state === 'object' && state !== null ? (state as { queryId?: unknown }).queryId : undefined;
        if (typeof queryId !== 'string' || !/^[\w.:-]{1,200}$/.test(queryId)) {
          panel.dispose();
          return;
        }
        panel.webview.options = webviewOptions(extensionUri);
        AnswerPanel.current?.dispose();
        AnswerPanel.current = new AnswerPanel(panel, extensionUri, handlers);
        await reshow(queryId).catch(() => AnswerPanel.current?.dispose());
      },
    });
  }

  /** The answer view, created or revealed beside the editor. */
  static show(extensionUri: vscode.Uri, handlers: AnswerPanel['handlers']): AnswerPanel {
    if (AnswerPanel.current) {
      // In the group it is already in: revealing it "beside" the active group would split again.
      AnswerPanel.current.panel.reveal(AnswerPanel.current.panel.viewColumn ?? vscode.ViewColumn.Beside, true);
      return AnswerPanel.current;
    }
    const panel = vscode.window.createWebviewPanel('ragLedger.answer', 'RAG Ledger: Answer', { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true }, { ...webviewOptions(extensionUri), retainContextWhenHidden: true });
    panel.iconPath = vscode.Uri.joinPath(extensionUri, 'media', 'activity.svg');
    AnswerPanel.current = new AnswerPanel(panel, extensionUri, handlers);
    return AnswerPanel.current;
  }

  /** The group the answer view is in, if it is open. */
  static get column(): vscode.ViewColumn | undefined {
    return AnswerPanel.current?.panel.viewColumn;
  }

  /**
   * Starts showing a new answer. The previous one, if still streaming, is cancelled, and whatever
   * it posts from then on is dropped: the view shows one question at a time.
   */
  begin(question: string): AnswerRun {
    this.cancelSource?.cancel();
    this.cancelSource?.dispose();
    const source = new vscode.CancellationTokenSource();
    this.cancelSource = source;
    const run = ++this.run;
    this.citations = [];
    this.unmatched = [];
    this.queryId = undefined;
    void this.send({ kind: 'start', question });
    const current = (): boolean => run === this.run && !this.disposed;
    return {
      token: source.token,
      post: (message) => {
        if (current()) void this.send(message);
      },
      finish: (result) => {
        if (!current()) return;
        this.citations = result.citations;
        this.unmatched = result.unmatchedCitations;
        this.queryId = result.queryId;
        if (result.unmatchedCitations.length > 0) void this.send({ kind: 'notice', level: 'warning', text: unmatchedCitationsWarning(result.unmatchedCitations) });
        void this.send({ kind: 'done', ...result });
      },
    };
  }

  private async send(message: HostToAnswer): Promise<void> {
    await this.ready;
    if (this.disposed) return;
    await Promise.resolve(this.panel.webview.postMessage(message)).catch(() => undefined);
  }

  private onMessage(m: unknown): void {
    // The webview is untrusted: accept only the message shapes it may send.
    if (typeof m !== 'object' || m === null) return;
    const msg = m as AnswerToHost;
    switch (msg.kind) {
      case 'ready':
        this.markReady();
        return;
      case 'openCitation': {
        // Only a passage the answer may cite: one in the list, and not flagged as unmatched.
        const c = this.citations.find((x) => x.n === msg.n && !this.unmatched.includes(x.n));
        if (c && typeof msg.n === 'number') this.handlers.openCitation(c);
        return;
      }
      case 'openProvenance':
        if (this.queryId) this.handlers.openProvenance(this.queryId);
        return;
      case 'cancel':
        this.cancelSource?.cancel();
        return;
    }
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.markReady(); // nothing waits for a webview that is gone
    if (AnswerPanel.current === this) AnswerPanel.current = undefined;
    this.cancelSource?.cancel();
    this.cancelSource?.dispose();
    this.panel.dispose();
    for (const d of this.disposables.splice(0)) d.dispose();
  }
}

function webviewOptions(extensionUri: vscode.Uri): vscode.WebviewOptions {
  return { enableScripts: true, enableCommandUris: false, localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'dist', 'webview'), vscode.Uri.joinPath(extensionUri, 'media')] };
}

function html(webview: vscode.Webview, extensionUri: vscode.Uri): string {
  const nonce = randomBytes(16).toString('base64');
  const script = webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'dist', 'webview', 'answer.js'));
  const style = webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'media', 'answer.css'));
  // No network: nothing may be fetched, connected to or framed; scripts only with this page's nonce.
  const csp = [`default-src 'none'`, `img-src ${webview.cspSource} data:`, `style-src ${webview.cspSource}`, `font-src ${webview.cspSource}`, `script-src 'nonce-${nonce}'`].join('; ');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${style.toString()}">
<title>RAG Ledger: Answer</title>
</head>
<body>
<h1 id="question"></h1>
<div id="toolbar"><vscode-progress-ring id="busy" hidden></vscode-progress-ring><vscode-button id="cancel" secondary hidden>Cancel</vscode-button></div>
<div id="notices"></div>
<div id="answer" aria-live="polite"></div>
<div id="footer" hidden>
<h2>Sources</h2>
<ul id="sources"></ul>
<p id="meta"></p>
<p><a href="#" id="provenance">Show the provenance of this answer</a></p>
</div>
<script nonce="${nonce}" src="${script.toString()}"></script>
</body>
</html>`;
}
