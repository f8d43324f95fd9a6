import assert from 'node:assert/strict';
import { chmodSync, existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { SECRET_KEY_NAME, cliSigner, ed25519Check, generateSigningKeyPem, secretStoreSigner, setDefaultHeadSigner, signerFromPem } from '../../src/adapters/node/signing.js';
import { sha256 } from '../../src/adapters/node/sha256.js';
import { SqlJsEventStore } from '../../src/adapters/sqljs/sqljsEventStore.js';
import { runCli } from '../../src/cli/main.js';
import { hashEvent } from '../../src/core/eventLog.js';
import type { RawEvent } from '../../src/core/eventStore.js';
import { SEAL_STREAM, headMessage } from '../../src/core/signing.js';
import { WorkspaceEngine } from '../../src/adapters/workspaceEngine.js';
import { DEFAULT_MAX_BYTES } from '../../src/core/ingest/documentCheck.js';
import { buildDist, cli, recordingIo } from '../support/cli.js';
import { writeFiles } from '../support/ingestHarness.js';
import { SAMPLE_FILES, TINY_PIPELINE } from '../support/pipelineHarness.js';
import { tempDir } from '../support/tmp.js';

const doc = (id: string): string => JSON.stringify({ document_id: id, source: `docs/${id}.md`, raw_content: `content of ${id}`, submitted_at: '2026-01-02T03:04:05Z' });

/** A 0600 key file and the environment that points the CLI at it. */
function keyEnv(dir: string, name = 'key.pem'): { file: string; env: NodeJS.ProcessEnv } {
  const file = join(dir, name);
  writeFileSync(file, generateSigningKeyPem(), { mode: 0o600 });
  return { file, env: { RAG_LEDGER_SIGNING_KEY_FILE: file, RAG_LEDGER_SIGNING_KEY: '' } };
}

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => (statSync(join(dir, n)).isDirectory() ? walk(join(dir, n)) : [join(dir, n)]));
}

interface Line {
  position: number;
  streamId: string;
  type: string;
  data: Record<string, unknown>;
  metadata: unknown;
  eventId: string;
  streamVersion: number;
  schemaVersion: number;
  recordedAt: string;
  prevHash: string;
  hash: string;
  attachment: string | null;
  file: string;
}

function readArchive(dir: string): Line[] {
  const lines: Line[] = [];
  for (const file of walk(join(dir, 'events'))) {
    for (const text of readFileSync(file, 'utf8').split('\n')) if (text.trim()) lines.push({ ...(JSON.parse(text) as Line), file });
  }
  return lines.sort((a, b) => a.position - b.position);
}

/**
 * What an attacker without the key does: rewrites the events, recomputes every hash (a seal's
 * signed position and hash too), and points the manifest at the new head, keeping its signature.
 */
function rewriteArchive(dir: string, lines: Line[]): void {
  let prev = '0'.repeat(64);
  for (const l of lines) {
    if (l.type === 'HeadSigned') l.data = { ...l.data, position: l.position - 1, hash: prev };
    l.prevHash = prev;
    const raw: Omit<RawEvent, 'hash'> = { position: l.position, eventId: l.eventId, streamId: l.streamId, streamVersion: l.streamVersion, type: l.type, schemaVersion: l.schemaVersion, dataJson: JSON.stringify(l.data), metadataJson: JSON.stringify(l.metadata), recordedAt: l.recordedAt, prevHash: prev, attachment: null };
    l.hash = hashEvent(sha256, raw);
    prev = l.hash;
  }
  for (const file of walk(join(dir, 'events'))) writeFileSync(file, '');
  for (const l of lines) {
    const { file, ...line } = l;
    writeFileSync(file, `${JSON.stringify(line)}\n`, { flag: 'a' });
  }
  const manifestPath = join(dir, 'manifest.json');
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as Record<string, unknown>;
  const last = lines.at(-1)!;
  writeFileSync(manifestPath, JSON.stringify({ ...manifest, events: lines.length, headPosition: last.position, headHash: last.hash }));
}

before(() => buildDist());
after(() => setDefaultHeadSigner(null));

