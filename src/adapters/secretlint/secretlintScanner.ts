import type { SecretLintCoreConfig, SecretLintCoreResult, SecretLintRawSource } from '@secretlint/types';
import type { SecretScanner } from '../../app/ingest/secretScanner.js';
import type { SecretFinding } from '../../core/ingest/secretFindings.js';
import { EXTRA_RULES } from './extraRules.js';

/**
 * secretlint's recommended rules, passed as modules (not names resolved at run time) so that the
 * bundles carry them. Departures from the preset: AWS access key ids are reported too (half of a
 * key pair is still a credential); the rule that honours `secretlint-disable` comments is left
 * out (a comment in a document must not be able to hide a secret from ingest); and the rules in
 * extraRules.ts are added (password assignments, credentials in URLs, API keys the preset misses).
 */
type LintSource = (args: { source: SecretLintRawSource; options: { config: SecretLintCoreConfig; maskSecrets?: boolean; noPhysicFilePath?: boolean } }) => Promise<SecretLintCoreResult>;

async function load(extraRules: boolean): Promise<{ lintSource: LintSource; config: SecretLintCoreConfig }> {
  // ES modules: imported dynamically from this CommonJS build; the bundler inlines them (string literals).
  const [{ lintSource }, { rules }] = await Promise.all([import('@secretlint/core'), import('@secretlint/secretlint-rule-preset-recommend')]);
  const config: SecretLintCoreConfig = {
    rules: rules
      .filter((rule) => rule.meta.id !== '@secretlint/secretlint-rule-filter-comments')
      .map((rule) => ({ id: rule.meta.id, rule, ...(rule.meta.id === '@secretlint/secretlint-rule-aws' ? { options: { enableIDScanRule: true } } : {}) }))
      .concat((extraRules ? EXTRA_RULES : []).map((rule) => ({ id: rule.meta.id, rule }))),
  };
  return { lintSource, config };
}

/** The secret scanner backed by secretlint. Works on the text only: it never reads a file itself. */
export class SecretlintScanner implements SecretScanner {
  private loaded: ReturnType<typeof load> | undefined;

  /** `extraRules: false` runs secretlint's preset alone (to measure what the added rules catch). */
  constructor(private readonly options: { readonly extraRules?: boolean } = {}) {}

  async scan(text: string): Promise<readonly SecretFinding[]> {
    const { lintSource, config } = await (this.loaded ??= load(this.options.extraRules !== false));
    const result = await lintSource({
      // noPhysicFilePath: rules that would read the file from disk by its path stay off.
      source: { filePath: 'document.txt', content: text, contentType: 'text' },
      options: { config, maskSecrets: true, noPhysicFilePath: true },
    });
    return result.messages.map((m) => ({ ruleId: m.ruleId, start: m.range[0], end: m.range[1] }));
  }
}
