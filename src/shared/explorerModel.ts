/**
 * What the event-log explorer shows, computed once in src/app and rendered twice: by the explorer
 * webview and by the CLI (`rag-ledger log|replay|compare`, text and --json). Types only: the
 * webview imports this file, so it must not pull in any runtime code.
 */

/** The event categories rows are coloured and grouped by. */
export type EventGroup = 'document' | 'chunk' | 'query' | 'replay' | 'pipeline' | 'failure' | 'other';

/**
 * A filter over the timeline. Every field is optional; fields combine with AND, values inside one
 * field with OR. The host validates a filter from the webview before using it.
 */
export interface TimelineFilter {
  /** Only these event types. */
  readonly types?: readonly string[];
  /** Only this stream (a document's stream holds its chunks' events too). */
  readonly stream?: string;
  /** Only events of this correlation: a question's whole chain, a replay, a re-embed request. */
  readonly correlation?: string;
  /** Only events produced by this pipeline version. */
  readonly pipeline?: string;
  /** Recorded at or after this time (ISO-8601). */
  readonly since?: string;
  /** Recorded strictly before this time (ISO-8601). */
  readonly until?: string;
  /** Only failures: rejected documents, failed embeddings, failed inference, replays whose model failed. */
  readonly failures?: boolean;
  /**
   * Words that must all appear in the event's text (question, answer, chunk text, path, failure
   * detail), case- and accent-insensitive, whole words.
   */
  readonly text?: string;
}

/** One row of the timeline: enough to draw it, nothing bulky. */
export interface TimelineRow {
  readonly position: number;
  readonly recordedAt: string;
  readonly type: string;
  readonly group: EventGroup;
  readonly streamId: string;
  /** The document path, the question, or the pipeline label the stream stands for (clipped). */
  readonly subject: string | null;
  /** One line: question text, chunk count, model, duration, failure reason (clipped). */
  readonly summary: string;
  readonly failed: boolean;
}

export interface TimelinePage {
  /** Index (0-based) of the first row in the filtered timeline. */
  readonly start: number;
  readonly rows: readonly TimelineRow[];
  /** Rows in the filtered timeline. */
  readonly total: number;
  /** The log's head when the page was read. */
  readonly head: number;
  /**
   * Set while the explorer's index is still being built: filters that need it (everything except
   * types and stream) are not applied yet.
   */
  readonly indexing?: IndexProgress;
  /** Set when the text search matched more events than it keeps. */
  readonly truncated?: string;
}

export interface IndexProgress {
  readonly indexed: number;
  readonly head: number;
}

/** Events over time, stacked by group: the density chart above the timeline. */
export interface Density {
  /** Start of the first bucket and width of each, in ms since the epoch. */
  readonly from: number;
  readonly bucketMs: number;
  /** counts[group][bucket]. */
  readonly counts: Readonly<Partial<Record<EventGroup, readonly number[]>>>;
  readonly buckets: number;
  readonly total: number;
}

/** A value of an event's payload as the detail view shows it. */
export type PayloadNode =
  | { readonly kind: 'null' }
  | { readonly kind: 'boolean'; readonly value: boolean }
  | { readonly kind: 'number'; readonly value: number }
  | {
      readonly kind: 'string';
      readonly value: string;
      /** The whole string's length when `value` was clipped ("show all" asks for the rest). */
      readonly length?: number;
    }
  | { readonly kind: 'array'; readonly items: readonly PayloadNode[]; readonly length: number }
  | { readonly kind: 'object'; readonly entries: readonly (readonly [string, PayloadNode])[] }
  | {
      readonly kind: 'vector';
      readonly dimensions: number;
      readonly norm: number;
      readonly first: readonly number[];
    };

/** Everything the detail pane shows about one event. */
export interface EventDetail {
  readonly row: TimelineRow;
  readonly eventId: string;
  readonly streamVersion: number;
  readonly schemaVersion: number;
  /** Set when the event was stored with an older schema and upcast on read. */
  readonly upcastFrom: number | null;
  readonly prevHash: string;
  readonly hash: string;
  readonly data: PayloadNode;
  readonly metadata: PayloadNode;
  readonly correlationId: string | null;
  readonly causationId: string | null;
  readonly pipelineVersion: string | null;
  readonly actor: string | null;
  /** The document the event belongs to, when it belongs to one. */
  readonly documentId: string | null;
  /** A question's chain (or a replay's) when the event belongs to a question. */
  readonly chain: QuestionChain | null;
  /** Chunks the event carries or cites, each openable at its source lines. */
  readonly chunks: readonly ChunkRef[];
}

