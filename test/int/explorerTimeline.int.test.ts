// The explorer's timeline against a brute-force reference, on a real sql.js store and real LanceDB
// text index on disk: every filter, pages at any offset, positions located, density totals, text
// search, persistence across reopening, growth, a replaced log, and a read-only process.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Ledger } from '../../src/adapters/ledger.js';
import { openExplorer, openLedger } from '../../src/adapters/ledger.js';
import type { Explorer } from '../../src/app/explorer/explorer.js';
import { readModelLabel } from '../../src/app/explorer/explorer.js';
import { logPage } from '../../src/app/explorer/timelineService.js';
import { isFailure } from '../../src/core/explorer/eventGroups.js';
import { searchWords } from '../../src/core/explorer/timelineFilter.js';
import type { RecordedEvent } from '../../src/core/eventStore.js';
import type { TimelineFilter } from '../../src/shared/explorerModel.js';
import { MARKERS, PV1, PV2, buildSyntheticStore } from '../support/syntheticLog.js';
import type { syntheticLog } from '../support/syntheticLog.js';
import { tempDir } from '../support/tmp.js';

const fill = (dir: string, options: Parameters<typeof syntheticLog>[0]): Promise<number> => buildSyntheticStore(dir, options);

async function all(ledger: Ledger): Promise<RecordedEvent[]> {
  const out: RecordedEvent[] = [];
  for await (const e of ledger.events.readAll()) out.push(e);
  return out;
}

/** Every word an event's searchable text holds, as the index keeps them. */
function textOf(e: RecordedEvent): string {
  switch (e.type) {
    case 'DocumentSubmitted':
      return e.data.source;
    case 'DocumentChunked':
      return e.data.chunks.map((c) => c.text).join(' ');
    case 'DocumentRejected':
      return `${e.data.reason} ${e.data.detail}`;
    case 'DocumentDeleted':
      return e.data.reason;
    case 'ChunkEmbeddingFailed':
      return `${e.data.embedding_model} ${e.data.reason}`;
    case 'QueryReceived':
      return e.data.query_text;
    case 'InferenceCompleted':
    case 'ReplayAnswered':
      return e.data.response_text;
    case 'InferenceFailed':
      return `${e.data.model_id} ${e.data.reason} ${e.data.detail}`;
    case 'PipelineVersionDefined':
      return `${e.data.pipeline_version} ${e.data.label}`;
    default:
      return '';
  }
}

/** The reference: the positions a filter selects, by reading every event. */
function expected(events: readonly RecordedEvent[], f: TimelineFilter): number[] {
  const words = f.text === undefined ? null : searchWords(f.text);
  return events
    .filter((e) => {
      if (f.types && !f.types.includes(e.type)) return false;
      if (f.stream !== undefined && e.streamId !== f.stream) return false;
      if (f.correlation !== undefined && e.metadata.correlation_id !== f.correlation) return false;
      const pv = e.metadata.pipeline_version ?? (e.type === 'PipelineVersionDefined' || e.type === 'PipelineVersionActivated' ? e.data.pipeline_version : undefined);
      if (f.pipeline !== undefined && pv !== f.pipeline) return false;
      if (f.since !== undefined && e.recordedAt < f.since) return false;
      if (f.until !== undefined && e.recordedAt >= f.until) return false;
      if (f.failures && !isFailure(e.type, e.data)) return false;
      if (words) {
        const have = new Set(searchWords(textOf(e)));
        if (!words.every((w) => have.has(w))) return false;
      }
      return true;
    })
    .map((e) => e.position);
}

async function pagesOf(explorer: Explorer, f: TimelineFilter, size: number): Promise<number[]> {
  const out: number[] = [];
  for (let start = 0; ; start += size) {
    const page = await explorer.timeline.page(f, start, size);
    out.push(...page.rows.map((r) => r.position));
    if (page.rows.length < size) return out;
  }
}

