import { ValidationError } from '../../core/errors.js';
import type { RawEvent } from '../../core/eventStore.js';
import { FORGETTABLE_TYPES, forgottenBy, planForget } from '../../core/forget.js';
import { digestOf } from '../../core/ids.js';
import type { DocumentStatus } from '../../core/projections/documentStatus.js';
import type { EngineDeps } from '../engineDeps.js';
import { IndexService } from '../indexing/indexService.js';
import type { VectorIndex } from '../indexing/vectorIndex.js';
import { documentIdFor } from '../ingest/ingestService.js';

export interface ForgetDeps extends EngineDeps {
  readonly index: VectorIndex;
  /** Rewrites the read models' file so that no deleted row survives in its free pages. */
  readonly compactReadModels: () => Promise<void>;
  /** Drops the explorer's indexes (they hold words of events), to be rebuilt from the emptied log. */
  readonly resetExplorer: () => Promise<void>;
}

export interface ForgetRequest {
  /** The workspace-relative path ingest recorded, or the document id. */
  readonly target: string;
  readonly reason: string;
  /** Who asked, recorded in the DocumentForgotten (e.g. "alice via rag-ledger CLI"). */
  readonly requestedBy: string;
}

export interface ForgetPreview {
  readonly documentId: string;
  readonly source: string;
  /** Events whose payload would be emptied. */
  readonly events: number;
  /** Questions that cited it (their prompts and answers would be emptied). */
  readonly questions: readonly string[];
}

export interface ForgetReport {
  readonly documentId: string;
  readonly source: string;
  /** The DocumentForgotten's event id and position; null when the document was already forgotten. */
  readonly forgottenEventId: string | null;
  readonly position: number | null;
  /** Events whose payload was emptied now. */
  readonly emptied: number;
  /** Questions whose prompts and answers were emptied because they cited the document. */
  readonly questions: readonly string[];
  /** Pipeline versions whose index table was rebuilt without the document. */
  readonly rebuiltIndexes: readonly string[];
}

/** Positions per readPositions call. */
const PAGE = 1000;

/**
 * Forgets a document: every event of its stream that holds its content (submissions, chunkings,
 * vectors) and the prompts and answers of the questions that cited its chunks are emptied in the
 * log, attested by one DocumentForgotten (see core/forget.ts); then every derived copy is
 * rebuilt from the emptied log: the read models (and their file compacted), the index tables of
 * the pipeline versions that held it, the explorer's indexes. Running it again for a forgotten
 * document empties what is new (a later version) and redoes the derived cleanup, so a forget
 * interrupted after the log was rewritten is completed by running it again.
 */
export class ForgetService {
  constructor(private readonly deps: ForgetDeps) {}

  /** What a forget of `target` would empty, without changing anything (for the confirmation). */
  async preview(target: string): Promise<ForgetPreview> {
    await this.deps.runner.catchUp();
    const doc = this.find(target);
    const plan = await this.plan(doc);
    return { documentId: doc.document_id, source: doc.source, events: plan.rows.length, questions: plan.questions };
  }

  private async plan(doc: DocumentStatus): Promise<{ rows: RawEvent[]; questions: string[]; pipelines: Set<string> }> {
    const { events } = this.deps;
    const stream = `document-${doc.document_id}`;
    const positions: number[] = [];
    const chunkIds = new Set<string>();
    const pipelines = new Set(Object.keys(doc.pipelines));
    for await (const e of events.readStream(stream)) {
      if (FORGETTABLE_TYPES.has(e.type)) positions.push(e.position);
      if (e.type === 'DocumentChunked') {
        for (const c of e.data.chunks) chunkIds.add(c.chunk_id);
        if (typeof e.metadata.pipeline_version === 'string') pipelines.add(e.metadata.pipeline_version);
      }
    }
    const cited = await this.citingEvents(chunkIds);
    positions.push(...cited.positions);
    const rows = (await this.rows(positions)).filter((r) => forgottenBy(r) === null);
    return { rows, questions: cited.questions, pipelines };
  }

