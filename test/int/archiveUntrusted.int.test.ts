import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, statSync, symlinkSync, writeFileSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { before, describe, test } from 'node:test';
import { exportArchive, importArchive, streamDirName, streamIdOfDirName } from '../../src/adapters/archive/jsonlArchive.js';
import { sha256 } from '../../src/adapters/node/sha256.js';
import { SqlJsEventStore } from '../../src/adapters/sqljs/sqljsEventStore.js';
import { ArchiveError } from '../../src/core/errors.js';
import { GENESIS_HASH, hashEvent } from '../../src/core/eventLog.js';
import type { EventStore, RawEvent } from '../../src/core/eventStore.js';
import { buildDist, cli, cliPath } from '../support/cli.js';
import { tempDir } from '../support/tmp.js';

/** Forged events with a correct hash chain: what someone who edits an archive can write. */
function chain(specs: readonly { streamId: string; recordedAt?: string; metadata?: unknown; content?: string }[]): RawEvent[] {
  const out: RawEvent[] = [];
  const versions = new Map<string, number>();
  let prevHash = GENESIS_HASH;
  specs.forEach((s, i) => {
    const streamVersion = (versions.get(s.streamId) ?? 0) + 1;
    versions.set(s.streamId, streamVersion);
    const data = { document_id: `d${i}`, source: `docs/d${i}.md`, raw_content: s.content ?? `text ${i}`, submitted_at: '2026-01-02T03:04:05Z' };
    const base = {
      position: i + 1,
      eventId: `e${i + 1}`,
      streamId: s.streamId,
      streamVersion,
      type: 'DocumentSubmitted',
      schemaVersion: 1,
      dataJson: JSON.stringify(data),
      metadataJson: JSON.stringify(s.metadata ?? {}),
      attachment: null,
      recordedAt: s.recordedAt ?? '2026-01-02T03:04:05.000Z',
      prevHash,
    };
    const raw = { ...base, hash: hashEvent(sha256, base) };
    out.push(raw);
    prevHash = raw.hash;
  });
  return out;
}

function lineOf(raw: RawEvent): string {
  const { dataJson, metadataJson, attachment: _a, ...rest } = raw;
  return JSON.stringify({ ...rest, data: JSON.parse(dataJson) as unknown, metadata: JSON.parse(metadataJson) as unknown, attachment: null });
}

/** Writes an archive by hand, all events in one file (as a forger would). */
function writeArchive(dir: string, events: readonly RawEvent[], file = 'events/2026/01/02/document-a/events.jsonl'): string {
  const path = join(dir, file);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, events.map((e) => `${lineOf(e)}\n`).join(''));
  const last = events.at(-1)!;
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ format: 'rag-ledger-archive', version: 1, events: events.length, headPosition: last.position, headHash: last.hash, exportedAt: '2026-01-02T00:00:00.000Z' }));
  return path;
}

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => (statSync(join(dir, n)).isDirectory() ? walk(join(dir, n)) : [join(dir, n)]));
}

before(() => buildDist());

