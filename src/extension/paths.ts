import { isAbsolute, relative } from 'node:path';

/** Whether `path` is `dir` or inside it (also across Windows drives, where relative() is absolute). */
export function isInside(dir: string, path: string): boolean {
  const r = relative(dir, path);
  return r === '' || (!r.startsWith('..') && !isAbsolute(r));
}
