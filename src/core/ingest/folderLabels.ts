/** A workspace folder as the editor names it: its display name and where it is. */
export interface NamedFolder {
  readonly name: string;
  /** Absolute path (only compared, never opened here). */
  readonly path: string;
}

/** A workspace folder with the label its documents' paths start with ('' when it is the only folder). */
export interface LabelledFolder extends NamedFolder {
  readonly label: string;
}

/**
 * The label of every folder of a workspace, the first segment of its documents' paths
 * (`docs/guide/intro.md`). With one folder the label is '' and paths are folder-relative, as
 * they always were. A name is made a single path segment ('/' and '\' become '_', an empty name
 * or '.'/'..' becomes 'folder'). Folders sharing a name are told apart by their absolute paths:
 * in the order of their paths, the first keeps the name, the next get `name-2`, `name-3`, … (a
 * suffix already taken by another folder's name is skipped). So reordering the folders never
 * changes a label; adding or removing a same-named folder can. The result is in workspace order.
 */
export function folderLabels(folders: readonly NamedFolder[]): LabelledFolder[] {
  if (folders.length === 1) return [{ ...folders[0]!, label: '' }];
  const base = folders.map((f) => labelFor(f.name));
  const taken = new Set(base);
  const labels = new Array<string>(folders.length);
  const byName = new Map<string, number[]>();
  base.forEach((b, i) => byName.set(b, [...(byName.get(b) ?? []), i]));
  for (const [name, indexes] of byName) {
    const ordered = [...indexes].sort((a, b) => compare(folders[a]!.path, folders[b]!.path) || a - b);
    let n = 1;
    for (const [k, i] of ordered.entries()) {
      if (k === 0) {
        labels[i] = name;
        continue;
      }
      let label: string;
      do label = `${name}-${++n}`;
      while (taken.has(label));
      taken.add(label);
      labels[i] = label;
    }
  }
  return folders.map((f, i) => ({ ...f, label: labels[i]! }));
}

/** The document path of a folder-relative path (forward slashes) in a folder with this label. */
export function documentPathIn(label: string, rel: string): string {
  return label === '' ? rel : rel === '' ? label : `${label}/${rel}`;
}

/**
 * Which folder a document path belongs to and its path inside that folder, or null when no
 * folder of the workspace has its label (its folder was removed, or the workspace changed).
 */
export function splitDocumentPath<F extends LabelledFolder>(folders: readonly F[], path: string): { readonly folder: F; readonly rel: string } | null {
  if (folders.length === 1 && folders[0]!.label === '') return { folder: folders[0]!, rel: path };
  const slash = path.indexOf('/');
  const head = slash === -1 ? path : path.slice(0, slash);
  const folder = folders.find((f) => f.label === head);
  return folder ? { folder, rel: slash === -1 ? '' : path.slice(slash + 1) } : null;
}

/** The label a folder with this name has when no other folder shares it (one path segment). */
export function labelFor(name: string): string {
  const s = name.trim().replace(/[/\\]/g, '_');
  return s === '' || s === '.' || s === '..' ? 'folder' : s;
}

const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
