// Codicons by name, drawn with the codicon font (dist/webview/codicon.ttf, declared by codicon.css in
// the page). The glyph is written as text, so it works inside shadow roots where codicon.css's
// class rules do not reach. Code points of @vscode/codicons 0.0.45 (a unit test checks them).
import { html } from 'lit';
import type { TemplateResult } from 'lit';

export const CODICONS = {
  'arrow-circle-down': 0xebfc,
  'arrow-down': 0xea9a,
  'arrow-left': 0xea9b,
  'arrow-right': 0xea9c,
  'arrow-small-down': 0xea9d,
  'arrow-up': 0xeaa1,
  'calendar': 0xeab0,
  'check': 0xeab2,
  'chevron-down': 0xeab4,
  'chevron-right': 0xeab6,
  'circle-outline': 0xeabc,
  'circle-slash': 0xeabd,
  'clear-all': 0xeabf,
  'close': 0xea76,
  'comment': 0xea6b,
  'comment-discussion': 0xeac7,
  'copy': 0xebcc,
  'database': 0xeace,
  'debug-rerun': 0xebc0,
  'debug-stop': 0xead7,
  'diff': 0xeae1,
  'error': 0xea87,
  'eye': 0xea70,
  'file': 0xea7b,
  'file-add': 0xea7f,
  'filter': 0xeaf1,
  'git-compare': 0xeafd,
  'go-to-file': 0xea94,
  'history': 0xea82,
  'info': 0xea74,
  'link': 0xeb15,
  'link-external': 0xeb14,
  'list-flat': 0xeb84,
  'pass': 0xeba4,
  'pin': 0xeb2b,
  'pinned': 0xeba0,
  'play': 0xeb2c,
  'refresh': 0xeb37,
  'rocket': 0xeb44,
  'search': 0xea6d,
  'send': 0xec0f,
  'settings-gear': 0xeb51,
  'sort-precedence': 0xeb55,
  'symbol-array': 0xea8a,
  'sync': 0xea77,
  'trash': 0xea81,
  'type-hierarchy': 0xebb9,
  'unfold': 0xeb73,
  'warning': 0xea6c,
  'watch': 0xeb7c,
} as const;

export type CodiconName = keyof typeof CODICONS;

/** A decorative icon (hidden from screen readers: the text next to it says what it means). */
export function icon(name: CodiconName, extraClass = ''): TemplateResult {
  return html`<span class="codicon ${extraClass}" aria-hidden="true">${String.fromCodePoint(CODICONS[name])}</span>`;
}
