import type { ContextChunk } from './prompt.js';
import { sourcesBlock } from './prompt.js';

/** The model id extractive answers are recorded under. */
export const EXTRACTIVE_MODEL = 'extractive';

const STOP = new Set(
  'a an the and or of to in on for with by is are was were be been it its this that these those what which who how why when where do does did can could should would i you we they he she at as from into about not no'.split(' '),
);

const words = (s: string): string[] => (s.toLowerCase().match(/[\p{L}\p{N}_]+/gu) ?? []).filter((w) => w.length > 1 && !STOP.has(w));

/** Splits prose into sentences and code or lists into lines, dropping fences and blank lines. */
function sentences(text: string): string[] {
  return text
    .split(/\n{2,}|(?<=[.!?])\s+(?=[A-Z`"([])|\n(?=\s*(?:[-*+]|\d+\.)\s)/)
    .map((s) => s.replace(/\s+/g, ' ').trim())
    .filter((s) => s.length > 0 && !/^(```|~~~)/.test(s));
}

/**
 * An answer made of the context's own sentences that share the most words with the question,
 * each with its citation, clearly labelled: used when no language model is reachable.
 */
export function extractiveAnswer(question: string, chunks: readonly ContextChunk[], maxSentences = 3): string {
  const q = new Set(words(question));
  const scored: { text: string; n: number; score: number; order: number }[] = [];
  let order = 0;
  for (const c of chunks) {
    for (const s of sentences(c.text)) {
      const w = words(s);
      const overlap = new Set(w.filter((x) => q.has(x))).size;
      // Overlap first, then earlier chunks (better ranked), then shorter sentences.
      if (overlap > 0) scored.push({ text: s.length > 400 ? `${s.slice(0, 397)}...` : s, n: c.n, score: overlap - c.n * 0.01 - s.length / 100_000, order: order++ });
    }
  }
  const best = scored.sort((a, b) => b.score - a.score).slice(0, maxSentences).sort((a, b) => a.order - b.order);
  const label = 'Extractive answer (no language model was available): the most relevant passages, quoted.';
  const body = best.length === 0 ? 'The retrieved context does not contain words from the question.' : best.map((b) => `${b.text} [${b.n}]`).join('\n');
  return `${label}\n\n${body}\n\n${sourcesBlock(chunks)}`;
}
