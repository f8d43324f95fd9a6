import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import { CancelledError } from '../../core/errors.js';
import type { ExplorerNotification, ExplorerPush, ExplorerRequest, ExplorerResponse, ExplorerTarget } from '../../shared/explorerProtocol.js';
import { columnBeside } from '../editorGroups.js';
import type { EngineHost } from '../engineHost.js';
import { bootElement, opensOnTimelineTop } from './explorerBoot.js';
import { ExplorerRequestHandler } from './explorerRequests.js';
import { parseExplorerMessage } from './explorerMessages.js';

/** A request slower than this is written to the log (at info level; others at debug). */
const SLOW_MS = 250;
/** How often a visible explorer looks for new events. */
const FOLLOW_MS = 400;
/**
 * How long a new panel's page waits for its first answers (see ExplorerRequestHandler.prefetch). VS Code
 * starts loading the page when it gets it, so the wait delays the page, by less than the two round trips
 * (init, then the first page) it saves: ~25 ms once the host has warmed up, ~100 ms on a window's first
 * opening at 100k events. Past it, the page goes without them and its requests are answered from the
 * same prefetch.
 */
const BOOT_WAIT_MS = 150;

/**
 * The event-log explorer: one webview panel per window, restored after a reload by VS Code's
 * serializer (the webview keeps its own state with setState; the panel does not retain its context
 * while hidden). Messages from the webview are validated and answered by ExplorerRequestHandler.
 */
export class ExplorerPanel implements vscode.Disposable {
  static readonly viewType = 'ragLedger.explorer';
  private static current: ExplorerPanel | undefined;

  private readonly disposables: vscode.Disposable[] = [];
  private readonly handler: ExplorerRequestHandler;
  private ready = false;
  private pendingTarget: ExplorerTarget | null = null;
  private timer: ReturnType<typeof setInterval> | undefined;
  private lastHead = -1;
  private following = false;
  private disposed = false;

  /**
   * `opening`: what the new webview will first ask for. On the timeline's top, the host works it out
   * ahead: a new panel ('boot') gets the answers in its page (see explorerBoot.ts), a restored one
   * ('prefetch': it has state of its own, and asks) gets them as soon as it asks.
   */
  private constructor(
    private readonly panel: vscode.WebviewPanel,
    private readonly context: vscode.ExtensionContext,
    private readonly host: EngineHost,
    opening: 'boot' | 'prefetch' | 'other',
  ) {
    this.handler = new ExplorerRequestHandler(host, (push) => this.post(push), () => this.panel.viewColumn);
    panel.iconPath = vscode.Uri.joinPath(context.extensionUri, 'media', 'activity.svg');
    panel.webview.options = webviewOptions(context.extensionUri);
    if (opening === 'boot') {
      void this.handler.prefetch(BOOT_WAIT_MS).then((answers) => {
        if (!this.disposed) panel.webview.html = html(panel.webview, context.extensionUri, answers);
      });
    } else {
      if (opening === 'prefetch') void this.handler.prefetch(0);
      panel.webview.html = html(panel.webview, context.extensionUri, null);
    }
    this.disposables.push(
      panel.webview.onDidReceiveMessage((m: unknown) => void this.receive(m)),
      panel.onDidChangeViewState(() => this.followWhileVisible()),
      panel.onDidDispose(() => this.dispose()),
      host.onDidChange(() => this.handler.pushPipelines()),
    );
    this.followWhileVisible();
  }