  async forget(request: ForgetRequest): Promise<ForgetReport> {
    const { events, runner, hasher } = this.deps;
    await runner.catchUp();
    const doc = this.find(request.target);
    const stream = `document-${doc.document_id}`;
    const { rows, questions, pipelines } = await this.plan(doc);
    let forgottenEventId: string | null = null;
    let position: number | null = null;
    if (rows.length > 0) {
      const now = this.deps.clock();
      forgottenEventId = `forget-${digestOf(hasher, ['forget', doc.document_id, now, String((await events.head()).position)]).slice(0, 32)}`;
      const { emptied, entries } = planForget(hasher, rows, forgottenEventId);
      const result = await events.forget(
        {
          streamId: stream,
          expectedVersion: 'any',
          events: [
            {
              type: 'DocumentForgotten',
              eventId: forgottenEventId,
              data: { document_id: doc.document_id, source: doc.source, reason: request.reason, actor: request.requestedBy, emptied: entries, questions: questions, forgotten_at: now },
              metadata: { actor: this.deps.actor },
            },
          ],
        },
        emptied,
      );
      position = result.positions[0] ?? null;
    }
    // Every derived copy, from the emptied log.
    await runner.rebuild();
    await this.deps.compactReadModels();
    const rebuilt: string[] = [];
    const indexer = new IndexService(this.deps);
    for (const version of pipelines) {
      if (!this.deps.readModels.pipeline(version)) {
        await this.deps.index.drop(version);
        continue;
      }
      await indexer.rebuild(version);
      rebuilt.push(version);
    }
    await this.deps.resetExplorer();
    return { documentId: doc.document_id, source: doc.source, forgottenEventId, position, emptied: rows.length, questions: questions, rebuiltIndexes: rebuilt };
  }

  private find(target: string): DocumentStatus {
    const { readModels, hasher } = this.deps;
    const path = target.replace(/\\/g, '/').replace(/^\.\//, '');
    const doc = readModels.document(target) ?? readModels.document(documentIdFor(hasher, path)) ?? readModels.documents().find((d) => d.source === path);
    if (!doc) {
      throw new ValidationError(`no document ${JSON.stringify(target)} in this store`, [], 'Give the workspace-relative path ingest recorded (rag-ledger log --type DocumentSubmitted lists them) or the document id.');
    }
    return doc;
  }

  /** The question events that hold text of the given chunks: prompts and answers of questions and replays that cited one. */
  private async citingEvents(chunkIds: ReadonlySet<string>): Promise<{ positions: number[]; questions: string[] }> {
    const questions = new Set<string>();
    /** Questions whose own retrieval cited it, and replays whose retrieval did. */
    const originals = new Set<string>();
    const replays = new Set<string>();
    if (chunkIds.size === 0) return { positions: [], questions: [] };
    for await (const e of this.deps.events.readAll({ types: ['ContextRetrieved', 'ContextReplayed'] })) {
      if ((e.type !== 'ContextRetrieved' && e.type !== 'ContextReplayed') || !e.data.chunk_ids.some((id) => chunkIds.has(id))) continue;
      questions.add(e.data.query_id);
      if (e.type === 'ContextReplayed') replays.add(e.data.replay_id);
      else originals.add(e.data.query_id);
    }
    const positions: number[] = [];
    for (const queryId of questions) {
      for await (const e of this.deps.events.readStream(`query-${queryId}`)) {
        const original = (e.type === 'InferenceRequested' || e.type === 'InferenceCompleted' || e.type === 'InferenceFailed') && originals.has(queryId);
        const replay = e.type === 'ReplayAnswered' && replays.has(e.data.replay_id);
        if (original || replay) positions.push(e.position);
      }
    }
    return { positions, questions: [...questions].sort() };
  }

  private async rows(positions: readonly number[]): Promise<RawEvent[]> {
    const sorted = [...new Set(positions)].sort((a, b) => a - b);
    const out: RawEvent[] = [];
    for (let i = 0; i < sorted.length; i += PAGE) out.push(...(await this.deps.events.readPositions(sorted.slice(i, i + PAGE))));
    return out;
  }
}
