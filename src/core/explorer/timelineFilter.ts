/**
 * Timeline filters: validated from untrusted input (the webview, the CLI), normalised so equal
 * filters compare equal, and split into what the store can answer and what needs the explorer's
 * index. Pure.
 */
import type { TimelineFilter } from '../../shared/explorerModel.js';
import { ValidationError } from '../errors.js';
import { isEventType } from '../events/eventCatalog.js';
import { parseIsoTime } from '../isoTime.js';

/** Bounds on what a filter may hold: a filter is never a way to send megabytes. */
export const FILTER_LIMITS = { types: 64, id: 512, text: 500 } as const;

const KEYS = new Set(['types', 'stream', 'correlation', 'pipeline', 'since', 'until', 'failures', 'text']);

// Identifiers never contain control characters (the store refuses them in stream ids).
// eslint-disable-next-line no-control-regex -- control characters are exactly what this rejects
const CONTROL = /[\u0000-\u001f\u007f]/;

function idField(value: unknown, name: string, issues: string[]): string | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string') return void issues.push(`${name} must be a string`);
  if (value.length > FILTER_LIMITS.id) return void issues.push(`${name} is longer than ${FILTER_LIMITS.id} characters`);
  if (CONTROL.test(value)) return void issues.push(`${name} contains control characters`);
  return value;
}

function timeField(value: unknown, name: string, issues: string[]): string | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string') return void issues.push(`${name} must be an ISO time string`);
  const parsed = parseIsoTime(value);
  if (!parsed.ok) return void issues.push(`${name} ${JSON.stringify(value.slice(0, 64))} ${parsed.why}`);
  return parsed.iso;
}

/** Words longer than this are cut to it, in the index and in queries alike. */
export const MAX_WORD_LENGTH = 64;

/**
 * The distinct words of a text as the text index keeps them and searches match them: runs of
 * letters and digits, lower case, accents removed, cut to MAX_WORD_LENGTH.
 */
export function searchWords(text: string): string[] {
  const folded = text.normalize('NFKD').replace(/\p{M}+/gu, '').toLowerCase();
  return [...new Set((folded.match(/[\p{L}\p{N}]+/gu) ?? []).map((w) => (w.length > MAX_WORD_LENGTH ? w.slice(0, MAX_WORD_LENGTH) : w)))];
}

/**
 * Validates and normalises a filter from untrusted input: unknown fields, wrong types, unknown
 * event types, impossible or reversed times and oversized values are refused with every problem
 * named. Empty fields are dropped; types are sorted and unique.
 * @throws ValidationError
 */
export function parseTimelineFilter(input: unknown): TimelineFilter {
  if (input === undefined || input === null) return {};
  if (typeof input !== 'object' || Array.isArray(input)) throw new ValidationError('the filter must be an object', [], 'Pick filters from the filter bar.');
  const raw = input as Record<string, unknown>;
  const issues: string[] = [];
  for (const key of Object.keys(raw)) if (!KEYS.has(key)) issues.push(`unknown filter field ${JSON.stringify(key.slice(0, 64))}`);
  let types: string[] | undefined;
  if (raw.types !== undefined && raw.types !== null) {
    if (!Array.isArray(raw.types)) issues.push('types must be a list of event types');
    else if (raw.types.length > FILTER_LIMITS.types) issues.push(`types has more than ${FILTER_LIMITS.types} entries`);
    else {
      for (const t of raw.types) if (typeof t !== 'string' || !isEventType(t)) issues.push(`unknown event type ${JSON.stringify(typeof t === 'string' ? t.slice(0, 64) : t)}`);
      types = [...new Set(raw.types as string[])].sort();
    }
  }
  const stream = idField(raw.stream, 'stream', issues);
  const correlation = idField(raw.correlation, 'correlation', issues);
  const pipeline = idField(raw.pipeline, 'pipeline', issues);
  const since = timeField(raw.since, 'since', issues);
  const until = timeField(raw.until, 'until', issues);
  if (since !== undefined && until !== undefined && since >= until) issues.push(`since (${since}) must be before until (${until})`);
  if (raw.failures !== undefined && raw.failures !== null && typeof raw.failures !== 'boolean') issues.push('failures must be true or false');
  let text: string | undefined;
  if (raw.text !== undefined && raw.text !== null) {
    if (typeof raw.text !== 'string') issues.push('text must be a string');
    else if (raw.text.length > FILTER_LIMITS.text) issues.push(`text is longer than ${FILTER_LIMITS.text} characters`);
    else if (raw.text.trim() !== '') {
      if (searchWords(raw.text).length === 0) issues.push('text has no words to search for (letters or digits)');
      text = raw.text.trim();
    }
  }
  if (issues.length > 0) throw new ValidationError('invalid timeline filter', issues, 'Clear the filter and pick it again from the filter bar.');
  return {
    ...(types && types.length > 0 ? { types } : {}),
    ...(stream ? { stream } : {}),
    ...(correlation ? { correlation } : {}),
    ...(pipeline ? { pipeline } : {}),
    ...(since ? { since } : {}),
    ...(until ? { until } : {}),
    ...(raw.failures === true ? { failures: true } : {}),
    ...(text ? { text } : {}),
  };
}

/** A stable key for a normalised filter (equal filters, equal keys). */
export function filterKey(filter: TimelineFilter): string {
  return JSON.stringify([filter.types ?? [], filter.stream ?? '', filter.correlation ?? '', filter.pipeline ?? '', filter.since ?? '', filter.until ?? '', filter.failures === true, filter.text ?? '']);
}

/** True when no field is set: the timeline is the whole log, row i is position i + 1. */
export function isEmptyFilter(filter: TimelineFilter): boolean {
  return Object.keys(filter).length === 0;
}
