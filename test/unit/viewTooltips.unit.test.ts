import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import { documentTooltip, questionTooltip } from '../../src/extension/views/tooltips.js';

// A CommonMark renderer with raw HTML allowed: the worst case for text that must stay text.
const MarkdownIt = createRequire(__filename)('markdown-it') as new (o: { html: boolean }) => { render(s: string): string };
const render = (md: string): string => new MarkdownIt({ html: true }).render(md);

const HOSTILE = 'Why? <img src=x onerror="alert(1)"> <script>alert(2)</script>\n# Heading\n```\n[link](https://evil.example) ![i](https://evil.example/i.png) **bold** $(zap) &amp; `code`';

test('question tooltip: a hostile question, user and error render as text, with no element but the bold question', () => {
  const html = render(questionTooltip({ query_text: HOSTILE, state: 'failed', model_id: 'm<b>', user_id: '<script>x</script>', query_id: 'q-`1`', error: '~~~\n<img src=y onerror=alert(3)>' }));
  assert.deepEqual([...html.matchAll(/<(\w+)/g)].map((m) => m[1]), ['p', 'strong', 'p', 'p']);
  assert.ok(html.includes('&lt;img src=x onerror=&quot;alert(1)&quot;&gt;'), html);
  assert.ok(html.includes('[link](https://evil.example)'));
  assert.ok(html.includes('&amp;amp;'), 'an entity stays as written');
});

test('document tooltip: a hostile path and error render as text; the pipelines stay a list', () => {
  const doc = { source: 'docs/<img src=x onerror=alert(1)>.md', version: 2, format: 'markdown', byte_count: 10, pipelines: { 'pv-<b>1</b>': { chunks: 1, embedded: 1, indexed: 1, failed: 0 } } };
  const html = render(documentTooltip(doc, 'indexed', '**err** <script>alert(1)</script>', 'pv-<b>1</b>'));
  assert.deepEqual([...html.matchAll(/<(\w+)/g)].map((m) => m[1]), ['p', 'strong', 'p', 'p', 'ul', 'li']);
  assert.ok(html.includes('docs/&lt;img src=x onerror=alert(1)&gt;.md'));
  assert.ok(html.includes('pv-&lt;b&gt;1&lt;/b&gt; (active)'));
});
