import type { ReactiveController, ReactiveControllerHost } from 'lit';
import type { ExplorerPush } from '../../src/shared/explorerProtocol.js';
import type { Call } from './rpc.js';
import { RequestError, rpc } from './rpc.js';

/** The last progress push of a long request. */
export interface Progress {
  readonly done: number;
  readonly total: number;
  readonly label: string;
}

/**
 * One long request at a time (replay, re-answer, compare) for a view: its progress and streamed text
 * from the host's pushes, Cancel (a button, or Escape in the view or with nothing focused), and how it ended: a
 * result, a cancellation, or an error for the user.
 */
export class RunController<T> implements ReactiveController {
  call: Call<T> | null = null;
  progress: Progress | null = null;
  error: RequestError | null = null;
  cancelled = false;
  cancelling = false;
  private unsubscribe: (() => void) | null = null;

  constructor(
    private readonly host: ReactiveControllerHost & HTMLElement,
    private readonly onText?: (text: string) => void,
  ) {
    host.addController(this);
  }

  get running(): boolean {
    return this.call !== null;
  }

  hostConnected(): void {
    window.addEventListener('keydown', this.onKey);
    this.unsubscribe = rpc.onPush(this.onPush);
  }

  hostDisconnected(): void {
    window.removeEventListener('keydown', this.onKey);
    this.unsubscribe?.();
    this.unsubscribe = null;
  }

  /** Follows a request to its end; null when it was cancelled or failed (see `cancelled`, `error`). */
  async run(call: Call<T>, progress: Progress | null = null): Promise<T | null> {
    this.call = call;
    this.progress = progress;
    this.error = null;
    this.cancelled = false;
    this.cancelling = false;
    this.host.requestUpdate();
    try {
      return await call.result;
    } catch (err) {
      if (err instanceof RequestError && err.cancelled) this.cancelled = true;
      else this.error = err instanceof RequestError ? err : new RequestError(String(err), undefined, false);
      return null;
    } finally {
      if (this.call === call) {
        this.call = null;
        this.progress = null;
        this.cancelling = false;
      }
      this.host.requestUpdate();
    }
  }

  /** Asks the host to stop the request; it answers with a cancelled error. */
  cancel(): void {
    if (!this.call || this.cancelling) return;
    this.cancelling = true;
    rpc.cancel(this.call.id);
    this.host.requestUpdate();
  }

  /** Forgets how the last request ended. */
  clear(): void {
    this.error = null;
    this.cancelled = false;
    this.host.requestUpdate();
  }

  private readonly onKey = (e: KeyboardEvent): void => {
    if (e.key !== 'Escape' || !this.call || e.defaultPrevented) return;
    // Escape inside this view, or with nothing focused (the page's body).
    if (!e.composedPath().includes(this.host) && e.target !== document.body && e.target !== document.documentElement) return;
    e.preventDefault();
    this.cancel();
  };

  private readonly onPush = (push: ExplorerPush): void => {
    if (!this.call) return;
    if (push.type === 'progress' && push.id === this.call.id) {
      this.progress = { done: push.done, total: push.total, label: push.label };
      this.host.requestUpdate();
    } else if (push.type === 'answerText' && push.id === this.call.id) {
      this.onText?.(push.text);
      this.host.requestUpdate();
    }
  };
}
