/** Markdown quoting for text from the log (documents, questions, answers, errors): it must stay text. */

/** The longest run of `char` in `text`. */
export function longestRun(text: string, char: string): number {
  let longest = 0;
  let run = 0;
  for (const c of text) {
    run = c === char ? run + 1 : 0;
    if (run > longest) longest = run;
  }
  return longest;
}

/**
 * A backtick fence for `text`: longer than any run of backticks inside it (at least three), so
 * no line of the text can close it (CommonMark closes a fence only with a run at least as long;
 * a tilde line never closes a backtick fence).
 */
export const fenceFor = (text: string): string => '`'.repeat(Math.max(3, longestRun(text, '`') + 1));

const PUNCTUATION = /[\\`*_{}[\]()#+\-.!|<>&~$:"'=]/g;

/**
 * Text to show inside Markdown (a tooltip, a hover) exactly as written: every ASCII punctuation
 * character Markdown, HTML or theme icons could act on is backslash-escaped, and line breaks become
 * spaces, so nothing can start a heading, list, quote, code block, link, image, HTML tag, entity or icon.
 */
export function escapeMarkdown(text: string): string {
  return text.replace(/[ \t]*(?:\r\n|\r|\n|\u2028|\u2029)\s*/g, ' ').replace(PUNCTUATION, '\\$&');
}
