import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { buildDist, cli } from '../support/cli.js';
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

  test('exit codes: 1 for a conflict with a one-line message, 2 for bad usage; --help everywhere', (t) => {
    const cwd = tempDir(t);
    cli(['append', '--stream', 'document-a', '--type', 'DocumentSubmitted', '--data', doc('a')], { cwd });
    const conflict = cli(['append', '--stream', 'document-a', '--type', 'DocumentSubmitted', '--data', doc('a', 'v2'), '--expected-version', '0'], { cwd });
    assert.equal(conflict.code, 1);
    assert.equal(conflict.stderr.trim().split('\n').length, 1);
    assert.match(conflict.stderr, /stream "document-a" is at version 1, expected 0.*Re-read the stream/);
    const invalid = cli(['append', '--stream', 'document-a', '--type', 'DocumentSubmitted', '--data', '{"document_id":"a"}'], { cwd });
    assert.equal(invalid.code, 1);
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
    for (const id of ['a', 'b', 'c']) cli(['append', '--store', store, '--stream', `document-${id}`, '--type', 'DocumentSubmitted', '--data', doc(id)]);
    const ok = cli(['verify', '--json', '--store', store]);
    assert.equal(ok.code, 0);
    assert.equal((JSON.parse(ok.stdout) as { ok: boolean; checked: number }).checked, 3);
    const initSqlJs = (await import('sql.js')).default;
    const SQL = await initSqlJs();
    const db = new SQL.Database(readFileSync(join(store, 'events.sqlite')));
    db.run("UPDATE events SET data = replace(data, 'content of b', 'content of evil') WHERE position = 2");
    writeFileSync(join(store, 'events.sqlite'), db.export());
    const bad = cli(['verify', '--store', store]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /verify failed at position 2 \(modified\)/);
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
  test('a second writer gets exit 1 naming the holder; readers still work', async (t) => {
    const { spawn } = await import('node:child_process');
    const { createInterface } = await import('node:readline');
    const store = tempDir(t);
    const holder = spawn(process.execPath, ['--import', 'tsx', join(__dirname, '..', 'support', 'lockHolder.ts'), store, '2'], { stdio: ['pipe', 'pipe', 'inherit'] });
    t.after(() => holder.kill('SIGKILL'));
    const lines = createInterface({ input: holder.stdout });
    const ready = await new Promise<string>((resolve) => lines.once('line', resolve));
    assert.match(ready, /^ready \d+$/);
    const blocked = cli(['append', '--store', store, '--stream', 'document-a', '--type', 'DocumentSubmitted', '--data', doc('a')]);
    assert.equal(blocked.code, 1);
    assert.equal(blocked.stderr.trim().split('\n').length, 1);
    assert.match(blocked.stderr, new RegExp(`locked by the lock holder test process \\(pid ${holder.pid}`));
    assert.match(blocked.stderr, /Close the other window or process/);
    const read = cli(['log', '--json', '--store', store]);
    assert.equal(read.code, 0, read.stderr);
    assert.equal(lines.listenerCount('line'), 0);
    assert.equal(read.stdout.trim().split('\n').length, 2);
    assert.equal(cli(['verify', '--store', store]).code, 0);
    holder.stdin.write('close\n');
    await new Promise((resolve) => holder.once('exit', resolve));
    assert.equal(cli(['append', '--store', store, '--stream', 'document-a', '--type', 'DocumentSubmitted', '--data', doc('a')]).code, 0);
  });
});
