// Formatting shared by the explorer's views: times, durations, rank moves, icons and colours per
// event type. Pure functions of their arguments.
import type { AlignmentKind, EventGroup } from '../../src/shared/explorerModel.js';

const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

/** 2026-12-02 11:22:06.123 in local time (the tooltip shows the recorded ISO time). */
export function formatTime(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

export function formatDuration(ms: number | null): string {
  if (ms === null || !Number.isFinite(ms)) return '';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
  const m = Math.floor(ms / 60_000);
  return `${m} min ${Math.round((ms % 60_000) / 1000)} s`;
}

export const formatCount = (n: number): string => n.toLocaleString('en-US');
export const formatRatio = (x: number | null): string => (x === null || !Number.isFinite(x) ? '–' : x.toFixed(3));

/** ↑3, ↓2, =, new, dropped; and "re-chunked" prefixed for chunks cut differently. */
export function moveLabel(kind: AlignmentKind, move: number | null): string {
  if (kind === 'new') return 'new';
  if (kind === 'dropped') return 'dropped';
  const m = move ?? 0;
  const arrow = m > 0 ? `↑${m}` : m < 0 ? `↓${-m}` : '=';
  return kind === 'rechunked' ? `${arrow} re-chunked` : arrow;
}

/** A screen reader's words for a move. */
export function moveWords(kind: AlignmentKind, move: number | null): string {
  if (kind === 'new') return 'new in the replay';
  if (kind === 'dropped') return 'dropped from the replay';
  const m = move ?? 0;
  const base = m > 0 ? `up ${m}` : m < 0 ? `down ${-m}` : 'same rank';
  return kind === 'rechunked' ? `${base}, chunked differently` : base;
}

/** A codicon per event type (https://microsoft.github.io/vscode-codicons/). */
const ICONS = {
  DocumentSubmitted: 'file-add',
  DocumentValidated: 'pass',
  DocumentRejected: 'circle-slash',
  DocumentChunked: 'list-flat',
  DocumentDeleted: 'trash',
  DocumentForgotten: 'clear-all',
  ChunkEmbedded: 'symbol-array',
  ChunkEmbeddingFailed: 'warning',
  ChunkIndexed: 'database',
  QueryReceived: 'comment',
  ContextRetrieved: 'search',
  InferenceRequested: 'send',
  InferenceCompleted: 'comment-discussion',
  InferenceFailed: 'error',
  ContextReplayed: 'history',
  ReplayAnswered: 'debug-rerun',
  PipelineVersionDefined: 'settings-gear',
  PipelineVersionActivated: 'rocket',
} as const;

/** A codicon name; icons.ts's icon() only takes names it has, so a wrong one fails the webview's type check. */
export type EventIconName = (typeof ICONS)[keyof typeof ICONS] | 'circle-outline';

export const iconFor = (type: string): EventIconName => (ICONS as Readonly<Record<string, EventIconName | undefined>>)[type] ?? 'circle-outline';

/** The CSS colour of a group: VS Code's chart colours, defined by every theme (high contrast too). */
export const GROUP_COLORS: Record<EventGroup, string> = {
  document: 'var(--vscode-charts-blue)',
  chunk: 'var(--vscode-charts-green)',
  query: 'var(--vscode-charts-purple)',
  replay: 'var(--vscode-charts-yellow)',
  pipeline: 'var(--vscode-charts-orange)',
  failure: 'var(--vscode-charts-red)',
  other: 'var(--vscode-charts-foreground)',
};

export const GROUP_LABELS: Record<EventGroup, string> = {
  document: 'Documents',
  chunk: 'Chunks',
  query: 'Questions',
  replay: 'Replays',
  pipeline: 'Pipelines',
  failure: 'Failures',
  other: 'Other',
};

export const GROUP_ORDER: readonly EventGroup[] = ['document', 'chunk', 'query', 'replay', 'pipeline', 'failure', 'other'];