describe('signed heads (CLI)', () => {
  /** A store of two appends, each sealed: doc a (1), seal (2), doc b (3), seal (4); and its export. */
  function signedStore(): { root: string; store: string; env: NodeJS.ProcessEnv; archive: string } {
    const root = tempDir();
    const { env } = keyEnv(root);
    const store = join(root, 'store');
    for (const id of ['a', 'b']) {
      const r = cli(['append', '--stream', `document-${id}`, '--type', 'DocumentSubmitted', '--data', doc(id), '--store', store], { env });
      assert.equal(r.code, 0, r.stderr);
    }
    const archive = join(root, 'archive');
    const exported = cli(['export', archive, '--store', store], { env });
    assert.equal(exported.code, 0, exported.stderr);
    return { root, store, env, archive };
  }

  test('each command that appended seals its head; verify checks the seals and prints the head as POSITION:HASH', () => {
    const { store } = signedStore();
    const log = cli(['log', '--json', '--store', store]).stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string; stream_id?: string; streamId?: string });
    assert.deepEqual(log.map((e) => e.type), ['DocumentSubmitted', 'HeadSigned', 'DocumentSubmitted', 'HeadSigned']);
    const v = cli(['verify', '--store', store]);
    assert.equal(v.code, 0, v.stderr);
    // Events appended without the key (none configured) are reported as after the last signed head.
    assert.equal(cli(['append', '--stream', 'document-c', '--type', 'DocumentSubmitted', '--data', doc('c'), '--store', store]).code, 0);
    assert.match(cli(['verify', '--store', store]).stdout, /last signed head 3:[0-9a-f]{64}; warning: 1 event after the last signed head\n$/);
    assert.match(v.stdout, /^ok: 4 events verified, head 4:[0-9a-f]{64}\nsigned: 2 seals by key [0-9a-f]{16}, last signed head 3:[0-9a-f]{64}\n$/);
  });

  test('an event edited in an archive, every later hash and the manifest recomputed: import fails on the signature', () => {
    const { root, archive } = signedStore();
    const lines = readArchive(archive);
    lines[0]!.data = { ...lines[0]!.data, raw_content: 'content the attacker prefers' };
    rewriteArchive(archive, lines);
    const target = join(root, 'imported');
    const r = cli(['import', archive, '--store', target]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /signature of head 4 does not verify/);
    assert.equal(r.stderr.trim().split('\n').length, 1);

    // Without the manifest's signature, the seals inside the log catch it.
    const manifestPath = join(archive, 'manifest.json');
    const { signature: _dropped, ...unsigned } = JSON.parse(readFileSync(manifestPath, 'utf8')) as Record<string, unknown>;
    writeFileSync(manifestPath, JSON.stringify(unsigned));
    const again = cli(['import', archive, '--store', join(root, 'imported2')]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /manifest carries no signature/);
  });

  test('the seals inside a rewritten log fail import even when the archive check is bypassed', async () => {
    const { root, archive } = signedStore();
    const lines = readArchive(archive);
    lines[0]!.data = { ...lines[0]!.data, raw_content: 'edited' };
    rewriteArchive(archive, lines);
    const raws = readArchive(archive).map((l): RawEvent => ({ position: l.position, eventId: l.eventId, streamId: l.streamId, streamVersion: l.streamVersion, type: l.type, schemaVersion: l.schemaVersion, dataJson: JSON.stringify(l.data), metadataJson: JSON.stringify(l.metadata), recordedAt: l.recordedAt, prevHash: l.prevHash, hash: l.hash, attachment: null }));
    const store = await SqlJsEventStore.open(join(root, 'direct'), { headSigner: null });
    try {
      await assert.rejects(store.importRaw(raws), /position 2.*signature of head 1 does not verify/);
    } finally {
      await store.close();
    }
  });

  test('the last events dropped and the manifest pointed at the new last event: import fails; --expect-head catches the shorter log', () => {
    const { root, archive, store } = signedStore();
    const head = /head (\d+:[0-9a-f]{64})/.exec(cli(['verify', '--store', store]).stdout)![1]!;
    const lines = readArchive(archive).slice(0, 2);
    rewriteArchive(archive, lines);
    const r = cli(['import', archive, '--store', join(root, 'imported')]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /signature of head 2 does not verify/);

    // A store cut the same way (the import of a valid archive taken earlier) verifies by itself:
    // only the head kept elsewhere shows what is missing.
    const earlier = join(root, 'earlier');
    const env = signedStoreEnv(root);
    assert.equal(cli(['append', '--stream', 'document-a', '--type', 'DocumentSubmitted', '--data', doc('a'), '--store', earlier], { env }).code, 0);
    assert.equal(cli(['verify', '--store', earlier]).code, 0);
    const expect = cli(['verify', '--store', earlier, '--expect-head', head]);
    assert.equal(expect.code, 1);
    assert.equal(expect.stderr.trim().split('\n').length, 1);
    assert.match(expect.stderr, /the log ends at position 2, before the expected head 4: events were dropped/);
  });

  test('--expect-head passes with the right head, fails on a rewritten one, refuses a malformed one', () => {
    const { store } = signedStore();
    const head = /head (\d+:[0-9a-f]{64})/.exec(cli(['verify', '--store', store]).stdout)![1]!;
    const ok = cli(['verify', '--store', store, '--expect-head', head]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, new RegExp(`expected: head ${head} is in the log`));
    const earlier = cli(['verify', '--store', store, '--expect-head', head.replace(/^4:/, '3:')]);
    assert.equal(earlier.code, 1);
    assert.match(earlier.stderr, /the hash at position 3 is [0-9a-f]{64}, not the expected [0-9a-f]{64}: the log was rewritten/);
    const bad = cli(['verify', '--store', store, '--expect-head', '4:xyz']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /POSITION:HASH/);
  });

  test('a key file readable by others is refused with one clear line, and nothing is created', () => {
    const root = tempDir();
    const { file, env } = keyEnv(root);
    chmodSync(file, 0o644);
    const store = join(root, 'store');
    const r = cli(['append', '--stream', 'document-a', '--type', 'DocumentSubmitted', '--data', doc('a'), '--store', store], { env });
    assert.equal(r.code, 1);
    assert.equal(r.stderr.trim().split('\n').length, 1);
    assert.match(r.stderr, /the signing key file .*key\.pem is accessible by others \(mode 0644\).*chmod 600/);
    assert.equal(existsSync(store), false);
  });

  test('an archive of a signed log is not exported without its key, nor with another key', () => {
    const { root, store } = signedStore();
    const none = cli(['export', join(root, 'x1'), '--store', store]);
    assert.equal(none.code, 1);
    assert.match(none.stderr, /this log is signed with key [0-9a-f]{16}, and its export must be signed with it/);
    const other = cli(['export', join(root, 'x2'), '--store', store], { env: keyEnv(root, 'other.pem').env });
    assert.equal(other.code, 1);
    assert.match(other.stderr, /not with the configured key/);
  });

  test('a writer with another key does not seal a signed log, says so on stderr, and the log still verifies', () => {
    const { root, store } = signedStore();
    const r = cli(['append', '--stream', 'document-c', '--type', 'DocumentSubmitted', '--data', doc('c'), '--store', store], { env: keyEnv(root, 'other.pem').env });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /^rag-ledger append: warning: this log is signed with key [0-9a-f]{16}, not with the configured key [0-9a-f]{16}: the head 5 was not signed\n$/);
    const v = cli(['verify', '--store', store]);
    assert.equal(v.code, 0, v.stderr);
    assert.match(v.stdout, /warning: 1 event after the last signed head/);
  });

  test('a manifest re-signed by another key than the log\'s is refused', () => {
    const { root, archive } = signedStore();
    const intruder = signerFromPem(generateSigningKeyPem(), 'test');
    const manifestPath = join(archive, 'manifest.json');
    const m = JSON.parse(readFileSync(manifestPath, 'utf8')) as { headPosition: number; headHash: string };
    writeFileSync(manifestPath, JSON.stringify({ ...m, signature: { keyId: intruder.keyId, publicKey: intruder.publicKey, signature: intruder.sign(headMessage(m.headPosition, m.headHash)) } }));
    const r = cli(['import', archive, '--store', join(root, 'imported')]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`the manifest is signed with key ${intruder.keyId}, not with the log's key`));
  });

  test('the untouched archive imports, and the imported log verifies with its seals', () => {
    const { root, archive, env } = signedStore();
    const target = join(root, 'imported');
    const r = cli(['import', archive, '--store', target], { env });
    assert.equal(r.code, 0, r.stderr);
    const v = cli(['verify', '--store', target]);
    assert.equal(v.code, 0, v.stderr);
    // The imported log ends with a seal: nothing more to seal.
    assert.match(v.stdout, /^ok: 4 events verified, head 4:[0-9a-f]{64}\nsigned: 2 seals by key [0-9a-f]{16}, last signed head 3:[0-9a-f]{64}\n$/);
  });

  /** The env of a fresh key: the "earlier" store of the dropped-tail test is sealed by its own key. */
  function signedStoreEnv(root: string): NodeJS.ProcessEnv {
    return keyEnv(root, 'earlier.pem').env;
  }
});

