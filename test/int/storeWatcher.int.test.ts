// A window's ledger follows what other processes append: the journal watcher behind the
// extension's views (EngineHost), exercised with the real CLI in another process.
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { openLedger } from '../../src/adapters/ledger.js';
import { watchStore } from '../../src/adapters/storeWatcher.js';
import { buildDist, cli } from '../support/cli.js';
import { tempDir } from '../support/tmp.js';

before(() => buildDist());

const submit = (store: string, id: string): ReturnType<typeof cli> =>
  cli(['append', '--store', store, '--stream', `document-${id}`, '--type', 'DocumentSubmitted', '--data', JSON.stringify({ document_id: id, source: `docs/${id}.md`, raw_content: `content of ${id}`, submitted_at: '2026-01-02T03:04:05.000Z' })]);

test('a ledger open in one process sees another process\'s appends within a second, read models included', async (t) => {
  const store = tempDir(t);
  assert.equal(submit(store, 'a').code, 0);
  const ledger = await openLedger(store, { mode: 'write', owner: 'a window', headSigner: null });
  t.after(() => ledger.close());
  await ledger.runner.catchUp();
  assert.equal(ledger.readModels.documents().length, 1);
  const seen: number[] = [];
  let resolveSeen!: () => void;
  const arrived = new Promise<void>((resolve) => (resolveSeen = resolve));
  const watch = watchStore(store, ledger, (added) => {
    seen.push(added);
    if (ledger.readModels.documents().length === 3) resolveSeen();
  }, (err) => assert.fail(String(err)), 100);
  t.after(() => watch.dispose());
  assert.equal(submit(store, 'b').code, 0);
  assert.equal(submit(store, 'c').code, 0);
  const timeout = setTimeout(() => assert.fail(`not seen within 10 s (seen ${JSON.stringify(seen)})`), 10_000);
  await arrived;
  clearTimeout(timeout);
  assert.deepEqual(ledger.readModels.documents().map((d) => d.source).sort(), ['docs/a.md', 'docs/b.md', 'docs/c.md']);
  // The window appends on top of what the CLI wrote: one chain.
  await ledger.events.append('document-d', [{ type: 'DocumentSubmitted', data: { document_id: 'd', source: 'docs/d.md', raw_content: 'd', submitted_at: '2026-01-02T03:04:05.000Z' } }]);
  assert.equal((await ledger.events.head()).position, 4);
  assert.equal(cli(['verify', '--store', store]).code, 0);
});
