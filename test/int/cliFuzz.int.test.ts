/**
 * Every command against every situation a user's machine can put it in: no store, an empty
 * folder, damaged store files, a store that is a file, a read-only store, bad flags and forged
 * archives. Whatever happens, the CLI ends with exit code 0, 1 or 2 (never a signal, never a
 * crash), says so in a few lines on stderr without a stack trace or "unexpected error", and
 * prints no raw control character.
 *
 * Most cases run in process through runCli (fast); a subset runs the bundled dist/cli.js as real
 * processes, where a crash, an unhandled rejection or a hang would show. Cases that fail for
 * reasons fixed elsewhere are kept, asserting the right behaviour, and skipped with the reason.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { commandNames, runCli } from '../../src/cli/main.js';
import { buildDist, cliPath, recordingIo } from '../support/cli.js';
import { tempDir } from '../support/tmp.js';

interface Outcome {
  readonly code: number | null;
  readonly signal: string | null;
  readonly stdout: string;
  readonly stderr: string;
}

interface Case {
  readonly name: string;
  readonly args: string[];
  /** Prepares the store (or archive) for this case; returns the --store directory. */
  readonly store: () => string;
  /** For import: makes the archive folder given as its argument. */
  readonly archive?: () => string;
  /** The exit codes this case may end with, when known (else 0, 1 or 2). */
  readonly expect?: readonly number[];
  /** Why this case is skipped: a bug whose fix is elsewhere. */
  readonly skip?: string;
}

// eslint-disable-next-line no-control-regex
const RAW_CONTROL = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/;

/** Asserts the contract every outcome must keep; returns a one-line description of a breach, or null. */
function breach(o: Outcome): string | null {
  if (o.signal !== null) return `killed by ${o.signal}`;
  if (o.code !== 0 && o.code !== 1 && o.code !== 2) return `exit code ${o.code}`;
  if (/^\s+at /m.test(o.stderr)) return 'a stack trace on stderr';
  if (/unexpected error/i.test(o.stderr)) return '"unexpected error" on stderr';
  const lines = o.stderr.split('\n').filter((l) => l !== '');
  if (lines.length > 6) return `${lines.length} lines on stderr`;
  if (o.code !== 0 && lines.length === 0) return `exit ${o.code} with nothing on stderr`;
  if (o.code !== 0 && !lines.some((l) => l.startsWith('rag-ledger'))) return 'a failure not reported as "rag-ledger …"';
  if (RAW_CONTROL.test(o.stderr)) return 'a raw control character on stderr';
  if (RAW_CONTROL.test(o.stdout)) return 'a raw control character on stdout';
  return null;
}

function assertContract(c: Case, o: Outcome): void {
  const why = breach(o) ?? (c.expect !== undefined && !c.expect.includes(o.code ?? -1) ? `exit code ${o.code}, expected ${c.expect.join(' or ')}` : null);
  assert.equal(why, null, `${c.name}: ${why}\n  args: ${JSON.stringify(c.args)}\n  exit ${o.code}${o.signal ? ` signal ${o.signal}` : ''}\n  stderr: ${JSON.stringify(o.stderr.slice(0, 2000))}\n  stdout: ${JSON.stringify(o.stdout.slice(0, 300))}`);
}

/** The command, then --store, then the case's arguments (so a case's own --store wins). */
function withStore(args: readonly string[], store: string): string[] {
  return [args[0]!, '--store', store, ...args.slice(1)];
}

