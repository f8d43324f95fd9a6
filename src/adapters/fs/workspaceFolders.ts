import { isAbsolute, join, relative, sep } from 'node:path';
import type { LabelledFolder } from '../../core/ingest/folderLabels.js';
import { documentPathIn, splitDocumentPath } from '../../core/ingest/folderLabels.js';

/**
 * The file a document path names on disk (in the folder whose label it starts with), or
 * undefined when no folder of the workspace has that label or the path would leave its folder
 * (a path from the log is never trusted to stay inside).
 */
export function fileOfDocument(folders: readonly LabelledFolder[], path: string): string | undefined {
  const hit = splitDocumentPath(folders, path);
  if (!hit) return undefined;
  const abs = join(hit.folder.path, ...hit.rel.split('/'));
  return inside(hit.folder.path, abs) ? abs : undefined;
}

/** The document path of a file or folder on disk, or undefined when it is in no folder of the workspace. */
export function documentPathOf(folders: readonly LabelledFolder[], abs: string): string | undefined {
  // The deepest folder wins when one workspace folder is nested in another.
  const owners = folders.filter((f) => inside(f.path, abs)).sort((a, b) => b.path.length - a.path.length);
  const folder = owners[0];
  if (!folder) return undefined;
  return documentPathIn(folder.label, relative(folder.path, abs).split(sep).join('/'));
}

function inside(dir: string, path: string): boolean {
  const r = relative(dir, path);
  return r === '' || (!r.startsWith('..') && !isAbsolute(r));
}