  /**
   * Opens the explorer (or brings it forward in its group) and shows `target`. Opened from another
   * view (`besides`: the answer view's group), it goes to another group so that view stays visible.
   */
  static show(context: vscode.ExtensionContext, host: EngineHost, target?: ExplorerTarget, options: { besides?: vscode.ViewColumn | undefined } = {}): ExplorerPanel {
    let current = ExplorerPanel.current;
    if (current) current.panel.reveal(current.panel.viewColumn ?? vscode.ViewColumn.Active);
    else {
      const column = options.besides !== undefined ? columnBeside(options.besides) : vscode.ViewColumn.Active;
      const panel = vscode.window.createWebviewPanel(ExplorerPanel.viewType, 'RAG Ledger: Event Log', column, webviewOptions(context.extensionUri));
      // A new webview starts at the top of the unfiltered timeline unless sent elsewhere.
      const top = !target || opensOnTimelineTop({ target, filter: {}, topPosition: null, selected: null, follow: false });
      current = ExplorerPanel.current = new ExplorerPanel(panel, context, host, top ? 'boot' : 'other');
    }
    if (target) current.navigate(target);
    return current;
  }

  /** Restores the explorer after a window reload. */
  static register(context: vscode.ExtensionContext, host: EngineHost): vscode.Disposable {
    return vscode.window.registerWebviewPanelSerializer(ExplorerPanel.viewType, {
      deserializeWebviewPanel: async (panel: vscode.WebviewPanel, state: unknown) => {
        ExplorerPanel.current?.dispose();
        ExplorerPanel.current = new ExplorerPanel(panel, context, host, opensOnTimelineTop(state) ? 'prefetch' : 'other');
      },
    });
  }

  /** The explorer if it is open (tests use it). */
  static get open(): ExplorerPanel | undefined {
    return ExplorerPanel.current;
  }

  navigate(target: ExplorerTarget): void {
    if (this.ready) void this.post({ kind: 'push', type: 'navigate', target });
    else this.pendingTarget = target;
  }

  private async receive(raw: unknown): Promise<void> {
    const parsed = parseExplorerMessage(raw);
    if (!parsed.ok) {
      this.host.log.warn(`explorer: refused a message from the webview: ${parsed.error}`);
      if (parsed.id !== null) await this.post({ kind: 'response', id: parsed.id, ok: false, error: { message: parsed.error, hint: 'This is a bug in the explorer; reopen it.' } });
      return;
    }
    const m = parsed.message;
    if (m.kind === 'request') await this.answer(m);
    else this.notified(m);
  }

  private notified(m: ExplorerNotification): void {
    switch (m.kind) {
      case 'ready':
        this.ready = true;
        this.lastHead = -1;
        if (this.pendingTarget) {
          void this.post({ kind: 'push', type: 'navigate', target: this.pendingTarget });
          this.pendingTarget = null;
        }
        return;
      case 'booted':
        this.handler.booted();
        this.rowsOnTheirWay();
        return;
      case 'cancel':
        this.handler.cancel(m.id);
        return;
      case 'openChunk':
        void this.handler.openChunk(m.position, m.chunkId);
        return;
      case 'title':
        this.panel.title = m.text;
        return;
    }
  }

  private async answer(request: ExplorerRequest): Promise<void> {
    let response: ExplorerResponse;
    const started = Date.now();
    try {
      const result = await this.handler.handle(request);
      response = { kind: 'response', id: request.id, ok: true, result } as ExplorerResponse;
    } catch (err) {
      const e = err as Error & { hint?: string };
      const cancelled = err instanceof CancelledError || e.name === 'AbortError';
      if (!cancelled) this.host.log.error(`explorer ${request.method}: ${e.stack ?? e.message}`);
      response = { kind: 'response', id: request.id, ok: false, error: { message: cancelled ? 'Cancelled.' : e.message, ...(e.hint ? { hint: e.hint } : {}), ...(cancelled ? { cancelled: true } : {}) } };
    }
    await this.post(response);
    if (request.method === 'page') this.rowsOnTheirWay();
    const ms = Date.now() - started;
    if (ms >= SLOW_MS) this.host.log.info(`explorer: ${request.method} answered in ${ms} ms`);
    else this.host.log.debug(`explorer: ${request.method} answered in ${ms} ms`);
  }