async function inProcess(c: Case, store: string, cwd: string): Promise<Outcome> {
  const io = recordingIo(cwd);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<number>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${c.name}: still running after 60 s`)), 60_000);
  });
  try {
    const code = await Promise.race([runCli(withStore(c.args, store), io), timeout]);
    return { code, signal: null, stdout: io.stdout(), stderr: io.stderr() };
  } finally {
    clearTimeout(timer);
  }
}

function asProcess(c: Case, store: string, cwd: string): Promise<Outcome> {
  return new Promise((resolveOutcome) => {
    const child = spawn(process.execPath, [cliPath, ...withStore(c.args, store)], { cwd, env: { ...process.env, RAG_LEDGER_STORE: '', RAG_LEDGER_MODEL_DIR: '' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolveOutcome({ code, signal, stdout, stderr });
    });
  });
}

/** Runs `jobs` at most `width` at a time. */
async function inBatches<T>(jobs: (() => Promise<T>)[], width: number): Promise<T[]> {
  const results: T[] = new Array<T>(jobs.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < jobs.length) {
        const i = next++;
        results[i] = await jobs[i]!();
      }
    }),
  );
  return results;
}

// ---------------------------------------------------------------------------------------------
// The fixture: one small healthy store (two documents, one question), its archive, a workspace.

let root = '';
let base = '';
let workspace = '';
let archive = '';
let golden = '';
let queryId = '';
let pipeline = '';
let readOnlyMount: string | null = null;
/** Mount points to unmount before the temporary folders are removed. */
const mounts: string[] = [];

/** A fresh folder under the fixture's root (removed, mounts first, after the tests). */
function scratch(): string {
  return mkdtempSync(join(root, 'scratch', 'c-'));
}

after(() => {
  for (const m of mounts.reverse()) spawnSync('umount', ['-l', m]);
  if (root) rmSync(root, { recursive: true, force: true });
});
let readOnlyWhyNot = '';

async function cliIn(store: string, ...args: string[]): Promise<string> {
  const io = recordingIo(root);
  const code = await runCli([...args, '--store', store], io);
  if (code !== 0) throw new Error(`fixture: rag-ledger ${args.join(' ')} failed: ${io.stderr()}`);
  return io.stdout();
}

before(async () => {
  buildDist();
  root = tempDir();
  mkdirSync(join(root, 'scratch'));
  workspace = join(root, 'ws');
  mkdirSync(workspace);
  writeFileSync(join(workspace, 'a.md'), '# Otters\n\nOtters hold hands while they sleep.\n');
  writeFileSync(join(workspace, 'b.md'), '# Badgers\n\nBadgers dig setts under hedges.\n');
  base = join(root, 'base');
  await cliIn(base, 'ingest', workspace, '--no-embed');
  const asked = await cliIn(base, 'ask', 'do otters sleep?', '--extractive', '--mode', 'lexical');
  queryId = /question (q-[0-9a-f-]+)/.exec(asked)![1]!;
  pipeline = /pv-[0-9a-f]{12}/.exec(await cliIn(base, 'pipelines'))![0];
  archive = join(root, 'archive');
  await cliIn(base, 'export', archive);
  golden = join(root, 'golden.jsonl');
  writeFileSync(golden, `${JSON.stringify({ query: 'do otters sleep?', relevant: ['a.md'] })}\n`);

  // Root ignores file modes, so a read-only store is a read-only bind mount of a copy.
  const source = join(root, 'ro-source');
  cpSync(base, source, { recursive: true });
  const target = join(root, 'ro');
  mkdirSync(target);
  const bind = spawnSync('mount', ['--bind', source, target], { encoding: 'utf8' });
  const remount = bind.status === 0 ? spawnSync('mount', ['-o', 'remount,ro,bind', target], { encoding: 'utf8' }) : bind;
  if (remount.status === 0) {
    readOnlyMount = target;
    mounts.push(target);
  } else {
    if (bind.status === 0) spawnSync('umount', [target]);
    readOnlyWhyNot = `cannot make a read-only mount here: ${(remount.stderr || remount.error?.message || '').trim()}`;
  }
  const probe = scratch();
  const tmpfs = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', probe], { encoding: 'utf8' });
  if (tmpfs.status === 0) spawnSync('umount', [probe]);
  else fullDiskWhyNot = `cannot mount a small tmpfs to fill up here: ${(tmpfs.stderr || tmpfs.error?.message || '').trim()}`;
});

/** A fresh copy of the healthy store, changed by `damage`. */
function storeCopy(damage?: (dir: string) => void): () => string {
  return () => {
    const dir = join(scratch(), 'store');
    cpSync(base, dir, { recursive: true });
    damage?.(dir);
    return dir;
  };
}

/** The largest read-model shard of a store (the document-status documents). */
function largestShard(store: string): string {
  const dir = join(store, 'projections');
  const files = readdirSync(dir).filter((f) => f.endsWith('.sqlite'));
  return join(dir, files.sort((a, b) => statSync(join(dir, b)).size - statSync(join(dir, a)).size)[0]!);
}

function flipByte(file: string, at: (size: number) => number): void {
  const bytes = readFileSync(file);
  const i = at(bytes.length);
  bytes[i] = bytes[i]! ^ 0x5a;
  writeFileSync(file, bytes);
}

/**
 * A copy of the healthy store on a small tmpfs that is then filled up: every write fails with
 * ENOSPC. Null when this machine cannot mount one (not root, or no mount permission in a container).
 */
function fullDiskStore(): string | null {
  const mountPoint = scratch();
  const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=512k', 'tmpfs', mountPoint], { encoding: 'utf8' });
  if (mounted.status !== 0) return null;
  mounts.push(mountPoint);
  const dir = join(mountPoint, 'store');
  cpSync(base, dir, { recursive: true });
  const filler = Buffer.alloc(4096, 1);
  try {
    for (let i = 0; ; i++) writeFileSync(join(mountPoint, 'filler'), filler, { flag: 'a' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
  }
  return dir;
}

let fullDiskWhyNot = '';

/** Store situations: name → how to make the store. */
const situations: Record<string, () => string> = {
  'healthy store': storeCopy(),
  'missing store': () => join(scratch(), 'no', 'such', 'store'),
  'empty store folder': () => scratch(),
  'truncated journal': storeCopy((d) => {
    const j = join(d, 'events.journal');
    writeFileSync(j, readFileSync(j).subarray(0, Math.floor(statSync(j).size / 2)));
  }),
  'garbage snapshot': storeCopy((d) => writeFileSync(join(d, 'events.sqlite'), Buffer.from('this is not a database, not at all '.repeat(200)))),
  'flipped byte in the journal': storeCopy((d) => flipByte(join(d, 'events.journal'), (n) => Math.floor(n * 0.6))),
  'flipped byte in the snapshot': storeCopy((d) => flipByte(join(d, 'events.sqlite'), (n) => Math.floor(n * 0.6))),
  'garbage read-model shard': storeCopy((d) => writeFileSync(largestShard(d), Buffer.from('garbage '.repeat(500)))),
  'garbage read-model manifest': storeCopy((d) => writeFileSync(join(d, 'projections', 'manifest.json'), '{"format": 1, "projections": [garbage')),
  'read-models file of the single-file layout': storeCopy((d) => {
    rmSync(join(d, 'projections'), { recursive: true });
    writeFileSync(join(d, 'projections.sqlite'), Buffer.from('garbage '.repeat(500)));
  }),
  'vectors folder is a file': storeCopy((d) => {
    rmSync(join(d, 'vectors'), { recursive: true });
    writeFileSync(join(d, 'vectors'), 'not a folder');
  }),
  ...Object.fromEntries(
    [1, 2, 3, 4, 5, 6, 7].map((page) => [`page ${page} of the snapshot damaged`, storeCopy((d) => flipByte(join(d, 'events.sqlite'), (n) => Math.min(n - 1, page * 4096)))]),
  ),
  ...Object.fromEntries([1, 2, 3].map((page) => [`page ${page} of a read-model shard damaged`, storeCopy((d) => flipByte(largestShard(d), (n) => Math.min(n - 1, page * 4096)))])),
  'full disk': () => {
    const dir = fullDiskStore();
    if (dir === null) throw new Error('no tmpfs');
    return dir;
  },
  'store is a file': () => {
    const file = join(scratch(), 'store');
    writeFileSync(file, 'a file, not a folder\n');
    return file;
  },
};

/** Valid arguments for each command, against the fixture; a new command must be added here. */
function validArgs(name: string): string[] {
  const fresh = (): string => join(scratch(), 'out');
  switch (name) {
    case 'ingest':
      return ['ingest', workspace, '--no-embed'];
    case 'ask':
      return ['ask', 'do otters sleep?', '--extractive', '--mode', 'lexical'];
    case 'show':
      return ['show', queryId];
    case 'replay':
      return ['replay', queryId, '--mode', 'lexical'];
    case 'compare':
      return ['compare', '--from', pipeline, '--to', pipeline, '--mode', 'lexical'];
    case 'search':
      return ['search', 'otters', '--mode', 'lexical'];
    case 'eval':
      return ['eval', '--golden', golden, '--mode', 'lexical'];
    case 'pipelines':
      return ['pipelines'];
    case 'log':
      return ['log'];
    case 'append':
      return ['append', '--stream', 'query-fz', '--type', 'QueryReceived', '--data', JSON.stringify({ query_id: 'fz', query_text: 'why?', user_id: 'me', received_at: '2026-01-02T03:04:06Z' })];
    case 'stats':
      return ['stats'];
    case 'verify':
      return ['verify'];
    case 'export':
      return ['export', fresh()];
    case 'import':
      return ['import', archive];
    case 'migrate-store':
      return ['migrate-store', '--to', fresh()];
    case 'rebuild':
      return ['rebuild'];
    case 'recover':
      return ['recover'];
    case 'forget':
      return ['forget', 'b.md', '--reason', 'fuzz'];
    default:
      throw new Error(`no fuzz arguments for the command ${name}: add them to validArgs`);
  }
}

/** Forged archives for import: name → the archive folder. */
const forgedArchives: Record<string, () => string> = {
  'no such archive': () => join(scratch(), 'nothing'),
  'an empty folder': () => scratch(),
  'a file, not a folder': () => {
    const f = join(scratch(), 'archive');
    writeFileSync(f, 'zip? no.');
    return f;
  },
  'a manifest that is not JSON': () => forge((dir) => writeFileSync(join(dir, 'manifest.json'), '{"format": "rag-ledger-archive", ')),
  'a manifest of another format': () => forge((dir) => writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ format: 'tarball', version: 99 }))),
  'a manifest whose head is wrong': () =>
    forge((dir) => {
      const m = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as Record<string, unknown>;
      writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ ...m, headHash: '0'.repeat(64), events: 999 }));
    }),
  'an events file with a garbage line': () => forge((dir) => eachEventsFile(dir, (f, text) => writeFileSync(f, `${text}{"position": 1, "type":\n`))),
  'an events file with a binary line': () => forge((dir) => eachEventsFile(dir, (f, text) => writeFileSync(f, Buffer.concat([Buffer.from(text), Buffer.from([0x1b, 0x5b, 0x32, 0x4a, 0x00, 0xff, 0xfe, 0x0a])])))),
  'an event whose data was edited': () => forge((dir) => eachEventsFile(dir, (f, text) => writeFileSync(f, text.replace('Otters', 'Weasels')))),
  'a dropped event': () => forge((dir) => eachEventsFile(dir, (f, text) => writeFileSync(f, text.split('\n').slice(1).join('\n')))),
  'a stream id that climbs out': () => forge((dir) => eachEventsFile(dir, (f, text) => writeFileSync(f, text.replace(/"streamId":"[^"]+"/, '"streamId":"../../../escape"')))),
  'an impossible recordedAt': () => forge((dir) => eachEventsFile(dir, (f, text) => writeFileSync(f, text.replace(/"recordedAt":"[^"]+"/, '"recordedAt":"..-..-..-."')))),
  'a control character in a stream id': () => forge((dir) => eachEventsFile(dir, (f, text) => writeFileSync(f, text.replace(/"streamId":"([^"]+)"/, '"streamId":"$1\\u001b]0;pwned\\u0007"')))),
};

function forge(change: (dir: string) => void): string {
  const dir = join(scratch(), 'archive');
  cpSync(archive, dir, { recursive: true });
  change(dir);
  return dir;
}

function eachEventsFile(dir: string, change: (file: string, text: string) => void): void {
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.jsonl')) change(p, readFileSync(p, 'utf8'));
    }
  };
  walk(join(dir, 'events'));
}

/** Bad flags for a command: unknown, missing value, wrong type, extra positionals. */
function badFlagCases(name: string): { what: string; args: string[]; expect?: number[] }[] {
  const valid = validArgs(name);
  const cases: { what: string; args: string[]; expect?: number[] }[] = [
    { what: 'an unknown flag', args: [...valid, '--no-such-flag'] },
    { what: 'an unknown short flag', args: [...valid, '-Z'] },
    { what: 'a flag with a control character', args: [...valid, '--\x1b]0;pwned\x07'] },
    { what: '--json given a value', args: [...valid, '--json=yes'] },
    { what: 'extra positionals', args: [...valid, 'extra', 'more', 'and\x1b[2Jmore'] },
    { what: 'an empty --store', args: [...valid, '--store', ''] },
  ];
  // A string option given last, with no value.
  const stringFlag = valid.find((a, i) => a.startsWith('--') && i + 1 < valid.length && !valid[i + 1]!.startsWith('--'));
  if (stringFlag) cases.push({ what: `${stringFlag} with no value`, args: [...valid.filter((a) => a !== stringFlag), stringFlag] });
  if (['ask', 'search', 'replay', 'compare', 'eval'].includes(name)) {
    cases.push({ what: '--k not a number', args: [...valid, '--k', 'many'] });
    cases.push({ what: '--k negative', args: [...valid, '--k', '-3'] });
    cases.push({ what: '--mode unknown', args: [...valid.filter((a) => a !== '--mode' && a !== 'lexical'), '--mode', 'psychic'] });
  }
  if (name === 'log') {
    cases.push({ what: '--limit not a number', args: ['log', '--limit', '1e9'] });
    cases.push({ what: '--since not a time', args: ['log', '--since', '2026-13-45'] });
    cases.push({ what: '--type unknown', args: ['log', '--type', 'Nope'] });
  }
  if (name === 'append') {
    cases.push({ what: '--data not JSON', args: ['append', '--stream', 'query-x', '--type', 'QueryReceived', '--data', '{nope'] });
    cases.push({ what: '--data with an impossible time', args: ['append', '--stream', 'query-x', '--type', 'QueryReceived', '--data', JSON.stringify({ query_id: 'x', query_text: 'q', user_id: 'u', received_at: '..-..-..-.' })] });
    cases.push({ what: 'a stream id that climbs out', expect: [1, 2], args: ['append', '--stream', '../../escape', '--type', 'QueryReceived', '--data', JSON.stringify({ query_id: 'x', query_text: 'q', user_id: 'u', received_at: '2026-01-02T03:04:06Z' })] });
  }
  return cases;
}

/** Cases known to fail until a fix made elsewhere lands: situation → the commands that fail in it, and the bug. */
const knownBySituation: Record<string, { commands: string; bug: string }> = {};

const knownElsewhere: Record<string, string> = {
  ...Object.fromEntries(Object.entries(knownBySituation).flatMap(([situation, k]) => k.commands.split(' ').map((command) => [`${command} / ${situation}`, k.bug]))),
};

function allCases(): Case[] {
  const cases: Case[] = [];
  for (const name of commandNames) {
    for (const [situation, store] of Object.entries(situations)) {
      const c = `${name} / ${situation}`;
      const cannot = situation === 'full disk' && fullDiskWhyNot ? fullDiskWhyNot : undefined;
      // Import runs only into an empty store.
      const expect = situation === 'healthy store' ? [name === 'import' ? 1 : 0] : undefined;
      cases.push({ name: c, args: validArgs(name), store, expect, skip: knownElsewhere[c] ?? cannot });
    }
    if (readOnlyMount !== null) {
      const c = `${name} / read-only store`;
      const ro = readOnlyMount;
      cases.push({ name: c, args: validArgs(name), store: () => ro, skip: knownElsewhere[c] });
    }
    for (const bad of badFlagCases(name)) {
      const c = `${name} / ${bad.what}`;
      cases.push({ name: c, args: bad.args, store: storeCopy(), expect: bad.expect ?? [2], skip: knownElsewhere[c] });
    }
  }
  for (const [what, make] of Object.entries(forgedArchives)) {
    const c = `import / ${what}`;
    cases.push({ name: c, args: ['import'], store: () => join(scratch(), 'store'), skip: knownElsewhere[c], archive: make });
  }
  return cases;
}

/** Commands also run as real processes, in these situations, and import with every forged archive. */
const PROCESS_COMMANDS = new Set(['log', 'verify', 'append', 'ingest', 'search', 'recover', 'import']);
const PROCESS_SITUATIONS = new Set(['healthy store', 'missing store', 'truncated journal', 'garbage snapshot', 'page 3 of the snapshot damaged', 'store is a file', 'read-only store', 'full disk']);

describe('CLI fuzz: every command, every situation', () => {
  test('every command has fuzz arguments', () => {
    for (const name of commandNames) assert.doesNotThrow(() => validArgs(name));
  });

  test('the read-only store case runs (or says why not)', (t) => {
    if (readOnlyMount === null) t.skip(readOnlyWhyNot);
    else assert.ok(readOnlyMount);
  });

  test('in process through runCli', async (t) => {
    const cases = allCases();
    const outcomes = await inBatches(
      cases.map((c) => async () => {
        if (c.skip) return { c, o: null };
        const args = c.archive ? [...c.args, c.archive()] : c.args;
        return { c, o: await inProcess({ ...c, args }, c.store(), root) };
      }),
      4,
    );
    for (const { c, o } of outcomes) {
      await t.test(c.name, { skip: c.skip ?? false }, () => {
        if (o) assertContract(c, o);
      });
    }
  });

  test('as real processes (dist/cli.js)', async (t) => {
    const cases = allCases().filter((c) => c.name.startsWith('import /') || (PROCESS_COMMANDS.has(c.name.split(' / ')[0]!) && PROCESS_SITUATIONS.has(c.name.split(' / ')[1]!)));
    const outcomes = await inBatches(
      cases.map((c) => async () => {
        if (c.skip) return { c, o: null };
        const args = c.archive ? [...c.args, c.archive()] : c.args;
        return { c, o: await asProcess({ ...c, args }, c.store(), root) };
      }),
      4,
    );
    for (const { c, o } of outcomes) {
      await t.test(c.name, { skip: c.skip ?? false }, () => {
        if (o) assertContract(c, o);
      });
    }
  });
});