/** A chunk an event carries or cites. */
export interface ChunkRef {
  readonly chunkId: string;
  readonly path: string | null;
  readonly startLine: number | null;
  readonly endLine: number | null;
  readonly rank?: number;
  readonly score?: number;
}

/** One step of a question's chain. */
export interface ChainStep {
  readonly position: number;
  readonly type: string;
  readonly recordedAt: string;
  /** Milliseconds since the previous step of the same group. */
  readonly sincePrevMs: number | null;
  readonly summary: string;
  readonly failed: boolean;
}

/** received → retrieved → prompted → answered, and each replay of the question, as groups. */
export interface QuestionChain {
  readonly queryId: string;
  readonly question: string;
  readonly groups: readonly { readonly correlationId: string; readonly label: string; readonly totalMs: number | null; readonly steps: readonly ChainStep[] }[];
}

/** A recorded question, to pick one to replay. */
export interface QuestionSummary {
  readonly queryId: string;
  readonly question: string;
  readonly askedAt: string;
  readonly position: number;
  readonly pipelineVersion: string | null;
  readonly modelId: string | null;
  readonly state: string;
}

/** A pipeline version as pickers and headers show it. */
export interface PipelineSummary {
  readonly version: string;
  readonly label: string;
  readonly active: boolean;
  /** Fully built: every live document chunked and every chunk indexed. */
  readonly built: boolean;
  readonly definedAt: string;
  /** Short description of what differs: chunk sizes, model, k, mode. */
  readonly description: string;
}

/** A chunk of a retrieved context, with where it came from. */
export interface ContextChunkView {
  readonly rank: number;
  readonly score: number;
  readonly chunkId: string;
  readonly path: string;
  readonly startLine: number | null;
  readonly endLine: number | null;
  /** The document version the chunk was cut from: vN of the document, its log position and hash. */
  readonly documentVersion: { readonly ordinal: number; readonly position: number; readonly contentHash: string | null } | null;
  /** The chunk's text, clipped to a few thousand characters. */
  readonly text: string | null;
  readonly textClipped: boolean;
}

/** How a row of the aligned contexts matched. */
export type AlignmentKind = 'same' | 'rechunked' | 'dropped' | 'new';

/** One row of the side-by-side view: an original chunk and what it became. */
export interface AlignedPair {
  readonly kind: AlignmentKind;
  readonly original: ContextChunkView | null;
  readonly replayed: ContextChunkView | null;
  /** Ranks moved up (positive) or down (negative); null for new and dropped chunks. */
  readonly move: number | null;
  /** Word diff of the two texts when the same region was chunked differently. */
  readonly textDiff: readonly TextDiffPart[] | null;
}

export interface TextDiffPart {
  readonly op: '=' | '+' | '-';
  readonly text: string;
}

/** How similar two rankings are. */
export interface RankingMetrics {
  readonly k: number;
  /** |A ∩ B| / k, k the longer list. */
  readonly overlapAtK: number;
  readonly jaccard: number;
  /** Rank-biased overlap (p = 0.9), extrapolated. */
  readonly rbo: number;
  /** Mean |rank before − rank after| over the items both share; null when they share none. */
  readonly meanRankShift: number | null;
}

/** A past question replayed against a pipeline version, diffed against what it originally saw. */
export interface ReplayReport {
  readonly replayId: string;
  readonly queryId: string;
  readonly question: string;
  readonly askedAt: string;
  readonly askedPosition: number;
  /** `position`: the ContextRetrieved event (open a chunk of this side with it). */
  readonly original: { readonly position: number; readonly pipelineVersion: string | null; readonly mode: string | null; readonly chunks: readonly ContextChunkView[] };
  /** `position`: the ContextReplayed event that recorded this replay. */
  readonly replayed: { readonly position: number; readonly pipelineVersion: string; readonly mode: string; readonly k: number; readonly asOfPosition: number | null; readonly chunks: readonly ContextChunkView[] };
  readonly pairs: readonly AlignedPair[];
  readonly metrics: { readonly chunks: RankingMetrics; readonly documents: RankingMetrics; readonly aligned: number };
  /** The original answer, if the question was answered. */
  readonly originalAnswer: { readonly modelId: string; readonly text: string } | null;
  /** Retrieval fell back to full text (the version's model could not be loaded). */
  readonly notice?: string;
}

