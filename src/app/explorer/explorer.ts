import type { EventStore } from '../../core/eventStore.js';
import type { PipelineSummary, QuestionSummary } from '../../shared/explorerModel.js';
import type { ReadModels } from '../readModels.js';
import { DocumentHistoryService } from './documentHistoryService.js';
import type { EventIndex, TextIndex } from './eventIndex.js';
import { EventDetailService } from './eventDetailService.js';
import { pipelineSummaries } from './pipelineSummaries.js';
import { oneLine } from '../../core/explorer/summary.js';
import { TimelineService } from './timelineService.js';

/** Questions listed by the replay picker at most. */
const QUESTIONS_MAX = 500;

/**
 * Everything the event-log explorer reads, over the log, its read models and the explorer's
 * indexes: the timeline, event details and chains, document histories, questions and versions.
 * Used by the explorer webview's host and by `rag-ledger log`.
 */
/**
 * A stream's label from the read models (a document's path, a question, a pipeline version's label):
 * for streams the explorer's index has no label for, and for the first rows while the index opens.
 * The same text the index records (see core/explorer/indexEntry.ts).
 */
export function readModelLabel(readModels: ReadModels): (streamId: string) => string | null {
  return (streamId) => {
    if (streamId.startsWith('document-')) {
      const source = readModels.document(streamId.slice('document-'.length))?.source;
      return source === undefined ? null : oneLine(source);
    }
    if (streamId.startsWith('query-')) {
      const text = readModels.query(streamId.slice('query-'.length))?.query_text;
      return text === undefined ? null : oneLine(text);
    }
    if (streamId.startsWith('pipeline-')) {
      const p = readModels.pipeline(streamId.slice('pipeline-'.length));
      return p === undefined ? null : oneLine(`${p.pipeline_version} “${p.label}”`);
    }
    return null;
  };
}

export class Explorer {
  readonly timeline: TimelineService;
  readonly details: EventDetailService;
  readonly documents: DocumentHistoryService;

  constructor(private readonly deps: { readonly events: EventStore; readonly readModels: ReadModels; readonly index: EventIndex; readonly text: TextIndex | null }) {
    const fallbackLabel = readModelLabel(deps.readModels);
    this.timeline = new TimelineService({ events: deps.events, index: deps.index, text: deps.text, fallbackLabel });
    this.details = new EventDetailService({ events: deps.events, index: deps.index, readModels: deps.readModels, fallbackLabel });
    this.documents = new DocumentHistoryService({ events: deps.events, index: deps.index });
  }

  /** Recorded questions, newest first; with `search`, those whose text contains it (case-insensitive). */
  questions(search: string | undefined, limit: number): QuestionSummary[] {
    const needle = search?.trim().toLowerCase() ?? '';
    const out: QuestionSummary[] = [];
    for (const q of this.deps.readModels.queries(Number.MAX_SAFE_INTEGER)) {
      if (out.length >= Math.min(limit, QUESTIONS_MAX)) break;
      if (needle !== '' && !q.query_text.toLowerCase().includes(needle)) continue;
      out.push({ queryId: q.query_id, question: q.query_text.length > 500 ? `${q.query_text.slice(0, 499)}…` : q.query_text, askedAt: q.received_at, position: q.position, pipelineVersion: null, modelId: q.model_id, state: q.state });
    }
    return out;
  }

  pipelines(): { pipelines: PipelineSummary[]; active: string | null } {
    return pipelineSummaries(this.deps.readModels);
  }

  async flush(): Promise<void> {
    await this.deps.index.flush();
  }

  async close(): Promise<void> {
    try {
      await this.deps.index.close();
    } finally {
      await this.deps.text?.close();
    }
  }
}
