import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { before, describe, test } from 'node:test';
import { SqlJsEventStore } from '../../src/adapters/sqljs/sqljsEventStore.js';
import type { Io } from '../../src/cli/cliSupport.js';
import { OutputClosed, streamIo, timeOption } from '../../src/cli/cliSupport.js';
import { runCli } from '../../src/cli/main.js';
import type { NewEvent } from '../../src/core/eventStore.js';
import { buildDist, cli, cliPath } from '../support/cli.js';
import { tempDir } from '../support/tmp.js';

const doc = (id: string, content = `content of ${id}`): string =>
  JSON.stringify({ document_id: id, source: `docs/${id}.md`, raw_content: content, submitted_at: '2026-01-02T03:04:05Z' });

function lines(text: string): Record<string, unknown>[] {
  return text.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
}

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => (statSync(join(dir, n)).isDirectory() ? walk(join(dir, n)) : [join(dir, n)]));
}

before(() => buildDist());

describe('rag-ledger CLI', () => {
  test('append, log --json with every envelope field, filters, and the store from env or ./.rag-ledger', (t) => {
    const cwd = tempDir(t);
    assert.equal(cli(['append', '--stream', 'document-a', '--type', 'DocumentSubmitted', '--data', doc('a'), '--expected-version', 'no_stream'], { cwd }).code, 0);
    assert.ok(existsSync(join(cwd, '.rag-ledger', 'events.journal')), 'defaults to ./.rag-ledger');
    const q = JSON.stringify({ query_id: 'q1', query_text: 'why?', user_id: 'me', received_at: '2026-01-02T03:04:06Z' });
    const r = cli(['append', '--stream', 'query-q1', '--type', 'QueryReceived', '--data', q, '--json'], { cwd });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), { stream: 'query-q1', positions: [2], nextExpectedVersion: 1, appended: 1 });
    const vec = JSON.stringify({ chunk_id: 'c1', embedding_model: 'm', vector: [1, 2, 3], embedded_at: '2026-01-02T03:04:07Z' });
    assert.equal(cli(['append', '--stream', 'chunk-c1', '--type', 'ChunkEmbedded', '--data', vec], { cwd }).code, 0);

    const log = cli(['log', '--json'], { cwd });
    assert.equal(log.code, 0, log.stderr);
    const events = lines(log.stdout);
    assert.equal(events.length, 3);
    for (const field of ['position', 'eventId', 'streamId', 'streamVersion', 'type', 'schemaVersion', 'data', 'metadata', 'recordedAt', 'hash']) {
      assert.ok(field in events[0]!, `envelope has ${field}`);
    }
    assert.equal((events[2]!.data as { vector: string }).vector, Buffer.from(Float32Array.from([1, 2, 3]).buffer).toString('base64'));
    assert.deepEqual(lines(cli(['log', '--json', '--type', 'QueryReceived,ChunkEmbedded'], { cwd }).stdout).map((e) => e.position), [2, 3]);
    assert.deepEqual(lines(cli(['log', '--json', '--type', 'QueryReceived', '--type', 'DocumentSubmitted'], { cwd }).stdout).map((e) => e.position), [1, 2]);
    assert.deepEqual(lines(cli(['log', '--json', '--stream', 'chunk-c1'], { cwd }).stdout).map((e) => e.position), [3]);
    assert.deepEqual(lines(cli(['log', '--json', '--from', '2', '--limit', '1'], { cwd }).stdout).map((e) => e.position), [2]);
    assert.equal(cli(['log', '--json', '--since', '2999-01-01'], { cwd }).stdout, '');
    assert.equal(lines(cli(['log', '--json', '--until', '2999-01-01T00:00:00Z'], { cwd }).stdout).length, 3);
    const human = cli(['log'], { cwd });
    assert.match(human.stdout, /^\s+1\s+\S+Z\s+DocumentSubmitted\s+document-a@1/m);

    const other = tempDir(t);
    assert.equal(cli(['append', '--stream', 'document-z', '--type', 'DocumentSubmitted', '--data', doc('z')], { cwd, env: { RAG_LEDGER_STORE: other } }).code, 0);
    assert.equal(lines(cli(['log', '--json', '--store', other], { cwd }).stdout).length, 1);
  });

  test('exit codes: 1 for a conflict with a one-line message, 2 for bad usage or a refused event; --help everywhere', (t) => {
    const cwd = tempDir(t);
    cli(['append', '--stream', 'document-a', '--type', 'DocumentSubmitted', '--data', doc('a')], { cwd });
    const conflict = cli(['append', '--stream', 'document-a', '--type', 'DocumentSubmitted', '--data', doc('a', 'v2'), '--expected-version', '0'], { cwd });
    assert.equal(conflict.code, 1);
    assert.equal(conflict.stderr.trim().split('\n').length, 1);
    assert.match(conflict.stderr, /stream "document-a" is at version 1, expected 0.*Re-read the stream/);
    const invalid = cli(['append', '--stream', 'document-a', '--type', 'DocumentSubmitted', '--data', '{"document_id":"a"}'], { cwd });
    assert.equal(invalid.code, 2, 'a refused event is a usage error');
    assert.equal(invalid.stderr.trim().split('\n').length, 1);
    assert.match(invalid.stderr, /source is required/);
    for (const args of [['frobnicate'], ['log', '--bogus'], ['log', '--limit', 'x'], ['log', '--since', 'yesterday'], ['log', '--type', 'Nope'], ['append', '--stream', 's'], ['append', '--stream', 'document-a', '--type', 'DocumentSubmitted', '--data', '{oops'], ['export'], ['log', 'extra']]) {
      const r = cli(args, { cwd });
      assert.equal(r.code, 2, `${args.join(' ')} -> ${r.stderr}`);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.match(r.stderr, /^rag-ledger/);
    }
    for (const name of ['log', 'append', 'stats', 'verify', 'export', 'import', 'rebuild', 'recover']) {
      const r = cli([name, '--help'], { cwd });
      assert.equal(r.code, 0);
      assert.match(r.stdout, new RegExp(`rag-ledger ${name}`));
    }
    assert.match(cli(['--help']).stdout, /exit codes: 0 success, 1 a failed check or operation, 2 bad usage/);
    const missing = cli(['log', '--store', join(cwd, 'nope')], { cwd });
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /no event store at .*nope.*--store/);
  });

  test('stats and rebuild show the read models', (t) => {
    const store = tempDir(t);
    for (const id of ['a', 'b']) cli(['append', '--store', store, '--stream', `document-${id}`, '--type', 'DocumentSubmitted', '--data', doc(id)]);
    const stats = JSON.parse(cli(['stats', '--json', '--store', store]).stdout) as { events: number; byType: Record<string, number>; readModels: { documents: number } };
    assert.equal(stats.events, 2);
    assert.deepEqual(stats.byType, { DocumentSubmitted: 2 });
    assert.equal(stats.readModels.documents, 2);
    const rebuild = cli(['rebuild', '--store', store, '--projection', 'document-status', '--json']);
    assert.equal(rebuild.code, 0, rebuild.stderr);
    assert.deepEqual((JSON.parse(rebuild.stdout) as { projection: string; handled: number }[]).map((r) => [r.projection, r.handled]), [['document-status', 2]]);
    assert.equal(cli(['rebuild', '--store', store, '--projection', 'nope']).code, 2);
    assert.match(cli(['stats', '--store', store]).stdout, /documents\s+2 \(2 submitted\)/);
  });

  test('verify passes, then fails with exit 1 at the first altered event', async (t) => {
    const store = tempDir(t);
    for (const id of ['a', 'b', 'c']) {
      const appended = cli(['append', '--store', store, '--stream', `document-${id}`, '--type', 'DocumentSubmitted', '--data', doc(id)]);
      assert.equal(appended.code, 0, `append ${id}: ${appended.stderr}`);
    }
    const ok = cli(['verify', '--json', '--store', store]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal((JSON.parse(ok.stdout) as { ok: boolean; checked: number }).checked, 3, ok.stdout);
    // The events live in the journal: alter one there (same length, so only its checksum and hash disagree).
    const journal = readFileSync(join(store, 'events.journal'));
    const at = journal.indexOf('content of b');
    journal.write('content of X', at);
    writeFileSync(join(store, 'events.journal'), journal);
    const bad = cli(['verify', '--store', store]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /events\.journal/);
    assert.equal(bad.stderr.trim().split('\n').length, 1, bad.stderr);
    const recovered = cli(['recover', '--store', store, '--json']);
    assert.equal(recovered.code, 0, recovered.stderr);
    assert.equal(cli(['verify', '--store', store]).code, 0);
  });

  test('export writes events/YYYY/MM/DD/<stream>/ JSON Lines with vectors; import reproduces the same log', (t) => {
    const store = tempDir(t);
    cli(['append', '--store', store, '--stream', 'document-a', '--type', 'DocumentSubmitted', '--data', doc('a')]);
    cli(['append', '--store', store, '--stream', 'chunk-c1', '--type', 'ChunkEmbedded', '--data', JSON.stringify({ chunk_id: 'c1', embedding_model: 'm', vector: [0.5, -1], embedded_at: '2026-01-02T03:04:07Z' })]);
    assert.equal(cli(['append', '--store', store, '--stream', 'we/ird:id', '--type', 'DocumentSubmitted', '--data', doc('w')]).code, 0);
    const archive = join(tempDir(t), 'archive');
    const exported = cli(['export', archive, '--store', store]);
    assert.equal(exported.code, 0, exported.stderr);
    const files = walk(archive).map((f) => f.slice(archive.length + 1)).sort();
    const day = new Date().toISOString().slice(0, 10).split('-').join('/');
    assert.ok(files.includes('manifest.json'));
    assert.ok(files.includes(`events/${day}/document-a/events.jsonl`), files.join(','));
    assert.ok(files.includes(`events/${day}/chunk-c1/events.jsonl`));
    assert.ok(files.includes(`events/${day}/we%2Fird%3Aid/events.jsonl`), 'stream ids become one safe path segment');
    const vectorLine = JSON.parse(readFileSync(join(archive, `events/${day}/chunk-c1/events.jsonl`), 'utf8')) as { attachment: string };
    assert.equal(vectorLine.attachment, Buffer.from(Float32Array.from([0.5, -1]).buffer).toString('base64'));
    assert.equal(cli(['export', archive, '--store', store]).code, 1, 'refuses a non-empty target');

    const copy = tempDir(t);
    const imported = cli(['import', archive, '--store', copy]);
    assert.equal(imported.code, 0, imported.stderr);
    assert.equal(cli(['log', '--json', '--store', copy]).stdout, cli(['log', '--json', '--store', store]).stdout);
    assert.equal(cli(['verify', '--store', copy]).code, 0);
    const again = cli(['import', archive, '--store', copy]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /already holds 3 events; import only runs into an empty store/);
  });

  test('import refuses a tampered archive and names the place', (t) => {
    const store = tempDir(t);
    for (const id of ['a', 'b']) cli(['append', '--store', store, '--stream', `document-${id}`, '--type', 'DocumentSubmitted', '--data', doc(id)]);
    const archive = join(tempDir(t), 'archive');
    cli(['export', archive, '--store', store]);
    const file = walk(archive).find((f) => f.includes('document-b'))!;
    writeFileSync(file, readFileSync(file, 'utf8').replace('content of b', 'content of c'));
    const copy = tempDir(t);
    const r = cli(['import', archive, '--store', copy]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /position 2.*modified/);
    assert.equal(lines(cli(['log', '--json', '--store', copy]).stdout).length, 0, 'nothing imported');
  });
});

