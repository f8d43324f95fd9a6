// Three members of one team ledger, each a real CLI process with its own checkout path and its own
// projections folder, against a real PostgreSQL: they ingest different folders and ask at the same
// time; afterwards every member's index holds the same chunks and answers a question alike.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import * as lancedb from '@lancedb/lancedb';
import { tableNameFor } from '../../src/adapters/lancedb/lanceVectorIndex.js';
import { buildDist, cliPath, repoRoot } from '../support/cli.js';
import { writeFiles } from '../support/ingestHarness.js';
import { workspaceFiles } from '../support/ingestChecks.js';
import { testPostgres } from '../support/postgres.js';
import { tempDir } from '../support/tmp.js';
import { TINY_MODEL_DIMS, TINY_MODEL_ID, ensureTinyModel } from '../support/tinyModel.js';

before(() => buildDist());
after(async () => (await testPostgres()).stop());

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function run(args: string[], cwd: string, onStderr?: (text: string) => void): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cliPath, ...args], { cwd, env: { ...process.env, RAG_LEDGER_STORE: '', NODE_OPTIONS: '' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      onStderr?.(stderr);
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

interface Member {
  readonly checkout: string;
  readonly projections: string;
}

/** Every row of a member's index, hashed: chunk id, text and vector. */
async function indexDigest(member: Member, pipeline: string): Promise<{ rows: number; digest: string }> {
  const db = await lancedb.connect(join(member.projections, 'vectors'));
  try {
    const table = await db.openTable(tableNameFor(pipeline));
    const rows = (await table.query().select(['chunk_id', 'text', 'vector']).toArray()) as { chunk_id: string; text: string; vector: { toArray(): Float32Array } | null }[];
    const lines = rows.map((r) => `${r.chunk_id}\t${createHash('sha256').update(r.text).digest('hex')}\t${r.vector ? Buffer.from(Float32Array.from(r.vector.toArray()).buffer).toString('hex') : '-'}`).sort();
    table.close();
    return { rows: rows.length, digest: createHash('sha256').update(lines.join('\n')).digest('hex') };
  } finally {
    db.close();
  }
}

test('three members ingest different folders and ask at once: same chunks in every index, same ranking, nothing embedded twice, verify passes; a server restart mid-ingest is ridden out', { timeout: 600_000 }, async (t) => {
  const pg = await testPostgres();
  const url = pg.freshLedger('members');
  const models = ensureTinyModel(join(tempDir(t), 'models'));
  const modelFlags = ['--embedding-model', TINY_MODEL_ID, '--embedding-dims', String(TINY_MODEL_DIMS), '--embedding-dtype', 'fp32', '--model-dir', models];
  // One repository (three folders of 20 documents), checked out at three different paths.
  const origin = tempDir(t);
  writeFiles(origin, workspaceFiles(60, 1));
  mkdirSync(join(origin, '.git'));
  const members: Member[] = [0, 1, 2].map((i) => {
    const checkout = join(tempDir(t), `checkout-of-member-${i}`);
    cpSync(origin, checkout, { recursive: true });
    return { checkout, projections: join(tempDir(t), `projections-${i}`) };
  });
  const store = (m: Member): string[] => ['--store', url, '--projections', m.projections];
  const question = 'harbor lantern anchor';
  const ask = (m: Member): Promise<Run> => run(['ask', question, '--extractive', '--json', ...store(m), '--model-dir', models], m.checkout);

  // All at once: each member ingests its folder, then asks.
  const first = await Promise.all(
    members.map(async (m, i) => {
      const ingest = await run(['ingest', join(m.checkout, 'docs', `part-${i}`), ...store(m), ...modelFlags], m.checkout);
      assert.equal(ingest.code, 0, `member ${i} ingest: ${ingest.stderr}`);
      const asked = await ask(m);
      assert.equal(asked.code, 0, `member ${i} ask: ${asked.stderr}`);
      return ingest;
    }),
  );
  assert.ok(first.every((r) => /\(its git repository\)/.test(r.stderr)), 'members name documents by their path in the repository');

  // Afterwards every member answers from the whole team's documents, alike.
  const answers = await Promise.all(members.map((m) => ask(m)));
  const contexts = answers.map((a, i) => {
    assert.equal(a.code, 0, `member ${i}: ${a.stderr}`);
    const out = JSON.parse(a.stdout) as { pipelineVersion: string; context: { chunkId: string; path: string }[] };
    return out;
  });
  const pipeline = contexts[0]!.pipelineVersion;
  assert.ok(contexts[0]!.context.length > 0);
  for (const c of contexts) assert.deepEqual(c.context.map((x) => x.chunkId), contexts[0]!.context.map((x) => x.chunkId), 'the same question ranks the same chunks on every member');

  const digests = await Promise.all(members.map((m) => indexDigest(m, pipeline)));
  const stats = JSON.parse((await run(['stats', '--json', '--store', url], repoRoot)).stdout) as { byType: Record<string, number> };
  const chunked = stats.byType['ChunkEmbedded']!;
  for (const d of digests) assert.deepEqual(d, digests[0], 'every member holds the same chunks, texts and vectors');
  assert.equal(digests[0]!.rows, chunked, 'one embedding per chunk in the log: nothing was embedded twice');
  assert.equal(stats.byType['DocumentSubmitted'], 60);

  // A member ingests a new folder while the server is stopped for two seconds: it waits and finishes.
  writeFiles(members[0]!.checkout, Object.fromEntries(Object.entries(workspaceFiles(40, 5)).map(([p, text]) => [p.replace('docs/part-', 'more/part-'), text])));
  const pause: { done: Promise<void> | null } = { done: null };
  const ingest = await run(['ingest', join(members[0]!.checkout, 'more'), ...store(members[0]!), ...modelFlags], members[0]!.checkout, (stderr) => {
    if (pause.done === null && /read \(files\)/.test(stderr)) {
      pause.done = pg.pause().then(() => new Promise((r) => setTimeout(r, 2000))).then(() => pg.resume());
    }
  });
  assert.ok(pause.done !== null, 'the server was never stopped');
  await pause.done;
  assert.equal(ingest.code, 0, ingest.stderr);
  assert.match(ingest.stdout, /scanned 40 files: 40 submitted/);
  const verify = await run(['verify', '--store', url], repoRoot);
  assert.equal(verify.code, 0, verify.stderr);
  assert.match(verify.stdout, /^ok: \d+ events verified/);
  const after = JSON.parse((await run(['stats', '--json', '--store', url], repoRoot)).stdout) as { byType: Record<string, number>; headPosition: number };
  assert.equal(after.byType['DocumentSubmitted'], 100);

  // The server down: a member still answers from its projections (as of its last catch-up), says
  // so, and records nothing; a write fails at once with a clear line.
  await pg.pause();
  try {
    const offline = await ask(members[1]!);
    assert.equal(offline.code, 0, offline.stderr);
    assert.match(offline.stderr, /answered offline, not recorded: the team ledger cannot be reached \(connect ECONNREFUSED/);
    const out = JSON.parse(offline.stdout) as { offline?: string; context: { chunkId: string }[] };
    assert.match(out.offline ?? '', /ECONNREFUSED/);
    assert.deepEqual(out.context.map((x) => x.chunkId), contexts[1]!.context.map((x) => x.chunkId));
    const human = await run(['ask', question, '--extractive', ...store(members[1]!), '--model-dir', models], members[1]!.checkout);
    assert.match(human.stdout, /answered offline from this member's projections, as of its last catch-up: not recorded in the team ledger/);
    const write = await run(['ingest', join(members[1]!.checkout, 'docs', 'part-1'), ...store(members[1]!), ...modelFlags], members[1]!.checkout);
    assert.equal(write.code, 1);
    assert.match(write.stderr, /^rag-ledger ingest: the team ledger at .* cannot be reached: connect ECONNREFUSED .*Nothing was written\./m);
  } finally {
    await pg.resume();
  }
  const later = JSON.parse((await run(['stats', '--json', '--store', url], repoRoot)).stdout) as { headPosition: number };
  assert.equal(later.headPosition, after.headPosition, 'nothing was recorded while offline');
});

test('the CLI against the team ledger: a wrong password, and an unreachable server, are one line each, exit 1', async () => {
  const pg = await testPostgres();
  const url = new URL(pg.freshLedger());
  await run(['stats', '--store', url.toString()], repoRoot);
  url.password = 'wrong-password';
  const wrong = await run(['stats', '--store', url.toString()], repoRoot);
  assert.equal(wrong.code, 1);
  assert.match(wrong.stderr, /^rag-ledger stats: the team ledger at postgres@127\.0\.0\.1:\d+\/postgres\/\w+ refused access: password authentication failed for user "postgres"\. Set the password with/);
  assert.equal(wrong.stderr.trim().split('\n').length, 1, wrong.stderr);
  assert.doesNotMatch(wrong.stderr, /wrong-password/);
  // A URL that cannot name a ledger is bad usage: exit 2, before anything is opened.
  const badSchema = await run(['stats', '--store', `${pg.baseUrl}?schema=Team-A`], repoRoot);
  assert.equal(badSchema.code, 2, badSchema.stderr);
  assert.match(badSchema.stderr, /^rag-ledger stats: the ledger schema "team-a" is not a plain PostgreSQL identifier\..*\(see rag-ledger stats --help\)\n$/);
  const badPort = await run(['migrate-store', '--to', 'postgres://u@127.0.0.1:notaport/db'], repoRoot);
  assert.equal(badPort.code, 2, badPort.stderr);
  assert.match(badPort.stderr, /--to: "postgres:\/\/u@127\.0\.0\.1:notaport\/db" is not a PostgreSQL URL/);
  url.port = '1';
  const down = await run(['log', '--store', url.toString()], repoRoot);
  assert.equal(down.code, 1);
  assert.match(down.stderr, /cannot be reached: connect ECONNREFUSED 127\.0\.0\.1:1\. Nothing was written/);
  assert.equal(down.stderr.trim().split('\n').length, 1, down.stderr);
});

test('the CLI finds the password in PGPASSWORD or ~/.pgpass when the URL has none', async (t) => {
  const pg = await testPostgres();
  const url = new URL(pg.freshLedger());
  const password = decodeURIComponent(url.password);
  url.password = '';
  const runWith = (env: NodeJS.ProcessEnv): Promise<Run> =>
    new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [cliPath, 'append', '--stream', 'query-p', '--type', 'QueryReceived', '--data', JSON.stringify({ query_id: 'p', query_text: 'who?', user_id: 'me', received_at: '2026-01-02T03:04:05Z' }), '--store', url.toString()], { cwd: repoRoot, env: { ...process.env, RAG_LEDGER_STORE: '', NODE_OPTIONS: '', PGPASSWORD: '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });
  const none = await runWith({ PGPASSWORD: undefined, HOME: tempDir(t) });
  assert.equal(none.code, 1);
  assert.match(none.stderr, /the server asks for a password and none was given/);
  const env = await runWith({ PGPASSWORD: password });
  assert.equal(env.code, 0, env.stderr);
  const home = tempDir(t);
  writeFileSync(join(home, '.pgpass'), `127.0.0.1:${url.port}:*:postgres:${password}\n`, { mode: 0o600 });
  const file = await runWith({ PGPASSWORD: undefined, HOME: home });
  assert.equal(file.code, 0, file.stderr);
  assert.match(file.stdout, /appended QueryReceived/);
});

test('migrate-store copies a local log to the team ledger and back, and proves each copy by its hash chain', async (t) => {
  const pg = await testPostgres();
  const url = pg.freshLedger('migrate');
  const local = join(tempDir(t), 'store');
  const ws = tempDir(t);
  writeFiles(ws, workspaceFiles(10, 2));
  const ingest = await run(['ingest', ws, '--store', local, '--no-embed'], ws);
  assert.equal(ingest.code, 0, ingest.stderr);
  const up = await run(['migrate-store', '--from', local, '--to', url, '--json'], repoRoot);
  assert.equal(up.code, 0, up.stderr);
  const upOut = JSON.parse(up.stdout) as { copied: number; head: { position: number; hash: string }; verified: boolean };
  assert.equal(upOut.verified, true);
  const back = join(tempDir(t), 'back');
  const down = await run(['migrate-store', '--from', url, '--to', back, '--json'], repoRoot);
  assert.equal(down.code, 0, down.stderr);
  const downOut = JSON.parse(down.stdout) as typeof upOut;
  assert.deepEqual(downOut.head, upOut.head);
  assert.equal(downOut.copied, upOut.copied);
  // Into a ledger that is not empty: refused, nothing written.
  const again = await run(['migrate-store', '--from', local, '--to', url], repoRoot);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /already holds \d+ events|not empty/);
  const log = await run(['log', '--store', url, '--limit', '3'], repoRoot);
  assert.equal(log.code, 0, log.stderr);
  assert.equal(log.stdout.trim().split('\n').length, 3);
});
