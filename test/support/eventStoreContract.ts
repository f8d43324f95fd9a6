import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { TestContext } from 'node:test';
import { ArchiveError, ConcurrencyError, StoreNotEmptyError, ValidationError } from '../../src/core/errors.js';
import { GENESIS_HASH, hashEvent } from '../../src/core/eventLog.js';
import { sha256 } from '../../src/adapters/node/sha256.js';
import type { EventStore, RawEvent, RecordedEvent } from '../../src/core/eventStore.js';
import { embedded, queried, submitted } from './events.js';
import { FORGOTTEN_BY, planForget, rowDigest } from '../../src/core/forget.js';
import type { NewEvent } from '../../src/core/eventStore.js';

/** The DocumentForgotten of a contract test: empties `rows` (stored rows) under `eventId`. */
function forgetting(rows: readonly RawEvent[], eventId: string): { write: { streamId: string; events: NewEvent[] }; emptied: RawEvent[] } {
  const { emptied, entries } = planForget(sha256, rows, eventId);
  const event: NewEvent = {
    type: 'DocumentForgotten',
    eventId,
    data: { document_id: 'a', source: 'docs/a.md', reason: 'asked to', actor: 'tester', emptied: entries, questions: [], forgotten_at: '2026-01-02T03:04:05.000Z' },
  };
  return { write: { streamId: 'document-a', events: [event] }, emptied };
}

/** Makes a fresh, empty store. `clock` supplies recordedAt values. */
export type StoreFactory = (t: TestContext, options: { clock?: () => string }) => Promise<EventStore>;

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

/** Steps through the given times, one per call (the last one repeats). */
function steppingClock(times: string[]): () => string {
  let i = 0;
  return () => times[Math.min(i++, times.length - 1)]!;
}

/**
 * The event store contract. Every EventStore implementation runs this same suite.
 */
