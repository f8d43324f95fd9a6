/**
 * Validation of what the explorer webview sends: every message is untrusted input. A malformed
 * request is answered with an error naming the problem (never a crash); anything else malformed
 * is dropped. Plain TypeScript (no `vscode`), so it is unit-tested in Node.
 */
import { ValidationError } from '../../core/errors.js';
import { parseTimelineFilter } from '../../core/explorer/timelineFilter.js';
import { parseIsoTime } from '../../core/isoTime.js';
import type { ExplorerMethod, ExplorerNotification, ExplorerRequest } from '../../shared/explorerProtocol.js';

export type ParsedMessage = { readonly ok: true; readonly message: ExplorerRequest | ExplorerNotification } | { readonly ok: false; readonly id: number | null; readonly error: string };

const METHODS: readonly ExplorerMethod[] = ['init', 'page', 'locate', 'density', 'event', 'field', 'findEvent', 'questions', 'pipelines', 'replay', 'reanswer', 'compare', 'activate', 'documentHistory', 'documentDiff'];

/** Largest row index or log position accepted (far beyond any log, far below 2^53). */
const MAX_INDEX = 1e12;

class Fields {
  readonly issues: string[] = [];
  constructor(
    private readonly o: Record<string, unknown>,
    allowed: readonly string[],
  ) {
    for (const k of Object.keys(o)) if (!allowed.includes(k)) this.issues.push(`unknown field ${JSON.stringify(k.slice(0, 64))}`);
  }

  int(name: string, min: number, max: number, optional = false): number | undefined {
    const v = this.o[name];
    if (v === undefined && optional) return undefined;
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) {
      this.issues.push(`${name} must be an integer from ${min} to ${max}`);
      return undefined;
    }
    return v;
  }

  text(name: string, max: number, optional = false, pattern?: RegExp): string | undefined {
    const v = this.o[name];
    if (v === undefined && optional) return undefined;
    if (typeof v !== 'string' || v.length === 0 || v.length > max || new RegExp(CONTROL.source).test(v) || (pattern && !pattern.test(v))) {
      this.issues.push(`${name} must be ${pattern ? 'a valid' : 'a'} string of 1 to ${max} characters${pattern ? '' : ' without control characters'}`);
      return undefined;
    }
    return v;
  }

  /** Free text (a search, a summary): any characters but NUL, bounded. */
  freeText(name: string, max: number, optional = false): string | undefined {
    const v = this.o[name];
    if (v === undefined && optional) return undefined;
    if (typeof v !== 'string' || v.length > max || v.includes('\u0000')) {
      this.issues.push(`${name} must be text of at most ${max} characters`);
      return undefined;
    }
    return v;
  }

  bool(name: string): boolean | undefined {
    const v = this.o[name];
    if (typeof v !== 'boolean') {
      this.issues.push(`${name} must be true or false`);
      return undefined;
    }
    return v;
  }

  oneOf<T extends string>(name: string, values: readonly T[]): T | undefined {
    const v = this.o[name];
    if (typeof v !== 'string' || !(values as readonly string[]).includes(v)) {
      this.issues.push(`${name} must be one of ${values.join(', ')}`);
      return undefined;
    }
    return v as T;
  }

  filter(name: string): ReturnType<typeof parseTimelineFilter> | undefined {
    try {
      return parseTimelineFilter(this.o[name]);
    } catch (err) {
      this.issues.push(err instanceof ValidationError ? err.message : 'invalid filter');
      return undefined;
    }
  }

  path(name: string): (string | number)[] | undefined {
    const v = this.o[name];
    if (!Array.isArray(v) || v.length > 32 || !v.every((s) => (typeof s === 'string' && s.length <= 256) || (typeof s === 'number' && Number.isSafeInteger(s) && s >= 0))) {
      this.issues.push(`${name} must be a list of at most 32 field names and indexes`);
      return undefined;
    }
    return v as (string | number)[];
  }
}

// eslint-disable-next-line no-control-regex -- control characters are exactly what this rejects
const CONTROL = /[\u0000-\u001f\u007f]/g;

/** Ids (questions, replays, pipeline versions, documents, events): letters, digits and - _ . : only. */
const ID = /^[A-Za-z0-9_.:-]+$/;

