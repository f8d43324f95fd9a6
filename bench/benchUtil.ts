// Small, dependency-free helpers for the benchmarks in bench/: statistics, formatting,
// temporary directories and GC.
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The median of the values (mean of the middle two for an even count). */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Nearest-rank percentile (p in 0..100) of the values. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const s = [...values].sort((a, b) => a - b);
  const rank = Math.min(s.length, Math.max(1, Math.ceil((p / 100) * s.length)));
  return s[rank - 1]!;
}

export function max(values: readonly number[]): number {
  return values.reduce((m, v) => (v > m ? v : m), Number.NEGATIVE_INFINITY);
}

/** 1234567.8 -> "1,234,568". */
export function fmtInt(n: number): string {
  return Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : String(n);
}

/** A number with `digits` decimals. */
export function fmt(n: number, digits = 2): string {
  return Number.isFinite(n) ? n.toFixed(digits) : String(n);
}

export function fmtMiB(bytes: number): string {
  return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
}

/** Runs a full GC when node was started with --expose-gc (a no-op otherwise). */
export function gcNow(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc) {
    gc();
    gc();
  }
}

export function hasGc(): boolean {
  return typeof (globalThis as { gc?: () => void }).gc === 'function';
}

/** Current RSS in bytes. */
export function rss(): number {
  return process.memoryUsage().rss;
}

/** Peak RSS of the process so far, in bytes (resourceUsage reports kilobytes). */
export function peakRss(): number {
  return process.resourceUsage().maxRSS * 1024;
}

/** CPU time (user + system, all threads) of the process so far, in milliseconds. */
export function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/** Temporary directories under os.tmpdir(), removed by `removeAll()` (also on exit). */
export class TempDirs {
  private readonly dirs = new Set<string>();

  constructor(private readonly prefix: string) {
    process.on('exit', () => this.removeAll());
  }

  create(label: string): string {
    const dir = mkdtempSync(join(tmpdir(), `${this.prefix}${label}-`));
    this.dirs.add(dir);
    return dir;
  }

  remove(dir: string): void {
    rmSync(dir, { recursive: true, force: true });
    this.dirs.delete(dir);
  }

  removeAll(): void {
    for (const dir of [...this.dirs]) this.remove(dir);
  }
}

/** Elapsed milliseconds of an async function. */
export async function timeAsync<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const t0 = performance.now();
  const value = await fn();
  return { ms: performance.now() - t0, value };
}

/** A markdown table from a header and rows. Columns are padded for reading in a terminal. */
export function markdownTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}

/** Reads a positive integer from the environment. */
export function envInt(name: string, fallback: number): number {
  const text = process.env[name];
  if (text === undefined || text === '') return fallback;
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n <= 0) throw new Error(`${name} must be a positive integer, got ${JSON.stringify(text)}`);
  return n;
}

/** Every file under `dir` (none when it does not exist). */
export function walkFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walkFiles(join(dir, e.name)) : e.isFile() ? [join(dir, e.name)] : []));
}

/** The bytes of every file under `dir`. */
export function dirBytes(dir: string): number {
  return walkFiles(dir).reduce((n, f) => n + statSync(f).size, 0);
}

/** A corpus's words, most frequent first (a benchmark model's vocabulary); files over `maxBytes` and images are skipped. */
export function corpusWords(dir: string, maxBytes: number, limit = 30_000): string[] {
  const counts = new Map<string, number>();
  for (const f of walkFiles(dir)) {
    if (statSync(f).size > maxBytes || /\.(png|jpg|svg|gif)$/i.test(f)) continue;
    for (const w of readFileSync(f, 'utf8').toLowerCase().match(/[a-z][a-z0-9]*/g) ?? []) counts.set(w, (counts.get(w) ?? 0) + 1);
  }
  return [...counts.entries()].filter(([, n]) => n >= 2).sort((a, b) => b[1] - a[1]).slice(0, limit).map(([w]) => w);
}
