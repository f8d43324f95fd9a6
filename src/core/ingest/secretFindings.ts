/** Where a detector found a secret in a document's text: [start, end) in UTF-16 code units. */
export interface SecretFinding {
  /** The detector's rule, e.g. "@secretlint/secretlint-rule-github". */
  readonly ruleId: string;
  readonly start: number;
  readonly end: number;
}

/** What to do with a document whose content holds a secret. */
export type SecretPolicy = 'reject' | 'redact';

export const SECRET_POLICIES: readonly SecretPolicy[] = ['reject', 'redact'];

/** "@secretlint/secretlint-rule-github" -> "github": short enough for a marker or a message. */
export function shortRuleId(ruleId: string): string {
  return ruleId.replace(/^(?:@secretlint\/secretlint-rule-|ragledger\/)/, '').replace(/[^A-Za-z0-9._-]/g, '-') || 'secret';
}

/** 1-based line of a UTF-16 offset. */
export function lineOf(text: string, offset: number): number {
  let line = 1;
  for (let i = text.indexOf('\n'); i >= 0 && i < offset; i = text.indexOf('\n', i + 1)) line++;
  return line;
}

/** Characters that end a token around a finding: whitespace, quotes, brackets and separators. */
const BOUNDARY = /[\s"'`<>()[\]{},;]/;

/**
 * A finding widened to the whole token it touches. Detectors report ranges that may cover only
 * part of the secret (a prefix of the right length at the wrong offset, or the value without its
 * tail); cutting at token boundaries means no piece of the secret survives a redaction.
 */
export function widen(text: string, f: SecretFinding): { start: number; end: number } {
  let start = Math.max(0, Math.min(f.start, text.length));
  let end = Math.max(start, Math.min(f.end, text.length));
  while (start > 0 && !BOUNDARY.test(text[start - 1]!)) start--;
  while (end < text.length && !BOUNDARY.test(text[end]!)) end++;
  return { start, end };
}

/** Merged, widened, ordered ranges with the rule of their first finding. */
function ranges(text: string, findings: readonly SecretFinding[]): { start: number; end: number; ruleId: string }[] {
  const wide = findings.map((f) => ({ ...widen(text, f), ruleId: f.ruleId })).sort((a, b) => a.start - b.start || b.end - a.end);
  const out: { start: number; end: number; ruleId: string }[] = [];
  for (const r of wide) {
    const last = out.at(-1);
    if (last && r.start <= last.end) last.end = Math.max(last.end, r.end);
    else out.push({ ...r });
  }
  return out;
}

/** The text with every secret replaced by `[REDACTED:rule]`, and how many were replaced. */
export function redactSecrets(text: string, findings: readonly SecretFinding[]): { text: string; redacted: number } {
  const merged = ranges(text, findings);
  let out = '';
  let at = 0;
  for (const r of merged) {
    out += `${text.slice(at, r.start)}[REDACTED:${shortRuleId(r.ruleId)}]`;
    at = r.end;
  }
  return { text: out + text.slice(at), redacted: merged.length };
}

/**
 * Why a document with secrets is rejected: the rules and lines, never the secret itself.
 * E.g. `a secret (github) at line 4, and 2 more (aws at line 2, slack at line 5)`.
 */
export function describeSecrets(text: string, findings: readonly SecretFinding[]): string {
  const found = ranges(text, findings).map((r) => `${shortRuleId(r.ruleId)} at line ${lineOf(text, r.start)}`);
  const [first, ...rest] = found;
  if (first === undefined) return 'no secret';
  const more = rest.length === 0 ? '' : `, and ${rest.length} more (${rest.slice(0, 4).join(', ')}${rest.length > 4 ? ', …' : ''})`;
  return `a secret (${first.replace(' at ', ') at ')}${more}`;
}
