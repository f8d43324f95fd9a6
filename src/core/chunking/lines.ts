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
 * a paragraph longer than that is cut between lines, and a single line longer than that stays whole.
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
