// The Markdown of the views' tooltips. Everything in them comes from the log (paths, questions, user
// names, error messages, pipeline ids), so every piece is escaped: it shows as text, never as markup.
// No `vscode` here, so it is tested on its own.
import type { DocumentStatus } from '../../core/projections/documentStatus.js';
import type { QueryRecord } from '../../core/projections/queryHistory.js';
import { escapeMarkdown } from '../../core/text/markdown.js';

/** A question's tooltip: the question in bold, then state, model, user and id, then the error if any. */
export function questionTooltip(q: Pick<QueryRecord, 'query_text' | 'state' | 'model_id' | 'user_id' | 'query_id' | 'error'>): string {
  return `**${escapeMarkdown(q.query_text)}**\n\n${escapeMarkdown(`${q.state} · ${q.model_id ?? 'no model'} · asked by ${q.user_id} · ${q.query_id}`)}${q.error ? `\n\n${escapeMarkdown(q.error)}` : ''}`;
}

/** A document's tooltip: its path in bold, its version and state, its last error, and its counts per pipeline version. */
export function documentTooltip(doc: Pick<DocumentStatus, 'source' | 'version' | 'format' | 'byte_count' | 'pipelines'>, view: string, reason: string, active: string | undefined): string {
  let md = `**${escapeMarkdown(doc.source)}**\n\n${escapeMarkdown(`version ${doc.version} · ${doc.format ?? 'unknown format'} · ${doc.byte_count ?? 0} bytes · ${view}`)}\n\n`;
  if (reason) md += `last error: ${escapeMarkdown(reason)}\n\n`;
  for (const [pv, c] of Object.entries(doc.pipelines)) md += `- ${escapeMarkdown(`${pv}${pv === active ? ' (active)' : ''}: ${c.chunks} chunks, ${c.embedded} embedded, ${c.indexed} indexed${c.failed ? `, ${c.failed} failed` : ''}`)}\n`;
  return md;
}
