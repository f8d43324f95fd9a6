import type { ChunkerConfig } from '../../core/chunking/chunker.js';
import { chunkDocument } from '../../core/chunking/chunker.js';
import { CancelledError, WorkspaceMismatchError } from '../../core/errors.js';
import type { EventMetadata, NewEvent } from '../../core/eventStore.js';
import type { DocumentRules, DocumentVerdict } from '../../core/ingest/documentCheck.js';
import { checkDocument, formatOf, hasPrivateKeyBlock } from '../../core/ingest/documentCheck.js';
import { describeSecrets, redactSecrets } from '../../core/ingest/secretFindings.js';
import type { SecretScanner } from './secretScanner.js';
import type { DocumentStatus } from '../../core/projections/documentStatus.js';
import type { SourceFile, WalkRules, WorkspaceSource } from './workspaceSource.js';
import { SourceReadError } from './workspaceSource.js';
import { digestOf } from '../../core/ids.js';
import type { Hasher } from '../../core/eventLog.js';
import type { EngineDeps } from '../engineDeps.js';
import { WriteBatch } from '../writeBatch.js';

export type IngestDeps = EngineDeps;

export interface IngestOptions {
  readonly walk: WalkRules;
  readonly documents: DocumentRules;
  readonly chunker: ChunkerConfig;
  /**
   * Checks every document's text for credentials; what a finding does is `documents.secrets`.
   * Without one, only names and private-key blocks are checked.
   */
  readonly secretScanner?: SecretScanner;
  /** The pipeline version chunks are produced for (metadata.pipeline_version). */
  readonly pipelineVersion: string;
  readonly signal?: AbortSignal;
  readonly onProgress?: (p: IngestProgress) => void;
  /**
   * Allow a walk that shares no file with the store's live documents (another workspace, an
   * emptied folder) to delete them all. Without it such an ingest is refused before any deletion.
   */
  readonly replaceAll?: boolean;
  /**
   * Workspace-relative files or folders to ingest (the rest of the workspace is left alone: not
   * submitted, not deleted). The walk still honours every ignore rule. Default: everything.
   */
  readonly scope?: readonly string[];
}

/** Whether a workspace-relative path is one of the scope's files or inside one of its folders. */
export function inScope(path: string, scope: readonly string[] | undefined): boolean {
  if (scope === undefined) return true;
  return scope.some((s) => s === '' || s === '.' || path === s || path.startsWith(s.endsWith('/') ? s : `${s}/`));
}

export interface IngestProgress {
  /** scan: walking (names only); submit: reading and checking new or changed files. */
  readonly phase: 'scan' | 'submit' | 'chunk' | 'delete';
  readonly done: number;
  /** Known only once the walk has finished. */
  readonly total?: number;
  readonly path?: string;
}

/** What one ingest did. Rejections carry their reason so callers can show them. */
export interface IngestReport {
  readonly scanned: number;
  readonly submitted: number;
  readonly unchanged: number;
  readonly rejected: readonly { readonly path: string; readonly reason: string; readonly detail: string }[];
  readonly chunked: number;
  readonly chunks: number;
  readonly deleted: number;
  /** Folders the walk could not read (permissions): their documents are kept, not deleted. */
  readonly unreadable: readonly string[];
}

/** The stable id of the document at a workspace-relative path. */
export function documentIdFor(hasher: Hasher, path: string): string {
  return `doc-${digestOf(hasher, ['document', path]).slice(0, 24)}`;
}

export const documentStream = (documentId: string): string => `document-${documentId}`;

/**
 * Ingest: walk the workspace, append DocumentSubmitted + DocumentValidated | DocumentRejected for
 * every new or changed file, DocumentDeleted for files gone from the walk, then run the chunker
 * over every validated document version that has no chunks for the pipeline version yet.
 * Unchanged files append nothing. Every step is idempotent, so an interrupted ingest is finished
 * by running it again.
 */
export class IngestService {
  constructor(private readonly deps: IngestDeps) {}

