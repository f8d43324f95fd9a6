/**
 * Messages between the extension host and its webviews. Types only: this file is
 * imported by both sides and must not pull in any runtime code.
 */

/** Sent by a webview once its script has loaded, so the host knows it can post to it. */
export interface WebviewReady {
  readonly kind: 'ready';
}

/** A citation of the answer: `[n] path:start-end`. */
export interface Citation {
  readonly n: number;
  readonly path: string;
  readonly startLine: number;
  readonly endLine: number;
}

/** Host → answer view. Every text is shown as text, never as HTML. */
export type HostToAnswer =
  | { readonly kind: 'start'; readonly question: string }
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'notice'; readonly level: 'info' | 'warning' | 'error'; readonly text: string }
  | { readonly kind: 'done'; readonly queryId: string; readonly modelId: string; readonly pipelineVersion: string; readonly citations: readonly Citation[]; readonly answer: string; readonly unmatchedCitations: readonly number[] }
  | { readonly kind: 'cancelled' }
  | { readonly kind: 'failed'; readonly text: string };

/** Answer view → host. */
export type AnswerToHost = WebviewReady | { readonly kind: 'openCitation'; readonly n: number } | { readonly kind: 'openProvenance' } | { readonly kind: 'cancel' };

/** Every message a webview may send to the host. The host validates each one. */
export type WebviewToHost = AnswerToHost;