describe('rag-ledger CLI with a store held by another process', () => {
  test('the CLI appends while another process holds the store open; both continue one chain and readers still work', async (t) => {
    const { spawn } = await import('node:child_process');
    const { createInterface } = await import('node:readline');
    const store = tempDir(t);
    const holder = spawn(process.execPath, ['--import', 'tsx', join(__dirname, '..', 'support', 'lockHolder.ts'), store, '2'], { stdio: ['pipe', 'pipe', 'inherit'] });
    t.after(() => holder.kill('SIGKILL'));
    const lines = createInterface({ input: holder.stdout })[Symbol.asyncIterator]();
    assert.match((await lines.next()).value as string, /^ready \d+$/);
    const appended = cli(['append', '--store', store, '--stream', 'document-a', '--type', 'DocumentSubmitted', '--data', doc('a')]);
    assert.equal(appended.code, 0, appended.stderr);
    holder.stdin.write('append 1\n');
    assert.equal((await lines.next()).value, 'appended 4');
    const read = cli(['log', '--json', '--store', store]);
    assert.equal(read.code, 0, read.stderr);
    assert.equal(read.stdout.trim().split('\n').length, 4);
    assert.equal(cli(['verify', '--store', store]).code, 0);
    holder.stdin.write('close\n');
    await new Promise((resolve) => holder.once('exit', resolve));
    assert.equal(cli(['append', '--store', store, '--stream', 'document-a', '--type', 'DocumentSubmitted', '--data', doc('a')]).code, 0);
  });
});

