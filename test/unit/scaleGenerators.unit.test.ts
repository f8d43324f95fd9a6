import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FILE_BYTES, workspaceFiles } from '../../bench/scaleWorkspace.js';
import { DEFAULT_MAX_BYTES, checkDocument, formatOf } from '../../src/core/ingest/documentCheck.js';
import { syntheticLog } from '../../test/support/syntheticLog.js';

const contents = (options: Parameters<typeof syntheticLog>[0]): string[] =>
  [...syntheticLog(options)].flatMap((b) => b.writes.flatMap((w) => w.events.flatMap((e) => (e.type === 'DocumentSubmitted' ? [e.data.raw_content] : []))));

test('the scale workspace: md, rs and toml files of 0.3–8 KB that the document check accepts, the same for the same seed', () => {
  const files = [...workspaceFiles(300)];
  assert.equal(files.length, 300);
  assert.deepEqual(
    [...workspaceFiles(300)].map((f) => f.text),
    files.map((f) => f.text),
  );
  const kinds = new Set(files.map((f) => f.path.slice(f.path.lastIndexOf('.') + 1)));
  assert.deepEqual([...kinds].sort(), ['md', 'rs', 'toml']);
  const sizes = files.map((f) => Buffer.byteLength(f.text));
  assert.ok(Math.min(...sizes) >= FILE_BYTES[0] * 0.9, `smallest ${Math.min(...sizes)}`);
  assert.ok(Math.max(...sizes) <= FILE_BYTES[1], `largest ${Math.max(...sizes)}`);
  // Spread over the range, not clustered at one size.
  assert.ok(sizes.filter((s) => s < 1000).length > 30 && sizes.filter((s) => s > 4000).length > 30);
  for (const f of files) {
    const verdict = checkDocument(f.path, Buffer.from(f.text), { maxBytes: DEFAULT_MAX_BYTES, allowSecrets: false });
    assert.ok(verdict.ok, `${f.path}: ${JSON.stringify(verdict)}`);
  }
  const formats = new Set(files.map((f) => formatOf(f.path).format));
  assert.ok(formats.has('markdown') && formats.has('code'), [...formats].join(', '));
});

test('the synthetic log draws document sizes from documentCharsRange, and keeps one size without it', () => {
  const spread = contents({ documents: 400, questions: 0, dimensions: 4, documentCharsRange: [300, 8000] }).map((c) => c.length);
  assert.ok(Math.min(...spread) < 600, `smallest ${Math.min(...spread)}`);
  assert.ok(Math.max(...spread) > 5000, `largest ${Math.max(...spread)}`);
  assert.ok(Math.max(...spread) <= 8000 + 30, `largest ${Math.max(...spread)}`);
  const fixed = contents({ documents: 200, questions: 0, dimensions: 4, documentChars: 1200 }).map((c) => c.length);
  assert.ok(Math.min(...fixed) > 900 && Math.max(...fixed) < 1500, `${Math.min(...fixed)}..${Math.max(...fixed)}`);
});