describe('archives are untrusted input', () => {
  test('import refuses forged stream ids, recorded times and metadata with one line naming the line and the rule; no store is created', (t) => {
    const cases: { spec: Parameters<typeof chain>[0][number]; rule: RegExp }[] = [
      { spec: { streamId: '../../../escape' }, rule: /invalid stream id "\.\.\/\.\.\/\.\.\/escape"/ },
      { spec: { streamId: '..' }, rule: /invalid stream id "\.\."/ },
      { spec: { streamId: 'document-a/../../x' }, rule: /invalid stream id/ },
      { spec: { streamId: 'document-b', recordedAt: '..-..-..-.' }, rule: /recordedAt "\.\.-\.\.-\.\.-\." is not a time the store records/ },
      { spec: { streamId: 'document-b', recordedAt: '2026-02-30T00:00:00.000Z' }, rule: /recordedAt "2026-02-30T00:00:00\.000Z" is not a time/ },
      { spec: { streamId: 'document-b', metadata: { actor: { evil: true } } }, rule: /metadata\.actor must be a string/ },
      { spec: { streamId: 'document-b', metadata: ['not', 'an', 'object'] }, rule: /metadata must be a JSON object/ },
    ];
    for (const { spec, rule } of cases) {
      const archive = tempDir(t);
      writeArchive(archive, chain([{ streamId: 'document-a' }, spec, { streamId: 'document-a' }]));
      const store = join(tempDir(t), 'store');
      const r = cli(['import', archive, '--store', store]);
      assert.equal(r.code, 1, `${JSON.stringify(spec)}: ${r.stderr}`);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.match(r.stderr, /the archive is invalid at events\/2026\/01\/02\/document-a\/events\.jsonl:2: /, r.stderr);
      assert.match(r.stderr, rule);
      assert.equal(existsSync(store), false, 'the archive is checked before the store is created');
    }
  });

  test('import refuses data that append refuses (an impossible date), naming the field', async (t) => {
    const archive = tempDir(t);
    const [first] = chain([{ streamId: 'document-a' }]);
    const data = JSON.stringify({ document_id: 'd', source: 'docs/d.md', raw_content: 'x', submitted_at: '2026-02-30T00:00:00Z' });
    const base = { ...first!, dataJson: data };
    writeArchive(archive, [{ ...base, hash: hashEvent(sha256, base) }]);
    const store = await SqlJsEventStore.open(join(tempDir(t), 'store'), { owner: 'test' });
    t.after(() => store.close());
    await assert.rejects(importArchive(store, archive), (err: unknown) => err instanceof ArchiveError && /events\.jsonl:1: .*submitted_at "2026-02-30T00:00:00Z" is not a date: February 2026 has 28 days/.test(err.message));
    assert.equal((await store.head()).position, 0);
  });

  test('export never writes outside its directory, whatever stream ids and times the log holds', async (t) => {
    // A store crafted to hold what no append or import accepts (as a store written by an older build might).
    const forged = chain([
      { streamId: '../../../escape', recordedAt: '..-..-..-.' },
      { streamId: '..' },
      { streamId: '.' },
      { streamId: '.hidden' },
      { streamId: 'a\\b' },
      { streamId: 'é/ü' },
      { streamId: 'x'.repeat(250) },
    ]);
    const crafted = {
      head: () => Promise.resolve({ position: forged.length, hash: forged.at(-1)!.hash }),
      readRaw: async function* () {
        yield* forged;
      },
    } as unknown as EventStore;
    const parent = tempDir(t);
    const dir = join(parent, 'nested', 'export');
    assert.equal(await exportArchive(crafted, dir), forged.length);
    const outside = walk(parent).filter((f) => !f.startsWith(`${dir}/`));
    assert.deepEqual(outside, [], 'no file outside the export directory');
    assert.equal(existsSync(join(parent, 'escape')), false);
    const files = walk(dir).map((f) => f.slice(dir.length + 1)).sort();
    assert.ok(files.includes('events/undated/%2E.%2F..%2F..%2Fescape/events.jsonl'), files.join(', '));
    assert.ok(files.includes('events/2026/01/02/%2E./events.jsonl'), files.join(', '));
    assert.ok(files.includes('events/2026/01/02/%2E/events.jsonl'), files.join(', '));
    assert.ok(files.includes('events/2026/01/02/%2Ehidden/events.jsonl'), files.join(', '));
    for (const id of ['../../../escape', '..', '.', '.hidden', 'a\\b', 'é/ü', 'document-a', 'we/ird:id']) assert.equal(streamIdOfDirName(streamDirName(id)), id);
    for (const f of files) for (const seg of f.split('/')) assert.ok(seg.length <= 255 && seg !== '..' && seg !== '.', seg);
  });

  test('an archive holding a symbolic link is refused, naming it', (t) => {
    const archive = tempDir(t);
    writeArchive(archive, chain([{ streamId: 'document-a' }]));
    const elsewhere = join(tempDir(t), 'secret.jsonl');
    writeFileSync(elsewhere, 'not an event\n');
    symlinkSync(elsewhere, join(archive, 'events/2026/01/02/document-a/more.jsonl'));
    const r = cli(['import', archive, '--store', join(tempDir(t), 'store')]);
    assert.equal(r.code, 1, r.stderr);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, /the archive is invalid at events\/2026\/01\/02\/document-a\/more\.jsonl: is a symbolic link/);
  });

  test('a line longer than the limit is one clear line naming the file, the line and the limit', (t) => {
    const archive = tempDir(t);
    writeArchive(archive, chain([{ streamId: 'document-a' }, { streamId: 'document-a', content: 'y'.repeat(5000) }]));
    const store = join(tempDir(t), 'store');
    const r = cli(['import', archive, '--store', store], { env: { RAG_LEDGER_ARCHIVE_MAX_LINE_BYTES: '4096' } });
    assert.equal(r.code, 1, r.stderr);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, /the archive line events\/2026\/01\/02\/document-a\/events\.jsonl:2 is longer than 4096 bytes; nothing was imported\. .*RAG_LEDGER_ARCHIVE_MAX_LINE_BYTES/);
    assert.equal(existsSync(store), false);
    const bad = cli(['import', archive, '--store', store], { env: { RAG_LEDGER_ARCHIVE_MAX_LINE_BYTES: 'lots' } });
    assert.equal(bad.code, 2, bad.stderr);
  });

  test('a 70 MB line is refused under the default 64 MiB limit without reading it whole', (t) => {
    const archive = tempDir(t);
    const file = writeArchive(archive, chain([{ streamId: 'document-a' }]));
    const fd = openSync(file, 'a');
    const block = Buffer.alloc(1024 * 1024, 'z');
    writeSync(fd, '{"position":2,"data":"');
    for (let i = 0; i < 70; i++) writeSync(fd, block);
    writeSync(fd, '"}\n');
    closeSync(fd);
    const r = cli(['import', archive, '--store', join(tempDir(t), 'store')]);
    assert.equal(r.code, 1, r.stderr);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, /events\.jsonl:2 is longer than 67108864 bytes/);
  });

  test('a big archive is read with bounded memory: peak RSS stays well below its size', (t) => {
    // 1,700 events of 100 KB (about 170 MB in one file), the last one forged: the import reads
    // every line before refusing it. Reading a file whole (as a string, then split) needs several
    // times its size.
    const archive = tempDir(t);
    const content = 'lorem ipsum '.repeat(8_500);
    const specs = Array.from({ length: 1_700 }, (_, i) => ({ streamId: i === 1_699 ? '..' : 'document-a', content }));
    const events = chain(specs);
    const path = join(archive, 'events/2026/01/02/document-a/events.jsonl');
    mkdirSync(dirname(path), { recursive: true });
    const fd = openSync(path, 'w');
    for (const e of events) writeSync(fd, `${lineOf(e)}\n`);
    closeSync(fd);
    const last = events.at(-1)!;
    writeFileSync(join(archive, 'manifest.json'), JSON.stringify({ format: 'rag-ledger-archive', version: 1, events: events.length, headPosition: last.position, headHash: last.hash, exportedAt: '2026-01-02T00:00:00.000Z' }));
    const size = statSync(path).size;
    assert.ok(size > 160 * 1024 * 1024, `archive of ${size} bytes`);
    const probe = join(archive, 'rss.cjs');
    const rssFile = join(archive, 'rss.txt');
    writeFileSync(probe, `process.on('exit', () => require('node:fs').writeFileSync(${JSON.stringify(rssFile)}, String(process.resourceUsage().maxRSS * 1024)));\n`);
    const peakRss = (dir: string): { peak: number; stderr: string; status: number | null } => {
      const r = spawnSync(process.execPath, ['--require', probe, cliPath, 'import', dir, '--store', join(tempDir(t), 'store')], { encoding: 'utf8', env: { ...process.env, RAG_LEDGER_STORE: '' }, timeout: 120_000 });
      return { peak: Number(readFileSync(rssFile, 'utf8')), stderr: r.stderr, status: r.status };
    };
    // The same command on a one-event archive: what the CLI needs whatever it reads.
    const small = tempDir(t);
    writeArchive(small, chain([{ streamId: 'document-a' }]));
    const baseline = peakRss(small);
    assert.equal(baseline.status, 0, baseline.stderr);
    const big = peakRss(archive);
    assert.equal(big.status, 1, big.stderr);
    assert.match(big.stderr, /events\.jsonl:1700: invalid stream id "\.\."/);
    const extra = big.peak - baseline.peak;
    assert.ok(extra < size / 4, `reading an archive of ${Math.round(size / 1e6)} MB took ${Math.round(extra / 1e6)} MB more than a one-event archive (peak ${Math.round(big.peak / 1e6)} MB)`);
  });
});

