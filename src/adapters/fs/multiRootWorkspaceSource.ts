import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import type { ReadLimits, SourceFile, WalkRules, WhyGone, WorkspaceSource } from '../../app/ingest/workspaceSource.js';
import { SourceReadError } from '../../app/ingest/workspaceSource.js';
import type { LabelledFolder, NamedFolder } from '../../core/ingest/folderLabels.js';
import { documentPathIn, folderLabels, labelFor, splitDocumentPath } from '../../core/ingest/folderLabels.js';
import { FsWorkspaceSource } from './fsWorkspaceSource.js';

/**
 * Every folder of a workspace as one source. Each folder is walked on its own (its own
 * `.gitignore` and `.ragledgerignore` files, links never leaving it); document paths start with
 * the folder's label (see `folderLabels`), except with a single folder, whose paths stay
 * folder-relative. It also tells the ingest why a known document is gone when the workspace's
 * folders explain it: its folder is no longer in the workspace, or the file is now known under
 * another path because the workspace went from one folder to several (or back).
 */
export class MultiRootWorkspaceSource implements WorkspaceSource {
  readonly folders: readonly LabelledFolder[];
  private readonly sources: ReadonlyMap<string, FsWorkspaceSource>;

  constructor(folders: readonly NamedFolder[], skip: readonly string[] = []) {
    if (folders.length === 0) throw new Error('a workspace needs at least one folder');
    this.folders = folderLabels(folders);
    this.sources = new Map(this.folders.map((f) => [f.label, new FsWorkspaceSource(f.path, skip)]));
  }

  get root(): string {
    return this.folders.length === 1 ? this.folders[0]!.path : `the workspace folders ${this.folders.map((f) => f.path).join(', ')}`;
  }

  /** Folders the last walk could not read, as document paths (a folder's label, then its path in it). */
  get unreadable(): readonly string[] {
    return this.folders.flatMap((f) => this.sources.get(f.label)!.unreadable.map((d) => documentPathIn(f.label, d)));
  }

  async *walk(rules: WalkRules, signal?: AbortSignal): AsyncIterable<SourceFile> {
    // By label, so the order does not depend on how the folders are ordered in the workspace.
    for (const folder of [...this.folders].sort((a, b) => (a.label < b.label ? -1 : a.label > b.label ? 1 : 0))) {
      if (signal?.aborted) return;
      for await (const file of this.sources.get(folder.label)!.walk(rules, signal)) yield { ...file, path: documentPathIn(folder.label, file.path) };
    }
  }

  async read(path: string, limits: ReadLimits): Promise<Uint8Array> {
    const hit = splitDocumentPath(this.folders, path);
    if (!hit) throw new SourceReadError(path, 'vanished', 'its folder is no longer in the workspace');
    try {
      return await this.sources.get(hit.folder.label)!.read(hit.rel, limits);
    } catch (err) {
      if (!(err instanceof SourceReadError) || hit.folder.label === '') throw err;
      throw new SourceReadError(path, err.kind, err.message.slice(hit.rel.length + 2));
    }
  }

  async exists(path: string): Promise<boolean> {
    const hit = splitDocumentPath(this.folders, path);
    return hit !== null && (await this.sources.get(hit.folder.label)!.exists(hit.rel));
  }

  async whyGone(path: string): Promise<WhyGone | undefined> {
    const first = this.folders[0]!;
    if (this.folders.length === 1) {
      // From several folders back to one: `<label>/x` of this folder is now `x`.
      const slash = path.indexOf('/');
      if (slash === -1) return undefined;
      const head = path.slice(0, slash);
      const rest = path.slice(slash + 1);
      if (head !== labelFor(first.name) || !(await isFile(join(first.path, ...rest.split('/'))))) return undefined;
      return { reason: `the workspace has a single folder now: the file is ingested as ${rest}`, movedTo: rest };
    }
    if (splitDocumentPath(this.folders, path)) return undefined;
    // From one folder to several: `x` of the first folder is now `<label>/x`.
    if (await isFile(join(first.path, ...path.split('/')))) {
      const movedTo = documentPathIn(first.label, path);
      return { reason: `the workspace has several folders now: the file is ingested as ${movedTo}`, movedTo };
    }
    return { reason: 'its folder was removed from the workspace' };
  }
}

async function isFile(abs: string): Promise<boolean> {
  try {
    return (await fs.stat(abs)).isFile();
  } catch {
    return false;
  }
}
