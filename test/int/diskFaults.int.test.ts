/**
 * Disk faults under a real full file system: a store on a small tmpfs that is filled up. A command that
 * fails never exits 0, says one line (what, where, what to do), releases its lock, and the store opens,
 * verifies and takes writes again once space is freed.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildDist, cli, cliPath } from '../support/cli.js';
import { TINY_MODEL_DIMS, TINY_MODEL_ID, ensureTinyModel } from '../support/tinyModel.js';
import { tempDir } from '../support/tmp.js';

buildDist();

/** A small tmpfs mounted on a fresh folder (unmounted after the test), or the reason it cannot be. */
function smallDisk(t: TestContext, size: string): string | { whyNot: string } {
  const dir = tempDir(t);
  const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { encoding: 'utf8' });
  if (mounted.status !== 0) return { whyNot: `cannot mount a small tmpfs here (needs root): ${(mounted.stderr || mounted.error?.message || '').trim()}` };
  t.after(() => void spawnSync('umount', ['-l', dir]));
  return dir;
}

/** Fills the file system holding `dir` until a write fails with ENOSPC, then frees `leaveKiB`; returns the filler's path. */
function fill(dir: string, leaveKiB = 0): string {
  const filler = join(dir, 'filler');
  spawnSync('dd', ['if=/dev/zero', `of=${filler}`, 'bs=4k'], { encoding: 'utf8' });
  if (leaveKiB > 0) truncateSync(filler, Math.max(0, statSync(filler).size - leaveKiB * 1024));
  return filler;
}

function assertOneLine(stderr: string, what: string): void {
  // Progress lines ("embed (chunks): 32/40 (278/s)") are not part of the error.
  const lines = stderr.trimEnd().split('\n').filter((l) => !/^[a-z]+ \([a-z]+\): \d+/.test(l));
  assert.equal(lines.length, 1, `${what}: one line on stderr, got:\n${stderr}`);
  assert.doesNotMatch(stderr, /\n\s+at |unexpected error/, `${what}: no stack, no "unexpected error"`);
}

test('disk full during the embedding phase of an ingest: exit 1, one line, lock released; after freeing space the store verifies and a rerun indexes everything', (t) => {
  const disk = smallDisk(t, '8m');
  if (typeof disk !== 'string') return t.skip(disk.whyNot);
  const ws = tempDir(t);
  mkdirSync(join(ws, 'docs'));
  for (let i = 0; i < 40; i++) writeFileSync(join(ws, 'docs', `note-${i}.md`), `# Note ${i}\n\n${`channel thread message number ${i} `.repeat(30)}\n`);
  const models = ensureTinyModel(join(tempDir(t), 'models'));
  const store = join(disk, 'store');
  const flags = ['--store', store, '--embedding-model', TINY_MODEL_ID, '--embedding-dims', String(TINY_MODEL_DIMS), '--embedding-dtype', 'fp32', '--model-dir', models];
  // Documents and chunks recorded; then the disk fills but for a little room (the lock, the ingest's
  // start), so writes fail in the embedding phase.
  const chunked = cli(['ingest', ws, ...flags, '--no-embed']);
  assert.equal(chunked.code, 0, chunked.stderr);
  const filler = fill(disk, 64);

  const full = cli(['ingest', ws, ...flags]);
  assert.notEqual(full.code, 0, `a failed ingest never exits 0 (stdout: ${full.stdout})`);
  assertOneLine(full.stderr, 'ingest on a full disk');
  assert.match(full.stderr, /full|ENOSPC|space/i);
  assert.equal(existsSync(join(store, 'store.lock')), false, 'the lock is released');

  rmSync(filler);
  const verified = cli(['verify', '--store', store]);
  assert.equal(verified.code, 0, verified.stderr + verified.stdout);
  const rerun = cli(['ingest', ws, ...flags, '--json']);
  assert.equal(rerun.code, 0, rerun.stderr);
  const report = JSON.parse(rerun.stdout) as { embedding: { pending: number; failed: number }; indexing: { upserted: number } };
  // What the full disk stopped (the vectors' LanceDB writes) is done by the rerun; nothing is pending.
  assert.equal(report.embedding.failed, 0);
  assert.equal(report.indexing.upserted, 40, 'the rerun indexes every chunk');
  const hits = cli(['search', 'channel thread message number 7', '--store', store, '--model-dir', models, '--k', '40', '--mode', 'vector', '--json']);
  assert.equal(hits.code, 0, hits.stderr);
  assert.equal((JSON.parse(hits.stdout) as { chunks: unknown[] }).chunks.length, 40, 'every chunk is searchable by vector after the rerun');
});

