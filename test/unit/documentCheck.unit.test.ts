import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { DocumentRules, DocumentVerdict } from '../../src/core/ingest/documentCheck.js';
import { DEFAULT_MAX_BYTES, binaryKind, checkDocument, firstInvalidUtf8, formatOf, secretByName } from '../../src/core/ingest/documentCheck.js';

const RULES: DocumentRules = { maxBytes: DEFAULT_MAX_BYTES, allowSecrets: false };
const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);
const bytes = (...parts: (string | number[])[]): Uint8Array => {
  const chunks = parts.map((p) => (typeof p === 'string' ? utf8(p) : Uint8Array.from(p)));
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
};

function rejected(v: DocumentVerdict): { reason: string; detail: string } {
  assert.equal(v.ok, false, `expected a rejection, got ${JSON.stringify(v)}`);
  return v;
}

function accepted(v: DocumentVerdict): { text: string; format: string; language: string } {
  assert.equal(v.ok, true, `expected acceptance, got ${JSON.stringify(v)}`);
  return v;
}

describe('checkDocument: size', () => {
  test('over maxBytes is too_large with both numbers in the detail; exactly maxBytes passes', () => {
    const r = rejected(checkDocument('notes.txt', utf8('x'.repeat(101)), { ...RULES, maxBytes: 100 }));
    assert.equal(r.reason, 'too_large');
    assert.match(r.detail, /101 bytes.*100 bytes/);
    assert.equal(accepted(checkDocument('notes.txt', utf8('x'.repeat(100)), { ...RULES, maxBytes: 100 })).text, 'x'.repeat(100));
  });

  test('the size is checked before anything else (a big binary or secret is too_large)', () => {
    assert.equal(rejected(checkDocument('.env', bytes([0, 1, 2, 3]), { ...RULES, maxBytes: 2 })).reason, 'too_large');
  });
});