describe('signed heads (store)', () => {
  const a = signerFromPem(generateSigningKeyPem(), 'a');
  const b = signerFromPem(generateSigningKeyPem(), 'b');
  const submitted = (id: string) => [{ type: 'DocumentSubmitted' as const, data: { document_id: id, source: `docs/${id}.md`, raw_content: `x ${id}`, submitted_at: '2026-01-02T03:04:05Z' } }];

  test('a seal by another key than the log\'s fails verify, and a signature by another key under the log\'s public key fails too', async () => {
    const dir = tempDir();
    let store = await SqlJsEventStore.open(dir, { headSigner: a });
    await store.append('document-1', submitted('1'));
    await store.close();
    // A writer with another key does not seal (it would break the log), and says so.
    const skipped: string[] = [];
    store = await SqlJsEventStore.open(dir, { headSigner: b, onSealSkipped: (r) => skipped.push(r) });
    await store.append('document-2', submitted('2'));
    await store.close();
    assert.match(skipped.join(), new RegExp(`signed with key ${a.keyId}, not with the configured key ${b.keyId}`));

    store = await SqlJsEventStore.open(dir, { headSigner: null });
    try {
      assert.equal((await store.verify()).ok, true);
      const head = await store.head();
      await store.append(SEAL_STREAM, [{ type: 'HeadSigned', data: { position: head.position, hash: head.hash, key_id: b.keyId, public_key: b.publicKey, signature: b.sign(headMessage(head.position, head.hash)), signed_at: '2026-01-02T03:04:05Z' } }]);
      const report = await store.verify();
      assert.equal(report.ok, false);
      assert.match(report.firstFailure!.detail, new RegExp(`signed by key ${b.keyId}, not by the log's signing key ${a.keyId}`));
    } finally {
      await store.close();
    }

    const dir2 = tempDir();
    store = await SqlJsEventStore.open(dir2, { headSigner: a });
    try {
      await store.append('document-1', submitted('1'));
      const head = await store.head();
      await store.append(SEAL_STREAM, [{ type: 'HeadSigned', data: { position: head.position, hash: head.hash, key_id: a.keyId, public_key: a.publicKey, signature: b.sign(headMessage(head.position, head.hash)), signed_at: '2026-01-02T03:04:05Z' } }]);
      const report = await store.verify();
      assert.equal(report.ok, false);
      assert.equal(report.firstFailure!.kind, 'modified');
      assert.match(report.firstFailure!.detail, /signature of head 1 does not verify/);
    } finally {
      await store.close();
    }
  });

  test('a long-lived writer seals after each operation (sealHead), once per new head', async () => {
    const dir = tempDir();
    const store = await SqlJsEventStore.open(dir, { headSigner: a });
    try {
      await store.sealHead();
      assert.equal((await store.head()).position, 0, 'nothing to seal in an empty log');
      await store.append('document-1', submitted('1'));
      await store.sealHead();
      await store.sealHead();
      assert.equal((await store.head()).position, 2);
      const report = await store.verify();
      assert.deepEqual([report.ok, report.signed?.count, report.signed?.last?.position, report.signed?.keyId], [true, 1, 1, a.keyId]);
    } finally {
      await store.close();
    }
    const reopened = await SqlJsEventStore.open(dir, { mode: 'read' });
    try {
      assert.equal((await reopened.head()).position, 2, 'close added no second seal');
      assert.equal((await reopened.verify()).signed?.count, 1);
    } finally {
      await reopened.close();
    }
  });

  test('forgetting a document keeps every seal valid: seals sign chain hashes, not payloads', async (t) => {
    const root = tempDir(t);
    const store = join(root, 'store');
    const { env } = keyEnv(root);
    const run = async (...args: string[]) => {
      const io = { ...recordingIo(root), env: { RAG_LEDGER_STORE: '', ...env } };
      const code = await runCli([...args, '--store', store], io);
      return { code, out: io.stdout(), err: io.stderr() };
    };
    for (const id of ['a', 'b']) assert.equal((await run('append', '--stream', `document-${id}`, '--type', 'DocumentSubmitted', '--data', doc(id))).code, 0);
    const forgot = await run('forget', 'docs/a.md', '--reason', 'erasure request');
    assert.equal(forgot.code, 0, forgot.err);
    const v = await run('verify');
    assert.equal(v.code, 0, v.err);
    assert.match(v.out, /signed: 3 seals by key/);
    assert.ok(!readFileSync(join(store, 'events.journal')).includes(Buffer.from('content of a')), 'the content is gone');
  });
});

