// Builds platform-specific .vsix packages of the extension.
//
//   node scripts/package.mjs                      the platform of this machine
//   node scripts/package.mjs --target darwin-arm64 [--target win32-x64 ...]
//   node scripts/package.mjs --all                every supported target
//
// A package carries the production bundle (dist/, with LanceDB's JavaScript and Apache Arrow inside),
// media/, README, CHANGELOG, LICENSE and, under dist/node_modules, only what loads at run time beside
// it: LanceDB's native binary for that platform, transformers.js with onnxruntime-node's binaries for
// that platform only. No sources, tests, maps or development files, and few enough JavaScript files
// that the packager has nothing to warn about. LanceDB binaries for other platforms are fetched from
// the npm registry (`npm pack`) and cached.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

/** VS Code target → onnxruntime-node binary folder and LanceDB native package. */
const TARGETS = {
  'linux-x64': { ort: 'linux/x64', lance: 'linux-x64-gnu' },
  'linux-arm64': { ort: 'linux/arm64', lance: 'linux-arm64-gnu' },
  'darwin-arm64': { ort: 'darwin/arm64', lance: 'darwin-arm64' },
  'win32-x64': { ort: 'win32/x64', lance: 'win32-x64-msvc' },
  'win32-arm64': { ort: 'win32/arm64', lance: 'win32-arm64-msvc' },
};
/**
 * Packages the production bundle requires at run time (esbuild.mjs marks them external): the
 * embedding worker's transformers.js with onnxruntime-node, and LanceDB's native binary (copied per
 * target below). LanceDB's JavaScript and Apache Arrow are inside the bundle.
 */
const RUNTIME_ROOTS = ['@huggingface/transformers'];
/**
 * Dependencies that are never loaded for text embeddings in Node: the web runtime, image decoding,
 * and onnxruntime-node's install-script helpers (the binaries ship in its package).
 */
const SKIPPED = new Set(['onnxruntime-web', 'sharp', 'openai', 'adm-zip', 'global-agent']);
/** Folders of a runtime package that nothing loads (transformers.js runs from its dist/ build). */
const UNUSED = { '@huggingface/transformers': ['src', 'types'], 'onnxruntime-common': ['lib'], 'onnxruntime-node': ['lib', 'script'] };

const args = process.argv.slice(2);
const hostTarget = `${process.platform}-${process.arch}`;
const targets = args.includes('--all') ? Object.keys(TARGETS) : args.flatMap((a, i) => (args[i - 1] === '--target' ? [a] : []));
if (args.at(-1) === '--target' || args.some((a) => a !== '--all' && a !== '--target' && !targets.includes(a))) {
  console.error(`package: usage: node scripts/package.mjs [--target T]... | --all  (T: ${Object.keys(TARGETS).join(', ')})`);
  process.exit(2);
}
if (targets.length === 0) targets.push(hostTarget);
for (const t of targets) {
  if (!TARGETS[t]) {
    console.error(`package: unsupported target ${t}; supported: ${Object.keys(TARGETS).join(', ')} (LanceDB and onnxruntime-node ship binaries for these)`);
    process.exit(2);
  }
}

const cache = join(process.env.RAG_LEDGER_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'rag-ledger'), 'package');
const run = (cmd, argv, opts = {}) => String(execFileSync(cmd, argv, { stdio: ['ignore', 'pipe', 'inherit'], ...opts }) ?? '');

console.log('building the production bundle');
run(process.execPath, [join(root, 'esbuild.mjs'), '--production'], { cwd: root, stdio: 'inherit' });

/** Finds a dependency's folder as Node would from `fromDir`. */
function locate(name, fromDir) {
  for (let dir = fromDir; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return candidate;
    if (dir === root || dir === dirname(dir)) return null;
  }
}

/** The runtime package folders, walking dependencies from the roots (peer dependencies included). */
function runtimeClosure() {
  const found = new Map();
  const queue = RUNTIME_ROOTS.map((name) => [name, root]);
  while (queue.length > 0) {
    const [name, from] = queue.shift();
    if (SKIPPED.has(name) || name.startsWith('@types/') || name.startsWith('@lancedb/lancedb-')) continue;
    const dir = locate(name, from);
    if (!dir) throw new Error(`package: ${name} (needed by ${relative(root, from) || 'the extension'}) is not installed; run npm ci`);
    if (found.has(dir)) continue;
    found.set(dir, name);
    const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    for (const dep of [...Object.keys(manifest.dependencies ?? {}), ...Object.keys(manifest.peerDependencies ?? {})]) queue.push([dep, dir]);
  }
  return [...found.keys()];
}

