// Every `ragLedger.*` name the product shows or uses (hints, docs, walkthrough, code) is one that
// package.json contributes: a hint that names a setting that does not exist sends users nowhere.
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { test } from 'node:test';
import { repoRoot as root } from '../support/cli.js';

const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  contributes: {
    commands: { command: string }[];
    configuration: { properties: Record<string, unknown> } | { properties: Record<string, unknown> }[];
    views: Record<string, { id: string }[]>;
    viewsContainers: Record<string, { id: string }[]>;
    walkthroughs?: { id: string }[];
  };
  activationEvents?: string[];
};

function known(): Set<string> {
  const c = pkg.contributes;
  const names = new Set<string>();
  const configs = Array.isArray(c.configuration) ? c.configuration : [c.configuration];
  for (const key of configs.flatMap((s) => Object.keys(s.properties))) {
    // A setting and every section above it (`ragLedger.ollama` opens the Ollama settings).
    const parts = key.split('.');
    for (let i = 2; i <= parts.length; i++) names.add(parts.slice(0, i).join('.'));
  }
  for (const { command } of c.commands) names.add(command);
  for (const views of Object.values(c.views)) for (const { id } of views) names.add(id);
  for (const containers of Object.values(c.viewsContainers)) for (const { id } of containers) names.add(id);
  for (const { id } of c.walkthroughs ?? []) names.add(id);
  for (const e of pkg.activationEvents ?? []) if (e.startsWith('onWebviewPanel:')) names.add(e.slice('onWebviewPanel:'.length));
  return names;
}

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? files(p) : [p];
  });
}

test('every ragLedger.* name in the code, the docs and the walkthrough is contributed by package.json', () => {
  const names = known();
  // Ids the code creates itself rather than contributes.
  const created = new Set<string>();
  const sources = [...files(join(root, 'src')), ...files(join(root, 'webview'))].filter((f) => /\.ts$/.test(f));
  for (const f of sources) {
    for (const m of readFileSync(f, 'utf8').matchAll(/(?:registerCommand|createWebviewPanel|createStatusBarItem)\(\s*'(ragLedger\.[\w.]+)'/g)) created.add(m[1]!);
  }
  const docs = [join(root, 'README.md'), join(root, 'CONTRIBUTING.md'), ...files(join(root, 'docs')), ...files(join(root, 'media')).filter((f) => f.endsWith('.md'))];
  const unknown: string[] = [];
  for (const f of [...sources, ...docs, join(root, 'package.json')]) {
    for (const m of readFileSync(f, 'utf8').matchAll(/ragLedger\.[A-Za-z][\w.]*[A-Za-z0-9]/g)) {
      if (!names.has(m[0]) && !created.has(m[0])) unknown.push(`${relative(root, f)}: ${m[0]}`);
    }
  }
  assert.deepEqual(unknown, []);
});
