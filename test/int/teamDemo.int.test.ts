// `npm run team-demo`, as a newcomer runs it: a server and two members; bob's terminal shows alice's
// events as she appends them, and bob answers from her documents without ingesting anything.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { repoRoot } from '../support/cli.js';

test('npm run team-demo: bob follows alice\'s events live, answers from her documents, and the chain verifies', { timeout: 180_000 }, () => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(repoRoot, 'scripts', 'teamDemo.ts')], { cwd: repoRoot, encoding: 'utf8', timeout: 170_000, env: { ...process.env, NODE_OPTIONS: '' } });
  assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
  const out = r.stdout;
  // Bob's `log --follow` printed alice's submissions as they were appended.
  assert.match(out, /^\[bob\] +\d+ +\S+ +DocumentSubmitted +document-doc-[0-9a-f]+@1 +docs\/threads\.md/m);
  // Bob's answer cites the document alice ingested.
  const bobAnswer = out.slice(out.indexOf('bob asks the same question'));
  assert.match(bobAnswer, /^\[bob\] \[1\] docs\/threads\.md:1-4$/m);
  assert.match(out, /^\[bob\] ok: \d+ events verified/m);
  assert.match(out, /Stopping PostgreSQL/);
});
