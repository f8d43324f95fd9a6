import { chmodSync, lstatSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';

const GROUP_WRITE = 0o020;
/** Set once a store of this process is shared with its group (see shareWithGroup). */
let groupShared = false;

/**
 * A store in a folder its group may write (a team's shared folder: group-owned, `chmod 2775`) is
 * written by every member's processes: one appends to a journal another created, replaces the index
 * another wrote, adds LanceDB files in folders another made. So, as git does with
 * `core.sharedRepository = group`, a process that opens such a store creates its files and folders
 * group-writable too: the group-write bit is cleared from its umask (process-wide, and only then).
 * Returns whether the store is shared this way. Not on Windows, whose folders carry ACLs instead.
 */
export function shareWithGroup(storeDir: string): boolean {
  if (process.platform === 'win32') return false;
  let mode: number;
  try {
    mode = statSync(storeDir).mode;
  } catch {
    try {
      mode = statSync(dirname(storeDir)).mode; // the store is about to be created there
    } catch {
      return false;
    }
  }
  if ((mode & GROUP_WRITE) === 0) return false;
  try {
    const current = process.umask(0o022);
    process.umask(current & ~GROUP_WRITE);
  } catch {
    return false; // a worker thread cannot change the umask: files are then created as usual
  }
  groupShared = true;
  return true;
}

/**
 * LanceDB writes its files through private temporary files (mode 0600, whatever the umask) that it
 * renames into place: in a shared store, this process's files under `dir` are then given the group's
 * read and write bits (folders also search) after each write, so the other members can read them.
 * Nothing is done unless a shared store was opened; the walk touches only this user's files.
 */
export function shareNewFiles(dir: string): void {
  if (!groupShared || process.getuid === undefined) return;
  const uid = process.getuid();
  const walk = (d: string): void => {
    let names: string[];
    try {
      names = readdirSync(d);
    } catch {
      return;
    }
    for (const name of names) {
      const path = join(d, name);
      try {
        const st = lstatSync(path);
        const want = st.isDirectory() ? 0o070 : 0o060;
        if (st.uid === uid && !st.isSymbolicLink() && (st.mode & want) !== want) chmodSync(path, (st.mode & 0o7777) | want);
        if (st.isDirectory()) walk(path);
      } catch {
        // Gone meanwhile (LanceDB cleans up after itself), or not ours to change.
      }
    }
  };
  walk(dir);
}
