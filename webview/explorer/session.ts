// What the Replay and Compare views keep while the page lives: the shell recreates a view each time
// its tab is shown, and a replay or a comparison should not be run again (nor a running comparison
// lost) because the user looked at another tab.
import type { CompareReport, ReanswerReport, ReplayReport } from '../../src/shared/explorerModel.js';
import type { RowView } from './compareModel.js';
import type { Call } from './rpc.js';
import { rpc } from './rpc.js';
import type { Progress } from './runController.js';

const MAX_REPLAYS = 24;
const replays = new Map<string, ReplayReport>();
const reanswers = new Map<string, ReanswerReport>();

const replayKey = (queryId: string, version: string, asOf: 'now' | 'asked'): string => `${queryId}\u0000${version}\u0000${asOf}`;

/** A replay already run in this page, if any. */
export function cachedReplay(queryId: string, version: string, asOf: 'now' | 'asked'): ReplayReport | undefined {
  return replays.get(replayKey(queryId, version, asOf));
}

export function keepReplay(asOf: 'now' | 'asked', report: ReplayReport): void {
  const key = replayKey(report.queryId, report.replayed.pipelineVersion, asOf);
  replays.delete(key);
  replays.set(key, report);
  while (replays.size > MAX_REPLAYS) replays.delete(replays.keys().next().value!);
}

export const cachedReanswer = (replayId: string): ReanswerReport | undefined => reanswers.get(replayId);
export const keepReanswer = (report: ReanswerReport): void => void reanswers.set(report.replayId, report);

/** The comparison of this page: its parameters, the request while it runs, its report, how the table was left. */
export interface CompareSession {
  readonly params: { readonly from: string; readonly to: string; readonly golden: boolean };
  call: Call<CompareReport> | null;
  progress: Progress | null;
  report: CompareReport | null;
  view: RowView;
  focusRow: number;
  /** Set once the host answered `activate`. */
  activated: boolean | null;
}

let compare: CompareSession | null = null;

export const compareSession = (): CompareSession | null => compare;

/** Starts following a comparison, keeping its progress even while no Compare view is shown. */
export function startCompare(params: CompareSession['params'], call: Call<CompareReport>, view: RowView): CompareSession {
  const session: CompareSession = { params, call, progress: null, report: null, view, focusRow: 0, activated: null };
  compare = session;
  const stop = rpc.onPush((push) => {
    if (push.type === 'progress' && push.id === call.id) session.progress = { done: push.done, total: push.total, label: push.label };
  });
  const settle = (): void => {
    stop();
    session.call = null;
    session.progress = null;
  };
  call.result.then((report) => {
    session.report = report;
    settle();
  }, settle);
  return session;
}
