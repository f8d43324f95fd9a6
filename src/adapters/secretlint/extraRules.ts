import type { SecretLintRuleCreator } from '@secretlint/types';

/**
 * Rules RAG Ledger adds to secretlint's recommended ones, for what they leave through and people
 * keep in notes and backups: passwords assigned in config files, credentials in any URL (with the
 * characters real passwords have), API keys of the shapes the preset's patterns miss, and private
 * key blocks that do not start a line (in a string literal).
 */

/** Values that stand for a secret rather than being one (or are code: a regular expression, a hex constant). */
const PLACEHOLDER = /^(?:[$%@<({[/]|0x[0-9a-f]+$|\*{3,}|x{4,}$|\.{3})|\{\{|^(?:changeme|change_me|password|passwd|secret|example|redacted|none|null|nil|undefined|true|false|string|str|bytes|required|optional|your[-_].*|my[-_].*|\w*_here)$/i;
/** An identifier (a variable or a property path), i.e. code, not a literal. */
const IDENTIFIER = /^[A-Za-z_][A-Za-z_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*$/;

function isSecretValue(value: string): boolean {
  if (value.length < 6 || PLACEHOLDER.test(value)) return false;
  // Vendors' documented example keys (AWS's wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY), as the preset allows them.
  if (value.includes('EXAMPLE')) return false;
  if (IDENTIFIER.test(value)) return false;
  return !/[()]/.test(value);
}

type Found = { readonly start: number; readonly end: number };

function rule(id: string, description: string, scan: (text: string) => Iterable<Found>): SecretLintRuleCreator {
  const messages = { FOUND: { en: () => `found ${description}` } };
  return {
    messages,
    meta: { id, type: 'scanner', recommended: true, supportedContentTypes: ['text'] },
    create(context) {
      const t = context.createTranslator(messages);
      return {
        file(source) {
          for (const f of scan(source.content)) context.report({ message: t('FOUND'), range: [f.start, f.end] });
        },
      };
    },
  };
}

const KEY = String.raw`(?:[A-Za-z0-9]+[_.-])*(?:password|passwd|pwd|passphrase|(?<=[_.-])pass|secret|secret[_-]?key|access[_-]?key|api[_-]?key|apikey|access[_-]?token|auth[_-]?token|client[_-]?secret|private[_-]?key)`;
const ASSIGNMENT = new RegExp(String.raw`(?<![A-Za-z0-9])["']?${KEY}["']?[ \t]*(?::=|=>|=|:)[ \t]*(["']?)([^\s"'\`,;]+)\1`, 'gi');

/** A password, key or token assigned a literal in configs, notes and backups (`DB_PASS=…`, `"apiKey": "…"`). */
export const passwordAssignmentRule = rule('ragledger/password-assignment', 'a password or key assigned a value', function* (text) {
  for (const m of text.matchAll(ASSIGNMENT)) {
    const value = m[2] ?? '';
    if (!isSecretValue(value)) continue;
    const start = (m.index ?? 0) + m[0].lastIndexOf(value);
    yield { start, end: start + value.length };
  }
});

const URL_CREDENTIAL = /\b[a-z][a-z0-9+.-]{1,20}:\/\/([^\s:/@"'`<>]+):([^\s@/"'`<>]+)@[A-Za-z0-9.-]+/gi;

/** `scheme://user:password@host` for any scheme, whatever characters the password has. */
export const urlCredentialRule = rule('ragledger/url-credential', 'a password in a URL', function* (text) {
  for (const m of text.matchAll(URL_CREDENTIAL)) {
    const password = m[2] ?? '';
    if (!isSecretValue(password) && !/\d/.test(password)) continue;
    if (PLACEHOLDER.test(password)) continue;
    const start = (m.index ?? 0) + m[0].indexOf(`:${password}@`) + 1;
    yield { start, end: start + password.length };
  }
});

/** OpenAI (`sk-…`, `sk-proj-…`) and SendGrid (`SG.….…`) keys with the `-` and `_` real keys contain. */
const API_KEY = /(?<![A-Za-z0-9_-])(?:sk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{32,}|SG\.[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{16,})/g;

export const apiKeyRule = rule('ragledger/api-key', 'an API key', function* (text) {
  for (const m of text.matchAll(API_KEY)) yield { start: m.index ?? 0, end: (m.index ?? 0) + m[0].length };
});

/** A whole private-key block wherever it starts (the preset's rule wants it at the start of a line). */
const PRIVATE_KEY_BLOCK = /-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----[\s\S]*?(?:-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----|$)/g;

export const privateKeyBlockRule = rule('ragledger/private-key', 'a private key block', function* (text) {
  for (const m of text.matchAll(PRIVATE_KEY_BLOCK)) yield { start: m.index ?? 0, end: (m.index ?? 0) + m[0].length };
});

export const EXTRA_RULES: readonly SecretLintRuleCreator[] = [passwordAssignmentRule, urlCredentialRule, apiKeyRule, privateKeyBlockRule];
