import type { Hasher } from '../eventLog.js';
import type { Line } from './lines.js';
import { boundRange, isBlank, lineNumberAt, packParagraphs, paragraphs, splitLines } from './lines.js';
import { digestOf } from '../ids.js';

/** How documents are cut into chunks. Part of the pipeline version: changing it changes results. */
export interface ChunkerConfig {
  /** Markdown: one chunk per heading section, cut between paragraphs beyond this many characters. */
  readonly markdownMaxChars: number;
  /** Code: windows of this many lines… */
  readonly codeWindowLines: number;
  /** …overlapping by this many lines. */
  readonly codeOverlapLines: number;
  /** Other text: paragraphs packed up to this many characters. */
  readonly textMaxChars: number;
}

export const DEFAULT_CHUNKER: ChunkerConfig = { markdownMaxChars: 1500, codeWindowLines: 60, codeOverlapLines: 8, textMaxChars: 1500 };

export type DocumentFormat = 'markdown' | 'code' | 'text';

/** Where a chunk sits in its document: lines are 1-based and inclusive, characters are UTF-16 offsets [start, end). */
export interface ChunkPosition {
  readonly index: number;
  readonly start_line: number;
  readonly end_line: number;
  readonly start_char: number;
  readonly end_char: number;
}

export interface Chunk {
  /** Content-addressed: the same text under the same headings in the same document always gets the same id. */
  readonly chunk_id: string;
  /** The exact text of the document between start_char and end_char. */
  readonly text: string;
  readonly position: ChunkPosition;
  /** Markdown only: the headings above the chunk, outermost first. */
  readonly heading_path?: readonly string[];
}

/** Checks a chunker configuration; returns one message per problem. */
export function checkChunkerConfig(c: ChunkerConfig): string[] {
  const problems: string[] = [];
  const atLeast = (name: keyof ChunkerConfig, min: number): void => {
    if (!Number.isSafeInteger(c[name]) || c[name] < min) problems.push(`${name} must be an integer >= ${min}, got ${String(c[name])}`);
  };
  atLeast('markdownMaxChars', 100);
  atLeast('textMaxChars', 100);
  atLeast('codeWindowLines', 5);
  if (!Number.isSafeInteger(c.codeOverlapLines) || c.codeOverlapLines < 0 || c.codeOverlapLines >= c.codeWindowLines / 2) {
    problems.push(`codeOverlapLines must be an integer from 0 to less than half of codeWindowLines, got ${String(c.codeOverlapLines)}`);
  }
  return problems;
}

interface Piece {
  readonly lines: readonly Line[];
  readonly headingPath?: readonly string[];
}

/** Code windows hold at most this many characters per line of the window on average. */
export const CODE_CHARS_PER_LINE = 100;

/**
 * The most characters (UTF-16 units) one chunk of this format may hold: `markdownMaxChars`,
 * `textMaxChars`, or for code `codeWindowLines` × CODE_CHARS_PER_LINE. A chunk that would be
 * longer (a minified file, a long log line, a base64 blob) is cut at line breaks, then at word
 * boundaries, then at the character limit.
 */
export function maxChunkChars(format: DocumentFormat, config: ChunkerConfig): number {
  return format === 'markdown' ? config.markdownMaxChars : format === 'code' ? config.codeWindowLines * CODE_CHARS_PER_LINE : config.textMaxChars;
}

/** Cuts a document into chunks. Pure and deterministic: the same input always gives the same chunks. */
export function chunkDocument(documentId: string, text: string, format: DocumentFormat, config: ChunkerConfig, hasher: Hasher): Chunk[] {
  const lines = splitLines(text);
  const pieces = format === 'markdown' ? markdownPieces(lines, config) : format === 'code' ? codePieces(lines, config) : textPieces(lines, config);
  const maxChars = maxChunkChars(format, config);
  const seen = new Map<string, number>();
  const chunks: Chunk[] = [];
  for (const piece of pieces) {
    const trimmed = trimBlank(piece.lines);
    if (trimmed.length === 0) continue;
    const first = trimmed[0]!;
    const last = trimmed[trimmed.length - 1]!;
    // Usually one range; several when the piece is longer than the bound (each keeps the lines it spans).
    const ranges: [number, number][] = last.end - first.start <= maxChars ? [[first.start, last.end]] : boundRange(text, first.start, last.end, maxChars);
    for (const [start, end] of ranges) {
      const chunkText = text.slice(start, end);
      const identity = `${(piece.headingPath ?? []).join('\u001f')}\u0000${chunkText}`;
      const occurrence = seen.get(identity) ?? 0;
      seen.set(identity, occurrence + 1);
      const whole = ranges.length === 1;
      chunks.push({
        chunk_id: `ck-${digestOf(hasher, ['chunk', documentId, (piece.headingPath ?? []).join('\u001f'), chunkText, String(occurrence)]).slice(0, 32)}`,
        text: chunkText,
        position: {
          index: chunks.length,
          start_line: whole ? first.number : lineNumberAt(lines, start),
          end_line: whole ? last.number : lineNumberAt(lines, end - 1),
          start_char: start,
          end_char: end,
        },
        ...(piece.headingPath ? { heading_path: piece.headingPath } : {}),
      });
    }
  }
  return chunks;
}

