import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { linkSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { FsWorkspaceSource } from '../../src/adapters/fs/fsWorkspaceSource.js';
import { documentDescription, documentSize } from '../../src/app/ingest/documentLabels.js';
import type { SourceFile, WalkRules, WorkspaceSource } from '../../src/app/ingest/workspaceSource.js';
import type { RecordedEvent } from '../../src/core/eventStore.js';
import { DEFAULT_MAX_BYTES } from '../../src/core/ingest/documentCheck.js';
import { byStream, ingestOptions, openHarness, streamOf, writeFiles } from '../support/ingestHarness.js';
import { tempDir } from '../support/tmp.js';

// Made-up credentials in the right shapes (none of them exists).
const AWS_ID = 'AKIAZ7QW3ERT5YUI2OPX';
const AWS_SECRET = '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';
const GITHUB = 'ghp_R8s2Kq9Lm4Nx7Vb1Cz5Hd3Jf6Gt0Wy2Pe4Ua';
const SLACK = 'xoxb-482019375162-5029384756123-Zq8Xw2Ev4Rt6Yu8Io0Pa2Sd4';
const PASSWORD = 'Kangaroo#4821zq';
const SECRETS = [AWS_ID, AWS_SECRET, GITHUB, SLACK, PASSWORD];

const FILES: Record<string, string> = {
  'config-notes.md': `# Notes\n\nUpload credentials:\n\n    aws_access_key_id = ${AWS_ID}\n    aws_secret_access_key = ${AWS_SECRET}\n\nAsk ops before rotating.\n`,
  'settings.yaml': `service: search\ngithub:\n  token: ${GITHUB}\nslack:\n  bot_token: ${SLACK}\nretries: 3\n`,
  'backup/old-config.txt': `host = db.internal.example\nuser = admin\npassword = ${PASSWORD}\n`,
  'guide.md': '# Guide\n\nNothing secret here: set `GITHUB_TOKEN` in your shell.\n',
};

/** Every byte under the store (the sql.js log file, LanceDB's folder) that spells a secret. */
function leaks(storeDir: string, secrets: readonly string[]): string[] {
  const found: string[] = [];
  const visit = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) visit(path);
      else if (entry.isFile()) {
        const bytes = readFileSync(path);
        for (const s of secrets) if (bytes.includes(Buffer.from(s, 'utf8'))) found.push(`${s} in ${path}`);
      }
    }
  };
  visit(storeDir);
  return found;
}

const last = (events: readonly RecordedEvent[] | undefined): RecordedEvent | undefined => events?.at(-1);