  async ingest(source: WorkspaceSource, options: IngestOptions): Promise<IngestReport> {
    throwIfAborted(options.signal);
    await this.deps.runner.catchUp(options.signal ? { signal: options.signal } : {});
    const known = new Map(this.deps.readModels.documents().map((d) => [d.source, d]));
    const seen = new Set<string>();
    const rejected: { path: string; reason: string; detail: string }[] = [];
    // Walk first (names and sizes only), so that a folder that is not this workspace is refused
    // before anything is appended.
    const files: SourceFile[] = [];
    for await (const file of source.walk(options.walk, options.signal)) {
      throwIfAborted(options.signal);
      if (!inScope(file.path, options.scope)) continue;
      files.push(file);
      seen.add(file.path);
      options.onProgress?.({ phase: 'scan', done: files.length, path: file.path });
    }
    // The walk stops quietly when cancelled; nothing may be deleted on the strength of a partial walk.
    throwIfAborted(options.signal);
    const live = [...known.values()].filter((d) => d.state !== 'deleted');
    if (options.scope === undefined && live.length > 0 && options.replaceAll !== true && !live.some((d) => seen.has(d.source)) && !(await movedIntoWalk(source, live, seen, options.signal))) {
      throw new WorkspaceMismatchError(source.root, live.length, files.length);
    }
    let submitted = 0;
    // Submissions are written in batches (one durable write per batch); a cancel or crash loses
    // at most the unwritten batch, which the next ingest submits again.
    const batch = new WriteBatch(this.deps.events);
    for (const [i, file] of files.entries()) {
      if (options.signal?.aborted) {
        await batch.flush();
        throwIfAborted(options.signal);
      }
      const outcome = await this.submit(source, file, known.get(file.path), options, batch);
      options.onProgress?.({ phase: 'submit', done: i + 1, total: files.length, path: file.path });
      if (outcome === 'unchanged') continue;
      submitted++;
      if (!outcome.ok) rejected.push({ path: file.path, reason: outcome.reason, detail: outcome.detail });
    }
    await batch.flush();
    const scanned = files.length;
    const deleted = await this.deleteMissing(source, known, seen, options);
    const { documents: chunked, chunks } = await this.chunkPending(options);
    return { scanned, submitted, unchanged: scanned - submitted, rejected, chunked, chunks, deleted, unreadable: [...(source.unreadable ?? [])] };
  }

