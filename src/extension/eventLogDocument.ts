import * as vscode from 'vscode';
import type { Comparison } from '../app/compare/compareService.js';
import type { ReplayResult } from '../app/replay/replayService.js';
import type { EngineHost } from './engineHost.js';

const f3 = (x: number): string => x.toFixed(3);

/**
 * Read-only documents rendered from the log: the event log itself, a question's provenance, and
 * replay and comparison reports. Nothing here can write to the store.
 */
export class EventLogDocuments implements vscode.TextDocumentContentProvider {
  static readonly scheme = 'rag-ledger';
  private readonly rendered = new Map<string, string>();

  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;

  constructor(private readonly host: EngineHost) {
    // The event log document follows the log: VS Code asks again when told it changed.
    host.onDidChange(() => this.changed.fire(EventLogDocuments.uri('events')));
  }

  static uri(kind: 'events' | 'provenance' | 'replay' | 'compare', id = ''): vscode.Uri {
    const name = kind === 'events' ? 'Event Log' : kind === 'provenance' ? `Provenance ${id}` : kind === 'replay' ? `Replay ${id.split('/')[0]}` : `Compare ${id.split('/').slice(0, 2).join(' to ')}`;
    return vscode.Uri.from({ scheme: EventLogDocuments.scheme, path: `/${name}.md`, query: `${kind}=${encodeURIComponent(id)}` });
  }

  /** Content computed by a command (replay, compare), served when VS Code asks for the document. */
  remember(uri: vscode.Uri, text: string): void {
    this.rendered.set(uri.toString(), text);
  }

  async provideTextDocumentContent(uri: vscode.Uri): Promise<string> {
    const known = this.rendered.get(uri.toString());
    if (known !== undefined) return known;
    const engine = await this.host.get();
    const [kind, raw] = uri.query.split('=');
    const id = decodeURIComponent(raw ?? '');
    if (kind === 'events') {
      const head = (await engine.ledger.events.head()).position;
      const from = Math.max(0, head - 2000);
      const lines = [`# RAG Ledger event log: ${engine.storeDir}`, '', `Events ${from + 1}–${head} of ${head} (the latest 2,000; \`rag-ledger log\` shows all).`, '', '```text'];
      for await (const e of engine.ledger.events.readRaw(from + 1)) {
        lines.push(`${String(e.position).padStart(7)}  ${e.recordedAt}  ${e.type.padEnd(24)} ${e.streamId}  ${summarise(e.dataJson)}`);
      }
      lines.push('```');
      return lines.join('\n');
    }
    if (kind === 'provenance') {
      const p = await engine.provenance(id);
      const lines = [`# Provenance of question ${id}`, ''];
      for (const e of p.chain) {
        lines.push(`## ${e.position}. ${e.type} (${e.recordedAt})`, '');
        const data = { ...(e.data as Record<string, unknown>) };
        const prompt = data.prompt as { system?: string; user?: string } | string | undefined;
        if (prompt !== undefined) {
          const text = typeof prompt === 'string' ? prompt : `[system]\n${prompt.system ?? ''}\n\n[user]\n${prompt.user ?? ''}`;
          lines.push('Prompt as sent:', '', '```text', text, '```', '');
          delete data.prompt;
        }
        lines.push('```json', JSON.stringify(data, null, 2), '```', '');
      }
      lines.push('## Context chunks', '');
      for (const c of p.chunks) {
        lines.push(`- [${c.rank}] \`${c.path ?? '?'}:${c.lines ?? '?'}\` score ${c.score.toFixed(4)} · chunk \`${c.chunkId}\``);
        lines.push(`  - chunked at position ${c.chunking?.position ?? '?'} for ${c.chunking?.pipelineVersion ?? '?'}; document version submitted at position ${c.documentVersion?.position ?? '?'} (${c.documentVersion?.contentHash ?? 'no hash'}); embedding at position ${c.embedding?.position ?? '?'} (${c.embedding?.model ?? 'none'})`);
      }
      return lines.join('\n');
    }
    return 'This report is no longer available; run the command again.';
  }

  static renderReplay(r: ReplayResult): string {
    const d = r.diff;
    const lines = [
      `# Replay of “${r.question}”`,
      '',
      `Question ${r.queryId}: originally ${r.original.pipelineVersion ?? '?'} (${r.original.mode ?? '?'}), replayed against ${r.replayed.pipelineVersion ?? '?'} (${r.replayed.mode ?? '?'}), k=${r.replayed.k}. Recorded as ContextReplayed ${r.replayId}.`,
      '',
      `| | overlap@k | Jaccard | rank-biased overlap |`,
      `|---|---|---|---|`,
      `| chunks | ${f3(d.overlapAtK)} | ${f3(d.jaccard)} | ${f3(d.rbo)} |`,
      `| documents | ${f3(d.documents.overlapAtK)} | ${f3(d.documents.jaccard)} | ${f3(d.documents.rbo)} |`,
      '',
      `## Added (${d.added.length})`,
      ...d.added.map((c) => `- [${c.rank}] \`${c.path}\` score ${c.score.toFixed(4)}`),
      '',
      `## Removed (${d.removed.length})`,
      ...d.removed.map((c) => `- [${c.rank}] \`${c.path}\` score ${c.score.toFixed(4)}`),
      '',
      `## Kept (${d.kept.length}, ${d.moved} moved)`,
      ...d.kept.map((c) => `- \`${c.path}\` rank ${c.fromRank} → ${c.toRank}, score ${c.scoreDelta >= 0 ? '+' : ''}${c.scoreDelta.toFixed(4)}`),
    ];
    return lines.join('\n');
  }

  static renderComparison(c: Comparison): string {
    const lines = [
      `# ${c.from} → ${c.to}`,
      '',
      `Over ${c.questions} recorded questions, k=${c.k}: mean overlap@k ${f3(c.means.overlapAtK)}, Jaccard ${f3(c.means.jaccard)}, RBO ${f3(c.means.rbo)}; documents ${f3(c.means.documentOverlapAtK)}. ${c.unchanged} of ${c.questions} retrieve exactly the same context.`,
      '',
      '## Changed most',
      '',
      ...c.perQuestion
        .filter((q) => q.diff.rbo < 1)
        .slice(0, 20)
        .map((q) => `- “${q.query}”: RBO ${f3(q.diff.rbo)}, ${q.diff.added.length} added, ${q.diff.removed.length} removed, ${q.diff.moved} moved`),
    ];
    return lines.join('\n');
  }
}

/** One line of an event's data: its short fields, without contents, vectors or prompts. */
function summarise(dataJson: string): string {
  try {
    const data = JSON.parse(dataJson) as Record<string, unknown>;
    return Object.entries(data)
      .filter(([k, v]) => !['raw_content', 'chunks', 'prompt', 'response_text', 'vector', 'config'].includes(k) && (typeof v !== 'string' || v.length < 80) && typeof v !== 'object')
      .map(([k, v]) => `${k}=${String(v)}`)
      .join(' ');
  } catch {
    return '';
  }
}
