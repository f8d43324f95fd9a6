// Generated inputs for bench/scale.bench.ts: a workspace of source files of realistic sizes (mixed
// Markdown, Rust and TOML, 0.3–8 KB) and the cache folder the benchmark keeps its stores and
// workspaces in. Deterministic for a seed, so a cached copy stands for a fresh one.
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { mulberry32 } from '../test/support/prng.js';

/**
 * Bump when what the generators produce changes (a workspace's files, a synthetic store's options):
 * cached copies of another version are not used.
 */
export const SCALE_GENERATOR_VERSION = 1;

/** Where generated workspaces and stores are cached: `$RAG_LEDGER_BENCH_CACHE`, else ~/.cache/rag-ledger/bench-scale. */
export function scaleCacheRoot(): string {
  return process.env.RAG_LEDGER_BENCH_CACHE || join(homedir(), '.cache', 'rag-ledger', 'bench-scale');
}

/** Smallest and largest file of a generated workspace, in bytes. */
export const FILE_BYTES: readonly [number, number] = [300, 8000];

const WORDS = `the a of to and in is it that for on with as be by this are or from at which not have can will all one would there
what about when more some out time use so if how each do then many these make like into two write see number way could first been
call find long down get come made part new just only also after back other any work three most very where through well even over
cargo crate package module function struct enum trait impl match pattern ownership borrow reference lifetime string vector hash map
error result option panic unwrap test closure iterator thread channel mutex arc box pointer memory heap stack compile compiler
program install toolchain input loop variable mutable constant type integer float boolean tuple array slice method generic macro
unsafe async await future server request response file read path directory document chunk embedding index query search retrieval
answer question model event log ledger replay pipeline version database table column row editor extension code open save run build`
  .split(/\s+/)
  .filter((w) => w.length > 0);

const IDENTS = ['config', 'reader', 'writer', 'buffer', 'state', 'handle', 'entry', 'cursor', 'token', 'parser', 'index', 'record', 'stream', 'batch', 'limit', 'offset'];

/** The text of one generated file of about `bytes` bytes, in the style of its extension. */
export function fileText(kind: 'md' | 'rs' | 'toml', bytes: number, rand: () => number): string {
  const word = (): string => WORDS[Math.floor(rand() ** 1.5 * WORDS.length)]!;
  const ident = (): string => `${IDENTS[Math.floor(rand() * IDENTS.length)]!}_${word()}`;
  const sentence = (n: number): string => {
    const s = Array.from({ length: n }, word).join(' ');
    return `${s[0]!.toUpperCase()}${s.slice(1)}.`;
  };
  const parts: string[] = [];
  let size = 0;
  const push = (s: string): void => {
    parts.push(s);
    size += s.length + 1;
  };
  if (kind === 'md') {
    push(`# ${sentence(3 + Math.floor(rand() * 4)).slice(0, -1)}\n`);
    while (size < bytes) {
      const r = rand();
      if (r < 0.15) push(`## ${sentence(2 + Math.floor(rand() * 4)).slice(0, -1)}\n`);
      else if (r < 0.3) push(`\`\`\`rust\nlet ${ident()} = ${ident()}(${Math.floor(rand() * 100)});\n\`\`\`\n`);
      else push(`${Array.from({ length: 2 + Math.floor(rand() * 4) }, () => sentence(6 + Math.floor(rand() * 12))).join(' ')}\n`);
    }
  } else if (kind === 'rs') {
    push(`//! ${sentence(8)}\nuse std::collections::HashMap;\n`);
    while (size < bytes) {
      const name = ident();
      push(`/// ${sentence(6 + Math.floor(rand() * 8))}\npub fn ${name}(${ident()}: &str, ${ident()}: usize) -> Option<usize> {`);
      for (let i = 0, n = 2 + Math.floor(rand() * 8); i < n; i++) push(`    let ${ident()} = ${ident()}.len() + ${Math.floor(rand() * 1000)}; // ${sentence(4)}`);
      push(`    None\n}\n`);
    }
  } else {
    push(`[package]\nname = "${ident().replace(/_/g, '-')}"\nversion = "0.${Math.floor(rand() * 20)}.${Math.floor(rand() * 10)}"\nedition = "2021"\n`);
    while (size < bytes) {
      push(`[${word()}.${ident()}]`);
      for (let i = 0, n = 2 + Math.floor(rand() * 6); i < n; i++) push(`${ident()} = ${rand() < 0.5 ? `"${sentence(3).slice(0, -1)}"` : Math.floor(rand() * 10_000)}`);
      push('');
    }
  }
  const text = parts.join('\n');
  return text.length > bytes ? `${text.slice(0, bytes - 1)}\n` : text;
}

/** The path and text of every file of a generated workspace of `files` files, in order. */
export function* workspaceFiles(files: number, seed = 7): Generator<{ path: string; text: string }> {
  const rand = mulberry32(seed);
  const [lo, hi] = FILE_BYTES;
  for (let i = 0; i < files; i++) {
    const r = rand();
    const kind = r < 0.5 ? 'md' : r < 0.9 ? 'rs' : 'toml';
    const bytes = Math.round(lo * Math.exp(rand() * Math.log(hi / lo)));
    const dir = `crate${Math.floor(i / 500)}/${kind === 'md' ? 'docs' : kind === 'rs' ? 'src' : 'config'}/d${Math.floor(i / 50) % 10}`;
    yield { path: `${dir}/file${i}.${kind}`, text: fileText(kind, bytes, rand) };
  }
}

export interface WorkspaceMeta {
  readonly files: number;
  readonly bytes: number;
  readonly version: number;
}

/**
 * The generated workspace of `files` files, written once under the cache (built in a partial folder
 * and renamed, so an interrupted build is never taken for a workspace); `fresh` writes it anew.
 */
export function ensureWorkspace(files: number, options: { fresh?: boolean } = {}): { dir: string; meta: WorkspaceMeta } {
  const dir = join(scaleCacheRoot(), `workspace-${files}-v${SCALE_GENERATOR_VERSION}`);
  const metaFile = join(dir, '..', `workspace-${files}-v${SCALE_GENERATOR_VERSION}.json`);
  if (!options.fresh && existsSync(metaFile) && existsSync(dir)) return { dir, meta: JSON.parse(readFileSync(metaFile, 'utf8')) as WorkspaceMeta };
  rmSync(metaFile, { force: true });
  rmSync(dir, { recursive: true, force: true });
  const partial = `${dir}.partial-${process.pid}`;
  rmSync(partial, { recursive: true, force: true });
  let bytes = 0;
  const made = new Set<string>();
  for (const f of workspaceFiles(files)) {
    const full = join(partial, f.path);
    const parent = join(full, '..');
    if (!made.has(parent)) {
      mkdirSync(parent, { recursive: true });
      made.add(parent);
    }
    writeFileSync(full, f.text);
    bytes += Buffer.byteLength(f.text);
  }
  renameSync(partial, dir);
  const meta: WorkspaceMeta = { files, bytes, version: SCALE_GENERATOR_VERSION };
  writeFileSync(metaFile, `${JSON.stringify(meta)}\n`);
  return { dir, meta };
}