function trimBlank(lines: readonly Line[]): readonly Line[] {
  let a = 0;
  let b = lines.length;
  while (a < b && isBlank(lines[a]!)) a++;
  while (b > a && isBlank(lines[b - 1]!)) b--;
  return lines.slice(a, b);
}

const HEADING = /^ {0,3}(#{1,6})(?:[ \t]+(.*?))?[ \t]*$/;
const FENCE = /^ {0,3}(`{3,}|~{3,})(.*)$/;

interface Section {
  readonly headingPath: readonly string[];
  readonly lines: Line[];
  hasBody: boolean;
}

/** Markdown: heading sections (headings inside fenced code do not count), each cut between paragraphs when long. */
function markdownPieces(lines: readonly Line[], config: ChunkerConfig): Piece[] {
  const sections: Section[] = [{ headingPath: [], lines: [], hasBody: false }];
  const stack: { level: number; title: string }[] = [];
  // CommonMark: a fence closes only with the same character, at least as long, and nothing after it.
  let fence: { char: string; length: number } | null = null;
  for (const line of lines) {
    const f = FENCE.exec(line.text);
    const wasFenced = fence !== null;
    if (f && fence === null) fence = { char: f[1]![0]!, length: f[1]!.length };
    else if (f && fence !== null && f[1]![0] === fence.char && f[1]!.length >= fence.length && f[2]!.trim() === '') fence = null;
    const h = !wasFenced && !f ? HEADING.exec(line.text) : null;
    if (h) {
      const level = h[1]!.length;
      while (stack.length > 0 && stack[stack.length - 1]!.level >= level) stack.pop();
      stack.push({ level, title: (h[2] ?? '').replace(/[ \t]+#+$/, '').trim() });
      sections.push({ headingPath: stack.map((s) => s.title), lines: [line], hasBody: false });
      continue;
    }
    const current = sections[sections.length - 1]!;
    current.lines.push(line);
    if (!isBlank(line)) current.hasBody = true;
  }
  return sections
    .filter((s) => s.hasBody)
    .flatMap((s) => packParagraphs(paragraphs(s.lines), config.markdownMaxChars).map((group) => ({ lines: group, headingPath: s.headingPath })));
}

const DEFINITION =
  /^\s*(?:(?:pub(?:\([^)]*\))?|export|default|async|unsafe|static|public|private|protected|abstract|final|override|extern(?:\s+"[^"]*")?)\s+)*(?:fn|function|def|class|impl|struct|enum|trait|interface|mod|func|type|const\s+fn|macro_rules!)(?:\s|<|\(|$)/;
const LEAD_IN = /^\s*(?:\/\/|\/\*|\*|#\[|#!\[|@)/;

/** Code: windows of lines with overlap, ending before a definition or after a blank line when one is near. */
function codePieces(lines: readonly Line[], config: ChunkerConfig): Piece[] {
  const pieces: Piece[] = [];
  const window = config.codeWindowLines;
  let start = 0;
  while (start < lines.length) {
    let end = Math.min(lines.length, start + window);
    if (end < lines.length) end = preferBoundary(lines, start, end, window);
    pieces.push({ lines: lines.slice(start, end) });
    if (end >= lines.length) break;
    start = Math.max(start + 1, end - config.codeOverlapLines);
    while (start < end && isBlank(lines[start]!)) start++;
  }
  return pieces;
}

/**
 * The best cut at or before `end`, looking back at most a third of a window: before a definition
 * that follows a blank line, else before any definition, else after a blank line. A cut before a
 * definition moves above the comments and attributes that lead into it.
 */
function preferBoundary(lines: readonly Line[], start: number, end: number, window: number): number {
  const floor = Math.max(start + 1, end - Math.floor(window / 3));
  const definitionAt = (k: number): boolean => DEFINITION.test(lines[k]!.text);
  let cut = -1;
  for (let k = end; k >= floor && cut < 0; k--) if (definitionAt(k) && isBlank(lines[k - 1]!)) cut = k;
  for (let k = end; k >= floor && cut < 0; k--) if (definitionAt(k)) cut = k;
  if (cut >= 0) {
    // Move above the lead-in, but keep at least half a window in this chunk (a 40-line doc comment
    // must not turn into a run of one-line chunks).
    while (cut - 1 > start + Math.floor(window / 2) && LEAD_IN.test(lines[cut - 1]!.text)) cut--;
    return cut;
  }
  for (let k = end; k >= floor; k--) if (isBlank(lines[k - 1]!)) return k;
  return end;
}

/** Other text: paragraphs packed up to the size limit. */
function textPieces(lines: readonly Line[], config: ChunkerConfig): Piece[] {
  return packParagraphs(paragraphs(lines), config.textMaxChars).map((group) => ({ lines: group }));
}

/** What is embedded for a chunk: its heading path (markdown) as a first line, then its text. */
export function embeddingText(chunk: Pick<Chunk, 'text' | 'heading_path'>): string {
  const path = chunk.heading_path?.filter((h) => h.length > 0) ?? [];
  return path.length > 0 ? `${path.join(' > ')}\n\n${chunk.text}` : chunk.text;
}
