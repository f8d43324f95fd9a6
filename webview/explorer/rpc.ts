// The webview's side of the explorer protocol: requests with ids and typed results, notifications,
// and pushes from the host. Every request has a deadline, so a lost answer never leaves the view
// waiting forever.
import type { ExplorerMethod, ExplorerNotification, ExplorerPush, ExplorerRequests, ExplorerState, HostToExplorer } from '../../src/shared/explorerProtocol.js';
import { bootKey } from '../../src/shared/explorerProtocol.js';
import { FirstAnswers, readBoot } from './boot.js';

interface VsCodeApi {
  postMessage(message: unknown): void;
  getState(): unknown;
  setState(state: unknown): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

/** A request that failed: `message` is meant for the user. */
export class RequestError extends Error {
  constructor(
    message: string,
    readonly hint: string | undefined,
    readonly cancelled: boolean,
  ) {
    super(message);
  }
}

/** Long requests (replay, re-answer, compare) may run for minutes; everything else answers fast. */
const DEADLINE_MS: Partial<Record<ExplorerMethod, number>> = { replay: 10 * 60_000, reanswer: 15 * 60_000, compare: 60 * 60_000, activate: 15 * 60_000 };
const DEFAULT_DEADLINE_MS = 60_000;

interface Pending {
  resolve(value: unknown): void;
  reject(err: Error): void;
  timer: ReturnType<typeof setTimeout>;
}

/** One request in flight: its id (for cancel and progress pushes) and its result. */
export interface Call<T> {
  readonly id: number;
  readonly result: Promise<T>;
}

export class Rpc {
  private readonly api: VsCodeApi = acquireVsCodeApi();
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly listeners = new Set<(push: ExplorerPush) => void>();
  /** Methods whose first request and answer were marked on the page's performance timeline. */
  private readonly marked = new Set<string>();
  /** A new panel's first answers, carried by its page (see boot.ts). */
  private readonly first = new FirstAnswers(readBoot(document.getElementById('rl-boot')?.textContent, (this.api.getState() ?? null) !== null), () => this.notify({ kind: 'booted' }));

  constructor() {
    window.addEventListener('message', (event: MessageEvent<HostToExplorer>) => this.receive(event.data));
  }

  /** Sends a request; the promise settles with the host's answer or a RequestError. */
  call<M extends ExplorerMethod>(method: M, params: ExplorerRequests[M]['params']): Call<ExplorerRequests[M]['result']> {
    const id = this.nextId++;
    this.mark(`${method}-asked`);
    const result = new Promise<ExplorerRequests[M]['result']>((resolve, reject) => {
      const settle = (answer: unknown): void => {
        this.mark(`${method}-answered`);
        resolve(answer as ExplorerRequests[M]['result']);
      };
      this.first.answer(bootKey(method, params), settle, () => void this.send(id, method, params).then(settle, reject));
    });
    return { id, result };
  }

  private send(id: number, method: ExplorerMethod, params: unknown): Promise<unknown> {
    const result = new Promise<unknown>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new RequestError(`RAG Ledger did not answer (${method}) in time`, 'Close and reopen the explorer; the log has the details.', false));
      }, DEADLINE_MS[method] ?? DEFAULT_DEADLINE_MS);
      this.pending.set(id, { resolve, reject, timer });
    });
    this.mark(`${method}-sent`);
    this.api.postMessage({ kind: 'request', id, method, params });
    return result;
  }

  request<M extends ExplorerMethod>(method: M, params: ExplorerRequests[M]['params']): Promise<ExplorerRequests[M]['result']> {
    return this.call(method, params).result;
  }

  notify(message: ExplorerNotification): void {
    this.api.postMessage(message);
  }

  cancel(id: number): void {
    this.notify({ kind: 'cancel', id });
  }

  onPush(listener: (push: ExplorerPush) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get state(): ExplorerState | undefined {
    return this.api.getState() as ExplorerState | undefined;
  }

  saveState(state: ExplorerState): void {
    this.api.setState(state);
  }

  /**
   * Marks the first time of each method (`rl:page-asked`, `rl:page-sent` to the host, unless answered
   * by what was sent ahead; `rl:page-answered`…) on the performance timeline, where the benchmark reads
   * how an opening spent its time. Once per method: bounded.
   */
  private mark(name: string): void {
    if (this.marked.has(name)) return;
    this.marked.add(name);
    performance.mark(`rl:${name}`);
  }

  private receive(message: HostToExplorer): void {
    if (typeof message !== 'object' || message === null) return;
    if (message.kind === 'response') {
      const p = this.pending.get(message.id);
      if (!p) return;
      this.pending.delete(message.id);
      clearTimeout(p.timer);
      if (message.ok) p.resolve(message.result);
      else p.reject(new RequestError(message.error.message, message.error.hint, message.error.cancelled === true));
      return;
    }
    if (message.kind === 'push') for (const l of this.listeners) l(message);
  }
}

/** The one client of this page. */
export const rpc = new Rpc();