/** An answer given again from a replayed context, diffed against the original one. */
export interface ReanswerReport {
  readonly replayId: string;
  readonly modelId: string;
  readonly text: string;
  readonly originalText: string | null;
  readonly diff: readonly TextDiffPart[] | null;
  readonly similarity: number | null;
  /** Why the model did not answer (the answer is then extractive). */
  readonly failure?: string;
}

/** One question of a comparison. */
export interface CompareRow {
  readonly queryId: string | null;
  readonly question: string;
  readonly metrics: RankingMetrics;
  readonly added: number;
  readonly removed: number;
  readonly moved: number;
  readonly documentOverlapAtK: number;
  /**
   * same-context: the context (and so the prompt) is unchanged; reanswered: a recorded re-answer
   * against the target version, with its similarity; unknown: not answered again yet.
   */
  readonly answer: { readonly kind: 'same-context' } | { readonly kind: 'reanswered'; readonly similarity: number } | { readonly kind: 'unknown' };
  /** With a golden set: recall@k of each side for this question. */
  readonly golden?: { readonly fromRecall: number; readonly toRecall: number; readonly fromReciprocalRank: number; readonly toReciprocalRank: number };
}

export interface GoldenScores {
  readonly recall: number;
  readonly mrr: number;
  readonly ndcg: number;
}

/** Two pipeline versions over every recorded question (or a golden set). */
export interface CompareReport {
  readonly from: PipelineSummary & { readonly mode: string };
  readonly to: PipelineSummary & { readonly mode: string };
  readonly k: number;
  readonly source: 'recorded' | 'golden';
  readonly questions: number;
  /** Questions whose context is the same chunks in the same order. */
  readonly unchanged: number;
  readonly means: { readonly overlapAtK: number; readonly jaccard: number; readonly rbo: number; readonly meanRankShift: number | null; readonly documentOverlapAtK: number };
  /** Questions per overlap@k bucket: [0, 0.1), [0.1, 0.2) … [0.9, 1.0]. */
  readonly overlapHistogram: readonly number[];
  readonly golden?: { readonly from: GoldenScores; readonly to: GoldenScores };
  /** Most changed first (lowest RBO, then lowest document overlap). */
  readonly rows: readonly CompareRow[];
  readonly notice?: string;
}

/** One version of a document. */
export interface DocumentVersionView {
  readonly ordinal: number;
  readonly position: number;
  readonly eventId: string;
  readonly submittedAt: string;
  readonly contentHash: string | null;
  readonly bytes: number;
  /** validated (with the format), rejected (with the reason), or pending. */
  readonly state: { readonly kind: 'validated'; readonly format: string } | { readonly kind: 'rejected'; readonly reason: string; readonly detail: string } | { readonly kind: 'pending' };
  /** Each pipeline version's chunking of this version. */
  readonly chunkings: readonly {
    readonly pipelineVersion: string;
    readonly position: number;
    readonly chunks: readonly { readonly chunkId: string; readonly index: number; readonly startLine: number; readonly endLine: number; readonly preview: string; readonly embeddings: readonly { readonly model: string; readonly dimensions: number; readonly position: number }[] }[];
    /** Chunks left out of `chunks` to keep the view small. */
    readonly more: number;
  }[];
  /** Questions whose context included a chunk of this version. */
  readonly citedBy: readonly { readonly queryId: string; readonly question: string; readonly position: number; readonly rank: number }[];
}

export interface DocumentHistory {
  readonly documentId: string;
  readonly path: string;
  readonly streamId: string;
  readonly versions: readonly DocumentVersionView[];
  readonly deleted: { readonly position: number; readonly reason: string; readonly deletedAt: string } | null;
}

/** A line diff of two versions of a document. */
export interface DocumentDiff {
  readonly from: number;
  readonly to: number;
  readonly parts: readonly TextDiffPart[];
  readonly added: number;
  readonly removed: number;
  /** Set when the diff gave up (too large or too slow) and shows a summary instead. */
  readonly note?: string;
}