  /** Appends the submission of one file unless its content is what the log already holds. */
  private async submit(source: WorkspaceSource, file: SourceFile, prev: DocumentStatus | undefined, options: IngestOptions, batch: WriteBatch): Promise<DocumentVerdict | 'unchanged'> {
    const { hasher } = this.deps;
    const rules = options.documents;
    let bytes: Uint8Array | null = null;
    let verdict: DocumentVerdict;
    let contentHash: string;
    let size: number | null = file.size;
    let redacted = 0;
    if (file.skip) {
      // A link the walker does not follow: recorded with its reason, never read.
      contentHash = `${file.skip.reason}:${file.skip.detail}`;
      size = null;
      verdict = { ok: false, reason: file.skip.reason, detail: file.skip.detail };
    } else if (file.size > rules.maxBytes) {
      // Never read a file only to reject it: its size stands in for its content.
      contentHash = `size:${file.size}`;
      verdict = tooLarge(file.size, rules.maxBytes);
    } else {
      try {
        bytes = await source.read(file.path, { maxBytes: rules.maxBytes });
        size = bytes.length;
        contentHash = `sha256:${hasher([bytes])}`;
        verdict = checkDocument(file.path, bytes, rules);
        if (verdict.ok && !rules.allowSecrets) {
          const findings = options.secretScanner ? await options.secretScanner.scan(verdict.text) : [];
          if (findings.length > 0) {
            const clean = redactSecrets(verdict.text, findings);
            // The hash of bytes holding a secret could be brute-forced back to a short secret: hash what is recorded instead.
            contentHash = `redacted-sha256:${hasher([clean.text])}`;
            if (rules.secrets === 'redact') {
              verdict = { ...verdict, text: clean.text };
              redacted = clean.redacted;
            } else {
              verdict = { ok: false, reason: 'secret', detail: `${describeSecrets(verdict.text, findings)}; secrets are never ingested (set secrets to redact to ingest the rest of the file)` };
            }
          }
          if (verdict.ok && hasPrivateKeyBlock(verdict.text)) {
            verdict = { ok: false, reason: 'secret', detail: 'the file contains a private key block; secrets are never ingested unless explicitly allowed' };
          }
        }
      } catch (err) {
        if (!(err instanceof SourceReadError)) throw err;
        contentHash = `${err.kind}:${err.message}`;
        size = err.size ?? file.size;
        verdict = err.kind === 'too_large' && err.size !== null ? tooLarge(err.size, rules.maxBytes) : { ok: false, reason: err.kind, detail: err.message };
      }
    }
    // Unchanged means same bytes and same verdict: changed rules (say, secrets no longer allowed)
    // must reach files whose content did not change.
    const sameVerdict = prev !== undefined && (prev.state === 'rejected') === !verdict.ok && (verdict.ok || (prev.last_error ?? '').startsWith(`${verdict.reason}:`));
    if (prev && prev.state !== 'deleted' && prev.content_hash === contentHash && sameVerdict) return 'unchanged';
    // A forgotten document stays forgotten while its file is unchanged; changed content is a new version.
    if (prev?.forgotten_at !== undefined && prev.content_hash === contentHash && verdict.ok) return 'unchanged';
    const documentId = documentIdFor(hasher, file.path);
    const now = this.deps.clock();
    const events: NewEvent[] = [
      {
        type: 'DocumentSubmitted',
        data: { document_id: documentId, source: file.path, raw_content: verdict.ok ? verdict.text : '', content_hash: contentHash, submitted_at: now },
      },
      verdict.ok
        ? { type: 'DocumentValidated', data: { document_id: documentId, format: verdict.format, byte_count: bytes?.length ?? 0, secrets_redacted: redacted, validated_at: now } }
        : { type: 'DocumentRejected', data: { document_id: documentId, reason: verdict.reason, detail: verdict.detail, size_bytes: size, rejected_at: now } },
    ];
    const metadata: EventMetadata = { actor: this.deps.actor };
    await batch.add({ streamId: documentStream(documentId), events: events.map((e) => ({ ...e, metadata })), expectedVersion: 'any' }, bytes?.length ?? 0);
    return verdict;
  }

  /** DocumentDeleted for every live document the walk did not return. */
  private async deleteMissing(source: WorkspaceSource, known: Map<string, DocumentStatus>, seen: Set<string>, options: IngestOptions): Promise<number> {
    let deleted = 0;
    for (const [path, doc] of known) {
      if (seen.has(path) || doc.state === 'deleted' || !inScope(path, options.scope)) continue;
      // Under a folder the walk could not read: unknown, not gone. Kept (and reported).
      if (source.unreadable?.some((d) => d === '' || path === d || path.startsWith(`${d}/`))) continue;
      throwIfAborted(options.signal);
      const gone = await source.whyGone?.(path);
      const reason = gone?.reason ?? ((await source.exists(path)) ? 'the file is now excluded by the ignore rules or settings' : 'the file no longer exists');
      await this.append(documentStream(doc.document_id), [{ type: 'DocumentDeleted', data: { document_id: doc.document_id, reason, deleted_at: this.deps.clock() } }], { actor: this.deps.actor });
      deleted++;
      options.onProgress?.({ phase: 'delete', done: deleted, path });
    }
    return deleted;
  }

  /**
   * DocumentDeleted, with `reason`, for every live document under the folder `prefix` (a
   * document path's first segments): a workspace folder left the workspace. Nothing is read.
   */
  async retire(prefix: string, reason: string, options: { readonly signal?: AbortSignal } = {}): Promise<number> {
    await this.deps.runner.catchUp(options.signal ? { signal: options.signal } : {});
    const under = prefix.endsWith('/') ? prefix : `${prefix}/`;
    const batch = new WriteBatch(this.deps.events);
    const metadata: EventMetadata = { actor: this.deps.actor };
    let retired = 0;
    for (const doc of this.deps.readModels.documents()) {
      if (doc.state === 'deleted' || !doc.source.startsWith(under)) continue;
      if (options.signal?.aborted) {
        await batch.flush();
        throwIfAborted(options.signal);
      }
      await batch.add({ streamId: documentStream(doc.document_id), events: [{ type: 'DocumentDeleted', metadata, data: { document_id: doc.document_id, reason, deleted_at: this.deps.clock() } }], expectedVersion: 'any' }, 0);
      retired++;
    }
    await batch.flush();
    await this.deps.runner.catchUp();
    return retired;
  }

