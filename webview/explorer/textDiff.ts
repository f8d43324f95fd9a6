// Diffs as the views draw them: a line diff with line numbers on both sides and long unchanged runs
// folded, and counts for a word diff. Pure functions of TextDiffPart[] (computed by the host).
import type { TextDiffPart } from '../../src/shared/explorerModel.js';

/** One line of a line diff; `oldLine`/`newLine` are 1-based numbers in each version (null when absent). */
export interface DiffLine {
  readonly op: '=' | '+' | '-';
  readonly text: string;
  readonly oldLine: number | null;
  readonly newLine: number | null;
}

/** Consecutive lines shown as they are, or an unchanged run folded to a "N unchanged lines" bar. */
export type DiffBlock = { readonly kind: 'lines'; readonly lines: readonly DiffLine[] } | { readonly kind: 'fold'; readonly lines: readonly DiffLine[] };

/**
 * Splits a diff's parts into lines and numbers them. A part's text is whole lines (the last line's
 * newline may be missing); a part that ends inside a line is continued by the next part of the same op.
 */
export function toLines(parts: readonly TextDiffPart[]): DiffLine[] {
  const out: DiffLine[] = [];
  let oldLine = 1;
  let newLine = 1;
  for (const part of parts) {
    if (part.text === '') continue;
    const lines = part.text.split('\n');
    if (lines.length > 1 && lines[lines.length - 1] === '') lines.pop();
    for (const text of lines) {
      out.push({ op: part.op, text, oldLine: part.op === '+' ? null : oldLine, newLine: part.op === '-' ? null : newLine });
      if (part.op !== '+') oldLine++;
      if (part.op !== '-') newLine++;
    }
  }
  return out;
}

/**
 * Groups lines into blocks, folding each run of unchanged lines longer than `2 * context + 1` down to
 * `context` lines on each side of a change (runs at the start or end keep only the side next to a change).
 */
export function foldUnchanged(lines: readonly DiffLine[], context = 3): DiffBlock[] {
  const blocks: DiffBlock[] = [];
  let shown: DiffLine[] = [];
  const flush = (): void => {
    if (shown.length > 0) blocks.push({ kind: 'lines', lines: shown });
    shown = [];
  };
  let i = 0;
  while (i < lines.length) {
    if (lines[i]!.op !== '=') {
      shown.push(lines[i]!);
      i++;
      continue;
    }
    let j = i;
    while (j < lines.length && lines[j]!.op === '=') j++;
    const run = lines.slice(i, j);
    const keepBefore = i === 0 ? 0 : context;
    const keepAfter = j === lines.length ? 0 : context;
    if (run.length > keepBefore + keepAfter + 1) {
      shown.push(...run.slice(0, keepBefore));
      flush();
      blocks.push({ kind: 'fold', lines: run.slice(keepBefore, run.length - keepAfter) });
      shown.push(...run.slice(run.length - keepAfter));
    } else shown.push(...run);
    i = j;
  }
  flush();
  return blocks;
}

const words = (text: string): number => text.split(/\s+/).filter((w) => w !== '').length;

/** Words added and removed by a word diff. */
export function wordCounts(parts: readonly TextDiffPart[]): { readonly added: number; readonly removed: number } {
  let added = 0;
  let removed = 0;
  for (const p of parts) {
    if (p.op === '+') added += words(p.text);
    else if (p.op === '-') removed += words(p.text);
  }
  return { added, removed };
}
