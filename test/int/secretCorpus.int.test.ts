import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { SecretlintScanner } from '../../src/adapters/secretlint/secretlintScanner.js';
import { EmbedService } from '../../src/app/embedding/embedService.js';
import type { SecretPolicy } from '../../src/core/ingest/secretFindings.js';
import { redactSecrets } from '../../src/core/ingest/secretFindings.js';
import { DEFAULT_MAX_BYTES } from '../../src/core/ingest/documentCheck.js';
import { generateSecretCorpus } from '../fixtures/secrets/secretCorpus.js';
import { ingestOptions } from '../support/ingestHarness.js';
import { FsWorkspaceSource } from '../../src/adapters/fs/fsWorkspaceSource.js';
import { openPipelineHarness } from '../support/pipelineHarness.js';

const corpus = generateSecretCorpus(12, 6);
const real = corpus.secrets.filter((s) => !s.documentedExample);

/** Every file under dir whose bytes contain one of the values. */
function leaks(dir: string, values: readonly string[]): string[] {
  const found: string[] = [];
  const visit = (d: string): void => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const path = join(d, entry.name);
      if (entry.isDirectory()) visit(path);
      else if (entry.isFile()) {
        const bytes = readFileSync(path);
        for (const v of values) if (bytes.includes(Buffer.from(v, 'utf8'))) found.push(`${v.slice(0, 6)}… in ${path}`);
      }
    }
  };
  visit(dir);
  return found;
}

describe('a corpus of fake credentials through the real pipeline', () => {
  /** Ten corpora (seeds 12 to 21) for the detector alone: its numbers should not hang on one seed. */
  const corpora = Array.from({ length: 10 }, (_, i) => (i === 0 ? corpus : generateSecretCorpus(12 + i, 6)));
  const planted = corpora.reduce((n, c) => n + c.secrets.filter((s) => !s.documentedExample).length, 0);
  const cleanFiles = corpora.reduce((n, c) => n + c.clean.length, 0);

  /** Planted secrets a scanner leaves in the text after redaction, and clean files it flags. */
  async function measure(scanner: SecretlintScanner): Promise<{ missed: string[]; falseAlarms: string[] }> {
    const missed: string[] = [];
    const falseAlarms: string[] = [];
    for (const c of corpora) {
      for (const [path, text] of Object.entries(c.files)) {
        const findings = await scanner.scan(text);
        const { text: redacted } = redactSecrets(text, findings);
        for (const s of c.secrets) if (!s.documentedExample && s.path === path && redacted.includes(s.value)) missed.push(s.kind);
        if (c.clean.includes(path) && findings.length > 0) falseAlarms.push(path);
      }
    }
    return { missed, falseAlarms };
  }
  const summary = (xs: readonly string[]): string => [...new Set(xs)].map((k) => `${k} ×${xs.filter((x) => x === k).length}`).join(', ') || 'none';

  test('the detector alone: no planted secret missed, no clean file flagged (the preset alone is measured too)', async (t) => {
    const preset = await measure(new SecretlintScanner({ extraRules: false }));
    t.diagnostic(`secretlint preset alone: ${planted} planted secrets in ${corpora.length} corpora, ${preset.missed.length} missed (${summary(preset.missed)}); ${cleanFiles} clean files, ${preset.falseAlarms.length} false alarms`);
    const full = await measure(new SecretlintScanner());
    t.diagnostic(`with RAG Ledger's rules: ${full.missed.length} missed (${summary(full.missed)}), ${full.falseAlarms.length} false alarms; documented examples let through by design`);
    assert.deepEqual(full.missed, []);
    assert.deepEqual(full.falseAlarms, []);
  });

  for (const policy of ['reject', 'redact'] as const satisfies readonly SecretPolicy[]) {
    test(`secrets: ${policy} — no secret reaches the log or LanceDB; every clean file is accepted`, { timeout: 120_000 }, async (t) => {
      const p = await openPipelineHarness(t, corpus.files);
      const options = ingestOptions({ pipelineVersion: p.pv, documents: { maxBytes: DEFAULT_MAX_BYTES, allowSecrets: false, secrets: policy } });
      const report = await p.h.service.ingest(new FsWorkspaceSource(p.workspace), options);
      await new EmbedService(p.deps).embedPending({ pipelineVersion: p.pv, embedder: p.embedder });
      const synced = await p.indexer.sync(p.pv);
      assert.ok(synced.upserted > 0, 'the clean files reached LanceDB');
      await p.h.ledger.runner.catchUp();
      await p.h.ledger.projections.flush();
      await p.index.close();

      assert.deepEqual(leaks(p.h.storeDir, real.map((s) => s.value)), []);
      const docs = new Map(p.h.ledger.readModels.documents().map((d) => [d.source, d]));
      for (const path of corpus.clean) {
        assert.notEqual(docs.get(path)?.state, 'rejected', `${path}: ${docs.get(path)?.last_error ?? ''}`);
        assert.equal(docs.get(path)?.secrets_redacted, 0, path);
      }
      const withSecrets = [...new Set(real.map((s) => s.path))];
      if (policy === 'reject') {
        for (const path of withSecrets) assert.equal(docs.get(path)?.state, 'rejected', path);
        assert.equal(report.rejected.length, withSecrets.length + 0);
      } else {
        for (const path of withSecrets) assert.ok((docs.get(path)?.secrets_redacted ?? 0) > 0, path);
        const redacted = [...docs.values()].reduce((n, d) => n + d.secrets_redacted, 0);
        t.diagnostic(`redact: ${redacted} secrets redacted in ${withSecrets.length} files; ${report.rejected.length} files rejected`);
        assert.deepEqual(report.rejected, []);
      }
      const examples = corpus.secrets.filter((s) => s.documentedExample);
      t.diagnostic(`documented examples recorded as they are: ${examples.filter((s) => leaks(p.h.storeDir, [s.value]).length > 0).length} of ${examples.length}`);
    });
  }
});