describe('signed heads (extension engine)', () => {
  test('the engine seals the head after each operation with the process\'s signer', async (t) => {
    const signer = signerFromPem(generateSigningKeyPem(), 'test');
    setDefaultHeadSigner(() => signer);
    t.after(() => setDefaultHeadSigner(null));
    const workspace = tempDir(t);
    writeFiles(workspace, SAMPLE_FILES);
    const engine = await WorkspaceEngine.open({
      storeDir: join(tempDir(t), 'store'),
      workspaceRoot: workspace,
      // No loadable model: ingest is lexical only, ask answers extractively (cheap, no network).
      pipeline: { ...TINY_PIPELINE, embedder: { ...TINY_PIPELINE.embedder, model: 'nobody/missing-model' } },
      walk: { include: [], exclude: [], respectGitignore: true },
      documents: { maxBytes: DEFAULT_MAX_BYTES, allowSecrets: false },
      modelDir: join(tempDir(t), 'no-models'),
      ollama: { host: 'http://127.0.0.1:9' },
      actor: 'test',
      owner: 'a test window',
    });
    t.after(() => engine.close());
    const lastType = async (): Promise<string | undefined> => {
      const head = await engine.ledger.events.head();
      for await (const raw of engine.ledger.events.readRaw(head.position)) return raw.type;
      return undefined;
    };
    await engine.ingest();
    assert.equal(await lastType(), 'HeadSigned');
    await engine.ask('what does a channel send?', { userId: 't' });
    assert.equal(await lastType(), 'HeadSigned');
    const report = await engine.ledger.events.verify();
    assert.equal(report.ok, true);
    assert.equal(report.signed?.count, 2);
    assert.equal(report.signed?.keyId, signer.keyId);
    // The window's audit export signs its manifest with the log's key, so `import` takes it.
    const audit = join(tempDir(t), 'audit');
    const exported = await engine.exportAudit(audit);
    assert.deepEqual(exported.refused, []);
    const manifest = JSON.parse(readFileSync(join(audit, 'manifest.json'), 'utf8')) as { signature?: { keyId: string } };
    assert.equal(manifest.signature?.keyId, signer.keyId, 'the manifest is signed with the log\'s key');
    const copy = join(tempDir(t), 'copy');
    const imported = cli(['import', audit, '--store', copy]);
    assert.equal(imported.code, 0, imported.stderr);
    const verified = cli(['verify', '--store', copy]);
    assert.equal(verified.code, 0, verified.stderr);
    assert.match(verified.stdout, new RegExp(`signed: 2 seals by key ${signer.keyId}`));
  });
});

