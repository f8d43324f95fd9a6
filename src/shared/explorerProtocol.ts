/**
 * The event-log explorer's messages: requests from the webview with ids and typed responses,
 * notifications from the webview, and pushes from the host. Types, and the one constant both sides
 * must agree on.
 * The host treats every message from the webview as untrusted input: it validates each one and
 * answers a bad request with an error response, never with a crash.
 */
import type {
  CompareReport,
  Density,
  DocumentDiff,
  DocumentHistory,
  EventDetail,
  IndexProgress,
  PayloadNode,
  PipelineSummary,
  QuestionSummary,
  ReanswerReport,
  ReplayReport,
  TimelineFilter,
  TimelinePage,
} from './explorerModel.js';

/**
 * Rows per timeline page the webview asks for. The host works out a new panel's first pages while
 * its webview loads, so both sides must ask for the same ones.
 */
export const TIMELINE_PAGE_ROWS = 100;

/**
 * The key of a request a new panel makes first, whose answer the host may work out ahead and put in
 * the page itself (`init`, pages of the unfiltered timeline); null for any other request.
 */
export function bootKey(method: string, params: unknown): string | null {
  if (method === 'init') return 'init';
  if (method !== 'page' || typeof params !== 'object' || params === null) return null;
  const { filter, start, limit } = params as { filter?: unknown; start?: unknown; limit?: unknown };
  const unfiltered = typeof filter === 'object' && filter !== null && Object.keys(filter).length === 0;
  return unfiltered && typeof start === 'number' && typeof limit === 'number' ? `page:${start}:${limit}` : null;
}

/** What the explorer shows first, or is asked to show by a command (Questions, Documents, Pipelines views). */
export type ExplorerTarget =
  | { readonly view: 'timeline'; readonly filter?: TimelineFilter; readonly position?: number }
  | { readonly view: 'replay'; readonly queryId: string; readonly pipelineVersion?: string }
  | { readonly view: 'compare'; readonly from?: string; readonly to?: string }
  | { readonly view: 'document'; readonly documentId: string };

/** Static facts the explorer needs once: the event types, the pipeline versions. */
export interface ExplorerInit {
  readonly head: number;
  readonly storeLocation: string;
  readonly eventTypes: readonly { readonly type: string; readonly group: string }[];
  readonly pipelines: readonly PipelineSummary[];
  readonly activePipeline: string | null;
  readonly goldenSet: string | null;
  readonly indexing?: IndexProgress;
}

/** Every request the webview may make: its parameters and the result it gets back. */
export interface ExplorerRequests {
  init: { params: Record<string, never>; result: ExplorerInit };
  /** Rows [start, start + limit) of the filtered timeline (limit ≤ 300). */
  page: { params: { readonly filter: TimelineFilter; readonly start: number; readonly limit: number }; result: TimelinePage };
  /** Index of the first row at or after a log position (or a time) in the filtered timeline. */
  locate: { params: { readonly filter: TimelineFilter; readonly position?: number; readonly time?: string }; result: { readonly index: number; readonly total: number } };
  density: { params: { readonly filter: TimelineFilter; readonly buckets: number }; result: Density };
  event: { params: { readonly position: number }; result: EventDetail };
  /** The whole of a clipped string in an event's payload (at most 1 MiB). */
  field: { params: { readonly position: number; readonly path: readonly (string | number)[] }; result: { readonly text: string; readonly clipped: boolean } };
  /** The log position of the event with this id, or null when the log has none. */
  findEvent: { params: { readonly eventId: string }; result: { readonly position: number | null } };
  questions: { params: { readonly search?: string; readonly limit: number }; result: readonly QuestionSummary[] };
  pipelines: { params: Record<string, never>; result: { readonly pipelines: readonly PipelineSummary[]; readonly active: string | null } };
  /** Replays a question against a version (recorded as ContextReplayed). `asOf: 'asked'` uses the index as it was then. */
  replay: { params: { readonly queryId: string; readonly pipelineVersion: string; readonly asOf: 'now' | 'asked' }; result: ReplayReport };
  /** Answers again from a replayed context (recorded as ReplayAnswered); the text streams as `answerText` pushes. */
  reanswer: { params: { readonly queryId: string; readonly replayId: string }; result: ReanswerReport };
  /** Compares two versions over the recorded questions (or the golden set); progress arrives as pushes. */
  compare: { params: { readonly from: string; readonly to: string; readonly golden: boolean }; result: CompareReport };
  /** Asks the user to confirm (stating the comparison's figures), then activates. */
  activate: { params: { readonly version: string; readonly summary: string }; result: { readonly activated: boolean } };
  documentHistory: { params: { readonly documentId: string }; result: DocumentHistory };
  documentDiff: { params: { readonly documentId: string; readonly from: number; readonly to: number }; result: DocumentDiff };
}

export type ExplorerMethod = keyof ExplorerRequests;

/** A request from the webview. */
export type ExplorerRequest = { [M in ExplorerMethod]: { readonly kind: 'request'; readonly id: number; readonly method: M; readonly params: ExplorerRequests[M]['params'] } }[ExplorerMethod];

/** Notifications from the webview: no answer expected. */
export type ExplorerNotification =
  /** The page has loaded. */
  | { readonly kind: 'ready' }
  /** The page took its first answers (init, the first page) from the page itself, and will not ask for them. */
  | { readonly kind: 'booted' }
  /** Stop a long request (replay, re-answer, compare). */
  | { readonly kind: 'cancel'; readonly id: number }
  /** Open the source of a chunk that the event at `position` carries or cites; the host finds the path in the log. */
  | { readonly kind: 'openChunk'; readonly position: number; readonly chunkId: string }
  /** The panel's title follows what it shows. */
  | { readonly kind: 'title'; readonly text: string };

export type ExplorerToHost = ExplorerRequest | ExplorerNotification;

/** Why a request failed, in words for the user. */
export interface ExplorerError {
  readonly message: string;
  readonly hint?: string;
  /** True when the user cancelled. */
  readonly cancelled?: boolean;
}

export type ExplorerResponse = { [M in ExplorerMethod]: { readonly kind: 'response'; readonly id: number; readonly ok: true; readonly result: ExplorerRequests[M]['result'] } }[ExplorerMethod] | { readonly kind: 'response'; readonly id: number; readonly ok: false; readonly error: ExplorerError };

/** Host → webview without a request. */
export type ExplorerPush =
  /** The log grew (or the index advanced): the timeline shows new rows or an "N new events" pill. */
  | { readonly kind: 'push'; readonly type: 'head'; readonly head: number; readonly indexing?: IndexProgress }
  | { readonly kind: 'push'; readonly type: 'progress'; readonly id: number; readonly done: number; readonly total: number; readonly label: string }
  | { readonly kind: 'push'; readonly type: 'answerText'; readonly id: number; readonly text: string }
  | { readonly kind: 'push'; readonly type: 'navigate'; readonly target: ExplorerTarget }
  /** The pipelines changed (defined, built, activated). */
  | { readonly kind: 'push'; readonly type: 'pipelines'; readonly pipelines: readonly PipelineSummary[]; readonly active: string | null };

export type HostToExplorer = ExplorerResponse | ExplorerPush;

/** What the webview keeps in its state (vscode.setState) so a reload restores it. */
export interface ExplorerState {
  readonly target: ExplorerTarget;
  readonly filter: TimelineFilter;
  /** Log position of the first visible row, and the selected event. */
  readonly topPosition: number | null;
  readonly selected: number | null;
  readonly follow: boolean;
  readonly detailOpen: boolean;
}

export type { PayloadNode };
