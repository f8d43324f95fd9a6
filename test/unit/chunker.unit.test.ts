import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { sha256 } from '../../src/adapters/node/sha256.js';
import type { Chunk, ChunkerConfig, DocumentFormat } from '../../src/core/chunking/chunker.js';
import { DEFAULT_CHUNKER, checkChunkerConfig, chunkDocument, maxChunkChars } from '../../src/core/chunking/chunker.js';
import { mulberry32 as rng } from '../support/prng.js';

const FORMATS: readonly DocumentFormat[] = ['markdown', 'code', 'text'];

const chunk = (text: string, format: DocumentFormat, config: Partial<ChunkerConfig> = {}, documentId = 'doc-1'): Chunk[] =>
  chunkDocument(documentId, text, format, { ...DEFAULT_CHUNKER, ...config }, sha256);

const LINE_BREAK = /\r\n|\n|\r/g;
const lineBreaks = (s: string): number => s.match(LINE_BREAK)?.length ?? 0;

/**
 * The position contract, checked independently of the chunker's own line splitting: the
 * characters slice out the chunk's text, the lines are where those characters are, a chunk
 * starts and ends on line boundaries, never starts or ends with a blank line, and ids look right.
 */
function assertPositions(text: string, chunks: readonly Chunk[]): void {
  chunks.forEach((c, i) => {
    const where = `chunk ${i} (${JSON.stringify(c.text.slice(0, 40))})`;
    assert.equal(c.position.index, i, `${where}: index`);
    assert.match(c.chunk_id, /^ck-[0-9a-f]{32}$/, `${where}: id`);
    assert.ok(c.position.start_char < c.position.end_char, `${where}: non-empty range`);
    assert.equal(text.slice(c.position.start_char, c.position.end_char), c.text, `${where}: slice`);
    assert.equal(c.position.start_line, lineBreaks(text.slice(0, c.position.start_char)) + 1, `${where}: start_line`);
    assert.equal(c.position.end_line, c.position.start_line + lineBreaks(c.text), `${where}: end_line`);
    const before = text[c.position.start_char - 1];
    const after = text[c.position.end_char];
    assert.ok(before === undefined || before === '\n' || before === '\r', `${where}: starts at the beginning of a line`);
    assert.ok(after === undefined || after === '\n' || after === '\r', `${where}: ends at the end of a line`);
    const lines = c.text.split(LINE_BREAK);
    assert.notEqual(lines[0]!.trim(), '', `${where}: no leading blank line`);
    assert.notEqual(lines[lines.length - 1]!.trim(), '', `${where}: no trailing blank line`);
  });
  assert.equal(new Set(chunks.map((c) => c.chunk_id)).size, chunks.length, 'chunk ids are unique within the document');
}

/** The 1-based numbers of the non-blank lines of a text. */
const nonBlankLines = (text: string): number[] =>
  text
    .split(LINE_BREAK)
    .map((l, i) => (l.trim() === '' ? 0 : i + 1))
    .filter((n) => n > 0);

const covered = (chunks: readonly Chunk[]): Set<number> => {
  const lines = new Set<number>();
  for (const c of chunks) for (let n = c.position.start_line; n <= c.position.end_line; n++) lines.add(n);
  return lines;
};

const sentence = (n: number, words = 10): string => Array.from({ length: words }, (_, k) => `w${n}x${k}`).join(' ') + '.';

const MIXED_MARKDOWN = [
  'Intro line before any heading.',
  '',
  '# Guide',
  '',
  'Welcome to the guide. Emoji 🦀 and accents é count as UTF-16 units.',
  '',
  '## Install',
  '',
  '```sh',
  '# this is a shell comment, not a heading',
  'cargo install thing',
  '```',
  '',
  '### From source',
  '',
  'Clone it.',
  '',
  '## Use',
  '',
  'Run it.',
  '',
].join('\n');

const RUST = Array.from({ length: 12 }, (_, f) =>
  [`/// Doc for f${f}.`, `#[inline]`, `pub fn f${f}(x: u32) -> u32 {`, ...Array.from({ length: 6 }, (_, k) => `    let v${k} = x + ${k}; // 🦀`), `    v0`, `}`, ''].join('\n'),
).join('\n');