describe('the explorer timeline on a real store', () => {
  let dir: string;
  let ledger: Ledger;
  let explorer: Explorer;
  let events: RecordedEvent[];
  const options = { documents: 700, questions: 400, dimensions: 8, documentChars: 600, hostile: true, seed: 7 };

  before(async () => {
    dir = join(tempDir(undefined, 'rag-ledger-explorer-'), 'store');
    await fill(dir, options);
    ledger = await openLedger(dir, { mode: 'write' });
    await ledger.runner.catchUp();
    explorer = await openExplorer(dir, ledger);
    await explorer.timeline.catchUp();
    events = await all(ledger);
  });
  after(async () => {
    await explorer?.close();
    await ledger?.close();
  });

  const someQuery = (): string => events.find((e) => e.type === 'QueryReceived' && e.position > events.length / 2)!.streamId.slice('query-'.length);
  const someDocument = (): string => events.find((e) => e.type === 'DocumentChunked' && e.metadata.pipeline_version === PV2)!.streamId;
  const middle = (): string => events[Math.floor(events.length * 0.4)]!.recordedAt;
  const late = (): string => events[Math.floor(events.length * 0.9)]!.recordedAt;

  const filters = (): [string, TimelineFilter][] => [
    ['one type', { types: ['ChunkIndexed'] }],
    ['several types', { types: ['DocumentSubmitted', 'QueryReceived', 'InferenceFailed'] }],
    ['a rare type', { types: ['InferenceFailed'] }],
    ['a stream', { stream: someDocument() }],
    ['a question’s chain', { correlation: someQuery() }],
    ['a pipeline version', { pipeline: PV2 }],
    ['a pipeline version and types', { pipeline: PV1, types: ['ChunkEmbedded', 'DocumentChunked'] }],
    ['failures', { failures: true }],
    ['a time range', { since: middle(), until: late() }],
    ['types in a time range', { types: ['ChunkIndexed'], since: middle() }],
    ['common words', { text: MARKERS.common[0] }],
    ['rare words in questions', { text: `How ${MARKERS.uncommon[0].toUpperCase()}`, types: ['QueryReceived'] }],
    ['words that never appear', { text: 'nothing-like-this' }],
    ['words with markup', { text: 'img onerror' }],
    ['a name never seen', { correlation: 'q-never-asked' }],
    ['everything at once', { types: ['ContextRetrieved', 'QueryReceived'], pipeline: PV1, since: middle(), text: MARKERS.common[0] }],
  ];

  test('every filter pages exactly the events the brute-force reference selects, whatever the page size', async () => {
    for (const [name, f] of filters()) {
      const want = expected(events, f);
      const first = await explorer.timeline.page(f, 0, 300);
      assert.equal(first.total, want.length, `${name}: total`);
      assert.deepEqual(await pagesOf(explorer, f, 300), want, `${name}: pages of 300`);
      assert.deepEqual(await pagesOf(explorer, f, 37), want, `${name}: pages of 37`);
    }
    assert.ok(expected(events, { text: 'img onerror' }).length > 0, 'the hostile strings are searchable as text');
  });

  test('the unfiltered timeline is the whole log by position, pages at any offset', async () => {
    const page = await explorer.timeline.page({}, 1234, 300);
    assert.equal(page.total, events.length);
    assert.deepEqual(
      page.rows.map((r) => r.position),
      events.slice(1234, 1534).map((e) => e.position),
    );
    const last = await explorer.timeline.page({}, events.length - 5, 300);
    assert.equal(last.rows.length, 5);
    assert.deepEqual((await explorer.timeline.page({}, events.length + 10, 10)).rows, []);
  });

  test('the first rows without the index (while it opens) are the indexed rows, labels included', async () => {
    const withoutIndex = readModelLabel(ledger.readModels);
    for (const start of [0, 1234, events.length - 150]) {
      const indexed = await explorer.timeline.page({}, start, 300);
      const early = await logPage(ledger.events, withoutIndex, start, 300);
      assert.equal(early.total, indexed.total);
      assert.deepEqual(early.rows, indexed.rows, `rows from ${start}`);
    }
    // Documents, questions and pipeline versions all get their label.
    for (const prefix of ['document-', 'query-', 'pipeline-']) {
      const at = events.find((e) => e.streamId.startsWith(prefix))!.position;
      const [row] = (await logPage(ledger.events, withoutIndex, at - 1, 1)).rows;
      assert.ok(row?.subject, `${prefix}: ${JSON.stringify(row)}`);
      assert.deepEqual(row, (await explorer.timeline.page({}, at - 1, 1)).rows[0]);
    }
    await assert.rejects(logPage(ledger.events, withoutIndex, -1, 10), /start must be a row index/);
    await assert.rejects(logPage(ledger.events, withoutIndex, 0, 301), /limit must be 1 to 300/);
  });

  test('random pages of large selections match the reference (jumps, not only scrolling)', async () => {
    for (const f of [{ types: ['ChunkIndexed', 'ChunkEmbedded'] }, { pipeline: PV1 }, { text: MARKERS.common[0] }] satisfies TimelineFilter[]) {
      const want = expected(events, f);
      for (const start of [want.length - 1, 5000, 513, 1, Math.floor(want.length / 2), 1024, 0]) {
        const page = await explorer.timeline.page(f, start, 100);
        assert.deepEqual(
          page.rows.map((r) => r.position),
          want.slice(start, start + 100),
          `${JSON.stringify(f)} from row ${start}`,
        );
      }
    }
  });

  test('an event detail shows the chunk texts of a chunking (stored once, in its submission)', async () => {
    const chunked = events.find((e) => e.type === 'DocumentChunked' && e.storedSchemaVersion === 2)!;
    assert.ok(chunked.type === 'DocumentChunked');
    const first = chunked.data.chunks[0]!;
    const submission = events.find((e) => e.eventId === chunked.metadata.causation_id)!;
    assert.ok(submission.type === 'DocumentSubmitted');
    assert.ok(first.text.length > 0);
    assert.equal(first.text, submission.data.raw_content.slice(first.position.start_char, first.position.end_char));
    const field = await explorer.details.field(chunked.position, ['chunks', 0, 'text']);
    assert.equal(field.text, first.text.slice(0, field.text.length));
    assert.ok(field.text.length > 0);
  });

  test('locate finds the row of a position or a time in any filter', async () => {
    for (const [name, f] of filters()) {
      const want = expected(events, f);
      for (const position of [1, Math.floor(events.length / 3), events.length, events.length + 100]) {
        const { index, total } = await explorer.timeline.locate(f, { position });
        const first = want.findIndex((p) => p >= position);
        assert.equal(index, first === -1 ? want.length : first, `${name}: locate ${position}`);
        assert.equal(total, want.length);
      }
    }
    const t = middle();
    const at = await explorer.timeline.locate({}, { time: t });
    assert.equal(events[at.index]!.recordedAt >= t, true);
    assert.equal(at.index === 0 || events[at.index - 1]!.recordedAt < t, true);
  });

  test('rows carry a summary, a group, the document path or question, and failures are marked', async () => {
    const first = async (type: string) => (await explorer.timeline.page({ types: [type] }, 0, 50)).rows;
    const rows = [...(await first('DocumentRejected')), ...(await first('QueryReceived')), ...(await first('DocumentChunked'))];
    const rejected = rows.find((r) => r.type === 'DocumentRejected')!;
    assert.equal(rejected.failed, true);
    assert.equal(rejected.group, 'failure');
    assert.match(rejected.subject ?? '', /^src\/module\d+\//);
    const question = rows.find((r) => r.type === 'QueryReceived')!;
    assert.match(question.summary, /^“how does /);
    assert.equal(question.subject, question.summary.match(/^“(.*)” asked by/)?.[1]);
    const chunked = rows.find((r) => r.type === 'DocumentChunked')!;
    assert.match(chunked.summary, /^\d+ chunks for pv-/);
    assert.ok(rows.every((r) => r.summary.length <= 240 && (r.subject ?? '').length <= 240), 'clipped');
  });

  test('density counts every selected event once, stacked by group, over the whole log', async () => {
    for (const f of [{}, { types: ['ChunkIndexed'] }, { pipeline: PV2 }, { failures: true }, { text: MARKERS.uncommon[0] }, { stream: someDocument() }] satisfies TimelineFilter[]) {
      const d = await explorer.timeline.density(f, 120);
      const want = expected(events, f).length;
      const sum = Object.values(d.counts).reduce((s, row) => s + row.reduce((a, b) => a + b, 0), 0);
      assert.ok(Math.abs(sum - want) < 0.5 + want * 1e-9, `${JSON.stringify(f)}: ${sum} vs ${want}`);
      assert.equal(d.total, want);
      assert.equal(d.buckets, 120);
      assert.ok(d.from <= Date.parse(events[0]!.recordedAt));
      assert.ok(d.from + d.bucketMs * d.buckets > Date.parse(events[events.length - 1]!.recordedAt));
    }
    // A time range is the chart's span: brushing zooms in.
    const range = { since: middle(), until: late() };
    const zoomed = await explorer.timeline.density(range, 60);
    assert.equal(zoomed.from, Date.parse(range.since));
    assert.ok(zoomed.from + zoomed.bucketMs * 60 >= Date.parse(range.until));
    assert.equal(zoomed.total, expected(events, range).length);
  });

  test('the index is persisted: reopening continues from its checkpoint, and new events are indexed incrementally', async () => {
    await explorer.close();
    await ledger.close();
    ledger = await openLedger(dir, { mode: 'write' });
    explorer = await openExplorer(dir, ledger);
    assert.equal(explorer.timeline.checkpoint, events.length, 'nothing to index again');
    // More events: a new question, asked after the rest.
    const now = new Date().toISOString();
    await ledger.events.append('query-q-late', [
      { type: 'QueryReceived', metadata: { correlation_id: 'q-late' }, data: { query_id: 'q-late', query_text: 'where does the zeppelin land?', user_id: 'me', received_at: now } },
      { type: 'InferenceFailed', metadata: { correlation_id: 'q-late' }, data: { query_id: 'q-late', model_id: 'm', reason: 'timeout', detail: 'nothing for 120 s', failed_at: now } },
    ]);
    await explorer.timeline.catchUp();
    events = await all(ledger);
    assert.equal(explorer.timeline.checkpoint, events.length);
    for (const f of [{ correlation: 'q-late' }, { failures: true }, { text: 'zeppelin land' }, { types: ['QueryReceived'] }] satisfies TimelineFilter[]) {
      assert.deepEqual(await pagesOf(explorer, f, 300), expected(events, f), JSON.stringify(f));
    }
  });

  test('a read-only process sees the whole log, searching past what the writer indexed by reading it', async () => {
    await explorer.flush();
    const writerCheckpoint = explorer.timeline.checkpoint;
    const now = new Date().toISOString();
    await ledger.events.append('query-q-after', [{ type: 'QueryReceived', metadata: { correlation_id: 'q-after' }, data: { query_id: 'q-after', query_text: 'a zeppelin question nobody indexed', user_id: 'me', received_at: now } }]);
    const reader = await openLedger(dir, { mode: 'read' });
    try {
      await reader.runner.catchUp();
      const readOnly = await openExplorer(dir, reader);
      try {
        assert.equal(readOnly.timeline.checkpoint, writerCheckpoint, 'the reader starts from the written index');
        await readOnly.timeline.catchUp();
        const everything = await all(reader);
        for (const f of [{ text: 'zeppelin' }, { correlation: 'q-after' }, { types: ['QueryReceived'], text: 'nobody indexed' }] satisfies TimelineFilter[]) {
          assert.deepEqual(await pagesOf(readOnly, f, 300), expected(everything, f), JSON.stringify(f));
        }
      } finally {
        await readOnly.close();
      }
    } finally {
      await reader.close();
    }
  });

  test('an index that no longer matches the log (the store was replaced) is rebuilt from the log', async () => {
    await explorer.close();
    await ledger.close();
    rmSync(dir, { recursive: true, force: true });
    // Another log in the same place, with the old explorer files left behind.
    const kept = join(tempDir(undefined, 'rag-ledger-explorer-'), 'store');
    await fill(kept, { ...options, documents: 50, questions: 10, seed: 99 });
    const { cpSync } = await import('node:fs');
    cpSync(kept, dir, { recursive: true });
    ledger = await openLedger(dir, { mode: 'write' });
    explorer = await openExplorer(dir, ledger);
    await explorer.timeline.catchUp();
    events = await all(ledger);
    assert.equal(explorer.timeline.checkpoint, events.length);
    assert.deepEqual(await pagesOf(explorer, { types: ['QueryReceived'] }, 300), expected(events, { types: ['QueryReceived'] }));
    assert.deepEqual(await pagesOf(explorer, { text: MARKERS.common[0] }, 300), expected(events, { text: MARKERS.common[0] }));
  });
});
