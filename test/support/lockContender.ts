// Child process for test/int/storeLock.int.test.ts. Not a test itself.
//
//   node --import tsx test/support/lockContender.ts <dir> <rounds> <sync|async>
//   node --import tsx test/support/lockContender.ts <dir> hold [<lock file name>]
//
// hold: takes the lock (as the owner `the holding test process`), prints `held <pid>`, releases it
// when a line `release` arrives on stdin, prints `released` and exits (also exits if stdin ends).
//
// <rounds> times: takes the lock in <dir> (waiting up to 60 s), checks that nobody else is inside
// (a marker file created exclusively), increments the number in <dir>/counter, then releases.
// Prints `done` and exits 0, or prints `overlap` and exits 3 if two holders were ever inside at once.
import { existsSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { StoreLock } from '../../src/adapters/sqljs/storeLock.js';

const [dir, roundsArg, mode] = process.argv.slice(2);
if (!dir || !roundsArg || (roundsArg !== 'hold' && mode !== 'sync' && mode !== 'async')) {
  process.stderr.write('usage: lockContender.ts <dir> <rounds> <sync|async> | <dir> hold [<lock file name>]\n');
  process.exit(2);
}
const inside = join(dir, 'inside');
const counter = join(dir, 'counter');

async function hold(dir: string): Promise<void> {
  const lock = StoreLock.acquire(dir, 'the holding test process', mode ? { file: mode } : {});
  process.stdout.write(`held ${process.pid}\n`);
  for await (const line of createInterface({ input: process.stdin })) {
    if (line.trim() === 'release') break;
  }
  lock.release();
  process.stdout.write('released\n');
}

async function main(dir: string): Promise<void> {
  if (roundsArg === 'hold') return hold(dir);
  for (let i = 0; i < Number(roundsArg); i++) {
    const owner = `contender ${process.pid}`;
    const lock = mode === 'sync' ? StoreLock.acquire(dir, owner, { waitMs: 60_000 }) : await StoreLock.acquireAsync(dir, owner, { waitMs: 60_000 });
    try {
      writeFileSync(inside, String(process.pid), { flag: 'wx' });
    } catch {
      process.stdout.write('overlap\n');
      process.exit(3);
    }
    const n = existsSync(counter) ? Number(readFileSync(counter, 'utf8')) : 0;
    writeFileSync(counter, String(n + 1));
    unlinkSync(inside);
    lock.release();
    if (mode === 'async') await new Promise((resolve) => setImmediate(resolve));
  }
  process.stdout.write('done\n');
}

main(dir).catch((err: unknown) => {
  process.stderr.write(`lockContender failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
