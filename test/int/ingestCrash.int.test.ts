import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { writeFiles } from '../support/ingestHarness.js';
import { assertIngestComplete, ingestProcess, workspaceFiles } from '../support/ingestChecks.js';
import { tempDir } from '../support/tmp.js';
import { TINY_MODEL_DIMS, TINY_MODEL_ID, ensureTinyModel } from '../support/tinyModel.js';

const TRIALS = 6;

test(`SIGKILL during ingest (${TRIALS} times, at random moments), then ingest again: no duplicate events, read models agree with the log, the index matches`, async (t) => {
  const ws = tempDir(t);
  writeFiles(ws, workspaceFiles(120, 1));
  const store = join(tempDir(t), 'store');
  const models = ensureTinyModel(join(tempDir(t), 'models'));
  const args = [ws, '--store', store, '--embedding-model', TINY_MODEL_ID, '--embedding-dims', String(TINY_MODEL_DIMS), '--embedding-dtype', 'fp32', '--model-dir', models];
  let seed = 7;
  const random = (): number => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
  let killed = 0;
  for (let trial = 0; trial < TRIALS; trial++) {
    if (trial === 3) writeFiles(ws, workspaceFiles(40, 2)); // new versions of the first 40 documents mid-way
    const r = await ingestProcess(args, 400 + Math.floor(random() * 2600));
    if (r.signal === 'SIGKILL') killed++;
    else assert.equal(r.code, 0, r.stderr);
    t.diagnostic(`trial ${trial + 1}: ${r.signal ?? `exit ${r.code}`} after: ${r.stderr.trim().split('\n').pop() ?? ''}`);
  }
  assert.ok(killed >= 3, `only ${killed} of ${TRIALS} runs were killed mid-way`);
  const final = await ingestProcess(args, null);
  assert.equal(final.code, 0, final.stderr);

  await assertIngestComplete(t, store, 120);
});
