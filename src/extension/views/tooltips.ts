// The Markdown of the views' tooltips. Everything in them comes from the log (paths, questions, user
// names, error messages, pipeline ids), so every piece is escaped: it shows as text, never as markup.
// No `vscode` here, so it is tested on its own.
import { documentSize, isSkippedLink } from '../../app/ingest/documentLabels.js';
import type { DocumentStatus } from '../../core/projections/documentStatus.js';
import type { QueryRecord } from '../../core/projections/queryHistory.js';
import { escapeMarkdown } from '../../core/text/markdown.js';

/** A question's tooltip: the question in bold, then state, model, user and id, then the error if any. */
export function questionTooltip(q: Pick<QueryRecord, 'query_text' | 'state' | 'model_id' | 'user_id' | 'query_id' | 'error'>): string {
  return `**${escapeMarkdown(q.query_text)}**\n\n${escapeMarkdown(`${q.state} · ${q.model_id ?? 'no model'} · asked by ${q.user_id} · ${q.query_id}`)}${q.error ? `\n\n${escapeMarkdown(q.error)}` : ''}`;
}

/**
 * A document's tooltip: its path in bold, its version, size and state, how many secrets were redacted,
 * its last error (or why a link was skipped), and its counts per pipeline version.
 */
export function documentTooltip(
  doc: Pick<DocumentStatus, 'source' | 'version' | 'format' | 'byte_count' | 'pipelines' | 'state' | 'last_error'> & Partial<Pick<DocumentStatus, 'secrets_redacted' | 'forgotten_at'>>,
  view: string,
  reason: string,
  active: string | undefined,
): string {
  const skipped = isSkippedLink(doc);
  const size = documentSize(doc);
  let md = `**${escapeMarkdown(doc.source)}**\n\n${escapeMarkdown(`version ${doc.version} · ${doc.format ?? 'unknown format'} · ${size} · ${skipped ? 'skipped' : view}`)}\n\n`;
  const redacted = doc.secrets_redacted ?? 0;
  if (redacted > 0) md += `${escapeMarkdown(`${redacted} secret${redacted === 1 ? '' : 's'} replaced by a [REDACTED:rule] marker before ingest`)}\n\n`;
  if (doc.forgotten_at !== undefined && view === 'forgotten') {
    md += `${escapeMarkdown(`Forgotten ${doc.forgotten_at}: its content, chunks and vectors were removed from the ledger. Ingest leaves the file out while it is unchanged; a changed file comes in as a new version.`)}\n\n`;
  }
  if (reason) md += `${skipped ? 'skipped' : 'last error'}: ${escapeMarkdown(reason)}\n\n`;
  for (const [pv, c] of Object.entries(doc.pipelines)) md += `- ${escapeMarkdown(`${pv}${pv === active ? ' (active)' : ''}: ${c.chunks} chunks, ${c.embedded} embedded, ${c.indexed} indexed${c.failed ? `, ${c.failed} failed` : ''}`)}\n`;
  return md;
}
