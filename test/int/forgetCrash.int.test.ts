import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { SqlJsEventStore } from '../../src/adapters/sqljs/sqljsEventStore.js';
import { ForgetInProgressError } from '../../src/core/errors.js';
import { FORGET_MARKER_FILE } from '../../src/adapters/sqljs/schema.js';
import { recoverStore } from '../../src/adapters/sqljs/recoverStore.js';
import { embedded, queried, submitted } from '../support/events.js';
import { tempDir } from '../support/tmp.js';

const root = join(__dirname, '..', '..');
const crasher = join(root, 'test/support/forgetCrasher.ts');
const MARKER = 'qpzvfmarker';

async function seed(dir: string): Promise<void> {
  const store = await SqlJsEventStore.open(dir, { mode: 'write', snapshotEveryBytes: 1 });
  await store.append('document-a', [submitted('a', `the codeword is ${MARKER}`), embedded('a-1')]);
  await store.append('query-1', [queried('1')]);
  await store.snapshot();
  await store.append('document-b', [submitted('b')]);
  await store.close();
}

function storeBytesContain(dir: string, needle: string): boolean {
  return readdirSync(dir).some((f) => !f.endsWith('.lock') && readFileSync(join(dir, f)).includes(Buffer.from(needle)));
}

for (const step of ['written', 'marked', 'installed-journal', 'none']) {
  test(`forget killed ${step === 'none' ? 'never' : `after step "${step}"`}: the store holds the old log or the new one, never a mixture, and verifies`, async (t) => {
    const dir = tempDir(t);
    await seed(dir);
    const r = spawnSync(process.execPath, ['--import', 'tsx', crasher, dir, step], { cwd: root, encoding: 'utf8', timeout: 120_000 });
    if (step === 'none') assert.equal(r.stdout, 'done\n', r.stderr);
    else assert.equal(r.signal, 'SIGKILL', `${r.stdout}${r.stderr}`);
    const committed = step !== 'written';
    if (step === 'marked' || step === 'installed-journal') {
      // Readers wait for the writer that completes it.
      assert.ok(existsSync(join(dir, FORGET_MARKER_FILE)));
      await assert.rejects(SqlJsEventStore.open(dir, { mode: 'read' }), ForgetInProgressError);
    }
    const store = await SqlJsEventStore.open(dir, { mode: 'write' });
    try {
      assert.equal(existsSync(join(dir, FORGET_MARKER_FILE)), false);
      assert.deepEqual(readdirSync(dir).filter((f) => f.includes('forget')), []);
      const report = await store.verify();
      assert.equal(report.ok, true, JSON.stringify(report.firstFailure));
      assert.equal(report.headPosition, committed ? 5 : 4);
      assert.equal(await store.positionOf('forget-crash'), committed ? 5 : null);
      const first = (await store.readPositions([1]))[0]!;
      assert.equal(first.dataJson.includes(MARKER), !committed);
      // The store keeps working: an append after the recovery verifies too.
      await store.append('document-c', [submitted('c')]);
      assert.equal((await store.verify()).ok, true);
    } finally {
      await store.close();
    }
    assert.equal(storeBytesContain(dir, MARKER), !committed);
  });
}

test('recover completes a forget that was interrupted after its commit point instead of splicing the old files back', async (t) => {
  const dir = tempDir(t);
  await seed(dir);
  const r = spawnSync(process.execPath, ['--import', 'tsx', crasher, dir, 'installed-journal'], { cwd: root, encoding: 'utf8', timeout: 120_000 });
  assert.equal(r.signal, 'SIGKILL', `${r.stdout}${r.stderr}`);
  const report = await recoverStore(dir);
  assert.equal(report.events, 5);
  assert.equal(existsSync(join(dir, FORGET_MARKER_FILE)), false);
  const store = await SqlJsEventStore.open(dir, { mode: 'read' });
  try {
    assert.equal((await store.verify()).ok, true);
    assert.equal(await store.positionOf('forget-crash'), 5);
  } finally {
    await store.close();
  }
  // recover keeps the files it replaced beside the store: none of them holds the forgotten text.
  assert.equal(storeBytesContain(dir, MARKER), false);
});
