/**
 * Messages between the extension host and its webviews. Types only: this file is
 * imported by both sides and must not pull in any runtime code.
 */

/** Sent by a webview once its script has loaded, so the host knows it can post to it. */
export interface WebviewReady {
  readonly kind: 'ready';
}

/** Every message a webview may send to the host. The host validates each one. */
export type WebviewToHost = WebviewReady;