describe('ingest: secrets in the content', () => {
  test('by default a file holding a secret is rejected with the rule and the line, never the secret', async (t) => {
    const ws = tempDir(t, 'rag-ledger-ws-');
    writeFiles(ws, FILES);
    const h = await openHarness(t);
    const report = await h.service.ingest(new FsWorkspaceSource(ws), ingestOptions());
    assert.deepEqual(report.rejected.map((r) => [r.path, r.reason]).sort(), [
      ['backup/old-config.txt', 'secret'],
      ['config-notes.md', 'secret'],
      ['settings.yaml', 'secret'],
    ]);
    const byPath = new Map(report.rejected.map((r) => [r.path, r.detail]));
    assert.match(byPath.get('config-notes.md')!, /^a secret \(aws\) at line 5, and 1 more \(aws at line 6\); secrets are never ingested/);
    assert.match(byPath.get('settings.yaml')!, /^a secret \(github\) at line 3, and 1 more \(slack at line 5\)/);
    assert.match(byPath.get('backup/old-config.txt')!, /^a secret \(password-assignment\) at line 3/);
    const streams = byStream(await h.events());
    const rejected = last(streams.get(streamOf('settings.yaml')));
    assert.ok(rejected?.type === 'DocumentRejected');
    assert.equal(rejected.data.size_bytes, Buffer.byteLength(FILES['settings.yaml']!));
    assert.equal(last(streams.get(streamOf('guide.md')))?.type, 'DocumentChunked');
    await h.ledger.projections.flush();
    assert.deepEqual(leaks(h.storeDir, SECRETS), []);
    // Unchanged files with the same verdict append nothing on the next ingest.
    const again = await h.service.ingest(new FsWorkspaceSource(ws), ingestOptions());
    assert.equal(again.submitted, 0);
  });

  test('with secrets: redact, each secret is replaced by a marker and the document records how many', async (t) => {
    const ws = tempDir(t, 'rag-ledger-ws-');
    writeFiles(ws, FILES);
    const h = await openHarness(t);
    const redact = ingestOptions({ documents: { maxBytes: DEFAULT_MAX_BYTES, allowSecrets: false, secrets: 'redact' } });
    const report = await h.service.ingest(new FsWorkspaceSource(ws), redact);
    assert.deepEqual(report.rejected, []);
    const streams = byStream(await h.events());
    const submitted = streams.get(streamOf('settings.yaml'))!.find((e) => e.type === 'DocumentSubmitted');
    assert.ok(submitted?.type === 'DocumentSubmitted');
    assert.equal(submitted.data.raw_content, 'service: search\ngithub:\n  token: [REDACTED:github]\nslack:\n  bot_token: [REDACTED:slack]\nretries: 3\n');
    assert.ok(submitted.data.content_hash?.startsWith('redacted-sha256:'));
    const validated = streams.get(streamOf('config-notes.md'))!.find((e) => e.type === 'DocumentValidated');
    assert.ok(validated?.type === 'DocumentValidated');
    assert.equal(validated.data.secrets_redacted, 2);
    await h.ledger.runner.catchUp();
    const docs = new Map(h.ledger.readModels.documents().map((d) => [d.source, d]));
    assert.equal(docs.get('settings.yaml')?.secrets_redacted, 2);
    assert.equal(docs.get('backup/old-config.txt')?.secrets_redacted, 1);
    assert.equal(docs.get('guide.md')?.secrets_redacted, 0);
    assert.equal(documentDescription(docs.get('settings.yaml')!, 'pending', undefined), 'pending · 2 secrets redacted');
    const chunks = streams.get(streamOf('backup/old-config.txt'))!.find((e) => e.type === 'DocumentChunked');
    assert.ok(chunks?.type === 'DocumentChunked');
    assert.match(chunks.data.chunks.map((c) => c.text).join(''), /password = \[REDACTED:password-assignment\]/);
    await h.ledger.projections.flush();
    assert.deepEqual(leaks(h.storeDir, SECRETS), []);
  });

  test('redact: a private-key block is redacted; one no detector found is still rejected', async (t) => {
    const body = 'MIIEowIBAAKCAQEAq9Zr4Kx2LpR7tVb8NcYh1jWs5ZeD3aGu6iOkTqMw0PnXy';
    const ws = tempDir(t, 'rag-ledger-ws-');
    writeFiles(ws, { 'keys.ts': `export const KEY = \`-----BEGIN RSA PRIVATE KEY-----\n${body}\n-----END RSA PRIVATE KEY-----\`;\n` });
    const documents = { maxBytes: DEFAULT_MAX_BYTES, allowSecrets: false, secrets: 'redact' as const };
    const h = await openHarness(t);
    const report = await h.service.ingest(new FsWorkspaceSource(ws), ingestOptions({ documents }));
    assert.deepEqual(report.rejected, []);
    const submitted = (await h.events()).find((e) => e.type === 'DocumentSubmitted');
    assert.ok(submitted?.type === 'DocumentSubmitted');
    assert.equal(submitted.data.raw_content, 'export const KEY = `[REDACTED:private-key]`;\n');
    // Without a detector, the block check still stands after (non-)redaction.
    const bare = await openHarness(t);
    const { secretScanner: _unused, ...withoutScanner } = ingestOptions({ documents });
    const refused = await bare.service.ingest(new FsWorkspaceSource(ws), withoutScanner);
    assert.deepEqual(refused.rejected.map((r) => r.reason), ['secret']);
    assert.deepEqual(leaks(h.storeDir, [body]), []);
    assert.deepEqual(leaks(bare.storeDir, [body]), []);
  });

  test('a secretlint-disable comment in a document does not hide its secret', async (t) => {
    const ws = tempDir(t, 'rag-ledger-ws-');
    writeFiles(ws, { 'hidden.md': `<!-- secretlint-disable -->\ntoken: ${GITHUB}\n<!-- secretlint-enable -->\n` });
    const h = await openHarness(t);
    const report = await h.service.ingest(new FsWorkspaceSource(ws), ingestOptions());
    assert.deepEqual(report.rejected.map((r) => r.reason), ['secret']);
  });
});