export function eventStoreContract(name: string, make: StoreFactory): void {
  describe(`EventStore contract: ${name}`, () => {
    test('appends to a new stream and reads it back in order', async (t) => {
      const store = await make(t, {});
      const r = await store.append('document-a', [submitted('a'), submitted('a', 'second')], { expectedVersion: 'no_stream' });
      assert.deepEqual(r.positions, [1, 2]);
      assert.equal(r.nextExpectedVersion, 2);
      assert.equal(r.appended, 2);
      const events = await collect(store.readStream('document-a'));
      assert.deepEqual(events.map((e) => [e.position, e.streamVersion, e.type]), [[1, 1, 'DocumentSubmitted'], [2, 2, 'DocumentSubmitted']]);
      const first = events[0]!;
      assert.equal(first.type, 'DocumentSubmitted');
      if (first.type === 'DocumentSubmitted') assert.equal(first.data.raw_content, 'content of a');
      assert.equal(await store.streamVersion('document-a'), 2);
      assert.equal(await store.streamVersion('document-none'), 0);
    });

    test('readStream honours fromVersion and limit', async (t) => {
      const store = await make(t, {});
      await store.append('document-a', [1, 2, 3, 4, 5].map((i) => submitted('a', `v${i}`)));
      const page = await collect(store.readStream('document-a', { fromVersion: 2, limit: 3 }));
      assert.deepEqual(page.map((e) => e.streamVersion), [2, 3, 4]);
    });

    test('a stale expected version is a ConcurrencyError naming stream, expected and actual', async (t) => {
      const store = await make(t, {});
      await store.append('document-a', [submitted('a')], { expectedVersion: 0 });
      await assert.rejects(store.append('document-a', [submitted('a', 'x')], { expectedVersion: 0 }), (err: unknown) => {
        assert.ok(err instanceof ConcurrencyError);
        assert.equal(err.streamId, 'document-a');
        assert.equal(err.actual, 1);
        assert.match(err.expected, /^0/);
        assert.match(err.message, /document-a/);
        return true;
      });
      await assert.rejects(store.append('document-a', [submitted('a', 'x')], { expectedVersion: 'no_stream' }), ConcurrencyError);
      await assert.rejects(store.append('document-b', [submitted('b')], { expectedVersion: 'stream_exists' }), ConcurrencyError);
      await store.append('document-a', [submitted('a', 'y')], { expectedVersion: 'stream_exists' });
      await store.append('document-a', [submitted('a', 'z')], { expectedVersion: 2 });
      await store.append('document-a', [submitted('a', 'w')], { expectedVersion: 'any' });
      assert.equal(await store.streamVersion('document-a'), 4);
    });

    test('two writers racing on one expected version: exactly one wins', async (t) => {
      const store = await make(t, {});
      const results = await Promise.allSettled([
        store.append('document-a', [submitted('a', 'one')], { expectedVersion: 'no_stream' }),
        store.append('document-a', [submitted('a', 'two')], { expectedVersion: 'no_stream' }),
      ]);
      assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
      const rejected = results.find((r) => r.status === 'rejected');
      assert.ok(rejected && rejected.status === 'rejected' && rejected.reason instanceof ConcurrencyError);
    });

    test('an append is atomic: one invalid event and nothing is written', async (t) => {
      const store = await make(t, {});
      await store.append('document-a', [submitted('a')]);
      const bad = { type: 'DocumentSubmitted', data: { document_id: 'a', source: 'x' } } as never;
      await assert.rejects(store.append('document-a', [submitted('a', 'ok'), bad]), ValidationError);
      assert.equal((await store.head()).position, 1);
      assert.equal(await store.streamVersion('document-a'), 1);
    });

    test('appendMany writes several streams in one atomic step, each with its own expected version', async (t) => {
      const store = await make(t, {});
      await store.append('document-a', [submitted('a')]);
      const results = await store.appendMany([
        { streamId: 'document-a', events: [submitted('a', 'two')], expectedVersion: 1 },
        { streamId: 'document-b', events: [submitted('b'), submitted('b', 'two')], expectedVersion: 'no_stream' },
        { streamId: 'document-c', events: [submitted('c', 'x', 'evt-c')] },
      ]);
      assert.deepEqual(results.map((r) => [r.positions, r.nextExpectedVersion, r.appended]), [[[2], 2, 1], [[3, 4], 2, 2], [[5], 1, 1]]);
      const all = await collect(store.readAll());
      assert.deepEqual(all.map((e) => [e.position, e.streamId, e.streamVersion]), [[1, 'document-a', 1], [2, 'document-a', 2], [3, 'document-b', 1], [4, 'document-b', 2], [5, 'document-c', 1]]);
      assert.equal((await store.verify()).ok, true);
      // A retry is a no-op; a stale expected version anywhere writes nothing at all.
      const retry = await store.appendMany([{ streamId: 'document-c', events: [submitted('c', 'x', 'evt-c')], expectedVersion: 'no_stream' }]);
      assert.deepEqual(retry.map((r) => [r.positions, r.appended]), [[[5], 0]]);
      await assert.rejects(
        store.appendMany([
          { streamId: 'document-d', events: [submitted('d')] },
          { streamId: 'document-a', events: [submitted('a', 'three')], expectedVersion: 1 },
        ]),
        (err: unknown) => err instanceof ConcurrencyError && err.streamId === 'document-a',
      );
      const bad = { type: 'DocumentSubmitted', data: { document_id: 'e' } } as never;
      await assert.rejects(store.appendMany([{ streamId: 'document-e', events: [submitted('e')] }, { streamId: 'document-f', events: [bad] }]), ValidationError);
      await assert.rejects(store.appendMany([{ streamId: 'document-g', events: [submitted('g')] }, { streamId: 'document-g', events: [submitted('g', 'y')] }]), /appears twice/);
      await assert.rejects(store.appendMany([{ streamId: 'document-g', events: [submitted('g', 'p', 'dup')] }, { streamId: 'document-h', events: [submitted('h', 'q', 'dup')] }]), /appears twice/);
      await assert.rejects(store.appendMany([]), /at least one/);
      assert.equal((await store.head()).position, 5);
      assert.equal(await store.streamVersion('document-d'), 0);
      assert.equal(await store.streamVersion('document-e'), 0);
    });

    test('validation names the problem: unknown types, unknown fields, wrong types, bad stream ids', async (t) => {
      const store = await make(t, {});
      await assert.rejects(store.append('document-a', [{ type: 'Nope', data: {} } as never]), /unknown event type "Nope"/);
      const extra = { type: 'QueryReceived', data: { query_id: 'q', query_text: 't', user_id: 'u', received_at: '2026-01-01T00:00:00Z', typo: 1 } } as never;
      await assert.rejects(store.append('query-q', [extra]), /typo is not a field/);
      const wrong = { type: 'ChunkIndexed', data: { chunk_id: 'c', index_name: 7, indexed_at: 'yesterday' } } as never;
      await assert.rejects(store.append('chunk-c', [wrong]), (err: unknown) => err instanceof ValidationError && /index_name must be/.test(err.message) && /indexed_at must be an ISO-8601/.test(err.message));
      await assert.rejects(store.append('bad stream', [submitted('a')]), /invalid stream id/);
      await assert.rejects(store.append('document-a', []), /at least one event/);
      assert.equal((await store.head()).position, 0);
    });

    test('appending an already-stored event id is a no-op, not a duplicate', async (t) => {
      const store = await make(t, {});
      const first = await store.append('document-a', [submitted('a', 'x', 'evt-1'), submitted('a', 'y', 'evt-2')], { expectedVersion: 'no_stream' });
      // A retry of the same call (stale expected version included) succeeds without writing.
      const retry = await store.append('document-a', [submitted('a', 'x', 'evt-1'), submitted('a', 'y', 'evt-2')], { expectedVersion: 'no_stream' });
      assert.deepEqual(retry.positions, first.positions);
      assert.equal(retry.appended, 0);
      // Same id in another stream is still the same event: no-op.
      const elsewhere = await store.append('document-b', [submitted('b', 'z', 'evt-1')]);
      assert.equal(elsewhere.appended, 0);
      assert.deepEqual(elsewhere.positions, [1]);
      // Mixed: only the new one is written.
      const mixed = await store.append('document-a', [submitted('a', 'y', 'evt-2'), submitted('a', 'w', 'evt-3')], { expectedVersion: 2 });
      assert.deepEqual(mixed.positions, [2, 3]);
      assert.equal(mixed.appended, 1);
      assert.equal((await store.head()).position, 3);
      assert.equal(await store.streamVersion('document-b'), 0);
      await assert.rejects(store.append('document-a', [submitted('a', 'p', 'dup'), submitted('a', 'q', 'dup')]), /appears twice/);
      for (const bad of ['', 'x'.repeat(201), 'tab\there', 'lone \uD800 surrogate']) {
        await assert.rejects(store.append('document-a', [{ ...submitted('a', 'p'), eventId: bad }]), /invalid event id/);
      }
    });

    test('reads all events from a global position, by type, category, stream and limit', async (t) => {
      const store = await make(t, {});
      await store.append('document-a', [submitted('a')]);
      await store.append('query-1', [queried('1')]);
      await store.append('document-b', [submitted('b')]);
      await store.append('chunk-c1', [embedded('c1')]);
      await store.append('documents-x', [submitted('x')]);
      const all = await collect(store.readAll());
      assert.deepEqual(all.map((e) => e.position), [1, 2, 3, 4, 5]);
      assert.deepEqual((await collect(store.readAll({ fromPosition: 3 }))).map((e) => e.position), [3, 4, 5]);
      assert.deepEqual((await collect(store.readAll({ types: ['QueryReceived', 'ChunkEmbedded'] }))).map((e) => e.position), [2, 4]);
      assert.deepEqual((await collect(store.readAll({ category: 'document' }))).map((e) => e.streamId), ['document-a', 'document-b']);
      assert.deepEqual((await collect(store.readAll({ streamId: 'query-1' }))).map((e) => e.position), [2]);
      assert.deepEqual((await collect(store.readAll({ limit: 2, fromPosition: 2 }))).map((e) => e.position), [2, 3]);
      assert.deepEqual((await collect(store.readAll({ types: ['DocumentSubmitted'], limit: 2, fromPosition: 2 }))).map((e) => e.position), [3, 5]);
    });

    test('replays from a start time: since is inclusive, until exclusive', async (t) => {
      const times = ['2026-01-01T00:00:00.000Z', '2026-01-02T00:00:00.000Z', '2026-01-03T00:00:00.000Z', '2026-01-04T00:00:00.000Z'];
      const store = await make(t, { clock: steppingClock(times) });
      for (const id of ['a', 'b', 'c', 'd']) await store.append(`document-${id}`, [submitted(id)]);
      const window = await collect(store.readAll({ since: times[1]!, until: times[3]! }));
      assert.deepEqual(window.map((e) => e.recordedAt), [times[1], times[2]]);
      assert.deepEqual((await collect(store.readAll({ since: times[2]! }))).map((e) => e.position), [3, 4]);
    });

    test('reads more than one page of events', async (t) => {
      const store = await make(t, {});
      for (let b = 0; b < 5; b++) await store.append(`document-${b}`, Array.from({ length: 1000 }, (_, i) => submitted(`${b}`, `v${i}`)));
      let n = 0;
      let last = 0;
      for await (const e of store.readAll({ fromPosition: 10 })) {
        assert.equal(e.position, last === 0 ? 10 : last + 1);
        last = e.position;
        n++;
      }
      assert.equal(n, 4991);
      assert.equal((await collect(store.readStream('document-3', { fromVersion: 999 }))).length, 2);
    });

    test('readPositions returns the events at given positions in order, skipping positions past the head; positionOf finds an event by id', async (t) => {
      const store = await make(t, {});
      for (let i = 0; i < 30; i++) await store.append(`document-d${i % 7}`, [submitted(`d${i % 7}`, `v${i}`)]);
      const raw = await collect(store.readRaw());
      const page = await store.readPositions([12, 3, 4, 5, 29, 3, 31, 99]);
      assert.deepEqual(page.map((e) => e.position), [3, 4, 5, 12, 29]);
      assert.deepEqual(page, [3, 4, 5, 12, 29].map((p) => raw[p - 1]));
      assert.deepEqual((await store.readPositions([7, 8, 9, 10])).map((e) => e.position), [7, 8, 9, 10]);
      assert.deepEqual(await store.readPositions([]), []);
      await assert.rejects(store.readPositions([0]), ValidationError);
      await assert.rejects(store.readPositions([1.5]), ValidationError);
      await assert.rejects(store.readPositions(Array.from({ length: 1001 }, (_, i) => i + 1)), ValidationError);
      assert.equal(await store.positionOf(raw[16]!.eventId), 17);
      assert.equal(await store.positionOf('no-such-event'), null);
    });

    test('vectors are stored as binary Float32 attachments and read back exactly', async (t) => {
      const store = await make(t, {});
      const values = [0.1, -2.5, 1e-7, 3.4028234e38];
      await store.append('chunk-c1', [embedded('c1', values)]);
      const [e] = await collect(store.readAll()) as [RecordedEvent];
      assert.equal(e.type, 'ChunkEmbedded');
      if (e.type !== 'ChunkEmbedded') return;
      assert.ok(e.data.vector instanceof Float32Array);
      assert.deepEqual([...e.data.vector], [...Float32Array.from(values)]);
      assert.equal(e.data.dimensions, 4);
      const [raw] = await collect(store.readRaw()) as [RawEvent];
      assert.equal(raw.attachment?.byteLength, 16);
      assert.doesNotMatch(raw.dataJson, /vector/);
    });

    test('every event chains to the previous one and verify passes', async (t) => {
      const store = await make(t, {});
      await store.append('document-a', [submitted('a'), submitted('a', 'b')]);
      await store.append('chunk-c', [embedded('c')]);
      const raws = await collect(store.readRaw());
      assert.equal(raws[0]!.prevHash, GENESIS_HASH);
      for (let i = 1; i < raws.length; i++) assert.equal(raws[i]!.prevHash, raws[i - 1]!.hash);
      const report = await store.verify();
      assert.equal(report.ok, true);
      assert.equal(report.checked, 3);
      assert.equal(report.headHash, raws[2]!.hash);
      assert.deepEqual(await store.head(), { position: 3, hash: raws[2]!.hash });
    });

    test('forget empties rows in place and appends their attestation: every other event is unchanged and verify and import still pass', async (t) => {
      const store = await make(t, {});
      await store.append('document-a', [submitted('a', 'the secret marker zqxj'), embedded('a-1', [1, 2, 3])]);
      await store.append('query-1', [queried('1')]);
      const before = await collect(store.readRaw());
      const { write, emptied } = forgetting(before.slice(0, 2), 'forget-1');
      const r = await store.forget(write, emptied);
      assert.deepEqual(r.positions, [4]);
      const after = await collect(store.readRaw());
      assert.equal(after.length, 4);
      assert.deepEqual(after.slice(0, 2), emptied);
      assert.deepEqual(after[2], before[2]);
      assert.equal(after[3]!.prevHash, before[2]!.hash);
      for (const raw of after) assert.doesNotMatch(`${raw.dataJson}${raw.metadataJson}`, /zqxj/);
      assert.deepEqual([...after[1]!.attachment!], new Array(12).fill(0));
      assert.equal((JSON.parse(after[0]!.metadataJson) as Record<string, unknown>)[FORGOTTEN_BY], 'forget-1');
      const doc = (await collect(store.readStream('document-a')))[0]!;
      assert.ok(doc.type === 'DocumentSubmitted' && doc.data.raw_content === '' && doc.data.source === 'docs/a.md');
      assert.equal((await store.verify()).ok, true);
      // A retry is a no-op; the archive of the forgotten log imports and verifies.
      assert.equal((await store.forget(write, emptied)).appended, 0);
      const copy = await make(t, {});
      assert.equal(await copy.importRaw(after), 4);
      assert.equal((await copy.verify()).ok, true);
      // Without the attestation, an emptied row is a modification.
      const third = await make(t, {});
      await assert.rejects(third.importRaw(after.slice(0, 3)), (err: unknown) => err instanceof ArchiveError && /position 1/.test(err.message));
    });

    test('forget refuses replacements that change more than the payload or that its event does not attest, and writes nothing', async (t) => {
      const store = await make(t, {});
      await store.append('document-a', [submitted('a'), submitted('a', 'second')]);
      const before = await collect(store.readRaw());
      const { write, emptied } = forgetting(before.slice(0, 1), 'forget-1');
      await assert.rejects(store.forget(write, [{ ...emptied[0]!, recordedAt: '2030-01-01T00:00:00.000Z' }]), ValidationError);
      await assert.rejects(store.forget(write, [...emptied, { ...before[1]!, dataJson: before[1]!.dataJson.replace('second', '') }]), ValidationError);
      const other = forgetting(before.slice(1, 2), 'forget-2');
      await assert.rejects(store.forget(write, other.emptied), ValidationError);
      assert.deepEqual(await collect(store.readRaw()), before);
      assert.equal(rowDigest(sha256, before[0]!), rowDigest(sha256, (await collect(store.readRaw()))[0]!));
    });

    test('importRaw reproduces a log exactly, only into an empty store, and checks the chain', async (t) => {
      const source = await make(t, {});
      await source.append('document-a', [submitted('a')]);
      await source.append('chunk-c', [embedded('c')], { expectedVersion: 'no_stream' });
      await source.append('query-1', [queried('1')]);
      const raws = await collect(source.readRaw());
      const target = await make(t, {});
      assert.equal(await target.importRaw(raws), 3);
      assert.deepEqual(await collect(target.readRaw()), raws);
      assert.equal((await target.verify()).ok, true);
      assert.equal(await target.streamVersion('chunk-c'), 1);
      await assert.rejects(target.importRaw(raws), StoreNotEmptyError);
      const tampered = [raws[0]!, { ...raws[1]!, dataJson: raws[1]!.dataJson.replace('test-model', 'evil-model') }, raws[2]!];
      const third = await make(t, {});
      await assert.rejects(third.importRaw(tampered), ArchiveError);
      assert.equal((await third.head()).position, 0);
    });

    test('importRaw refuses duplicate event ids and gaps in stream versions, even with a valid chain, and writes nothing', async (t) => {
      const source = await make(t, {});
      await source.append('document-a', [submitted('a'), submitted('a', 'v2')]);
      await source.append('document-b', [submitted('b')]);
      const raws = await collect(source.readRaw());
      /** Re-chains edited events so that only the edit itself is wrong. */
      const rechain = (events: RawEvent[]): RawEvent[] => {
        let prevHash = GENESIS_HASH;
        return events.map((e) => {
          const base = { ...e, prevHash };
          prevHash = hashEvent(sha256, base);
          return { ...base, hash: prevHash };
        });
      };
      const gap = rechain(raws.map((e) => (e.position === 2 ? { ...e, streamVersion: 3 } : e)));
      const target = await make(t, {});
      await assert.rejects(target.importRaw(gap), (err: unknown) => err instanceof ArchiveError && /document-a jumps to version 3, expected 2/.test(err.message));
      const dup = rechain(raws.map((e) => (e.position === 3 ? { ...e, eventId: raws[0]!.eventId } : e)));
      await assert.rejects(target.importRaw(dup), (err: unknown) => err instanceof ArchiveError && /appears twice/.test(err.message));
      assert.equal((await target.head()).position, 0);
      assert.equal(await target.importRaw(rechain(raws)), 3);
    });

    test('importRaw applies every rule append applies (stream id, recorded time, metadata), even with a valid chain, and writes nothing', async (t) => {
      const source = await make(t, {});
      await source.append('document-a', [submitted('a')]);
      await source.append('document-b', [submitted('b')]);
      const raws = await collect(source.readRaw());
      const rechain = (events: RawEvent[]): RawEvent[] => {
        let prevHash = GENESIS_HASH;
        return events.map((e) => {
          const base = { ...e, prevHash };
          prevHash = hashEvent(sha256, base);
          return { ...base, hash: prevHash };
        });
      };
      const forgeries: [Partial<RawEvent>, RegExp][] = [
        [{ streamId: '../../../escape' }, /position 2.*invalid stream id/],
        [{ streamId: '..' }, /position 2.*invalid stream id/],
        [{ recordedAt: '..-..-..-.' }, /position 2.*recordedAt/],
        [{ recordedAt: '2026-02-30T00:00:00.000Z' }, /position 2.*recordedAt/],
        [{ metadataJson: '{"actor":42}' }, /position 2.*metadata\.actor/],
        [{ eventId: '' }, /position 2.*invalid event id/],
      ];
      const target = await make(t, {});
      for (const [edit, message] of forgeries) {
        const forged = rechain(raws.map((e) => (e.position === 2 ? { ...e, ...edit } : e)));
        await assert.rejects(target.importRaw(forged), (err: unknown) => err instanceof ArchiveError && message.test(err.message), JSON.stringify(edit));
      }
      assert.equal((await target.head()).position, 0);
    });

    test('a chunking stores no chunk text and reads its texts back from its submission, in every read', async (t) => {
      const store = await make(t, {});
      const content = 'Alpha paragraph here.\n\nBravo paragraph ✓ there.';
      const sub = { ...submitted('a', content), eventId: 'sub-a' };
      await store.append('document-a', [sub]);
      await store.append('document-b', [submitted('b', 'other')]);
      const slices: [number, number][] = [[0, 21], [23, content.length]];
      const chunking: NewEvent = {
        type: 'DocumentChunked',
        eventId: 'chunked-a',
        metadata: { causation_id: 'sub-a' },
        data: { document_id: 'a', chunks: slices.map(([s, e], i) => ({ chunk_id: `c${i}`, text: content.slice(s, e), position: { index: i, start_line: i * 2 + 1, end_line: i * 2 + 1, start_char: s, end_char: e } })), chunked_at: '2026-01-02T03:04:05.000Z' },
      };
      await store.append('document-a', [chunking]);
      const [raw] = (await collect(store.readRaw(3))).filter((r) => r.type === 'DocumentChunked');
      assert.equal(raw!.schemaVersion, 2);
      assert.ok(!raw!.dataJson.includes('paragraph'), raw!.dataJson);
      const texts = (e: RecordedEvent | undefined): string[] => (e?.type === 'DocumentChunked' ? e.data.chunks.map((c) => c.text) : []);
      const want = ['Alpha paragraph here.', 'Bravo paragraph ✓ there.'];
      assert.deepEqual(texts((await collect(store.readStream('document-a')))[1]), want);
      // Read alone (the submission not in the same page), and from a position past the submission.
      assert.deepEqual(texts((await collect(store.readAll({ types: ['DocumentChunked'] })))[0]), want);
      assert.deepEqual(texts((await collect(store.readAll({ fromPosition: 3 })))[0]), want);
      assert.equal((await store.verify()).ok, true);
    });

    test('a page of more than a thousand chunkings read without their submissions gets every text back', async (t) => {
      const store = await make(t, {});
      const n = 1100;
      const chunkingOf = (i: number): NewEvent => ({
        type: 'DocumentChunked',
        metadata: { causation_id: `sub-${i}` },
        data: { document_id: `d${i}`, chunks: [{ chunk_id: `c${i}`, text: `text ${i}`, position: { index: 0, start_line: 1, end_line: 1, start_char: 0, end_char: `text ${i}`.length } }], chunked_at: '2026-01-02T03:04:05.000Z' },
      });
      await store.appendMany(Array.from({ length: n }, (_, i) => ({ streamId: `document-d${i}`, events: [{ ...submitted(`d${i}`, `text ${i}`), eventId: `sub-${i}` }], expectedVersion: 'any' as const })));
      await store.appendMany(Array.from({ length: n }, (_, i) => ({ streamId: `document-d${i}`, events: [chunkingOf(i)], expectedVersion: 'any' as const })));
      const texts = (await collect(store.readAll({ types: ['DocumentChunked'] }))).map((e) => (e.type === 'DocumentChunked' ? e.data.chunks[0]!.text : null));
      assert.deepEqual(texts, Array.from({ length: n }, (_, i) => `text ${i}`));
    });

    test('a chunking whose submission is missing reads with empty texts', async (t) => {
      const store = await make(t, {});
      await store.append('document-a', [{
        type: 'DocumentChunked',
        metadata: { causation_id: 'no-such-event' },
        data: { document_id: 'a', chunks: [{ chunk_id: 'c0', text: 'gone', position: { index: 0, start_line: 1, end_line: 1, start_char: 0, end_char: 4 } }], chunked_at: '2026-01-02T03:04:05.000Z' },
      }]);
      const [e] = await collect(store.readStream('document-a'));
      assert.deepEqual(e?.type === 'DocumentChunked' ? e.data.chunks.map((c) => c.text) : null, ['']);
    });

    test('forgetting a submission and its chunking leaves the chunking with empty texts, and the log verifies', async (t) => {
      const store = await make(t, {});
      await store.append('document-a', [{ ...submitted('a', 'Secret words.'), eventId: 'sub-a' }, {
        type: 'DocumentChunked',
        eventId: 'chunked-a',
        metadata: { causation_id: 'sub-a' },
        data: { document_id: 'a', chunks: [{ chunk_id: 'c0', text: 'Secret words.', position: { index: 0, start_line: 1, end_line: 1, start_char: 0, end_char: 13 }, heading_path: ['Secret'] }], chunked_at: '2026-01-02T03:04:05.000Z' },
      }]);
      const rows = await collect(store.readRaw());
      const { write, emptied } = forgetting(rows, 'forgot-a');
      await store.forget(write, emptied);
      const [sub, chunked] = await collect(store.readStream('document-a'));
      assert.equal(sub?.type === 'DocumentSubmitted' ? sub.data.raw_content : null, '');
      assert.deepEqual(chunked?.type === 'DocumentChunked' ? chunked.data.chunks.map((c) => [c.text, c.heading_path]) : null, [['', undefined]]);
      const raw = (await store.readPositions([2]))[0]!;
      assert.ok(!raw.dataJson.includes('Secret'), raw.dataJson);
      assert.equal((await store.verify()).ok, true);
    });

    test('stats count events by type and category', async (t) => {
      const store = await make(t, {});
      await store.append('document-a', [submitted('a'), submitted('a', 'x')]);
      await store.append('query-1', [queried('1')]);
      const s = await store.stats();
      assert.equal(s.events, 3);
      assert.equal(s.streams, 2);
      assert.deepEqual(s.byType, { DocumentSubmitted: 2, QueryReceived: 1 });
      assert.deepEqual(s.byCategory, { document: 2, query: 1 });
    });
  });
}