/** The LanceDB native package of a target: installed already, or fetched with npm pack and cached. */
function lanceNative(target) {
  const name = `@lancedb/lancedb-${TARGETS[target].lance}`;
  const version = JSON.parse(readFileSync(join(root, 'node_modules', '@lancedb', 'lancedb', 'package.json'), 'utf8')).version;
  const installed = join(root, 'node_modules', name);
  if (existsSync(installed) && JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8')).version === version) return installed;
  const dir = join(cache, `${name.replace('/', '__')}-${version}`);
  if (!existsSync(join(dir, 'package', 'package.json'))) {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    console.log(`fetching ${name}@${version}`);
    const tgz = run('npm', ['pack', `${name}@${version}`, '--silent', '--pack-destination', dir]).trim().split('\n').at(-1);
    run('tar', ['-xzf', join(dir, tgz), '-C', dir]);
    rmSync(join(dir, tgz));
  }
  return join(dir, 'package');
}

const SHARP_STUB = `'use strict';
// RAG Ledger embeds text only: transformers.js loads sharp for image inputs, which never occur here.
module.exports = function sharp() {
  throw new Error('image inputs are not supported by RAG Ledger');
};
`;

function countFiles(dir, pattern) {
  return readdirSync(dir, { withFileTypes: true }).reduce((n, e) => n + (e.isDirectory() ? countFiles(join(dir, e.name), pattern) : pattern.test(e.name) ? 1 : 0), 0);
}

function sizeOf(dir) {
  return readdirSync(dir, { withFileTypes: true }).reduce((n, e) => n + (e.isDirectory() ? sizeOf(join(dir, e.name)) : statSync(join(dir, e.name)).size), 0);
}

const closure = runtimeClosure();
const vsce = join(root, 'node_modules', '.bin', 'vsce');
for (const target of targets) {
  const stage = join(root, '.cache', 'package', target);
  rmSync(stage, { recursive: true, force: true });
  mkdirSync(stage, { recursive: true });
  // The CLI (dist/cli.js) is distributed as an npm package, not inside the extension.
  cpSync(join(root, 'dist'), join(stage, 'dist'), { recursive: true, filter: (src) => !src.endsWith('.map') && !src.endsWith(join('dist', 'cli.js')) && !src.includes(`${join('dist', 'node_modules')}`) });
  for (const f of ['media', 'README.md', 'CHANGELOG.md', 'LICENSE']) if (existsSync(join(root, f))) cpSync(join(root, f), join(stage, f), { recursive: true, filter: (src) => src !== join(root, 'media', 'README.md') });
  const manifest = { ...pkg };
  delete manifest.devDependencies;
  delete manifest.scripts;
  delete manifest.overrides;
  delete manifest.bin; // the CLI is published as an npm package; the .vsix carries the extension
  writeFileSync(join(stage, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  const modules = join(stage, 'dist', 'node_modules');
  for (const dir of closure) {
    cpSync(dir, join(modules, relative(join(root, 'node_modules'), dir)), {
      recursive: true,
      // Nested node_modules are copied as packages of their own (only those in the closure).
      filter: (src) => !relative(dir, src).split(/[\\/]/).includes('node_modules') && !/\.(map|ts|mts|cts|md)$/.test(src) && !/(^|[\\/])(test|tests|docs|examples)([\\/]|$)/.test(relative(dir, src)),
    });
  }
  for (const [name, folders] of Object.entries(UNUSED)) for (const f of folders) rmSync(join(modules, name, f), { recursive: true, force: true });
  // onnxruntime-node: only this platform's binaries.
  const ortBin = join(modules, 'onnxruntime-node', 'bin');
  for (const napi of readdirSync(ortBin)) {
    for (const os of readdirSync(join(ortBin, napi))) {
      for (const arch of readdirSync(join(ortBin, napi, os))) if (`${os}/${arch}` !== TARGETS[target].ort) rmSync(join(ortBin, napi, os, arch), { recursive: true });
      if (readdirSync(join(ortBin, napi, os)).length === 0) rmSync(join(ortBin, napi, os), { recursive: true });
    }
  }
  // macOS: the binding loads @rpath/libonnxruntime.1.dylib; the package also carries an identical
  // versioned copy (npm tarballs have no symlinks), which is never loaded.
  for (const dir of [join(ortBin, 'napi-v6', TARGETS[target].ort)]) {
    for (const f of existsSync(dir) ? readdirSync(dir) : []) if (/^libonnxruntime\.\d+\.\d+\.\d+\.dylib$/.test(f)) rmSync(join(dir, f));
  }
  // transformers.js: only the Node build.
  const hf = join(modules, '@huggingface', 'transformers', 'dist');
  for (const f of readdirSync(hf)) if (!/^transformers\.node\.(c|m)?js$/.test(f) && !/^transformers\.node\.(cjs|mjs)$/.test(f)) rmSync(join(hf, f), { recursive: true, force: true });
  cpSync(lanceNative(target), join(modules, '@lancedb', `lancedb-${TARGETS[target].lance}`), { recursive: true });
  mkdirSync(join(modules, 'sharp'), { recursive: true });
  writeFileSync(join(modules, 'sharp', 'package.json'), '{ "name": "sharp", "version": "0.0.0-rag-ledger-stub", "main": "index.js" }\n');
  writeFileSync(join(modules, 'sharp', 'index.js'), SHARP_STUB);
  writeFileSync(join(stage, '.vscodeignore'), '.vscodeignore\n**/*.map\n');
  const out = join(root, `${pkg.name}-${pkg.version}-${target}.vsix`);
  rmSync(out, { force: true });
  // vsce asks for a bundled extension above 100 JavaScript files: keep it bundled rather than let it warn.
  const jsFiles = countFiles(stage, /\.js$/i);
  if (jsFiles > 100) throw new Error(`package: the ${target} package holds ${jsFiles} .js files (more than 100): bundle the new dependency in esbuild.mjs or drop its unused folders here`);
  console.log(`packaging ${target} (${(sizeOf(stage) / 1048576).toFixed(1)} MiB unpacked, ${jsFiles} JavaScript files)`);
  run(vsce, ['package', '--no-dependencies', '--target', target, '--out', out, ...(pkg.repository ? [] : ['--allow-missing-repository'])], { cwd: stage, stdio: 'inherit' });
  console.log(`${relative(process.cwd(), out)}: ${(statSync(out).size / 1048576).toFixed(1)} MiB`);
}
