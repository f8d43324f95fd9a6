// The answer view: shows a question's answer as it streams, with numbered citations that open the
// source at the cited lines. Runs under a strict CSP with no network; every text from the host is
// inserted as text (never parsed as HTML), so hostile document content cannot run here.
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-progress-ring/index.js';
import type { AnswerToHost, Citation, HostToAnswer } from '../src/shared/protocol.js';
import { answerSegments } from './answerModel.js';

interface VsCodeApi {
  postMessage(message: AnswerToHost): void;
  /** Kept by VS Code across a window reload: the question shown in full, to show again. */
  setState(state: { readonly queryId?: string }): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

const vscode = acquireVsCodeApi();
const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;
const question = $('question');
const answer = $('answer');
const notices = $('notices');
const sources = $('sources');
const footer = $('footer');
const busy = $('busy');
const cancel = $('cancel');
const provenance = $('provenance');

let raw = '';
let citations: readonly Citation[] = [];

let unmatched: readonly number[] = [];

/** Renders the answer text with each `[n]` as a link when n is a known citation; an unmatched one stays marked text. */
function render(): void {
  answer.replaceChildren();
  for (const seg of answerSegments(raw, citations, unmatched)) {
    if (seg.kind === 'cite') {
      const a = document.createElement('a');
      a.href = '#';
      a.className = 'cite';
      a.textContent = seg.text;
      a.dataset.n = String(seg.n);
      a.title = seg.title;
      answer.append(a);
    } else if (seg.kind === 'unmatched') {
      const span = document.createElement('span');
      span.className = 'unmatched';
      span.textContent = seg.text;
      span.title = seg.title;
      answer.append(span);
    } else answer.append(document.createTextNode(seg.text));
  }
}

function renderSources(): void {
  sources.replaceChildren();
  for (const c of citations) {
    const li = document.createElement('li');
    const a = document.createElement('a');
    a.href = '#';
    a.className = 'cite source';
    a.dataset.n = String(c.n);
    a.textContent = `[${c.n}] ${c.path}:${c.startLine}-${c.endLine}`;
    li.append(a);
    sources.append(li);
  }
}

function notice(level: string, text: string): void {
  const p = document.createElement('p');
  p.className = `notice ${level}`;
  p.setAttribute('role', level === 'error' ? 'alert' : 'status');
  p.textContent = text;
  notices.append(p);
}

function setBusy(on: boolean): void {
  busy.hidden = !on;
  cancel.hidden = !on;
}

document.addEventListener('click', (event) => {
  const target = (event.target as HTMLElement).closest<HTMLElement>('a.cite');
  if (!target) return;
  event.preventDefault();
  vscode.postMessage({ kind: 'openCitation', n: Number(target.dataset.n) });
});
cancel.addEventListener('click', () => vscode.postMessage({ kind: 'cancel' }));
provenance.addEventListener('click', (event) => {
  event.preventDefault();
  vscode.postMessage({ kind: 'openProvenance' });
});

window.addEventListener('message', (event: MessageEvent<HostToAnswer>) => {
  const m = event.data;
  switch (m.kind) {
    case 'start':
      vscode.setState({});
      question.textContent = m.question;
      raw = '';
      citations = [];
      unmatched = [];
      notices.replaceChildren();
      sources.replaceChildren();
      footer.hidden = true;
      render();
      setBusy(true);
      break;
    case 'text':
      raw += m.text;
      render();
      break;
    case 'notice':
      notice(m.level, m.text);
      break;
    case 'done':
      raw = m.answer;
      citations = m.citations;
      unmatched = m.unmatchedCitations;
      render();
      renderSources();
      $('meta').textContent = `answered by ${m.modelId} · pipeline ${m.pipelineVersion} · question ${m.queryId}`;
      footer.hidden = false;
      setBusy(false);
      vscode.setState({ queryId: m.queryId });
      break;
    case 'cancelled':
      notice('warning', 'Cancelled. The question and what was generated so far are recorded in the log.');
      setBusy(false);
      break;
    case 'failed':
      notice('error', m.text);
      setBusy(false);
      break;
  }
});

vscode.postMessage({ kind: 'ready' });