const PROSE = Array.from({ length: 20 }, (_, p) => [sentence(p), sentence(p + 100)].join('\n')).join('\n\n');

describe('chunkDocument: positions', () => {
  for (const format of FORMATS) {
    test(`${format}: every chunk's characters and lines are exactly where it sits in the document`, () => {
      for (const [name, text] of [
        ['markdown', MIXED_MARKDOWN],
        ['rust', RUST],
        ['prose', PROSE],
      ] as const) {
        for (const config of [{}, { markdownMaxChars: 100, textMaxChars: 100, codeWindowLines: 7, codeOverlapLines: 2 }]) {
          const chunks = chunk(text, format, config);
          assert.ok(chunks.length > 0, `${name} as ${format} has chunks`);
          assertPositions(text, chunks);
          // Nothing is lost: every non-blank line is in some chunk (markdown drops only heading-only sections, none here).
          const lines = covered(chunks);
          for (const n of nonBlankLines(text)) assert.ok(lines.has(n), `${name} as ${format}: line ${n} is in a chunk`);
        }
      }
    });

    test(`${format}: CRLF and CR line breaks keep positions exact and give the same chunking as LF`, () => {
      const lf = format === 'markdown' ? MIXED_MARKDOWN : format === 'code' ? RUST : PROSE;
      const byLf = chunk(lf, format);
      for (const eol of ['\r\n', '\r']) {
        const text = lf.replace(/\n/g, eol);
        const chunks = chunk(text, format, { markdownMaxChars: 100_000, textMaxChars: 100_000 });
        const reference = chunk(lf, format, { markdownMaxChars: 100_000, textMaxChars: 100_000 });
        assertPositions(text, chunks);
        assert.deepEqual(
          chunks.map((c) => [c.position.start_line, c.position.end_line, c.text.replace(/\r\n|\r/g, '\n'), c.heading_path]),
          reference.map((c) => [c.position.start_line, c.position.end_line, c.text, c.heading_path]),
        );
        for (const c of chunks) for (const h of c.heading_path ?? []) assert.doesNotMatch(h, /\r/, 'no carriage return in headings');
      }
      assert.ok(byLf.length > 0);
    });

    test(`${format}: empty and whitespace-only documents give no chunks`, () => {
      for (const text of ['', ' ', '\n', '\n\n\n', ' \t\r\n  \r\n', '\r', '\t\t']) assert.deepEqual(chunk(text, format), [], JSON.stringify(text));
    });

    test(`${format}: a document without a final line break, and a single line`, () => {
      for (const text of ['one line', 'first\nsecond', '\n\n  indented last line']) {
        const chunks = chunk(text, format);
        assertPositions(text, chunks);
        assert.equal(chunks.length, 1);
        assert.equal(chunks[0]!.text, text.trim() === 'indented last line' ? '  indented last line' : text);
      }
    });
  }

  test('offsets are UTF-16 code units: astral characters before a chunk shift it by two', () => {
    const text = '# 🦀🦀\n\nbody one\n\n# Two\n\nbody two\n';
    const chunks = chunk(text, 'markdown');
    assertPositions(text, chunks);
    assert.equal(chunks[1]!.position.start_char, text.indexOf('# Two'));
    assert.equal(chunks[1]!.position.start_char, 18);
  });
});

