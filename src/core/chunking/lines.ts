/** One line of a document with where it sits: 1-based line number and UTF-16 offsets. */
export interface Line {
  readonly number: number;
  /** Offset of the first character. */
  readonly start: number;
  /** Offset just past the last character, before the line break. */
  readonly end: number;
  readonly text: string;
}

/** Splits text into lines (LF, CRLF or CR), keeping each line's offsets into the original text. */
export function splitLines(text: string): Line[] {
  const lines: Line[] = [];
  const re = /\r\n|\n|\r/g;
  let start = 0;
  let number = 1;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    lines.push({ number: number++, start, end: m.index, text: text.slice(start, m.index) });
    start = m.index + m[0].length;
  }
  if (start < text.length || lines.length === 0) lines.push({ number, start, end: text.length, text: text.slice(start) });
  return lines;
}

export const isBlank = (line: Line): boolean => line.text.trim().length === 0;

/** Groups consecutive non-blank lines into paragraphs. */
export function paragraphs(lines: readonly Line[]): Line[][] {
  const out: Line[][] = [];
  let current: Line[] = [];
  for (const line of lines) {
    if (isBlank(line)) {
      if (current.length > 0) out.push(current);
      current = [];
    } else {
      current.push(line);
    }
  }
  if (current.length > 0) out.push(current);
  return out;
}

/** Characters a run of lines spans in the original text. */
export const spanLength = (lines: readonly Line[]): number => (lines.length === 0 ? 0 : lines[lines.length - 1]!.end - lines[0]!.start);

/**
 * Packs paragraphs greedily into groups of at most `maxChars` (measured in the original text);
 * a paragraph longer than that is cut between lines. A single line longer than that stays whole
 * here: `boundRange` cuts it afterwards.
 */
export function packParagraphs(paras: readonly Line[][], maxChars: number): Line[][] {
  const out: Line[][] = [];
  let current: Line[] = [];
  const flush = (): void => {
    if (current.length > 0) out.push(current);
    current = [];
  };
  for (const para of paras) {
    if (current.length > 0 && para[para.length - 1]!.end - current[0]!.start > maxChars) flush();
    if (spanLength(para) <= maxChars) {
      current.push(...para);
      continue;
    }
    for (const line of para) {
      if (current.length > 0 && line.end - current[0]!.start > maxChars) flush();
      current.push(line);
    }
  }
  flush();
  return out;
}

const isHighSurrogate = (code: number): boolean => code >= 0xd800 && code <= 0xdbff;
const isLowSurrogate = (code: number): boolean => code >= 0xdc00 && code <= 0xdfff;
const WHITESPACE = /\s/;

/**
 * Cuts the range [start, end) of `text` into ranges of at most `maxChars` UTF-16 units, in order.
 * Each cut falls after the last line break in the window, else after the last whitespace (a word
 * boundary), else at the character limit, never between the two halves of a surrogate pair; a
 * boundary is taken only when it keeps at least half a window, so a cut never leaves a sliver.
 * Whitespace at the edges of a piece is left out (a piece is never empty or blank), so every
 * non-whitespace character of the range is in exactly one piece.
 */
export function boundRange(text: string, start: number, end: number, maxChars: number): [number, number][] {
  if (!Number.isSafeInteger(maxChars) || maxChars < 2) throw new Error(`maxChars must be an integer >= 2, got ${String(maxChars)}`);
  const out: [number, number][] = [];
  let pos = start;
  while (pos < end) {
    while (pos < end && WHITESPACE.test(text[pos]!)) pos++;
    if (pos >= end) break;
    let cut: number;
    if (end - pos <= maxChars) cut = end;
    else {
      const limit = pos + maxChars;
      const floor = pos + Math.floor(maxChars / 2);
      cut = -1;
      for (let k = limit; k > floor && cut < 0; k--) if (text[k - 1] === '\n' || (text[k - 1] === '\r' && text[k] !== '\n')) cut = k;
      for (let k = limit; k > floor && cut < 0; k--) if (WHITESPACE.test(text[k - 1]!)) cut = k;
      if (cut < 0) {
        cut = limit;
        if (isHighSurrogate(text.charCodeAt(cut - 1)) && isLowSurrogate(text.charCodeAt(cut))) cut--;
      }
    }
    let last = cut;
    while (last > pos && WHITESPACE.test(text[last - 1]!)) last--;
    out.push([pos, last]);
    pos = cut;
  }
  return out;
}

/** The 1-based number of the line that holds offset `at` (a line break belongs to the line it ends). */
export function lineNumberAt(lines: readonly Line[], at: number): number {
  let lo = 0;
  let hi = lines.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (lines[mid]!.start <= at) lo = mid;
    else hi = mid - 1;
  }
  return lines[lo]!.number;
}