/** A store of `n` DocumentSubmitted events (about 300 bytes per log line: far more than a pipe holds). */
async function bigStore(n: number): Promise<string> {
  const dir = tempDir();
  const store = await SqlJsEventStore.open(dir, { owner: 'the CLI test' });
  const events: NewEvent[] = Array.from({ length: n }, (_, i) => ({
    type: 'DocumentSubmitted',
    data: { document_id: `d${i}`, source: `docs/d${i}.md`, raw_content: 'x'.repeat(200), submitted_at: '2026-01-02T03:04:05Z' },
  }));
  await store.append('document-big', events);
  await store.close();
  return dir;
}

/** An Io that records what the CLI writes; `out` follows `write` (true: room for more). */
function recordingIo(write: (text: string) => boolean, drain: () => Promise<void> = async () => {}): Io & { readonly errors: string[] } {
  const errors: string[] = [];
  return { out: write, drain, err: (t) => void errors.push(t), env: { RAG_LEDGER_STORE: '' }, cwd: process.cwd(), tty: false, errors };
}

describe('rag-ledger CLI output to a pipe', () => {
  let store = '';
  before(async () => {
    store = await bigStore(3000);
  });

  test('log | head -1 ends quietly with exit 0 (no EPIPE stack trace), for text and --json', () => {
    for (const json of ['', '--json']) {
      const r = spawnSync('bash', ['-c', `"$0" "$1" log ${json} --store "$2" | head -1; echo "status \${PIPESTATUS[*]}" >&2`, process.execPath, cliPath, store], {
        encoding: 'utf8',
        timeout: 60_000,
      });
      assert.equal(r.stdout.split('\n').length, 2, 'head printed one line');
      assert.match(r.stdout, json ? /^\{"position":1,/ : /^\s+1\s/);
      assert.equal(r.stderr, 'status 0 0\n', `the CLI exits 0 and prints nothing on stderr; got ${r.stderr}`);
    }
  });

  test('a reader that goes away after the first chunk: exit 0, empty stderr', { timeout: 60_000 }, async () => {
    const child = spawn(process.execPath, [cliPath, 'log', '--store', store], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.stdout.once('data', () => child.stdout.destroy());
    const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
    assert.equal(stderr, '');
    assert.equal(code, 0);
  });

  test('a slow reader still gets every event: the CLI waits for it instead of failing or dropping lines', { timeout: 60_000 }, async () => {
    const child = spawn(process.execPath, [cliPath, 'log', '--json', '--store', store], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.pause();
    await new Promise((resolve) => setTimeout(resolve, 500));
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stdout.resume();
    const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
    assert.equal(code, 0);
    assert.deepEqual(lines(out).map((e) => e.position), Array.from({ length: 3000 }, (_, i) => i + 1));
  });

  test('log waits for drain whenever a write reports a full output (backpressure)', async () => {
    let waiting = false;
    let writes = 0;
    let drains = 0;
    let text = '';
    const io = recordingIo(
      (t) => {
        assert.equal(waiting, false, 'no write while the output is full');
        writes++;
        text += t;
        waiting = true;
        return false;
      },
      async () => {
        drains++;
        await new Promise((resolve) => setImmediate(resolve));
        waiting = false;
      },
    );
    assert.equal(await runCli(['log', '--store', store], io), 0, io.errors.join(''));
    assert.equal(text.trim().split('\n').length, 3000);
    assert.ok(writes > 1, 'written in batches');
    assert.equal(drains, writes);
  });

  test('streamIo: out reports backpressure, drain waits for the stream, EPIPE ends the command with exit 0', async () => {
    let chunks = 0;
    const slow = new Writable({
      highWaterMark: 1024,
      write(_chunk, _enc, callback) {
        chunks++;
        setTimeout(() => callback(chunks > 2 ? Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }) : null), 5);
      },
    });
    const stderr = new Writable({ write: (_c, _e, cb) => cb() });
    const io = streamIo(slow, stderr, { RAG_LEDGER_STORE: '' }, process.cwd(), false);
    assert.equal(io.out('x'.repeat(2048)), false, 'over the high-water mark');
    await io.drain();
    assert.equal(io.out('small'), true);
    assert.equal(await runCli(['log', '--store', store], io), 0, 'the reader went away: quiet exit 0');
    assert.throws(() => io.out('more'), (e: unknown) => e instanceof OutputClosed && e.readerGone);
  });

  test('any other output error is exit 1 with one line', async () => {
    const io = recordingIo(() => {
      throw new OutputClosed(Object.assign(new Error('no space left on device'), { code: 'ENOSPC' }));
    });
    assert.equal(await runCli(['log', '--store', store], io), 1);
    assert.deepEqual(io.errors, ['rag-ledger log: cannot write to standard output (ENOSPC)\n']);
  });
});

describe('rag-ledger CLI edge cases', () => {
  const good = doc('a');

  test('export into a non-empty directory says so, and leaves the directory alone', (t) => {
    const store = tempDir(t);
    cli(['append', '--store', store, '--stream', 'document-a', '--type', 'DocumentSubmitted', '--data', good]);
    const target = tempDir(t);
    writeFileSync(join(target, 'notes.txt'), 'mine');
    const r = cli(['export', target, '--store', store]);
    assert.equal(r.code, 1);
    assert.equal(r.stderr.trim().split('\n').length, 1);
    assert.match(r.stderr, /the export directory .* is not empty.*Choose a new or empty directory/);
    assert.doesNotMatch(r.stderr, /archive is invalid|edit archive files/);
    assert.deepEqual(readdirSync(target), ['notes.txt']);
    const empty = join(tempDir(t), 'new dir with spaces');
    mkdirSync(empty);
    const ok = cli(['export', empty, '--store', store]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /^exported 1 event to /);
  });

  test('append validates the event before opening the store: a refused append creates nothing', (t) => {
    const cwd = tempDir(t);
    const cases: [string[], number, RegExp][] = [
      [['--stream', 'document-a', '--type', 'DocumentSubmitted', '--data', '{"document_id":"a"}'], 2, /invalid DocumentSubmitted event: source is required/],
      [['--stream', 'bad id', '--type', 'DocumentSubmitted', '--data', good], 2, /invalid stream id "bad id"/],
      [['--stream', 'document-a', '--type', 'DocumentSubmitted', '--data', good, '--event-id', ''], 2, /invalid event id ""/],
      [['--stream', 'chunk-c', '--type', 'ChunkEmbedded', '--data', '{"chunk_id":"c","embedding_model":"m","vector":[1,"x"],"embedded_at":"2026-01-01T00:00:00Z"}'], 2, /vector\[1\] is not a finite number/],
      [['--stream', 'document-a', '--type', 'Nope', '--data', good], 2, /unknown event type "Nope"/],
      [['--stream', 'document-a', '--type', 'DocumentSubmitted', '--data', '{oops'], 2, /--data is not valid JSON/],
      [['--stream', 'document-a', '--type', 'DocumentSubmitted', '--data', good, '--metadata', '[1]'], 2, /--metadata must be a JSON object/],
      [['--stream', 'document-a', '--type', 'DocumentSubmitted'], 2, /--data is required/],
      [['--stream', 'document-a', '--type', 'DocumentSubmitted', '--data', good, '--expected-version', 'soon'], 2, /--expected-version: invalid expected version/],
    ];
    for (const [args, code, message] of cases) {
      const r = cli(['append', '--store', 'store', ...args], { cwd });
      assert.equal(r.code, code, `${args.join(' ')} -> ${r.stderr}`);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.match(r.stderr, message);
      assert.deepEqual(readdirSync(cwd), [], `${args.join(' ')} left nothing behind`);
    }
    assert.equal(cli(['append', '--store', 'store', '--stream', 'document-a', '--type', 'DocumentSubmitted', '--data', good], { cwd }).code, 0);
  });

  test('--since/--until: a time without an offset is UTC, offsets are honoured, whatever the local time zone', (t) => {
    const store = tempDir(t);
    cli(['append', '--store', store, '--stream', 'document-a', '--type', 'DocumentSubmitted', '--data', good]);
    const recordedAt = lines(cli(['log', '--json', '--store', store]).stdout)[0]!.recordedAt as string;
    const at = Date.parse(recordedAt);
    const utc = (ms: number): string => new Date(ms).toISOString().slice(0, 23);
    const shifted = (ms: number, minutes: number): string => {
      const sign = minutes < 0 ? '-' : '+';
      const abs = Math.abs(minutes);
      return `${new Date(ms + minutes * 60_000).toISOString().slice(0, 23)}${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
    };
    const count = (...args: string[]): number => {
      const r = cli(['log', '--json', '--store', store, ...args], { env: { TZ: 'Asia/Tokyo' } });
      assert.equal(r.code, 0, r.stderr);
      return lines(r.stdout).length;
    };
    assert.equal(count('--since', utc(at), '--until', utc(at + 1)), 1, 'no offset: UTC, not Tokyo time');
    assert.equal(count('--since', utc(at + 1)), 0);
    assert.equal(count('--until', utc(at)), 0, '--until is exclusive');
    assert.equal(count('--since', `${utc(at)}Z`, '--until', `${utc(at + 1)}z`), 1);
    assert.equal(count('--since', shifted(at, 9 * 60), '--until', shifted(at + 1, -(5 * 60 + 30))), 1, 'offsets');
    assert.equal(count('--since', shifted(at + 1, 9 * 60)), 0);
    assert.equal(count('--since', recordedAt.slice(0, 10)), 1, 'a date is midnight UTC');
  });

  test('--since/--until: parsing, and impossible dates are usage errors', (t) => {
    assert.equal(timeOption('2026-01-31', 'since'), '2026-01-31T00:00:00.000Z');
    assert.equal(timeOption('2026-01-31T12:00', 'since'), '2026-01-31T12:00:00.000Z');
    assert.equal(timeOption('2026-01-31T12:00:00', 'since'), '2026-01-31T12:00:00.000Z');
    assert.equal(timeOption('2026-01-31 12:00:00.25Z', 'since'), '2026-01-31T12:00:00.250Z');
    assert.equal(timeOption('2026-01-31T14:00:00+02:00', 'since'), '2026-01-31T12:00:00.000Z');
    assert.equal(timeOption('2026-01-31T00:30:00-01:00', 'since'), '2026-01-31T01:30:00.000Z');
    assert.equal(timeOption('2026-01-01T00:30+01:00', 'since'), '2025-12-31T23:30:00.000Z');
    assert.equal(timeOption('2026-01-31T12:00:00.0001Z', 'since'), '2026-01-31T12:00:00.001Z', 'below a millisecond rounds up');
    assert.equal(timeOption('2024-02-29', 'since'), '2024-02-29T00:00:00.000Z');
    assert.equal(timeOption('2000-02-29', 'since'), '2000-02-29T00:00:00.000Z');
    assert.equal(timeOption('0050-06-01', 'since'), '0050-06-01T00:00:00.000Z', 'two-digit years are not 19xx');
    const cwd = tempDir(t);
    cli(['append', '--store', 's', '--stream', 'document-a', '--type', 'DocumentSubmitted', '--data', good], { cwd });
    const refused: [string, RegExp][] = [
      ['2026-02-30', /February 2026 has 28 days/],
      ['2025-02-29', /February 2025 has 28 days/],
      ['1900-02-29', /February 1900 has 28 days/],
      ['2026-04-31', /April 2026 has 30 days/],
      ['2026-01-00', /January 2026 has 31 days/],
      ['2026-13-01', /has no month 13/],
      ['2026-00-10', /has no month 00/],
      ['2026-01-31T24:00', /is not a time of day/],
      ['2026-01-31T12:60', /is not a time of day/],
      ['2026-01-31T12:00:60Z', /is not a time of day/],
      ['2026-01-31T12:00+24:00', /impossible offset/],
      ['2026-01-31+02:00', /is not an ISO date or time/],
      ['2026-01-31T12:00+0200', /is not an ISO date or time/],
      ['2026-1-31', /is not an ISO date or time/],
      ['yesterday', /is not an ISO date or time/],
      ['0000-01-01T00:00+01:00', /outside the years/],
    ];
    for (const [text, message] of refused) {
      for (const option of ['--since', '--until']) {
        const r = cli(['log', '--store', 's', option, text], { cwd });
        assert.equal(r.code, 2, `${option} ${text} -> ${r.stderr}`);
        assert.equal(r.stderr.trim().split('\n').length, 1);
        assert.match(r.stderr, message, `${option} ${text}`);
        assert.ok(r.stderr.includes(`${option} ${JSON.stringify(text)}`), r.stderr);
      }
    }
    assert.match(cli(['log', '--help']).stdout, /without an offset is UTC, not local time/);
  });

  test('empty option values are usage errors rather than silently matching everything or nothing', (t) => {
    const cwd = tempDir(t);
    cli(['append', '--stream', 'document-a', '--type', 'DocumentSubmitted', '--data', good], { cwd });
    for (const [args, message] of [
      [['--store='], /--store needs a directory/],
      [['--type='], /--type needs an event type/],
      [['--type', ','], /--type needs an event type/],
      [['--stream='], /--stream needs a value/],
      [['--category='], /--category needs a value/],
      [['--limit', '0'], /--limit must be an integer >= 1/],
      [['--from', '0'], /--from must be an integer >= 1/],
    ] as [string[], RegExp][]) {
      const r = cli(['log', ...args], { cwd });
      assert.equal(r.code, 2, `${args.join(' ')} -> ${r.stderr}`);
      assert.match(r.stderr, message);
    }
  });

  test('every command on a missing store: exit 1, one line, and no directory created', (t) => {
    const cwd = tempDir(t);
    const missing = join(cwd, 'no store here');
    for (const args of [['log'], ['stats'], ['verify'], ['rebuild'], ['recover'], ['export', join(cwd, 'out')]]) {
      const r = cli([...args, '--store', missing], { cwd });
      assert.equal(r.code, 1, `${args[0]} -> ${r.stderr}`);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.match(r.stderr, /no event store at .*no store here\. Check --store/, `${args[0]}`);
      assert.deepEqual(readdirSync(cwd), [], `${args[0]} created nothing`);
    }
  });

  test('import of a directory that is not an archive fails before creating the store', (t) => {
    const cwd = tempDir(t);
    mkdirSync(join(cwd, 'empty dir'));
    writeFileSync(join(cwd, 'a file'), '');
    for (const [source, message] of [
      ['nowhere', /nowhere does not exist, so it is not a RAG Ledger archive/],
      ['empty dir', /empty dir has no manifest\.json/],
      ['a file', /a file is not a directory/],
    ] as [string, RegExp][]) {
      const r = cli(['import', source, '--store', 'new store'], { cwd });
      assert.equal(r.code, 1, r.stderr);
      assert.equal(r.stderr.trim().split('\n').length, 1);
      assert.match(r.stderr, message);
      assert.ok(!existsSync(join(cwd, 'new store')), `${source}: no store created`);
    }
    writeFileSync(join(cwd, 'empty dir', 'manifest.json'), '{"format":"something else"}');
    const wrong = cli(['import', 'empty dir', '--store', 'new store'], { cwd });
    assert.equal(wrong.code, 1);
    assert.doesNotMatch(wrong.stderr, /[?.]\. /, 'no doubled punctuation between message and hint');
  });

  test('paths with spaces, relative to the working directory, through export and import', (t) => {
    const cwd = join(tempDir(t), 'a dir with spaces');
    mkdirSync(cwd);
    for (const id of ['a', 'b']) assert.equal(cli(['append', '--store', 'my store', '--stream', `document-${id}`, '--type', 'DocumentSubmitted', '--data', doc(id)], { cwd }).code, 0);
    assert.equal(cli(['export', 'the archive', '--store', 'my store'], { cwd }).code, 0);
    const imported = cli(['import', 'the archive', '--store', 'my copy'], { cwd });
    assert.equal(imported.code, 0, imported.stderr);
    assert.match(imported.stdout, /^imported 2 events into .*a dir with spaces\/my copy\n$/);
    assert.equal(cli(['log', '--json', '--store', 'my copy'], { cwd }).stdout, cli(['log', '--json', '--store', 'my store'], { cwd }).stdout);
    assert.match(cli(['verify', '--store', 'my copy'], { cwd }).stdout, /^ok: 2 events verified/);
  });
});

describe('rag-ledger CLI: secrets in the content (the bundled detector)', () => {
  const TOKEN = 'ghp_R8s2Kq9Lm4Nx7Vb1Cz5Hd3Jf6Gt0Wy2Pe4Ua';

  test('ingest rejects a file holding a token, --secrets redact ingests it with a marker; both bundles carry the rules', (t) => {
    const ws = tempDir(t);
    writeFileSync(join(ws, 'settings.yaml'), `service: search\ngithub:\n  token: ${TOKEN}\n`);
    writeFileSync(join(ws, 'guide.md'), '# Guide\n\nNothing secret.\n');
    const store = tempDir(t);
    const rejected = cli(['ingest', ws, '--store', store, '--no-embed']);
    assert.equal(rejected.code, 0, rejected.stderr);
    assert.match(rejected.stdout, /^rejected settings\.yaml: secret: a secret \(github\) at line 3; secrets are never ingested/m);
    assert.ok(!rejected.stdout.includes(TOKEN) && !rejected.stderr.includes(TOKEN));

    const redacted = cli(['ingest', ws, '--store', store, '--no-embed', '--secrets', 'redact', '--json']);
    assert.equal(redacted.code, 0, redacted.stderr);
    assert.deepEqual((JSON.parse(redacted.stdout) as { rejected: unknown[] }).rejected, []);
    const log = cli(['log', '--json', '--store', store, '--type', 'DocumentSubmitted']);
    const contents = lines(log.stdout).map((e) => (e.data as { raw_content: string }).raw_content);
    assert.ok(contents.includes('service: search\ngithub:\n  token: [REDACTED:github]\n'), contents.join('\n---\n'));
    for (const file of walk(store)) assert.ok(!readFileSync(file).includes(TOKEN), file);

    const bad = cli(['ingest', ws, '--store', store, '--secrets', 'keep']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--secrets must be reject or redact, got "keep"/);
    // The rules are inlined in both bundles, not loaded by name at run time.
    for (const bundle of [cliPath, join(cliPath, '..', 'extension.js')]) {
      const code = readFileSync(bundle, 'utf8');
      assert.ok(code.includes('@secretlint/secretlint-rule-github') && code.includes('ragledger/password-assignment'), bundle);
      assert.doesNotMatch(code, /require\(["']@secretlint\//, bundle);
    }
  });
});