describe('append refuses what it cannot record', () => {
  test('an impossible time, a path-like time, bad metadata or a dot stream id: exit 2, one line, no store created', (t) => {
    const data = (at: string): string => JSON.stringify({ document_id: 'd', reason: 'gone', deleted_at: at });
    const cases: { args: string[]; rule: RegExp }[] = [
      { args: ['--stream', 'document-d', '--data', data('..-..-..-.')], rule: /deleted_at must be an ISO-8601 timestamp, got "\.\.-\.\.-\.\.-\."/ },
      { args: ['--stream', 'document-d', '--data', data('2026-02-30T00:00:00Z')], rule: /deleted_at "2026-02-30T00:00:00Z" is not a date: February 2026 has 28 days/ },
      { args: ['--stream', 'document-d', '--data', data('2026-01-01T25:00:00Z')], rule: /deleted_at "2026-01-01T25:00:00Z" is not a time of day/ },
      { args: ['--stream', 'document-d', '--data', data('2026-01-01T00:00:00Z'), '--metadata', '{"actor":5}'], rule: /metadata\.actor must be a string/ },
      { args: ['--stream', 'document-d', '--data', data('2026-01-01T00:00:00Z'), '--metadata', '{"correlation_id":""}'], rule: /metadata\.correlation_id must be a string/ },
      { args: ['--stream', 'document/../x', '--data', data('2026-01-01T00:00:00Z')], rule: /invalid stream id "document\/\.\.\/x"/ },
    ];
    for (const { args, rule } of cases) {
      const store = join(tempDir(t), 'store');
      const r = cli(['append', '--store', store, '--type', 'DocumentDeleted', ...args]);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.match(r.stderr, rule);
      assert.equal(existsSync(store), false, 'no store folder for a refused event');
    }
    const store = join(tempDir(t), 'store');
    const ok = cli(['append', '--store', store, '--type', 'DocumentDeleted', '--stream', 'document-d', '--data', data('2026-01-01T00:00:00Z'), '--metadata', '{"actor":"me","anything":{"open":[1,2]}}']);
    assert.equal(ok.code, 0, ok.stderr);
  });
});
