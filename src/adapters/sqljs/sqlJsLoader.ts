import { existsSync, readFileSync } from 'node:fs';
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

/**
 * Reads a database file for sql.js. A Node Buffer is handed to sql.js's in-memory file system as it
 * is (its `slice` is a view, not a copy), so the file costs its size in memory once, not twice; the
 * buffer therefore must never be reused for anything else.
 */
export function readDatabaseFile(path: string): Buffer {
  return readFileSync(path);
}
