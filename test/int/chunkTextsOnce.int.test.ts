import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { SqlJsEventStore } from '../../src/adapters/sqljs/sqljsEventStore.js';
import { streamIo } from '../../src/cli/cliSupport.js';
import { runCli } from '../../src/cli/main.js';
import type { RecordedEvent } from '../../src/core/eventStore.js';
import { tempDir } from '../support/tmp.js';

/** Runs the CLI in this process; returns its exit code and output. */
async function run(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const out = new Writable({ write: (c, _e, cb) => ((stdout += String(c)), cb()) });
  const err = new Writable({ write: (c, _e, cb) => ((stderr += String(c)), cb()) });
  const code = await runCli(argv, streamIo(out, err, { RAG_LEDGER_STORE: '' }, process.cwd(), false));
  return { code, stdout, stderr };
}

function count(haystack: Buffer, needle: string): number {
  const bytes = Buffer.from(needle, 'utf8');
  let n = 0;
  for (let at = haystack.indexOf(bytes); at !== -1; at = haystack.indexOf(bytes, at + 1)) n++;
  return n;
}

const SENTENCES = Array.from({ length: 12 }, (_, i) => `Distinctive sentence number ${i} about borrowing — ✓ ${'x'.repeat(i)}.`);

test('ingesting a workspace stores each chunk text once in the journal, and every chunking reads back its texts', async (t) => {
  const ws = tempDir(t);
  mkdirSync(join(ws, 'docs'));
  for (let f = 0; f < 3; f++) {
    const body = SENTENCES.slice(f * 4, f * 4 + 4).map((s, i) => `## Part ${i}\n\n${s}\n\n${'Filler words to make the section longer. '.repeat(20)}\n`).join('\n');
    writeFileSync(join(ws, 'docs', `doc${f}.md`), `# Document ${f}\n\n${body}`);
  }
  writeFileSync(join(ws, 'notes.txt'), `${SENTENCES.join('\n\n')}\n`);
  const storeDir = tempDir(t);
  const ingested = await run(['ingest', ws, '--store', storeDir, '--no-embed']);
  assert.equal(ingested.code, 0, ingested.stderr);

  const files = readdirSync(storeDir).filter((f) => statSync(join(storeDir, f)).isFile());
  const journal = files.filter((f) => /journal/i.test(f));
  assert.equal(journal.length, 1, files.join(', '));
  const bytes = readFileSync(join(storeDir, journal[0]!));
  // notes.txt holds every sentence once more than the markdown files: twice in all, never more.
  for (const s of SENTENCES) assert.equal(count(bytes, s), 2, s);

  const store = await SqlJsEventStore.open(storeDir, { mode: 'read' });
  t.after(() => store.close());
  const submissions = new Map<string, string>();
  const chunkings: RecordedEvent[] = [];
  for await (const e of store.readAll()) {
    if (e.type === 'DocumentSubmitted') submissions.set(e.eventId, e.data.raw_content);
    if (e.type === 'DocumentChunked') chunkings.push(e);
  }
  assert.equal(chunkings.length, 4);
  let seen = 0;
  for (const e of chunkings) {
    assert.equal(e.storedSchemaVersion, 2);
    if (e.type !== 'DocumentChunked') continue;
    const source = submissions.get(String(e.metadata.causation_id));
    assert.ok(source !== undefined);
    for (const c of e.data.chunks) {
      assert.equal(c.text, source.slice(c.position.start_char, c.position.end_char));
      assert.ok(c.text.length > 0);
      seen += SENTENCES.filter((s) => c.text.includes(s)).length;
    }
  }
  assert.equal(seen, SENTENCES.length * 2, 'every sentence is in a chunk of each file that has it');
  // Read alone (no submission in the page), the chunkings still have their texts.
  for await (const e of store.readAll({ types: ['DocumentChunked'] })) {
    if (e.type === 'DocumentChunked') assert.ok(e.data.chunks.every((c) => c.text.length > 0));
  }

  // `log --json` shows the chunk texts too.
  const log = await run(['log', '--json', '--store', storeDir, '--type', 'DocumentChunked']);
  assert.equal(log.code, 0, log.stderr);
  for (const s of SENTENCES) assert.ok(log.stdout.includes(JSON.stringify(s).slice(1, -1)), s);
});