describe('checkDocument: binary', () => {
  test('a NUL byte makes a file binary, with its offset', () => {
    const r = rejected(checkDocument('data.txt', bytes('abc', [0], 'def'), RULES));
    assert.equal(r.reason, 'binary');
    assert.match(r.detail, /NUL byte at offset 3/);
    assert.equal(binaryKind(bytes('abc', [0])), 'binary data (a NUL byte at offset 3)');
  });

  test('magic numbers: PNG, JPEG, GIF, PDF, ZIP, gzip, wasm, ELF', () => {
    const png = bytes([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'IHDR');
    const r = rejected(checkDocument('src/img/logo.png', png, RULES));
    assert.equal(r.reason, 'binary');
    assert.match(r.detail, /PNG image/);
    const cases: [number[], RegExp][] = [
      [[0xff, 0xd8, 0xff, 0xe0], /JPEG/],
      // GIF89a, 1×1 pixels (little-endian sizes carry NUL bytes).
      [[0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x01, 0x00, 0x01, 0x00, 0x80, 0x00, 0x00], /GIF/],
      // %PDF-1.7 and the customary comment of bytes over 127 that tells tools the file is binary.
      [[0x25, 0x50, 0x44, 0x46, 0x2d, 0x31, 0x2e, 0x37, 0x0a, 0x25, 0xe2, 0xe3, 0xcf, 0xd3, 0x0a], /PDF/],
      [[0x50, 0x4b, 0x03, 0x04], /ZIP/],
      [[0x1f, 0x8b, 0x08], /gzip/],
      [[0x00, 0x61, 0x73, 0x6d], /WebAssembly/],
      [[0x7f, 0x45, 0x4c, 0x46], /ELF/],
    ];
    for (const [magic, kind] of cases) assert.match(binaryKind(Uint8Array.from(magic)) ?? 'text', kind);
    // A PDF of plain ASCII (no binary comment) is still one: it ends with its %%EOF trailer.
    const asciiPdf = '%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n';
    assert.match(rejected(checkDocument('paper.txt', utf8(asciiPdf), RULES)).detail, /PDF document/);
  });

  test('a text that starts like a PDF or a GIF (a note about their headers) is text', () => {
    const note = '%PDF-1.7 is how every PDF file starts; the next line is usually a comment of binary bytes.\n\n## Trailer\nIt ends with a trailer.\n';
    const ok = checkDocument('notes/pdf-headers.md', utf8(note), RULES);
    assert.ok(ok.ok, JSON.stringify(ok));
    assert.equal(binaryKind(utf8('GIF89a is the animated version of the format.\n')), null);
    // Text past the first 8 KiB that is cut inside a character is not mistaken for binary.
    assert.equal(binaryKind(utf8(`%PDF-1.7 notes\n${'é'.repeat(5000)}`)), null);
  });

  test('text, and the start of a magic number that is not all of it, is not binary', () => {
    assert.equal(binaryKind(utf8('hello\nworld')), null);
    assert.equal(binaryKind(new Uint8Array(0)), null);
    assert.equal(binaryKind(utf8('GIF is a format')), null);
    assert.equal(binaryKind(utf8('%PDF without the dash')), null);
  });

  test('only the first 8 KiB are searched for a NUL, like git', () => {
    assert.match(binaryKind(bytes('a'.repeat(8191), [0])) ?? '', /offset 8191/);
    assert.equal(binaryKind(bytes('a'.repeat(8192), [0])), null);
  });
});

describe('checkDocument: UTF-8', () => {
  const invalid: [string, Uint8Array, number, number][] = [
    // name, bytes, offset of the first bad byte, its line
    ['overlong 2-byte (C0 80)', bytes('ok\n', [0xc0, 0x80]), 3, 2],
    ['overlong 2-byte (C1 BF)', bytes([0xc1, 0xbf]), 0, 1],
    ['overlong 3-byte (E0 80 80)', bytes('ab', [0xe0, 0x80, 0x80]), 2, 1],
    ['overlong 3-byte (E0 9F BF)', bytes('a\nb\nc', [0xe0, 0x9f, 0xbf]), 5, 3],
    ['overlong 4-byte (F0 80 80 80)', bytes('x', [0xf0, 0x80, 0x80, 0x80]), 1, 1],
    ['overlong 4-byte (F0 8F BF BF)', bytes([0xf0, 0x8f, 0xbf, 0xbf]), 0, 1],
    ['surrogate (ED A0 80)', bytes('line 1\nline 2\n', [0xed, 0xa0, 0x80], 'tail'), 14, 3],
    ['surrogate (ED BF BF)', bytes([0xed, 0xbf, 0xbf]), 0, 1],
    ['above U+10FFFF (F4 90 80 80)', bytes('é', [0xf4, 0x90, 0x80, 0x80]), 2, 1],
    ['F5 lead byte', bytes([0xf5, 0x80, 0x80, 0x80]), 0, 1],
    ['FF byte', bytes('abc', [0xff]), 3, 1],
    ['truncated 3-byte sequence at the end (E2 82)', bytes('price: ', [0xe2, 0x82]), 7, 1],
    ['truncated 4-byte sequence at the end (F0 9F A6)', bytes('crab\n\n', [0xf0, 0x9f, 0xa6]), 6, 3],
    ['truncated 2-byte sequence at the end (C3)', bytes('caf', [0xc3]), 3, 1],
    ['truncated sequence followed by ASCII (E2 82 41)', bytes([0xe2, 0x82, 0x41]), 0, 1],
    ['lone continuation byte (80)', bytes('ab\ncd', [0x80], 'ef'), 5, 2],
    ['lone continuation byte after a valid character', bytes('é', [0xa9]), 2, 1],
    ['Latin-1 é in the middle of a line', bytes('caf', [0xe9], ' au lait\n'), 3, 1],
  ];

  for (const [name, input, offset, line] of invalid) {
    test(`invalid: ${name} -> byte ${offset}, line ${line}`, () => {
      assert.equal(firstInvalidUtf8(input), offset);
      const r = rejected(checkDocument('notes.txt', input, RULES));
      assert.equal(r.reason, 'invalid_utf8');
      assert.match(r.detail, new RegExp(`invalid UTF-8 at byte ${offset} \\(line ${line}\\)`));
    });
  }

  test('valid multibyte text passes: 2-, 3- and 4-byte characters and the edges of the ranges', () => {
    const text = 'Grüße, 世界, emoji 🦀👩‍👩‍👧, edges \u0080 \u07ff \u0800 \ud7ff \ue000 \uffff \u{10000} \u{10ffff}\n';
    const input = utf8(text);
    assert.equal(firstInvalidUtf8(input), -1);
    const v = accepted(checkDocument('notes.md', input, RULES));
    assert.equal(v.text, text);
    assert.equal(firstInvalidUtf8(new Uint8Array(0)), -1);
    assert.equal(accepted(checkDocument('empty.txt', new Uint8Array(0), RULES)).text, '');
  });

  test('a UTF-8 byte order mark is stripped from the text', () => {
    const v = accepted(checkDocument('readme.md', bytes([0xef, 0xbb, 0xbf], '# Title\n'), RULES));
    assert.equal(v.text, '# Title\n');
    assert.equal(v.text.charCodeAt(0), '#'.charCodeAt(0));
    // A BOM-like character later in the text is content and stays.
    assert.equal(accepted(checkDocument('a.txt', utf8('a\ufeffb'), RULES)).text, 'a\ufeffb');
  });
});

describe('checkDocument: secrets', () => {
  test('secret file names are rejected wherever they are', () => {
    for (const path of ['.env', '.env.local', '.env.production', 'config/.env', 'id_rsa', 'home/.ssh/id_ed25519', 'id_rsa.pub', 'server.pem', 'x.key', 'cert.p12', 'keystore.jks', 'deploy.ppk', '.netrc', 'credentials.json']) {
      const r = rejected(checkDocument(path, utf8('harmless content'), RULES));
      assert.equal(r.reason, 'secret', path);
      assert.match(r.detail, /looks like a secret/, path);
      assert.ok(secretByName(path), path);
    }
  });

  test('templates of .env files and ordinary names are not secrets', () => {
    for (const path of ['.env.example', 'config/.env.sample', '.env.template', '.env.dist', 'environment.md', 'keys.md', 'src/key.rs', 'pem.txt', 'docs/id_rsa.md']) {
      assert.equal(secretByName(path), null, path);
      assert.equal(checkDocument(path, utf8('FOO=bar\n'), RULES).ok, true, path);
    }
  });

  test('a private-key block in the content is rejected, whatever the file is called; a public key is not', () => {
    for (const header of ['-----BEGIN PRIVATE KEY-----', '-----BEGIN RSA PRIVATE KEY-----', '-----BEGIN OPENSSH PRIVATE KEY-----', '-----BEGIN ENCRYPTED PRIVATE KEY-----', '-----BEGIN PGP PRIVATE KEY BLOCK-----']) {
      const r = rejected(checkDocument('docs/setup.md', utf8(`Use this:\n\n${header}\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END-----\n`), RULES));
      assert.equal(r.reason, 'secret', header);
      assert.match(r.detail, /private key block/);
      assert.doesNotMatch(r.detail, /MIIEvQIBADANBgkqhkiG9w0BAQEFAASC/, 'the key itself is not repeated');
    }
    assert.equal(checkDocument('docs/setup.md', utf8('-----BEGIN PUBLIC KEY-----\nMFkw\n-----END PUBLIC KEY-----\n'), RULES).ok, true);
  });

  test('allowSecrets overrides both the name and the content checks', () => {
    const allow = { ...RULES, allowSecrets: true };
    assert.equal(accepted(checkDocument('.env', utf8('TOKEN=hunter2\n'), allow)).text, 'TOKEN=hunter2\n');
    assert.equal(checkDocument('id_rsa', utf8('-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n'), allow).ok, true);
    assert.equal(checkDocument('notes.md', utf8('-----BEGIN RSA PRIVATE KEY-----\nabc\n'), allow).ok, true);
    // It does not override the other checks.
    assert.equal(rejected(checkDocument('.env', bytes('A=', [0]), allow)).reason, 'binary');
  });
});

describe('formatOf', () => {
  test('markdown, code with its language, and plain text for everything else', () => {
    const cases: [string, string, string][] = [
      ['README.md', 'markdown', 'markdown'],
      ['docs/guide.MD', 'markdown', 'markdown'],
      ['page.mdx', 'markdown', 'markdown'],
      ['src/main.rs', 'code', 'rust'],
      ['Cargo.toml', 'code', 'toml'],
      ['web/app.tsx', 'code', 'typescript'],
      ['script.py', 'code', 'python'],
      ['notes.txt', 'text', 'plaintext'],
      ['Cargo.lock', 'text', 'plaintext'],
      ['LICENSE', 'text', 'plaintext'],
      ['listings/ch01/rustfmt-ignore', 'text', 'plaintext'],
      ['.gitignore', 'text', 'plaintext'],
      ['dir.md/file', 'text', 'plaintext'],
      ['archive.tar.gz', 'text', 'plaintext'],
    ];
    for (const [path, format, language] of cases) assert.deepEqual(formatOf(path), { format, language }, path);
  });

  test('checkDocument reports the format and language of an accepted file', () => {
    const v = accepted(checkDocument('src/lib.rs', utf8('fn main() {}\n'), RULES));
    assert.deepEqual([v.format, v.language], ['code', 'rust']);
  });
});

test('secret names: every .env variant, key files with suffixes, credential files; example env files are fine', () => {
  for (const name of ['.envrc', '.env-prod', '.env_local', 'id_rsa_old', 'id_rsa.bak', 'id_ed25519', '.git-credentials', '.npmrc', '.pypirc', 'vault.kdbx', 'sub/dir/.env.production']) {
    assert.ok(secretByName(name), name);
  }
  for (const name of ['.env.example', '.env-sample', 'env.md', 'environment.ts', 'keys.md', 'id.ts']) assert.equal(secretByName(name), null, name);
});
