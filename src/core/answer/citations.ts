import type { ContextChunk } from './prompt.js';

/** Code in an answer (fenced blocks, inline spans): brackets there are code, not citations. */
const CODE = /(`{3,}|~{3,})[\s\S]*?(?:\1|$)|`[^`\n]*`/g;
/** `[2]`, `[1, 3]`, `[1; 4]`: not right after a word character or `)`, so `items[0]` is no citation. */
const CITE = /(?<![\w)])\[\s*(\d{1,6}(?:\s*[,;]\s*\d{1,6})*)\s*\]/g;

/** The passage numbers an answer cites, in order of first appearance. */
export function citedNumbers(text: string): number[] {
  const seen = new Set<number>();
  for (const m of text.replace(CODE, ' ').matchAll(CITE)) for (const n of m[1]!.split(/[,;]/)) seen.add(Number(n.trim()));
  return [...seen];
}

/** Citation numbers in `answer` that match no passage the model was given (e.g. [42] with 8 passages), ascending. */
export function unmatchedCitations(answer: string, passages: readonly Pick<ContextChunk, 'n'>[]): number[] {
  const known = new Set(passages.map((p) => p.n));
  return citedNumbers(answer)
    .filter((n) => !known.has(n))
    .sort((a, b) => a - b);
}

/**
 * The same for a recorded answer, which ends with its own `Sources:` block (see sourcesBlock): the
 * numbers cited before that block that the block does not list.
 */
export function unmatchedInRecordedAnswer(responseText: string): number[] {
  const at = responseText.lastIndexOf('\n\nSources:');
  const body = at < 0 ? responseText : responseText.slice(0, at);
  const sources = at < 0 ? '' : responseText.slice(at);
  const listed = [...sources.matchAll(/^\[(\d+)\] /gm)].map((m) => ({ n: Number(m[1]) }));
  return unmatchedCitations(body, listed);
}

/** One line for people: which citations match no passage. Empty when all match. */
export function unmatchedCitationsWarning(unmatched: readonly number[]): string {
  if (unmatched.length === 0) return '';
  const list = unmatched.map((n) => `[${n}]`).join(', ');
  return `Warning: the answer cites ${list}, which ${unmatched.length === 1 ? 'matches' : 'match'} no passage the model was given; treat ${unmatched.length === 1 ? 'that claim' : 'those claims'} as unsupported.`;
}
