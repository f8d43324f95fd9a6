import { closeSync, existsSync, fstatSync, openSync, readSync } from 'node:fs';
import { join } from 'node:path';
import initSqlJs from 'sql.js';
import type { SqlJsStatic } from 'sql.js';

let loading: Promise<SqlJsStatic> | undefined;

/**
 * Locates sql-wasm.wasm: beside the bundle in dist/ (the packaged extension and CLI),
 * else in node_modules (running from sources).
 */
function wasmPath(): string {
  const beside = join(__dirname, 'sql-wasm.wasm');
  if (existsSync(beside)) return beside;
  // Built at run time so the bundler leaves it alone: this branch runs only from sources.
  const fromPackage = ['sql.js', 'dist', 'sql-wasm.wasm'].join('/');
  return require.resolve(fromPackage);
}

/** Loads the sql.js WebAssembly module once per process. */
export function loadSqlJs(): Promise<SqlJsStatic> {
  loading ??= initSqlJs({ locateFile: () => wasmPath() });
  return loading;
}

let scratch: Buffer | null = null;
let release: NodeJS.Timeout | undefined;

/**
 * Reads a database file into a buffer shared by the loads of one open (the index, the read models,
 * the explorer's index): sql.js copies the bytes it is given, so the buffer is free again as soon
 * as the Database is made, and reusing it keeps a second file-sized buffer out of the peak memory.
 * The view is valid until the next call; the buffer is dropped a moment after the last use.
 */
export function readDatabaseFile(path: string): Buffer {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    if (!scratch || scratch.length < size) {
      scratch = null;
      scratch = Buffer.allocUnsafeSlow(size);
    }
    let got = 0;
    while (got < size) {
      const n = readSync(fd, scratch, got, size - got, got);
      if (n === 0) break;
      got += n;
    }
    clearTimeout(release);
    release = setTimeout(() => (scratch = null), 2000);
    release.unref();
    return scratch.subarray(0, got);
  } finally {
    closeSync(fd);
  }
}