  /**
   * The chunker processor: every document whose latest version is validated but has no chunks
   * for the pipeline version gets DocumentChunked, with an event id derived from the submission
   * and the pipeline version, so a retry after a crash can never chunk twice.
   */
  async chunkPending(options: Pick<IngestOptions, 'chunker' | 'pipelineVersion' | 'signal' | 'onProgress'>): Promise<{ documents: number; chunks: number }> {
    await this.deps.runner.catchUp(options.signal ? { signal: options.signal } : {});
    const pending = this.deps.readModels.documents().filter((d) => d.state !== 'deleted' && d.state !== 'rejected' && d.format !== null && !d.pipelines[options.pipelineVersion]);
    let documents = 0;
    let chunks = 0;
    const batch = new WriteBatch(this.deps.events);
    for (const doc of pending) {
      if (options.signal?.aborted) {
        await batch.flush();
        throwIfAborted(options.signal);
      }
      const submittedEvent = await this.latestSubmission(doc.document_id);
      if (!submittedEvent) continue;
      const { id, text, source } = submittedEvent;
      const produced = chunkDocument(doc.document_id, text, formatOf(source).format, options.chunker, this.deps.hasher);
      const eventId = `chunked-${digestOf(this.deps.hasher, ['chunked', options.pipelineVersion, id]).slice(0, 32)}`;
      const metadata: EventMetadata = { actor: this.deps.actor, pipeline_version: options.pipelineVersion, causation_id: id };
      const event: NewEvent = { type: 'DocumentChunked', eventId, metadata, data: { document_id: doc.document_id, chunks: produced.map((c) => ({ ...c, ...(c.heading_path ? { heading_path: [...c.heading_path] } : {}) })), chunked_at: this.deps.clock() } };
      await batch.add({ streamId: documentStream(doc.document_id), events: [event], expectedVersion: 'any' }, text.length * 2);
      documents++;
      chunks += produced.length;
      options.onProgress?.({ phase: 'chunk', done: documents, total: pending.length, path: source });
    }
    await batch.flush();
    return { documents, chunks };
  }

  private async latestSubmission(documentId: string): Promise<{ id: string; text: string; source: string } | null> {
    let latest: { id: string; text: string; source: string } | null = null;
    for await (const e of this.deps.events.readStream(documentStream(documentId))) {
      if (e.type === 'DocumentSubmitted') latest = { id: e.eventId, text: e.data.raw_content, source: e.data.source };
    }
    return latest;
  }

  private async append(streamId: string, events: readonly NewEvent[], metadata: EventMetadata): Promise<void> {
    await this.deps.events.append(
      streamId,
      events.map((e) => ({ ...e, metadata })),
      { expectedVersion: 'any' },
    );
  }
}

/** Whether some live document is in the walk under the path its source says it has now (a changed layout, not another workspace). */
async function movedIntoWalk(source: WorkspaceSource, live: readonly DocumentStatus[], seen: ReadonlySet<string>, signal?: AbortSignal): Promise<boolean> {
  if (!source.whyGone) return false;
  for (const doc of live) {
    throwIfAborted(signal);
    const moved = (await source.whyGone(doc.source))?.movedTo;
    if (moved !== undefined && seen.has(moved)) return true;
  }
  return false;
}

function tooLarge(size: number, maxBytes: number): DocumentVerdict {
  return { ok: false, reason: 'too_large', detail: `${size} bytes is over the limit of ${maxBytes} bytes; raise the maximum file size to ingest it` };
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new CancelledError('ingest');
}
