import type { SecretFinding } from '../../core/ingest/secretFindings.js';

/** The port a document's text is checked for credentials through (API keys, tokens, private keys, passwords in URLs). */
export interface SecretScanner {
  /** Every secret found in the text, with its rule and range. Never throws for odd content. */
  scan(text: string): Promise<readonly SecretFinding[]>;
}