describe('chunkDocument: markdown', () => {
  test('heading paths follow nesting, including skipped levels and closing hashes', () => {
    const text = [
      '# A',
      'a body',
      '## B ##',
      'b body',
      '#### C',
      'c body',
      '## D',
      'd body',
      '# E',
      'e body',
      '### F',
      'f body',
      '## G',
      'g body',
    ].join('\n');
    const chunks = chunk(text, 'markdown');
    assertPositions(text, chunks);
    assert.deepEqual(
      chunks.map((c) => c.heading_path),
      [['A'], ['A', 'B'], ['A', 'B', 'C'], ['A', 'D'], ['E'], ['E', 'F'], ['E', 'G']],
    );
    assert.deepEqual(
      chunks.map((c) => c.text),
      ['# A\na body', '## B ##\nb body', '#### C\nc body', '## D\nd body', '# E\ne body', '### F\nf body', '## G\ng body'],
    );
  });

  test('text before the first heading has an empty heading path', () => {
    const chunks = chunk('Preamble.\n\n# H\n\nbody\n', 'markdown');
    assert.deepEqual(chunks[0]!.heading_path, []);
    assert.equal(chunks[0]!.text, 'Preamble.');
    assert.deepEqual(chunks[1]!.heading_path, ['H']);
  });

  test('lines that are not ATX headings do not start sections', () => {
    const text = ['# Top', '', '#hashtag is text', '####### seven hashes is text', '    # indented four spaces is code', '   ### three spaces is a heading', 'under it'].join('\n');
    const chunks = chunk(text, 'markdown');
    assertPositions(text, chunks);
    assert.deepEqual(
      chunks.map((c) => c.heading_path),
      [['Top'], ['Top', 'three spaces is a heading']],
    );
    assert.match(chunks[0]!.text, /#hashtag is text\n####### seven hashes is text\n {4}# indented/);
  });

  test('a # line inside a fenced code block is not a heading (``` and ~~~ fences)', () => {
    const text = [
      '# Install',
      '',
      '```sh',
      '# not a heading: a shell comment',
      '## neither is this',
      '```',
      '',
      '~~~python',
      '# a python comment',
      '```',
      '# still inside the tilde fence',
      '~~~',
      '',
      '## After',
      '',
      'body after',
    ].join('\n');
    const chunks = chunk(text, 'markdown');
    assertPositions(text, chunks);
    assert.deepEqual(
      chunks.map((c) => c.heading_path),
      [['Install'], ['Install', 'After']],
    );
    assert.ok(chunks[0]!.text.includes('# not a heading: a shell comment\n## neither is this'));
    assert.ok(chunks[0]!.text.includes('# still inside the tilde fence'));
  });

  test(
    'a longer fence is not closed by a shorter one, so a # line in a nested example stays code',
    () => {
      const text = ['# Doc', '', '````markdown', '```rust', '# not heading', '```', '````', '', 'after the example'].join('\n');
      const chunks = chunk(text, 'markdown');
      assert.deepEqual(
        chunks.map((c) => c.heading_path),
        [['Doc']],
      );
      assert.equal(chunks[0]!.text, text);
    },
  );

  test('heading-only sections produce no chunk; their headings still appear in deeper paths', () => {
    const text = ['# A', '## B', '', '   ', '### C', 'c body', '## D', '', '## E', 'e body', '# F'].join('\n');
    const chunks = chunk(text, 'markdown');
    assertPositions(text, chunks);
    assert.deepEqual(
      chunks.map((c) => [c.heading_path, c.text]),
      [
        [['A', 'B', 'C'], '### C\nc body'],
        [['A', 'E'], '## E\ne body'],
      ],
    );
    assert.deepEqual(chunk('# Only\n## Headings\n\n### Here\n', 'markdown'), []);
  });

  test('a long section is cut between paragraphs, each piece within markdownMaxChars and keeping the heading path', () => {
    const paragraphsText = Array.from({ length: 12 }, (_, p) => sentence(p, 12)); // about 80 characters each
    const text = ['# Top', '', '## Long', '', paragraphsText.join('\n\n'), '', '## Short', '', 'tail'].join('\n');
    const max = 300;
    const chunks = chunk(text, 'markdown', { markdownMaxChars: max });
    assertPositions(text, chunks);
    const long = chunks.filter((c) => c.heading_path?.join('/') === 'Top/Long');
    assert.ok(long.length >= 3, `split into ${long.length} pieces`);
    for (const c of long) {
      assert.ok(c.text.length <= max, `${c.text.length} <= ${max}`);
      assert.ok(c.text.startsWith('## Long') || paragraphsText.some((p) => c.text.startsWith(p)), 'starts at a paragraph');
      assert.ok(paragraphsText.some((p) => c.text.endsWith(p)), 'ends at a paragraph');
    }
    // Every paragraph is in exactly one piece, in order.
    const joined = long.map((c) => c.text).join('\n\n');
    assert.equal(joined, ['## Long', ...paragraphsText].join('\n\n'));
    // Greedy: a piece was closed only because the next paragraph did not fit.
    for (let i = 0; i + 1 < long.length; i++) {
      const firstParagraphOfNext = long[i + 1]!.text.split('\n\n')[0]!;
      assert.ok(long[i + 1]!.position.start_char + firstParagraphOfNext.length - long[i]!.position.start_char > max);
    }
    assert.deepEqual(chunks[chunks.length - 1]!.heading_path, ['Top', 'Short']);
  });

  test('a single paragraph longer than the limit is cut between lines; a single overlong line is cut within the limit', () => {
    const lines = Array.from({ length: 10 }, (_, i) => sentence(i, 6)); // about 40 characters each
    const overlong = 'x'.repeat(250);
    const text = ['# H', '', lines.join('\n'), '', overlong].join('\n');
    const chunks = chunk(text, 'markdown', { markdownMaxChars: 100 });
    const whole = chunks.filter((c) => !c.text.startsWith('x'));
    const pieces = chunks.filter((c) => c.text.startsWith('x'));
    assertPositions(text, whole);
    assertBounded(text, 'markdown', { ...DEFAULT_CHUNKER, markdownMaxChars: 100 }, chunks, 'markdown');
    assert.ok(whole.length >= 4);
    for (const c of chunks) assert.ok(c.text.length <= 100, `${c.text.length} chars`);
    assert.equal(pieces.map((c) => c.text).join(''), overlong);
    for (const c of pieces) assert.deepEqual([c.position.start_line, c.position.end_line], [14, 14]);
    for (const c of chunks) assert.deepEqual(c.heading_path, ['H']);
  });
});

describe('chunkDocument: code', () => {
  const code = (n: number, line: (i: number) => string = (i) => `let v${i} = ${i};`): string => Array.from({ length: n }, (_, i) => line(i)).join('\n');

  test('windows of codeWindowLines lines cover every non-blank line and overlap by codeOverlapLines', () => {
    for (const [window, overlap] of [
      [12, 3],
      [10, 0],
      [5, 2],
      [60, 8],
    ] as const) {
      const text = code(137);
      const chunks = chunk(text, 'code', { codeWindowLines: window, codeOverlapLines: overlap });
      assertPositions(text, chunks);
      assert.equal(chunks[0]!.position.start_line, 1);
      assert.equal(chunks[chunks.length - 1]!.position.end_line, 137);
      for (const c of chunks) assert.ok(c.position.end_line - c.position.start_line + 1 <= window, `window ${window}`);
      for (let i = 0; i + 1 < chunks.length; i++) {
        const a = chunks[i]!.position;
        const b = chunks[i + 1]!.position;
        assert.equal(a.end_line - a.start_line + 1, window, 'no boundary to prefer: full windows');
        assert.equal(b.start_line, a.end_line - overlap + 1, `overlap ${overlap} between chunk ${i} and ${i + 1}`);
      }
      const lines = covered(chunks);
      for (let n = 1; n <= 137; n++) assert.ok(lines.has(n), `line ${n} covered`);
    }
  });

  test('blank lines are never at the edge of a chunk, and every non-blank line is covered', () => {
    const text = code(90, (i) => (i % 7 === 3 || i % 11 === 0 ? '' : `x${i}();`));
    const chunks = chunk(text, 'code', { codeWindowLines: 9, codeOverlapLines: 2 });
    assertPositions(text, chunks);
    const lines = covered(chunks);
    for (const n of nonBlankLines(text)) assert.ok(lines.has(n), `line ${n}`);
  });

  /** Body lines of a function: no blank lines and nothing that looks like a definition. */
  const body = (name: string, n: number): string[] => [...Array.from({ length: n }, (_, k) => `    ${name}_step(${k});`), '}'];

  test('a cut prefers to fall just before a definition in the last third of the window', () => {
    for (const [keyword, open] of [
      ['fn', (n: string) => `fn ${n}() {`],
      ['pub fn', (n: string) => `pub fn ${n}(x: u8) -> u8 {`],
      ['function', (n: string) => `export async function ${n}() {`],
      ['class', (n: string) => `class ${n} {`],
    ] as const) {
      // Lines 1-9 are `a`, line 10 is blank, `b` starts on line 11: inside the last third of a 12-line window.
      const text = [open('a'), ...body('a', 7), '', open('b'), ...body('b', 20)].join('\n');
      const chunks = chunk(text, 'code', { codeWindowLines: 12, codeOverlapLines: 2 });
      assertPositions(text, chunks);
      assert.equal(chunks[0]!.position.end_line, 9, `${keyword}: the first window ends before b`);
      assert.ok(!chunks[0]!.text.includes(open('b')));
      assert.equal(chunks[1]!.position.start_line, 9, `${keyword}: the next window starts 2 lines before the cut`);
      assert.ok(chunks[1]!.text.includes(open('b')));
    }
  });

  test('a cut before a definition moves above its /// doc comments and #[...] attributes', () => {
    const text = ['fn a() {', ...body('a', 6), '', '/// Doc for b.', '/// More doc.', '#[inline]', '#[must_use]', 'pub fn b() -> u8 {', ...body('b', 20)].join('\n');
    // a: lines 1-8, blank 9, docs and attributes 10-13, b on line 14; window 15 -> last third is lines 11-16.
    const chunks = chunk(text, 'code', { codeWindowLines: 15, codeOverlapLines: 3 });
    assertPositions(text, chunks);
    assert.equal(chunks[0]!.position.end_line, 8, 'the first window stops after a, before the doc comments');
    assert.doesNotMatch(chunks[0]!.text, /Doc for b|#\[inline\]/);
    const withB = chunks.find((c) => c.text.includes('pub fn b()'))!;
    assert.ok(withB.text.includes('/// Doc for b.\n/// More doc.\n#[inline]\n#[must_use]\npub fn b() -> u8 {'), 'b keeps its doc comments and attributes');
  });

  test('a definition earlier than the last third of the window is not a reason to cut short', () => {
    // b starts on line 5 of a 12-line window: too early, so the window is full.
    const text = ['fn a() {', ...body('a', 2), '', 'fn b() {', ...body('b', 30)].join('\n');
    const chunks = chunk(text, 'code', { codeWindowLines: 12, codeOverlapLines: 2 });
    assertPositions(text, chunks);
    assert.equal(chunks[0]!.position.end_line, 12);
  });

  test('without a definition nearby, a cut falls after a blank line in the last third', () => {
    const text = [...Array.from({ length: 10 }, (_, i) => `step(${i});`), '', ...Array.from({ length: 20 }, (_, i) => `more(${i});`)].join('\n');
    const chunks = chunk(text, 'code', { codeWindowLines: 12, codeOverlapLines: 0 });
    assertPositions(text, chunks);
    assert.equal(chunks[0]!.position.end_line, 10);
    assert.equal(chunks[1]!.position.start_line, 12);
  });
});

describe('chunkDocument: text', () => {
  test('paragraphs are packed greedily up to textMaxChars, cut only between paragraphs', () => {
    const paras = Array.from({ length: 15 }, (_, p) => sentence(p, 8)); // about 50 characters each
    const text = paras.join('\n\n');
    const max = 180;
    const chunks = chunk(text, 'text', { textMaxChars: max });
    assertPositions(text, chunks);
    assert.ok(chunks.length > 1 && chunks.length < paras.length, `${chunks.length} chunks`);
    for (const c of chunks) {
      assert.ok(c.text.length <= max);
      assert.ok(c.text.split('\n\n').every((p) => paras.includes(p)), 'whole paragraphs only');
    }
    assert.equal(chunks.map((c) => c.text).join('\n\n'), text);
    for (let i = 0; i + 1 < chunks.length; i++) {
      const next = chunks[i + 1]!.text.split('\n\n')[0]!;
      assert.ok(chunks[i + 1]!.position.start_char + next.length - chunks[i]!.position.start_char > max, 'greedy');
    }
    for (const c of chunks) assert.equal(c.heading_path, undefined);
  });

  test('# lines in plain text are not headings', () => {
    const chunks = chunk('# not a heading\n\nbody', 'text');
    assert.equal(chunks.length, 1);
    assert.equal(chunks[0]!.text, '# not a heading\n\nbody');
  });
});

describe('chunkDocument: ids', () => {
  test('ids are deterministic across calls and depend on the document id', () => {
    for (const format of FORMATS) {
      assert.deepEqual(chunk(RUST, format), chunk(RUST, format));
      const a = chunk(PROSE, format, {}, 'doc-a').map((c) => c.chunk_id);
      const b = chunk(PROSE, format, {}, 'doc-b').map((c) => c.chunk_id);
      assert.ok(a.every((id) => !b.includes(id)), `${format}: another document, other ids`);
    }
  });

  test('equal text twice in one document gets two distinct ids', () => {
    const same = sentence(1, 14); // about 90 characters: one paragraph per chunk at the minimum limit
    const text = [same, sentence(2, 14), same].join('\n\n');
    const chunks = chunk(text, 'text', { textMaxChars: 100 });
    assertPositions(text, chunks);
    assert.equal(chunks.length, 3);
    assert.equal(chunks[0]!.text, chunks[2]!.text);
    assert.notEqual(chunks[0]!.chunk_id, chunks[2]!.chunk_id);
    const md = '## Same\n\nbody\n\n## Same\n\nbody\n';
    const mdChunks = chunk(md, 'markdown');
    assert.equal(mdChunks.length, 2);
    assert.notEqual(mdChunks[0]!.chunk_id, mdChunks[1]!.chunk_id);
  });

  test('editing one paragraph leaves the ids of the other chunks unchanged', () => {
    const paras = Array.from({ length: 5 }, (_, p) => sentence(p, 14));
    const before = chunk(paras.join('\n\n'), 'text', { textMaxChars: 100 });
    const edited = [...paras];
    edited[2] = `${paras[2]} Edited, and longer.`;
    const after = chunk(edited.join('\n\n'), 'text', { textMaxChars: 100 });
    assert.equal(before.length, 5);
    assert.equal(after.length, 5);
    for (const i of [0, 1, 3, 4]) assert.equal(after[i]!.chunk_id, before[i]!.chunk_id, `chunk ${i} keeps its id`);
    assert.notEqual(after[2]!.chunk_id, before[2]!.chunk_id);
    assert.notEqual(after[3]!.position.start_char, before[3]!.position.start_char, 'positions moved, ids did not');

    const md = (middle: string): string => `# A\n\nalpha\n\n# B\n\n${middle}\n\n# C\n\ngamma\n`;
    const m1 = chunk(md('beta'), 'markdown');
    const m2 = chunk(md('beta, edited'), 'markdown');
    assert.deepEqual([m2[0]!.chunk_id, m2[2]!.chunk_id], [m1[0]!.chunk_id, m1[2]!.chunk_id]);
    assert.notEqual(m2[1]!.chunk_id, m1[1]!.chunk_id);
  });

  test(
    'ids stay distinct when one chunk text is another plus digits (the id input is unambiguous)',
    () => {
      const text = [...Array.from({ length: 11 }, () => '## A\n\nfoo'), '## A\n\nfoo1'].join('\n\n');
      const chunks = chunk(text, 'markdown');
      assert.equal(chunks.length, 12);
      assert.equal(new Set(chunks.map((c) => c.chunk_id)).size, 12);
    },
  );
});

describe('checkChunkerConfig', () => {
  test('the default configuration and sensible ones pass', () => {
    assert.deepEqual(checkChunkerConfig(DEFAULT_CHUNKER), []);
    assert.deepEqual(checkChunkerConfig({ markdownMaxChars: 100, textMaxChars: 100, codeWindowLines: 5, codeOverlapLines: 2 }), []);
    assert.deepEqual(checkChunkerConfig({ ...DEFAULT_CHUNKER, codeWindowLines: 10, codeOverlapLines: 0 }), []);
    assert.deepEqual(checkChunkerConfig({ ...DEFAULT_CHUNKER, codeWindowLines: 10, codeOverlapLines: 4 }), []);
  });

  test('each bad field is reported by name', () => {
    const cases: [Partial<ChunkerConfig>, RegExp][] = [
      [{ markdownMaxChars: 99 }, /markdownMaxChars/],
      [{ markdownMaxChars: 0 }, /markdownMaxChars/],
      [{ textMaxChars: 150.5 }, /textMaxChars/],
      [{ textMaxChars: Number.NaN }, /textMaxChars/],
      [{ textMaxChars: Number.POSITIVE_INFINITY }, /textMaxChars/],
      [{ codeWindowLines: 4, codeOverlapLines: 0 }, /codeWindowLines/],
      [{ codeWindowLines: 10, codeOverlapLines: 5 }, /codeOverlapLines/],
      [{ codeWindowLines: 10, codeOverlapLines: 12 }, /codeOverlapLines/],
      [{ codeOverlapLines: -1 }, /codeOverlapLines/],
      [{ codeOverlapLines: 1.5 }, /codeOverlapLines/],
      [{ codeOverlapLines: '2' as unknown as number }, /codeOverlapLines/],
    ];
    for (const [patch, field] of cases) {
      const problems = checkChunkerConfig({ ...DEFAULT_CHUNKER, ...patch });
      assert.equal(problems.length, 1, `${JSON.stringify(patch)} -> ${problems.join('; ')}`);
      assert.match(problems[0]!, field);
    }
    assert.equal(checkChunkerConfig({ markdownMaxChars: 1, textMaxChars: 1, codeWindowLines: 1, codeOverlapLines: 1 }).length, 4);
  });
});

/** A lone half of a surrogate pair. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * The bound contract: every chunk within maxChunkChars, a slice of the text with no lone surrogate,
 * its lines the lines of its first and last characters, and every non-whitespace character of the
 * text in some chunk (markdown and text chunks in order and without overlap).
 */
function assertBounded(text: string, format: DocumentFormat, config: ChunkerConfig, chunks: readonly Chunk[], label: string): void {
  const max = maxChunkChars(format, config);
  const covered = new Uint8Array(text.length);
  let previousEnd = 0;
  for (const [i, c] of chunks.entries()) {
    const where = `${label}: chunk ${i} of ${chunks.length} (${c.position.start_char}-${c.position.end_char})`;
    assert.ok(c.text.length <= max, `${where}: ${c.text.length} > ${max}`);
    assert.ok(c.text.length > 0 && c.text.trim() !== '', `${where}: not blank`);
    assert.equal(text.slice(c.position.start_char, c.position.end_char), c.text, `${where}: slice`);
    assert.ok(!LONE_SURROGATE.test(c.text), `${where}: a surrogate pair was split`);
    assert.equal(c.position.start_line, lineBreaks(text.slice(0, c.position.start_char)) + 1, `${where}: start_line`);
    assert.equal(c.position.end_line, lineBreaks(text.slice(0, c.position.end_char - 1)) + 1, `${where}: end_line`);
    if (format !== 'code') {
      assert.ok(c.position.start_char >= previousEnd, `${where}: in order, no overlap`);
      previousEnd = c.position.end_char;
    }
    covered.fill(1, c.position.start_char, c.position.end_char);
  }
  for (let k = 0; k < text.length; k++) if (!/\s/.test(text[k]!)) assert.equal(covered[k], 1, `${label}: character ${k} (${JSON.stringify(text.slice(k, k + 20))}) is in no chunk`);
}

describe('every chunk within its bound', () => {
  const SMALL: ChunkerConfig = { markdownMaxChars: 100, textMaxChars: 120, codeWindowLines: 5, codeOverlapLines: 1 };

  test('a 1 MB file on one line (minified JSON) becomes many chunks, each within the limit, all on line 1', () => {
    const json = JSON.stringify(Array.from({ length: 25_000 }, (_, i) => ({ id: i, name: `item-${i}`, tags: ['a', 'b'] })));
    assert.ok(json.length > 1_000_000 && !json.includes('\n') && !json.includes(' '));
    for (const format of FORMATS) {
      const chunks = chunk(json, format);
      const max = maxChunkChars(format, DEFAULT_CHUNKER);
      assert.ok(chunks.length >= Math.ceil(json.length / max), `${format}: ${chunks.length} chunks`);
      assert.ok(chunks.every((c) => c.position.start_line === 1 && c.position.end_line === 1), format);
      assert.equal(chunks.map((c) => c.text).join(''), json, `${format}: the pieces, in order, are the text`);
      assertBounded(json, format, DEFAULT_CHUNKER, chunks, format);
    }
  });

  test('a long line is cut at word boundaries, and every piece carries that line', () => {
    const long = Array.from({ length: 400 }, (_, i) => `word${i}`).join(' ');
    const text = `first line\n${long}\nlast line`;
    const chunks = chunk(text, 'text');
    assertBounded(text, 'text', DEFAULT_CHUNKER, chunks, 'text');
    const pieces = chunks.filter((c) => c.text.startsWith('word'));
    assert.ok(pieces.length >= 2);
    for (const p of pieces) {
      assert.deepEqual([p.position.start_line, p.position.end_line], [2, 2]);
      assert.match(p.text, /^word\d+( word\d+)*$/, 'no word is cut in half');
    }
    assert.equal(pieces.map((p) => p.text).join(' '), long);
  });

  test('a long markdown line keeps its heading path in every piece; a base64 blob is cut at the limit', () => {
    const blob = 'QUJD'.repeat(2000);
    const text = `# Images\n\nInline image:\n\n![x](data:image/png;base64,${blob})\n\n## After\n\nDone.`;
    const chunks = chunk(text, 'markdown', SMALL);
    assertBounded(text, 'markdown', SMALL, chunks, 'markdown');
    const pieces = chunks.filter((c) => c.text.includes('QUJD'));
    assert.ok(pieces.length >= 80);
    for (const p of pieces) {
      assert.deepEqual(p.heading_path, ['Images']);
      assert.deepEqual([p.position.start_line, p.position.end_line], [5, 5]);
    }
    assert.deepEqual(chunks.at(-1)!.heading_path, ['Images', 'After']);
  });

  test('emoji on a line without spaces: no surrogate pair is split', () => {
    const text = '🦀'.repeat(1000) + 'x' + '𝒳'.repeat(999);
    for (const format of FORMATS) {
      const chunks = chunk(text, format, SMALL);
      assertBounded(text, format, SMALL, chunks, format);
      assert.equal(chunks.map((c) => c.text).join(''), text);
    }
  });

  test('code: a window of long lines is cut between lines first', () => {
    const line = (i: number): string => `const v${i} = ${JSON.stringify('x'.repeat(300))};`;
    const text = Array.from({ length: 12 }, (_, i) => line(i)).join('\n');
    const chunks = chunk(text, 'code', SMALL);
    assertBounded(text, 'code', SMALL, chunks, 'code');
    for (const c of chunks) assert.match(c.text, /^const v\d+ = "x+";$/, 'each piece is whole lines');
  });

  test('property: random texts (long lines, astral characters, no spaces, CRLF, fences) in every format', () => {
    const atoms = ['a', 'word', ' ', ' ', '\n', '\n', '\r\n', '\r', '\n\n', '\t', '🦀', '𝒳', 'é', '```', '~~~', 'x'.repeat(90), '-', '.', 'fn main() {', '}'];
    for (let seed = 1; seed <= 150; seed++) {
      const next = rng(seed);
      const parts: string[] = [];
      const length = Math.floor(next() * 600);
      for (let i = 0; i < length; i++) {
        // Runs without any whitespace make lines far longer than the bound.
        const atom = next() < 0.15 ? 'z'.repeat(Math.floor(next() * 400)) : atoms[Math.floor(next() * atoms.length)]!;
        parts.push(atom);
      }
      const text = parts.join('');
      for (const format of FORMATS) {
        for (const config of [SMALL, DEFAULT_CHUNKER]) assertBounded(text, format, config, chunk(text, format, config), `seed ${seed}, ${format}, max ${maxChunkChars(format, config)}`);
      }
    }
  });
});
