/**
 * A new explorer's first answers in its page: the host works out `init` and the first timeline pages
 * as the panel is created (see ExplorerRequestHandler.prefetch) and the page carries them, so the first
 * rows need no round trip. Plain TypeScript (no `vscode`), unit-tested in Node.
 */
import type { ExplorerState, ExplorerTarget } from '../../shared/explorerProtocol.js';

/** The element's id in the page (read by webview/explorer/boot.ts). */
export const BOOT_ELEMENT_ID = 'rl-boot';

/**
 * Whether a webview with this state (its own after a reload, or a new one's sent to `target`) first
 * asks for the top of the unfiltered timeline, which is what the host can work out ahead. The state
 * comes from the webview: it is only looked at, never trusted, and anything unexpected means no.
 */
export function opensOnTimelineTop(state: unknown): boolean {
  if (typeof state !== 'object' || state === null) return false;
  const s = state as Partial<Record<keyof ExplorerState, unknown>>;
  const t = s.target as Partial<Record<string, unknown>> | undefined;
  if (typeof t !== 'object' || t === null || t.view !== ('timeline' satisfies ExplorerTarget['view'])) return false;
  const empty = (f: unknown): boolean => f === undefined || (typeof f === 'object' && f !== null && !Array.isArray(f) && Object.keys(f).length === 0);
  return empty(s.filter) && empty(t.filter) && t.position === undefined && (s.topPosition ?? null) === null && (s.selected ?? null) === null && s.follow !== true;
}

/**
 * The answers as a JSON data block for the page (never run: not JavaScript). The rows hold text from the
 * log (paths, questions): every `<`, `>` and `&` is escaped inside the JSON strings, so nothing in them
 * can close the element or start markup; the webview parses the block and renders values as text only.
 */
export function bootElement(answers: Readonly<Record<string, unknown>>): string {
  const json = JSON.stringify({ answers })
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
  return `<script type="application/json" id="${BOOT_ELEMENT_ID}">${json}</script>`;
}