describe('ingest: links and sizes', () => {
  test('a link named notes.txt to .env or a hard link to a key file is rejected as a secret', async (t) => {
    const ws = tempDir(t, 'rag-ledger-ws-');
    writeFiles(ws, { 'real/.env': 'API=1\n', 'keys/deploy.pem': 'pem\n', 'a.md': '# A\n' });
    symlinkSync(join('real', '.env'), join(ws, 'notes.txt'));
    linkSync(join(ws, 'keys', 'deploy.pem'), join(ws, 'backup.txt'));
    const h = await openHarness(t);
    const report = await h.service.ingest(new FsWorkspaceSource(ws), ingestOptions());
    const rejected = new Map(report.rejected.map((r) => [r.path, `${r.reason}: ${r.detail}`]));
    assert.match(rejected.get('notes.txt')!, /^secret: the link leads to "\.env" looks like a secret/);
    assert.match(rejected.get('backup.txt')!, /^secret: backup\.txt: it is a hard link to "keys\/deploy\.pem", which looks like a secret/);
    assert.deepEqual(leaks(h.storeDir, ['API=1', 'pem\n']), []);
  });

  test('links that are not followed are recorded as skipped, with the link and why', async (t) => {
    const ws = tempDir(t, 'rag-ledger-ws-');
    const outside = tempDir(t, 'rag-ledger-outside-');
    writeFiles(ws, { 'a.md': '# A\n', 'docs/b.md': '# B\n' });
    writeFiles(outside, { 'private.md': 'private\n' });
    symlinkSync(join(outside, 'private.md'), join(ws, 'elsewhere.md'));
    symlinkSync('..', join(ws, 'docs', 'up'));
    symlinkSync('missing.md', join(ws, 'dangling.md'));
    const h = await openHarness(t);
    await h.service.ingest(new FsWorkspaceSource(ws), ingestOptions());
    await h.ledger.runner.catchUp();
    const docs = new Map(h.ledger.readModels.documents().map((d) => [d.source, d]));
    for (const [path, why] of [
      ['elsewhere.md', /^link: the link leads outside the workspace \(to .*private\.md\)/],
      ['docs/up', /^link: the link leads to a folder already walked \(\.\)/],
      ['dangling.md', /^link: the link's target \(missing\.md\) does not exist/],
    ] as const) {
      const doc = docs.get(path);
      assert.equal(doc?.state, 'rejected', path);
      assert.match(doc.last_error ?? '', why);
      assert.equal(documentDescription(doc, 'rejected', undefined), 'skipped: link not followed');
      assert.equal(documentSize(doc), 'size unknown');
    }
    assert.equal(docs.get('a.md')?.state, 'chunked');
  });

  test('a rejected file records its real size', async (t) => {
    const ws = tempDir(t, 'rag-ledger-ws-');
    const png = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52, 1, 2, 3]);
    writeFiles(ws, { 'logo.png': png, 'big.txt': 'x'.repeat(5000) });
    const h = await openHarness(t);
    await h.service.ingest(new FsWorkspaceSource(ws), ingestOptions({ documents: { maxBytes: 4096, allowSecrets: false } }));
    await h.ledger.runner.catchUp();
    const docs = new Map(h.ledger.readModels.documents().map((d) => [d.source, d]));
    assert.equal(documentSize(docs.get('logo.png')!), `${png.length} bytes`);
    assert.equal(documentSize(docs.get('big.txt')!), '5000 bytes');
  });
});

/** The real fs source, with `between` run after the walk and before the first read. */
class SwappingSource implements WorkspaceSource {
  constructor(
    private readonly inner: FsWorkspaceSource,
    private readonly between: () => void,
  ) {}
  get root(): string {
    return this.inner.root;
  }
  async *walk(rules: WalkRules, signal?: AbortSignal): AsyncIterable<SourceFile> {
    yield* this.inner.walk(rules, signal);
    this.between();
  }
  read(path: string, limits: { maxBytes: number }): Promise<Uint8Array> {
    return this.inner.read(path, limits);
  }
  exists(path: string): Promise<boolean> {
    return this.inner.exists(path);
  }
}

describe('ingest: what is read is what was checked', () => {
  test('files swapped for a link to /etc/passwd and for a FIFO between walk and read are rejected; ingest never hangs', { timeout: 30_000 }, async (t) => {
    const ws = tempDir(t, 'rag-ledger-ws-');
    writeFiles(ws, { 'a.md': '# A\n', 'notes.md': 'mine\n', 'pipe.md': 'mine too\n' });
    const h = await openHarness(t);
    const source = new SwappingSource(new FsWorkspaceSource(ws), () => {
      rmSync(join(ws, 'notes.md'));
      symlinkSync('/etc/passwd', join(ws, 'notes.md'));
      rmSync(join(ws, 'pipe.md'));
      execFileSync('mkfifo', [join(ws, 'pipe.md')]);
    });
    const report = await h.service.ingest(source, ingestOptions());
    const rejected = new Map(report.rejected.map((r) => [r.path, `${r.reason}: ${r.detail}`]));
    assert.match(rejected.get('notes.md')!, /^link: notes\.md: it leads outside the workspace \(to \/etc\/passwd\) now/);
    assert.match(rejected.get('pipe.md')!, /^unreadable: pipe\.md: it is not a regular file now \(a FIFO\)/);
    assert.equal(statSync(join(ws, 'a.md')).isFile(), true);
    assert.deepEqual(leaks(h.storeDir, ['root:x:0:0']), []);
  });
});
