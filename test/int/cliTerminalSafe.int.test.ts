import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { runCli } from '../../src/cli/main.js';
import { hasUnsafeControl, terminalSafe } from '../../src/core/text/terminalText.js';
import { recordingIo } from '../support/cli.js';
import { tempDir } from '../support/tmp.js';

const EVIL_NAME = 'evil\x1b]0;pwned\x07.md';
const EVIL_TEXT = 'Quokka facts.\x1b[2J The quokka \u202eslaughs\u202c at \x9b31m danger and sleeps.\n';

test('terminalSafe shows C0 (but line feed and tab), DEL, C1 and bidi controls as visible escapes', () => {
  assert.equal(terminalSafe('a\x1b[2Jb\x07\r\x00\x7f'), 'a\\x1b[2Jb\\x07\\x0d\\x00\\x7f');
  assert.equal(terminalSafe('\x9b31m \x85 \u202e \u202a \u2066 \u2069'), '\\u009b31m \\u0085 \\u202e \\u202a \\u2066 \\u2069');
  assert.equal(terminalSafe('line\n\tindented é → ✓ 日本'), 'line\n\tindented é → ✓ 日本');
  assert.equal(hasUnsafeControl('plain\ntext'), false);
  assert.equal(hasUnsafeControl('x\u2067'), true);
});

test('CLI: search, ask, log and show print a hostile file name and text escaped; --json keeps them exact', async (t) => {
  const ws = tempDir(t);
  writeFileSync(join(ws, EVIL_NAME), EVIL_TEXT);
  writeFileSync(join(ws, 'plain.md'), 'Wombats dig burrows.\n');
  const store = join(tempDir(t), 'store');
  const run = async (...args: string[]) => {
    const io = recordingIo(tempDir(t));
    const code = await runCli([...args, '--store', store], io);
    return { code, out: io.stdout(), err: io.stderr() };
  };
  const clean = (name: string, r: { out: string; err: string }): void => {
    assert.equal(hasUnsafeControl(r.out), false, `${name} stdout holds a raw control character: ${JSON.stringify(r.out)}`);
    assert.equal(hasUnsafeControl(r.err), false, `${name} stderr holds a raw control character: ${JSON.stringify(r.err)}`);
  };

  // On a terminal, progress lines keep their own redraw (\r … erase to end of line), and only that.
  const ttyIo = { ...recordingIo(tempDir(t)), tty: true };
  assert.equal(await runCli(['ingest', ws, '--no-embed', '--store', store], ttyIo), 0, ttyIo.stderr());
  const progress = ttyIo.stderr();
  assert.ok(progress.includes('\rread (files): 2/2 ') && progress.includes('/s)\x1b[K'), JSON.stringify(progress));
  assert.equal(hasUnsafeControl(progress.replaceAll('\r', '').replaceAll('\x1b[K', '')), false, JSON.stringify(progress));
  const ingest = await run('ingest', ws, '--no-embed');
  assert.equal(ingest.code, 0, ingest.err);
  clean('ingest', ingest);

  const search = await run('search', 'quokka', '--mode', 'lexical');
  assert.equal(search.code, 0, search.err);
  clean('search', search);
  assert.ok(search.out.includes('evil\\x1b]0;pwned\\x07.md:1-1'), search.out);
  assert.ok(search.out.includes('\\x1b[2J'), search.out);
  assert.ok(search.out.includes('\\u202eslaughs\\u202c'), search.out);
  assert.ok(search.out.includes('\\u009b31m'), search.out);

  const searchJson = await run('search', 'quokka', '--mode', 'lexical', '--json');
  const found = (JSON.parse(searchJson.out) as { chunks: { path: string; text: string }[] }).chunks[0]!;
  assert.equal(found.path, EVIL_NAME);
  assert.ok(found.text.includes('\x1b[2J The quokka \u202eslaughs\u202c at \x9b31m'));

  const asked = await run('ask', 'what about the quokka?', '--extractive', '--mode', 'lexical');
  assert.equal(asked.code, 0, asked.err);
  clean('ask', asked);
  assert.ok(asked.out.includes('Quokka facts.\\x1b[2J The quokka \\u202eslaughs'), asked.out);
  const queryId = /question (q-[0-9a-f-]+)/.exec(asked.out)![1]!;

  const askedJson = await run('ask', 'quokka danger?', '--extractive', '--mode', 'lexical', '--json');
  assert.equal(askedJson.code, 0, askedJson.err);
  assert.ok(askedJson.out.includes(JSON.stringify(EVIL_NAME).slice(1, -1)), askedJson.out);

  const log = await run('log');
  assert.equal(log.code, 0, log.err);
  clean('log', log);
  assert.ok(log.out.includes('evil\\x1b]0;pwned\\x07.md'), log.out);

  const logJson = await run('log', '--json', '--type', 'DocumentSubmitted');
  const lines = logJson.out.trim().split('\n').map((l) => JSON.stringify(JSON.parse(l)));
  assert.ok(lines.some((l) => l.includes(JSON.stringify(EVIL_NAME))), logJson.out);

  const shown = await run('show', queryId);
  assert.equal(shown.code, 0, shown.err);
  clean('show', shown);
  assert.ok(shown.out.includes('evil\\x1b]0;pwned\\x07.md'), shown.out);

  const shownJson = await run('show', queryId, '--json');
  assert.ok(JSON.stringify(JSON.parse(shownJson.out)).includes(JSON.stringify(EVIL_NAME).slice(1, -1)));

  for (const cmd of [['pipelines'], ['stats'], ['verify']]) clean(cmd[0]!, await run(...cmd));

  // An error that quotes what the user typed quotes it escaped too.
  const bad = await run('show', 'q-\x1b[2J\u202e');
  assert.equal(bad.code, 1);
  clean('show (error)', bad);
  const badFlag = await run('log', '--\x1b]0;x\x07');
  assert.equal(badFlag.code, 2);
  clean('log (bad flag)', badFlag);
  assert.match(badFlag.err, /\\x1b\]0;x\\x07/);
});