  /**
   * The first rows come from the log; the explorer's index (filters, search, the chart) opens once
   * they are on their way, so that reading it does not hold them up. A failure is reported by the
   * first request that needs it.
   */
  private rowsOnTheirWay(): void {
    void this.host.current
      ?.explorer()
      .catch(() => undefined)
      .then(() => this.handler.timelineShown());
  }

  /** While visible, new events are indexed and announced (the timeline follows the tail or shows a pill). */
  private followWhileVisible(): void {
    if (this.panel.visible && !this.timer) this.timer = setInterval(() => void this.follow(), FOLLOW_MS);
    if (!this.panel.visible && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  private async follow(): Promise<void> {
    const engine = this.host.current;
    if (!engine || !this.ready || this.following) return;
    this.following = true;
    try {
      const head = (await engine.ledger.events.head()).position;
      // The index is opened by the first page's answer (see answer), never ahead of the first rows:
      // until then only the head is announced.
      const explorer = engine.explorerIfOpen();
      if (!explorer) {
        if (head !== this.lastHead) await this.post({ kind: 'push', type: 'head', head });
        this.lastHead = head;
        return;
      }
      const indexing = explorer.timeline.checkpoint < head;
      if (head !== this.lastHead || indexing) {
        // Announce first (the unfiltered timeline needs no index), then index what is new.
        await this.post({ kind: 'push', type: 'head', head, ...(explorer.timeline.indexing ? { indexing: explorer.timeline.indexing } : {}) });
        this.lastHead = head;
        if (indexing) {
          await explorer.timeline.catchUp({ onProgress: (p) => void this.post({ kind: 'push', type: 'head', head: p.head, indexing: p }) });
          await this.post({ kind: 'push', type: 'head', head: (await engine.ledger.events.head()).position });
        }
      }
    } catch (err) {
      this.host.log.warn(`explorer: could not follow the log: ${(err as Error).message}`);
    } finally {
      this.following = false;
    }
  }

  private async post(message: ExplorerResponse | ExplorerPush): Promise<void> {
    if (this.disposed) return;
    await Promise.resolve(this.panel.webview.postMessage(message)).catch(() => undefined);
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    if (ExplorerPanel.current === this) ExplorerPanel.current = undefined;
    if (this.timer) clearInterval(this.timer);
    this.handler.dispose();
    this.panel.dispose();
    for (const d of this.disposables.splice(0)) d.dispose();
  }
}

function webviewOptions(extensionUri: vscode.Uri): vscode.WebviewPanelOptions & vscode.WebviewOptions {
  return {
    enableScripts: true,
    enableCommandUris: false,
    enableFindWidget: true,
    retainContextWhenHidden: false,
    localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'dist', 'webview'), vscode.Uri.joinPath(extensionUri, 'media')],
  };
}

/** The page; `boot`: the first answers it carries (see explorerBoot.ts). */
function html(webview: vscode.Webview, extensionUri: vscode.Uri, boot: Readonly<Record<string, unknown>> | null): string {
  const nonce = randomBytes(16).toString('base64');
  const asset = (...path: string[]): string => webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, ...path)).toString();
  // No network: nothing may be fetched, connected to or framed; scripts only with this page's nonce;
  // styles and fonts only from the extension (components style themselves through constructed sheets).
  const csp = [`default-src 'none'`, `img-src ${webview.cspSource} data:`, `style-src ${webview.cspSource}`, `font-src ${webview.cspSource}`, `script-src 'nonce-${nonce}'`, `connect-src 'none'`, `frame-src 'none'`, `form-action 'none'`].join('; ');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link id="vscode-codicon-stylesheet" rel="stylesheet" href="${asset('dist', 'webview', 'codicon.css')}">
<link rel="stylesheet" href="${asset('media', 'explorer.css')}">
<title>RAG Ledger: Event Log</title>
</head>
<body>
<rl-explorer></rl-explorer>
${boot ? bootElement(boot) : ''}
<script nonce="${nonce}" src="${asset('dist', 'webview', 'explorer.js')}"></script>
</body>
</html>`;
}
