// A store written before model texts were capped may hold a runaway answer: every command still
// reads it (clipped on read, its stored bytes and hash untouched), verify passes, nothing after it is lost.
import assert from 'node:assert/strict';
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { sha256 } from '../../src/adapters/node/sha256.js';
import { encodeRecord } from '../../src/adapters/sqljs/journal.js';
import { SqlJsEventStore } from '../../src/adapters/sqljs/sqljsEventStore.js';
import { hashEvent } from '../../src/core/eventLog.js';
import type { RawEvent } from '../../src/core/eventStore.js';
import { MAX_MODEL_TEXT_CHARS } from '../../src/core/events/eventCodec.js';
import { buildDist, cli } from '../support/cli.js';
import { tempDir } from '../support/tmp.js';

before(() => buildDist());

test('a runaway answer recorded before the cap: verify, stats, log, show and export finish; it reads back clipped and marked', async (t) => {
  const dir = tempDir(t);
  const store = await SqlJsEventStore.open(dir, { headSigner: null });
  await store.append('query-q1', [{ type: 'QueryReceived', data: { query_id: 'q1', query_text: 'why', user_id: 'me', received_at: '2026-01-02T03:04:06Z' } }]);
  const head = await store.head();
  await store.close();
  const partial = 'runaway '.repeat(Math.ceil((3 * MAX_MODEL_TEXT_CHARS) / 8));
  const raw: Omit<RawEvent, 'hash'> = {
    position: head.position + 1,
    eventId: '00000000-0000-4000-8000-000000000001',
    streamId: 'query-q1',
    streamVersion: 2,
    type: 'InferenceFailed',
    schemaVersion: 1,
    dataJson: JSON.stringify({ query_id: 'q1', model_id: 'runaway', reason: 'cut_off', detail: 'the stream ended', partial_text: partial, failed_at: '2026-01-02T03:04:07Z' }),
    metadataJson: '{}',
    attachment: null,
    recordedAt: '2026-01-02T03:04:07.000Z',
    prevHash: head.hash,
  };
  // Written as a version without the cap wrote it: straight into the journal.
  appendFileSync(join(dir, 'events.journal'), encodeRecord([{ ...raw, hash: hashEvent(sha256, raw) }]));
  const again = await SqlJsEventStore.open(dir, { headSigner: null });
  await again.append('query-q2', [{ type: 'QueryReceived', data: { query_id: 'q2', query_text: 'again', user_id: 'me', received_at: '2026-01-02T03:04:08Z' } }]);
  const read = [];
  for await (const e of again.readAll()) read.push(e);
  await again.close();
  assert.deepEqual(read.map((e) => e.type), ['QueryReceived', 'InferenceFailed', 'QueryReceived'], 'nothing after it is lost');
  const failed = read[1]!;
  assert.ok(failed.type === 'InferenceFailed');
  const text = failed.data.partial_text ?? '';
  assert.ok(text.length <= MAX_MODEL_TEXT_CHARS);
  assert.match(text, new RegExp(`\\[clipped on read: ${partial.length} characters were recorded\\]$`));

  const verify = cli(['verify', '--store', dir]);
  assert.equal(verify.code, 0, verify.stderr);
  for (const args of [['stats'], ['log'], ['show', 'q1']]) {
    const r = cli([...args, '--store', dir]);
    assert.equal(r.code, 0, `${args[0]}: ${r.stderr}`);
  }
  // The export is faithful (the event as stored) and says that import will refuse it, and why.
  const archive = join(tempDir(t), 'archive');
  const exported = cli(['export', archive, '--store', dir]);
  assert.equal(exported.code, 0, exported.stderr);
  assert.match(exported.stdout, /^exported 3 events to /);
  const warnings = exported.stderr.trim().split('\n').filter((l) => !l.startsWith('exporting: '));
  assert.equal(warnings.length, 1, exported.stderr);
  assert.match(warnings[0]!, /^warning: 1 event was recorded under older limits that import now refuses \(position 2 \(InferenceFailed\): .*partial_text has \d+ characters.*`rag-ledger import` refuses it/);
  const json = cli(['export', join(tempDir(t), 'archive2'), '--store', dir, '--json']);
  assert.deepEqual((JSON.parse(json.stdout) as { refusedByImport: { position: number; type: string }[] }).refusedByImport.map((e) => [e.position, e.type]), [[2, 'InferenceFailed']]);
  const imported = cli(['import', archive, '--store', join(tempDir(t), 'copy')]);
  assert.equal(imported.code, 1);
  assert.match(imported.stderr, /^rag-ledger import: the archive is invalid at .*InferenceFailed partial_text has \d+ characters/);
  assert.equal(imported.stderr.trim().split('\n').length, 1, imported.stderr);
  assert.match(cli(['show', 'q1', '--store', dir]).stdout, /InferenceFailed +runaway: cut_off/);
});
