import { open, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { fsyncDir } from './journal.js';

/**
 * Replaces `dir/name` with `bytes` atomically: a uniquely named temporary file is written and
 * fsync'd, renamed over the target, and the directory is fsync'd. Readers see the old file or
 * the new one, never a mixture; a failed write leaves the old file and no temporary behind.
 */
export async function replaceFileAtomically(dir: string, name: string, bytes: Uint8Array): Promise<void> {
  const target = join(dir, name);
  const tmp = `${target}.${process.pid}-${Date.now()}.tmp`;
  try {
    const handle = await open(tmp, 'wx');
    try {
      await handle.writeFile(bytes);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tmp, target);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
  fsyncDir(dir);
}
