import type { DocumentStatus, PipelineCounts } from '../../core/projections/documentStatus.js';

/** What a document's row says about it, for the active pipeline version. */
export type DocumentView = 'indexed' | 'pending' | 'rejected' | 'stale' | 'lexical' | 'forgotten';

const plural = (n: number, one: string): string => `${n} ${one}${n === 1 ? '' : 's'}`;

/** A link that was not followed (outside the workspace, a loop, dangling) is skipped rather than rejected. */
export const isSkippedLink = (doc: Pick<DocumentStatus, 'state' | 'last_error'>): boolean => doc.state === 'rejected' && (doc.last_error ?? '').startsWith('link:');

/** The short text beside a document in the Documents view. */
export function documentDescription(doc: DocumentStatus, view: DocumentView, counts: PipelineCounts | undefined): string {
  const redacted = doc.secrets_redacted > 0 ? ` · ${plural(doc.secrets_redacted, 'secret')} redacted` : '';
  const chunks = plural(counts?.chunks ?? 0, 'chunk');
  if (view === 'forgotten') return 'forgotten · content removed from the ledger';
  if (view === 'rejected') return isSkippedLink(doc) ? 'skipped: link not followed' : `rejected: ${(doc.last_error ?? '').split(':')[0]}`;
  if (view === 'indexed') return `indexed · v${doc.version} · ${chunks}${redacted}`;
  if (view === 'lexical') return `lexical only · ${chunks}${redacted}`;
  return `${view}${redacted}`;
}

/** The document's size for its tooltip: the content's, or a rejected file's size on disk. */
export function documentSize(doc: Pick<DocumentStatus, 'byte_count' | 'state'>): string {
  if (doc.byte_count === null) return doc.state === 'rejected' ? 'size unknown' : '0 bytes';
  return plural(doc.byte_count, 'byte');
}
