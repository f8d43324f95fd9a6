import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { documentDescription, documentSize } from '../../src/app/ingest/documentLabels.js';
import { describeSecrets, lineOf, redactSecrets, shortRuleId, widen } from '../../src/core/ingest/secretFindings.js';
import type { DocumentStatus } from '../../src/core/projections/documentStatus.js';

const GH = 'ghp_a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8';

describe('secret findings', () => {
  test('a finding is widened to the whole token it touches, so no piece of the secret survives', () => {
    // secretlint's AWS rule reports the secret's length at the offset of its key name.
    const text = 'x\naws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYzz9QKWq1Yz\n';
    const start = text.indexOf('aws_');
    const r = widen(text, { ruleId: 'aws', start, end: start + 40 });
    assert.equal(text.slice(r.start, r.end), 'aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYzz9QKWq1Yz');
    const redacted = redactSecrets(text, [{ ruleId: '@secretlint/secretlint-rule-aws', start, end: start + 40 }]);
    assert.equal(redacted.text, 'x\n[REDACTED:aws]\n');
    assert.doesNotMatch(redacted.text, /9QKWq1Yz/);
  });

  test('redaction replaces each secret by a marker with its rule, merging overlapping findings', () => {
    const text = `token: "${GH}"\nslack: xoxb-1-2-abc\n`;
    const gh = text.indexOf('ghp_');
    const sl = text.indexOf('xoxb');
    const out = redactSecrets(text, [
      { ruleId: '@secretlint/secretlint-rule-github', start: gh, end: gh + GH.length },
      { ruleId: 'ragledger/api-key', start: gh + 4, end: gh + 10 },
      { ruleId: '@secretlint/secretlint-rule-slack', start: sl, end: sl + 12 },
    ]);
    assert.equal(out.text, 'token: "[REDACTED:github]"\nslack: [REDACTED:slack]\n');
    assert.equal(out.redacted, 2);
  });

  test('the rejection names rules and lines, never the secret', () => {
    const text = `a\nb\ntoken: ${GH}\nkey = sk-${'x1'.repeat(20)}\n`;
    const gh = text.indexOf('ghp_');
    const sk = text.indexOf('sk-');
    const detail = describeSecrets(text, [
      { ruleId: '@secretlint/secretlint-rule-github', start: gh, end: gh + GH.length },
      { ruleId: 'ragledger/api-key', start: sk, end: sk + 43 },
    ]);
    assert.equal(detail, 'a secret (github) at line 3, and 1 more (api-key at line 4)');
    assert.ok(!detail.includes('ghp_') && !detail.includes('x1x1'));
  });

  test('short rule ids and line numbers', () => {
    assert.equal(shortRuleId('@secretlint/secretlint-rule-database-connection-string'), 'database-connection-string');
    assert.equal(shortRuleId('ragledger/password-assignment'), 'password-assignment');
    assert.equal(shortRuleId('odd id/with spaces'), 'odd-id-with-spaces');
    assert.equal(lineOf('a\nb\nc', 0), 1);
    assert.equal(lineOf('a\nb\nc', 4), 3);
  });
});

describe('document labels', () => {
  const base: DocumentStatus = { document_id: 'd', source: 'a.md', version: 1, content_hash: null, state: 'indexed', format: 'markdown', byte_count: 120, secrets_redacted: 0, submitted_at: '', updated_at: '', last_error: null, pipelines: {} };
  const counts = { chunks: 3, embedded: 3, indexed: 3, failed: 0 };

  test('a document with redacted secrets says how many', () => {
    assert.equal(documentDescription({ ...base, secrets_redacted: 2 }, 'indexed', counts), 'indexed · v1 · 3 chunks · 2 secrets redacted');
    assert.equal(documentDescription({ ...base, secrets_redacted: 1 }, 'pending', undefined), 'pending · 1 secret redacted');
    assert.equal(documentDescription(base, 'indexed', counts), 'indexed · v1 · 3 chunks');
  });

  test('a rejected file shows its real size; a link not followed is listed as skipped', () => {
    const rejected = { ...base, state: 'rejected' as const, byte_count: 4096, last_error: 'binary: PNG image' };
    assert.equal(documentSize(rejected), '4096 bytes');
    assert.equal(documentDescription(rejected, 'rejected', undefined), 'rejected: binary');
    assert.equal(documentSize({ ...rejected, byte_count: null }), 'size unknown');
    const link = { ...rejected, byte_count: null, last_error: 'link: the link leads outside the workspace (to /etc); links are followed only inside it' };
    assert.equal(documentDescription(link, 'rejected', undefined), 'skipped: link not followed');
  });
});
