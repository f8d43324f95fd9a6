import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { repoRoot } from './cli.js';

/**
 * The Rust book corpus (2,100 mixed Markdown/Rust/TOML/image files): $RAG_LEDGER_CORPUS, else
 * `../shared/corpora/rust-book` next to the repository.
 */
export const rustBookCorpus = process.env.RAG_LEDGER_CORPUS || join(repoRoot, '..', 'shared', 'corpora', 'rust-book');

/**
 * The corpus folder, or null after skipping the test with a warning on stderr (a skipped corpus test
 * must not pass unnoticed).
 */
export function corpusOrSkip(t: TestContext): string | null {
  if (existsSync(rustBookCorpus)) return rustBookCorpus;
  const why = `the Rust book corpus is missing at ${rustBookCorpus}: this test did NOT run. Put the corpus there or set RAG_LEDGER_CORPUS to a copy of it.`;
  process.stderr.write(`\n*** WARNING: ${why}\n\n`);
  t.skip(why);
  return null;
}