describe('key providers', () => {
  test('the extension\'s signer is created once in secret storage and reused', async () => {
    const kept = new Map<string, string>();
    const secrets = { get: (k: string) => Promise.resolve(kept.get(k)), store: (k: string, v: string) => Promise.resolve(void kept.set(k, v)) };
    const first = await secretStoreSigner(secrets);
    assert.match(kept.get(SECRET_KEY_NAME) ?? '', /BEGIN PRIVATE KEY/);
    const second = await secretStoreSigner(secrets);
    assert.equal(second.publicKey, first.publicKey);
    assert.ok(ed25519Check(first.publicKey, 'm', second.sign('m')));
    assert.equal(ed25519Check(first.publicKey, 'other', second.sign('m')), false);
  });

  test('the CLI\'s signer: the variable, a named file that must exist, else none', () => {
    const root = tempDir();
    const pem = generateSigningKeyPem();
    assert.equal(cliSigner({ RAG_LEDGER_SIGNING_KEY: pem })!.publicKey, signerFromPem(pem, 'x').publicKey);
    assert.equal(cliSigner({ XDG_CONFIG_HOME: root }), null);
    assert.throws(() => cliSigner({ RAG_LEDGER_SIGNING_KEY_FILE: join(root, 'missing.pem') }), /does not exist/);
    assert.throws(() => cliSigner({ RAG_LEDGER_SIGNING_KEY: 'not a key' }), /cannot be read/);
  });
});
