// Events the timeline's parts raise for <rl-timeline> (they bubble out of shadow roots and stop there).
import type { IndexProgress, TimelineFilter } from '../../src/shared/explorerModel.js';

/** Select an event (by log position); `open` shows the detail pane. */
export interface SelectDetail {
  readonly position: number;
  readonly open?: boolean;
}

/** What the latest page said about the timeline. */
export interface PageInfo {
  readonly total: number;
  readonly head: number;
  readonly indexing?: IndexProgress;
  readonly truncated?: string;
}

/** Scroll the timeline to a log position (jump) or a time (density chart). */
export type JumpDetail = { readonly position: number } | { readonly time: string };

interface TimelineEvents {
  /** The whole new filter. */
  'rl-filter': TimelineFilter;
  'rl-select': SelectDetail;
  'rl-jump': JumpDetail;
  'rl-follow': boolean;
  'rl-page-info': PageInfo;
  'rl-close-detail': null;
}

/** Raises one of the timeline's events from `from`. */
export function emit<K extends keyof TimelineEvents>(from: EventTarget, type: K, detail: TimelineEvents[K]): void {
  from.dispatchEvent(new CustomEvent(type, { detail, bubbles: true, composed: true }));
}

declare global {
  interface HTMLElementEventMap {
    'rl-filter': CustomEvent<TimelineFilter>;
    'rl-select': CustomEvent<SelectDetail>;
    'rl-jump': CustomEvent<JumpDetail>;
    'rl-follow': CustomEvent<boolean>;
    'rl-page-info': CustomEvent<PageInfo>;
    'rl-close-detail': CustomEvent<null>;
  }
}
