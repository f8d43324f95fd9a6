// What the answer view shows for an answer's text: plain text, citation links, and citation numbers
// that match no passage the model was given (plain text, marked). Pure, so it is tested without a DOM.
import type { Citation } from '../src/shared/protocol.js';

export type AnswerSegment =
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'cite'; readonly text: string; readonly n: number; readonly title: string }
  | { readonly kind: 'unmatched'; readonly text: string; readonly title: string };

/** The tooltip of a citation that leads nowhere. */
export const UNMATCHED_TITLE = 'This citation matches no passage the model was given';

/**
 * Splits an answer into segments. `[n]` is a link only when n is one of the citations and not
 * recorded as unmatched; an unmatched `[n]` is text, marked. The answer's own trailing "Sources:"
 * block is left out when there are citations (the view lists them below as links).
 */
export function answerSegments(raw: string, citations: readonly Citation[], unmatched: readonly number[] = []): AnswerSegment[] {
  const flagged = new Set(unmatched);
  const known = new Map(citations.filter((c) => !flagged.has(c.n)).map((c) => [c.n, c]));
  const shown = citations.length > 0 ? raw.replace(/\n+Sources:\n[\s\S]*$/, '') : raw;
  const out: AnswerSegment[] = [];
  for (const part of shown.split(/(\[\d+\])/)) {
    if (part === '') continue;
    const m = /^\[(\d+)\]$/.exec(part);
    const n = m ? Number(m[1]) : NaN;
    const c = known.get(n);
    if (m && c) out.push({ kind: 'cite', text: part, n, title: `${c.path}:${c.startLine}-${c.endLine}` });
    else if (m && flagged.has(n)) out.push({ kind: 'unmatched', text: part, title: UNMATCHED_TITLE });
    else out.push({ kind: 'text', text: part });
  }
  return out;
}
