import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { test } from 'node:test';
import { repoRoot } from '../support/cli.js';

test('every codicon the explorer draws has the code point of the bundled codicon font', () => {
  const require = createRequire(__filename);
  const css = readFileSync(require.resolve('@vscode/codicons/dist/codicon.css'), 'utf8');
  // icons.ts imports lit (an ES module the Node test runner cannot load here): read its table as text.
  const source = readFileSync(join(repoRoot, 'webview', 'explorer', 'icons.ts'), 'utf8');
  const entries = [...source.matchAll(/^\s+'([a-z0-9-]+)': 0x([0-9a-f]+),$/gm)];
  assert.ok(entries.length > 20, `${entries.length} icons found in icons.ts`);
  for (const [, name, hex] of entries) {
    const m = new RegExp(`\\.codicon-${name}:before \\{ content: "\\\\([0-9a-f]+)"`).exec(css);
    assert.ok(m, `codicon ${name} does not exist in @vscode/codicons`);
    assert.equal(m[1], hex, `codicon ${name}`);
  }
});
