// Events the explorer's components raise for the shell: go to another view, or remember state.
import type { ExplorerState, ExplorerTarget } from '../../src/shared/explorerProtocol.js';

/** Asks the shell to show another view (bubbles out of shadow roots). */
export function navigate(from: EventTarget, target: ExplorerTarget): void {
  from.dispatchEvent(new CustomEvent<ExplorerTarget>('rl-navigate', { detail: target, bubbles: true, composed: true }));
}

/** Tells the shell part of what to keep across a reload. */
export function rememberState(from: EventTarget, patch: Partial<ExplorerState>): void {
  from.dispatchEvent(new CustomEvent<Partial<ExplorerState>>('rl-state', { detail: patch, bubbles: true, composed: true }));
}

declare global {
  interface HTMLElementEventMap {
    'rl-navigate': CustomEvent<ExplorerTarget>;
    'rl-state': CustomEvent<Partial<ExplorerState>>;
  }
}
