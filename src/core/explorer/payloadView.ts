/**
 * An event's payload as the detail view shows it: long strings clipped (the rest on request),
 * long arrays cut, vectors summarised (dimensions, norm, first values). Pure, bounded output
 * whatever the payload's size.
 */
import type { PayloadNode } from '../../shared/explorerModel.js';
import { ValidationError } from '../errors.js';

export interface PayloadLimits {
  /** Characters of a string shown before "show all". */
  readonly string: number;
  /** Items of an array shown. */
  readonly array: number;
  /** Object keys shown. */
  readonly keys: number;
  /** Nesting levels shown. */
  readonly depth: number;
}

export const PAYLOAD_LIMITS: PayloadLimits = { string: 2_000, array: 200, keys: 200, depth: 16 };

/** "Show all" returns at most this many characters of one field. */
export const FIELD_MAX_CHARS = 1_048_576;

const VECTOR_HEAD = 8;

/** The detail view's tree of a decoded payload. */
export function toPayloadNode(value: unknown, limits: PayloadLimits = PAYLOAD_LIMITS, depth = 0): PayloadNode {
  if (value === null || value === undefined) return { kind: 'null' };
  if (typeof value === 'boolean') return { kind: 'boolean', value };
  if (typeof value === 'number') return { kind: 'number', value };
  if (typeof value === 'string') return value.length > limits.string ? { kind: 'string', value: value.slice(0, limits.string), length: value.length } : { kind: 'string', value };
  if (value instanceof Float32Array) {
    let sum = 0;
    for (const x of value) sum += x * x;
    return { kind: 'vector', dimensions: value.length, norm: Math.sqrt(sum), first: Array.from(value.subarray(0, VECTOR_HEAD)) };
  }
  if (depth >= limits.depth) return { kind: 'string', value: '…', length: Number.MAX_SAFE_INTEGER };
  if (Array.isArray(value)) return { kind: 'array', length: value.length, items: value.slice(0, limits.array).map((v: unknown) => toPayloadNode(v, limits, depth + 1)) };
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>);
    const shown = entries.slice(0, limits.keys).map(([k, v]) => [k.length > limits.string ? `${k.slice(0, limits.string)}…` : k, toPayloadNode(v, limits, depth + 1)] as const);
    if (entries.length > limits.keys) shown.push([`… ${entries.length - limits.keys} more keys`, { kind: 'null' }]);
    return { kind: 'object', entries: shown };
  }
  return { kind: 'string', value: typeof value === 'bigint' ? value.toString() : typeof value };
}

/**
 * The whole value at `path` in a payload as text (strings as they are, anything else as JSON,
 * vectors as their numbers), cut at FIELD_MAX_CHARS.
 * @throws ValidationError when the path does not lead to a value.
 */
export function fieldText(value: unknown, path: readonly (string | number)[]): { text: string; clipped: boolean } {
  let at: unknown = value;
  for (const [i, step] of path.entries()) {
    const where = path.slice(0, i + 1).join('.');
    if (typeof step === 'number' && (Array.isArray(at) || at instanceof Float32Array) && Number.isSafeInteger(step) && step >= 0 && step < at.length) at = at[step];
    else if (typeof step === 'string' && typeof at === 'object' && at !== null && !Array.isArray(at) && Object.prototype.hasOwnProperty.call(at, step)) at = (at as Record<string, unknown>)[step];
    else throw new ValidationError(`the event has no field ${where}`, [], 'Select the event again; the field may belong to another event.');
  }
  const text = typeof at === 'string' ? at : at instanceof Float32Array ? JSON.stringify(Array.from(at)) : (JSON.stringify(at, null, 2) ?? 'null');
  return text.length > FIELD_MAX_CHARS ? { text: text.slice(0, FIELD_MAX_CHARS), clipped: true } : { text, clipped: false };
}