function params(method: ExplorerMethod, raw: unknown): { params: unknown; issues: string[] } {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return { params: null, issues: ['params must be an object'] };
  const o = raw as Record<string, unknown>;
  switch (method) {
    case 'init':
    case 'pipelines': {
      const f = new Fields(o, []);
      return { params: {}, issues: f.issues };
    }
    case 'page': {
      const f = new Fields(o, ['filter', 'start', 'limit']);
      return { params: { filter: f.filter('filter'), start: f.int('start', 0, MAX_INDEX), limit: f.int('limit', 1, 300) }, issues: f.issues };
    }
    case 'locate': {
      const f = new Fields(o, ['filter', 'position', 'time']);
      const position = f.int('position', 1, MAX_INDEX, true);
      const time = f.text('time', 64, true);
      if ((position === undefined) === (time === undefined)) f.issues.push('locate needs either a position or a time');
      if (time !== undefined && !parseIsoTime(time).ok) f.issues.push('time must be an ISO-8601 time');
      return { params: { filter: f.filter('filter'), ...(position !== undefined ? { position } : {}), ...(time !== undefined ? { time } : {}) }, issues: f.issues };
    }
    case 'density': {
      const f = new Fields(o, ['filter', 'buckets']);
      return { params: { filter: f.filter('filter'), buckets: f.int('buckets', 1, 1000) }, issues: f.issues };
    }
    case 'event': {
      const f = new Fields(o, ['position']);
      return { params: { position: f.int('position', 1, MAX_INDEX) }, issues: f.issues };
    }
    case 'field': {
      const f = new Fields(o, ['position', 'path']);
      return { params: { position: f.int('position', 1, MAX_INDEX), path: f.path('path') }, issues: f.issues };
    }
    case 'findEvent': {
      const f = new Fields(o, ['eventId']);
      return { params: { eventId: f.text('eventId', 512) }, issues: f.issues };
    }
    case 'questions': {
      const f = new Fields(o, ['search', 'limit']);
      const search = f.freeText('search', 500, true);
      return { params: { ...(search !== undefined ? { search } : {}), limit: f.int('limit', 1, 500) }, issues: f.issues };
    }
    case 'replay': {
      const f = new Fields(o, ['queryId', 'pipelineVersion', 'asOf']);
      return { params: { queryId: f.text('queryId', 200, false, ID), pipelineVersion: f.text('pipelineVersion', 200, false, ID), asOf: f.oneOf('asOf', ['now', 'asked'] as const) }, issues: f.issues };
    }
    case 'reanswer': {
      const f = new Fields(o, ['queryId', 'replayId']);
      return { params: { queryId: f.text('queryId', 200, false, ID), replayId: f.text('replayId', 200, false, ID) }, issues: f.issues };
    }
    case 'compare': {
      const f = new Fields(o, ['from', 'to', 'golden']);
      return { params: { from: f.text('from', 200, false, ID), to: f.text('to', 200, false, ID), golden: f.bool('golden') }, issues: f.issues };
    }
    case 'activate': {
      const f = new Fields(o, ['version', 'summary']);
      return { params: { version: f.text('version', 200, false, ID), summary: f.freeText('summary', 2_000) }, issues: f.issues };
    }
    case 'documentHistory': {
      const f = new Fields(o, ['documentId']);
      return { params: { documentId: f.text('documentId', 200, false, ID) }, issues: f.issues };
    }
    case 'documentDiff': {
      const f = new Fields(o, ['documentId', 'from', 'to']);
      return { params: { documentId: f.text('documentId', 200, false, ID), from: f.int('from', 1, MAX_INDEX), to: f.int('to', 1, MAX_INDEX) }, issues: f.issues };
    }
  }
}

/** Checks one message from the webview. */
export function parseExplorerMessage(raw: unknown): ParsedMessage {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return { ok: false, id: null, error: 'a message must be an object' };
  const m = raw as Record<string, unknown>;
  switch (m.kind) {
    case 'request': {
      const id = typeof m.id === 'number' && Number.isSafeInteger(m.id) && m.id > 0 ? m.id : null;
      if (id === null) return { ok: false, id: null, error: 'a request needs a positive integer id' };
      if (typeof m.method !== 'string' || !(METHODS as readonly string[]).includes(m.method)) return { ok: false, id, error: `unknown method ${JSON.stringify(String(m.method).slice(0, 64))}` };
      const method = m.method as ExplorerMethod;
      const { params: p, issues } = params(method, m.params);
      if (issues.length > 0) return { ok: false, id, error: `invalid ${method} request: ${issues.join('; ')}` };
      return { ok: true, message: { kind: 'request', id, method, params: p } as ExplorerRequest };
    }
    case 'ready':
      return { ok: true, message: { kind: 'ready' } };
    case 'booted':
      return { ok: true, message: { kind: 'booted' } };
    case 'cancel':
      return typeof m.id === 'number' && Number.isSafeInteger(m.id) ? { ok: true, message: { kind: 'cancel', id: m.id } } : { ok: false, id: null, error: 'cancel needs the request id' };
    case 'openChunk': {
      const f = new Fields(m, ['kind', 'position', 'chunkId']);
      const position = f.int('position', 1, MAX_INDEX);
      const chunkId = f.text('chunkId', 200, false, ID);
      return f.issues.length > 0 || position === undefined || chunkId === undefined ? { ok: false, id: null, error: `invalid openChunk: ${f.issues.join('; ')}` } : { ok: true, message: { kind: 'openChunk', position, chunkId } };
    }
    case 'title': {
      const text = typeof m.text === 'string' ? m.text.replace(CONTROL, ' ').slice(0, 120) : null;
      return text ? { ok: true, message: { kind: 'title', text } } : { ok: false, id: null, error: 'title needs text' };
    }
    default:
      return { ok: false, id: null, error: `unknown message kind ${JSON.stringify(String(m.kind).slice(0, 64))}` };
  }
}
