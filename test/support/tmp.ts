import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const created: string[] = [];
process.on('exit', () => {
  for (const dir of created) rmSync(dir, { recursive: true, force: true });
});

/**
 * A fresh temporary directory, removed when the test process exits (after every test's
 * own `after` hooks have closed the stores inside it).
 */
export function tempDir(_t?: unknown, prefix = 'rag-ledger-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  created.push(dir);
  return dir;
}
