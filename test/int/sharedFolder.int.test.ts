// A team's shared store folder used by two people: two unprivileged users (different uids, one group)
// ingest, ask and verify on one store in a group-owned, group-writable folder, one after the other
// and at once. Needs root (to run the CLI as other users); skipped, saying so, otherwise.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { openLedger } from '../../src/adapters/ledger.js';
import { buildDist, cliPath } from '../support/cli.js';
import { writeFiles } from '../support/ingestHarness.js';
import { workspaceFiles } from '../support/ingestChecks.js';
import { TINY_MODEL_DIMS, TINY_MODEL_ID, ensureTinyModel } from '../support/tinyModel.js';

const TEAM_GID = 4200;
const USERS = { ana: 4101, ben: 4102 } as const;
const asRoot = process.getuid?.() === 0;

before(() => {
  if (asRoot) buildDist();
});

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function runAs(user: keyof typeof USERS, home: string, args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [cliPath, ...args], {
      uid: USERS[user],
      gid: TEAM_GID,
      cwd: home,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: join(home, user), ONNXRUNTIME_NODE_INSTALL: 'skip' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Every file and folder under `dir` (relative paths) that the team's group cannot write. */
function notGroupWritable(dir: string, under = ''): string[] {
  const out: string[] = [];
  for (const name of readdirSync(join(dir, under))) {
    const rel = join(under, name);
    const st = statSync(join(dir, rel));
    if ((st.mode & 0o020) === 0 || st.gid !== TEAM_GID) out.push(`${rel} (${(st.mode & 0o777).toString(8)}, gid ${st.gid})`);
    if (st.isDirectory()) out.push(...notGroupWritable(dir, rel));
  }
  return out;
}

test('two users share a store in a group-writable folder: both ingest, ask and verify, one after the other and at once', { skip: asRoot ? false : 'needs root to run the CLI as two other users' }, async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'rag-ledger-team-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  chmodSync(root, 0o755);
  for (const user of Object.keys(USERS) as (keyof typeof USERS)[]) {
    mkdirSync(join(root, user));
    chownSync(join(root, user), USERS[user], TEAM_GID);
  }
  const ws = join(root, 'workspace');
  writeFiles(ws, workspaceFiles(12, 1));
  const models = ensureTinyModel(join(root, 'models'));
  // The team's folder: group-owned, group-writable, set-group-id (what an administrator sets up).
  const shared = join(root, 'shared');
  mkdirSync(shared);
  chownSync(shared, 0, TEAM_GID);
  chmodSync(shared, 0o2775);
  const store = join(shared, '.rag-ledger');
  const model = ['--embedding-model', TINY_MODEL_ID, '--embedding-dims', String(TINY_MODEL_DIMS), '--embedding-dtype', 'fp32', '--model-dir', models];
  const ok = (r: Run, what: string): void => assert.equal(r.code, 0, `${what}: ${r.stderr}`);

  ok(await runAs('ana', root, ['ingest', ws, '--store', store, ...model]), 'ana ingests');
  ok(await runAs('ben', root, ['ask', 'how does the borrow checker work?', '--extractive', '--store', store, '--model-dir', models]), 'ben asks');
  writeFiles(ws, workspaceFiles(6, 2));
  ok(await runAs('ben', root, ['ingest', ws, '--store', store, ...model]), 'ben ingests the changed files');
  const [a, b] = await Promise.all([
    runAs('ana', root, ['ask', 'what is a lifetime?', '--extractive', '--store', store, '--model-dir', models]),
    runAs('ben', root, ['ask', 'where are traits defined?', '--extractive', '--store', store, '--model-dir', models]),
  ]);
  ok(a, 'ana asks while ben asks');
  ok(b, 'ben asks while ana asks');
  ok(await runAs('ana', root, ['rebuild', '--store', store]), 'ana rebuilds the read models ben wrote');
  const verified = await runAs('ben', root, ['verify', '--store', store]);
  ok(verified, 'ben verifies');

  assert.deepEqual(notGroupWritable(store), [], 'everything in the store stays writable by the team');
  const ledger = await openLedger(store, { mode: 'read' });
  t.after(() => ledger.close());
  assert.equal((await ledger.events.verify()).ok, true);
  await ledger.runner.catchUp();
  assert.equal(ledger.readModels.queryCount(), 3);
  // Users without a passwd entry are recorded by uid.
  assert.deepEqual([...new Set(ledger.readModels.queries().map((q) => q.user_id))].sort(), [`uid ${USERS.ana}`, `uid ${USERS.ben}`]);
  assert.equal(ledger.readModels.documentTotals().live, 12);
});
