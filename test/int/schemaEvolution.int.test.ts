import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SqlJsEventStore } from '../../src/adapters/sqljs/sqljsEventStore.js';
import { sha256 } from '../../src/adapters/node/sha256.js';
import { GENESIS_HASH, hashEvent } from '../../src/core/eventLog.js';
import type { RawEvent } from '../../src/core/eventStore.js';
import { attachmentOf, loadEventFixtures, plain } from '../support/fixtures.js';
import { tempDir } from '../support/tmp.js';

test('old-version events stored on disk read back as the current shape, and verify passes', async (t) => {
  const dir = tempDir(t);
  const fixtures = loadEventFixtures();
  let prevHash = GENESIS_HASH;
  const raws: RawEvent[] = fixtures.map((f, i) => {
    const base = {
      position: i + 1,
      eventId: `fixture-${i}`,
      streamId: `fixture-${i}`,
      streamVersion: 1,
      type: f.type,
      schemaVersion: f.schemaVersion,
      dataJson: JSON.stringify(f.data),
      metadataJson: '{}',
      attachment: attachmentOf(f),
      recordedAt: '2025-01-01T00:00:00.000Z',
      prevHash,
    };
    prevHash = hashEvent(sha256, base);
    return { ...base, hash: prevHash };
  });
  const store = await SqlJsEventStore.open(dir);
  await store.importRaw(raws);
  await store.close();
  const reopened = await SqlJsEventStore.open(dir, { mode: 'read' });
  t.after(() => reopened.close());
  let i = 0;
  for await (const e of reopened.readAll()) {
    const f = fixtures[i++]!;
    assert.equal(e.storedSchemaVersion, f.schemaVersion);
    assert.ok(e.schemaVersion >= f.schemaVersion);
    assert.deepEqual(plain(e.data), f.expected, f.file);
  }
  assert.equal(i, fixtures.length);
  assert.equal((await reopened.verify()).ok, true);
});
