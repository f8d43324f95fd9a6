/**
 * Text printed to a terminal must not be able to drive it. A file name or a chunk of a document
 * may hold escape sequences (`\x1b]0;title\x07`, `\x1b[2J`) or bidirectional overrides that make
 * text read differently from what it is; printed raw, a file rewrites the user's terminal.
 *
 * `terminalSafe` shows such characters as visible escapes instead: C0 controls other than line
 * feed and tab, and DEL, as `\xHH`; C1 controls (including U+009B, a one-character CSI) and the
 * bidi embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069) as `\uHHHH`. Carriage
 * return is escaped too: it can overwrite what a line showed. JSON output needs none of this
 * (JSON.stringify escapes C0, and C1 and bidi characters inside JSON strings are data).
 */
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/g;

export function terminalSafe(text: string): string {
  return text.replace(UNSAFE, (c) => {
    const code = c.charCodeAt(0);
    return code <= 0x7f ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}

/** True when `text` holds a character `terminalSafe` would escape. */
export function hasUnsafeControl(text: string): boolean {
  UNSAFE.lastIndex = 0;
  const found = UNSAFE.test(text);
  UNSAFE.lastIndex = 0;
  return found;
}