test('disk full during append: exit 1, one line naming the disk, nothing written; after freeing space append works and the store verifies', (t) => {
  const disk = smallDisk(t, '2m');
  if (typeof disk !== 'string') return t.skip(disk.whyNot);
  const store = join(disk, 'store');
  const q = (id: string, text: string): string[] => ['append', '--store', store, '--stream', `query-${id}`, '--type', 'QueryReceived', '--data', JSON.stringify({ query_id: id, query_text: text, user_id: 'me', received_at: '2026-01-02T03:04:06Z' })];
  const first = cli(q('a', 'first'));
  assert.equal(first.code, 0, first.stderr);
  const filler = fill(disk);
  const full = cli(q('b', 'x'.repeat(100_000)));
  assert.notEqual(full.code, 0);
  assertOneLine(full.stderr, 'append on a full disk');
  assert.match(full.stderr, /full|ENOSPC|space/i);
  assert.equal(existsSync(join(store, 'store.lock')), false, 'the lock is released');
  rmSync(filler);
  const verified = cli(['verify', '--store', store]);
  assert.equal(verified.code, 0, verified.stderr + verified.stdout);
  const again = cli(q('c', 'second'));
  assert.equal(again.code, 0, again.stderr);
  const log = cli(['log', '--store', store, '--json']);
  assert.deepEqual(log.stdout.trim().split('\n').map((l) => (JSON.parse(l) as { data: { query_text: string } }).data.query_text), ['first', 'second'], 'nothing from the failed append, both acknowledged ones');
});

test('a deleted vectors/ folder is never an empty result: search and ask fail with one line naming the rebuild; after it they find the chunks', (t) => {
  const ws = tempDir(t);
  mkdirSync(join(ws, 'docs'));
  for (let i = 0; i < 5; i++) writeFileSync(join(ws, 'docs', `note-${i}.md`), `# Note ${i}\n\nchannel thread message number ${i}\n`);
  const models = ensureTinyModel(join(tempDir(t), 'models'));
  const store = join(tempDir(t), 'store');
  const ingest = cli(['ingest', ws, '--store', store, '--embedding-model', TINY_MODEL_ID, '--embedding-dims', String(TINY_MODEL_DIMS), '--embedding-dtype', 'fp32', '--model-dir', models]);
  assert.equal(ingest.code, 0, ingest.stderr);
  rmSync(join(store, 'vectors'), { recursive: true, force: true });

  const search = cli(['search', 'channel thread message', '--store', store, '--model-dir', models]);
  assert.equal(search.code, 1, search.stdout);
  assert.doesNotMatch(search.stdout, /no matching chunks/);
  assertOneLine(search.stderr, 'search without its index');
  assert.match(search.stderr, /vector index .* is missing or empty, though the log has 5 indexed chunks.*rag-ledger rebuild --projection vectors/);
  const ask = cli(['ask', 'channel thread message', '--extractive', '--store', store, '--model-dir', models]);
  assert.equal(ask.code, 1, ask.stdout);
  assertOneLine(ask.stderr, 'ask without its index');
  const log = cli(['log', '--store', store, '--json']);
  assert.equal(log.stdout.split('\n').filter((l) => l.includes('"ContextRetrieved"')).length, 0, 'no context of zero chunks is recorded');

  assert.equal(cli(['rebuild', '--projection', 'vectors', '--store', store]).code, 0);
  const found = cli(['search', 'channel thread message number 3', '--store', store, '--model-dir', models, '--json']);
  assert.equal(found.code, 0, found.stderr);
  assert.equal((JSON.parse(found.stdout) as { chunks: unknown[] }).chunks.length, 5);
});

test('a folder ingest cannot read (permissions) is reported and its documents are kept; readable again, nothing is submitted anew', (t) => {
  // Root reads through any permission bits: the CLI runs as nobody on a workspace and a store nobody owns.
  const probe = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', 'true']);
  if (probe.status !== 0) return t.skip('cannot run a process as nobody here (setpriv needs root)');
  const base = tempDir(t);
  chmodSync(base, 0o755);
  mkdirSync(join(base, 'ws', 'private'), { recursive: true });
  mkdirSync(join(base, 'stores'));
  writeFileSync(join(base, 'ws', 'a.md'), '# A\n\nalpha text\n');
  writeFileSync(join(base, 'ws', 'private', 'b.md'), '# B\n\nbeta text\n');
  spawnSync('chown', ['-R', '65534:65534', base]);
  const store = join(base, 'stores', 'store');
  const asNobody = (args: string[]): { code: number | null; stdout: string; stderr: string } => {
    const r = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, cliPath, ...args], { encoding: 'utf8', env: { ...process.env, RAG_LEDGER_STORE: '' } });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  };
  const ingest = (): { code: number | null; stdout: string; stderr: string } => asNobody(['ingest', join(base, 'ws'), '--store', store, '--no-embed', '--json']);
  assert.equal(ingest().code, 0);
  chmodSync(join(base, 'ws', 'private'), 0o000);
  t.after(() => chmodSync(join(base, 'ws', 'private'), 0o755));
  const blocked = ingest();
  assert.equal(blocked.code, 0, blocked.stderr);
  const report = JSON.parse(blocked.stdout) as { deleted: number; unreadable: string[] };
  assert.equal(report.deleted, 0, 'the unreadable folder\'s document is not deleted');
  assert.deepEqual(report.unreadable, ['private']);
  assert.match(asNobody(['ingest', join(base, 'ws'), '--store', store, '--no-embed']).stderr, /warning: cannot read the folder private \(permission denied\): its documents are kept/);
  chmodSync(join(base, 'ws', 'private'), 0o755);
  const again = JSON.parse(ingest().stdout) as { submitted: number; deleted: number; unreadable: string[] };
  assert.deepEqual([again.submitted, again.deleted, again.unreadable], [0, 0, []], 'readable again: nothing submitted anew');
});
