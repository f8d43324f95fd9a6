import type { SecretLintRuleContext, SecretLintRuleCreator, SecretLintSourceCode } from '@secretlint/types';
import type { SecretScanner } from '../../app/ingest/secretScanner.js';
import type { SecretFinding } from '../../core/ingest/secretFindings.js';
import { EXTRA_RULES } from './extraRules.js';

interface ConfiguredRule {
  readonly rule: SecretLintRuleCreator;
  readonly options: Record<string, unknown>;
}

/**
 * secretlint's recommended rules, passed as modules (not names resolved at run time) so that the
 * bundles carry them. Departures from the preset: AWS access key ids are reported too (half of a
 * key pair is still a credential); the rule that honours `secretlint-disable` comments is left
 * out (a comment in a document must not be able to hide a secret from ingest); and the rules in
 * extraRules.ts are added (password assignments, credentials in URLs, API keys the preset misses).
 */
async function load(extraRules: boolean): Promise<readonly ConfiguredRule[]> {
  // An ES module: imported dynamically from this CommonJS build; the bundler inlines it (a string literal).
  const { rules } = await import('@secretlint/secretlint-rule-preset-recommend');
  const preset = (rules as readonly SecretLintRuleCreator[])
    .filter((rule) => rule.meta.id !== '@secretlint/secretlint-rule-filter-comments')
    .map((rule) => ({ rule, options: rule.meta.id === '@secretlint/secretlint-rule-aws' ? { enableIDScanRule: true } : {} }));
  return [...preset, ...(extraRules ? EXTRA_RULES.map((rule) => ({ rule, options: {} })) : [])];
}

/** The source a rule sees: text only, with no file path (so no rule reads a file from disk by itself). */
function sourceOf(text: string): SecretLintSourceCode {
  let starts: number[] | undefined;
  const lineStarts = (): number[] => {
    if (!starts) {
      starts = [0];
      for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) starts.push(i + 1);
    }
    return starts;
  };
  const indexToPosition = (index: number): { line: number; column: number } => {
    const s = lineStarts();
    let lo = 0;
    let hi = s.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (s[mid]! <= index) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: index - s[lo]! };
  };
  const positionToIndex = (pos: { line: number; column: number }): number => (lineStarts()[pos.line - 1] ?? text.length) + pos.column;
  return {
    hasBOM: false,
    content: text,
    filePath: undefined,
    physicalFilePath: undefined,
    contentType: 'text',
    ext: '',
    getFilePath: () => undefined,
    getPhysicalFilePath: () => undefined,
    indexToPosition,
    positionToIndex,
    rangeToLocation: ([start, end]) => ({ start: indexToPosition(start), end: indexToPosition(end) }),
    locationToRange: (loc) => [positionToIndex(loc.start), positionToIndex(loc.end)],
  };
}

/**
 * The secret scanner backed by secretlint's rules. It runs the rules itself, the way
 * `@secretlint/core` does for one text, without the core's profiler: that keeps a global
 * performance mark per rule per file and a list of every one, so scanning a workspace grew
 * slower with every file (quadratic; 2,100 files took 15 times as long as the ingest itself) and
 * the memory was never given back in a long-lived extension host.
 */
export class SecretlintScanner implements SecretScanner {
  private loaded: Promise<readonly ConfiguredRule[]> | undefined;

  /** `extraRules: false` runs secretlint's preset alone (to measure what the added rules catch). */
  constructor(private readonly options: { readonly extraRules?: boolean } = {}) {}

  async scan(text: string): Promise<readonly SecretFinding[]> {
    const rules = await (this.loaded ??= load(this.options.extraRules !== false));
    const source = sourceOf(text);
    const findings: SecretFinding[] = [];
    for (const { rule, options } of rules) {
      const types = rule.meta.supportedContentTypes;
      if (!types.includes('text') && !types.includes('all')) continue;
      const ruleId = rule.meta.id;
      const context: SecretLintRuleContext = {
        sharedOptions: {},
        // Messages are never used: secretlint's spell the secret out.
        createTranslator: () => (messageId) => ({ message: '', messageId: String(messageId), data: undefined }),
        report: (d) => findings.push({ ruleId, start: d.range[0], end: d.range[1] }),
        ignore: () => {},
      };
      await rule.create(context, options).file?.(source);
    }
    return findings;
  }
}
