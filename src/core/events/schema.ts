/**
 * A small, fast schema language for event data. Validators are compiled once per
 * event type and version and run on every append and every read, so they avoid
 * allocation on the happy path.
 */
export type FieldSpec =
  | 'string'
  | 'nonEmptyString'
  | 'isoTime'
  | 'int'
  | 'nonNegativeInt'
  | 'number'
  | 'boolean'
  | 'float32'
  | 'json'
  | { readonly arrayOf: FieldSpec }
  | { readonly object: ObjectSpec }
  | { readonly optional: FieldSpec }
  | { readonly nullable: FieldSpec }
  | { readonly oneOf: readonly string[] };

export type ObjectSpec = Readonly<Record<string, FieldSpec>>;

/** Returns an empty array when `value` is valid, else one message per problem, each with its path. */
export type Validator = (value: unknown) => string[];

import { parseIsoTime } from '../isoTime.js';

const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !ArrayBuffer.isView(value);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (ArrayBuffer.isView(value)) return value.constructor.name;
  return typeof value === 'string' ? 'a string' : typeof value;
}

type Check = (value: unknown, path: string, out: string[]) => void;

function compileField(spec: FieldSpec, strict: boolean): Check {
  if (typeof spec === 'string') return compileScalar(spec, strict);
  if ('arrayOf' in spec) {
    const item = compileField(spec.arrayOf, strict);
    return (v, path, out) => {
      if (!Array.isArray(v)) return void out.push(`${path} must be an array, got ${describe(v)}`);
      for (let i = 0; i < v.length; i++) item(v[i], `${path}[${i}]`, out);
    };
  }
  if ('object' in spec) return compileObject(spec.object, strict);
  if ('optional' in spec) {
    const inner = compileField(spec.optional, strict);
    return (v, path, out) => (v === undefined ? undefined : inner(v, path, out));
  }
  if ('nullable' in spec) {
    const inner = compileField(spec.nullable, strict);
    return (v, path, out) => (v === null ? undefined : inner(v, path, out));
  }
  const allowed = new Set(spec.oneOf);
  return (v, path, out) => {
    if (typeof v !== 'string' || !allowed.has(v)) out.push(`${path} must be one of ${spec.oneOf.join(', ')}, got ${JSON.stringify(v)}`);
  };
}

function compileScalar(spec: Extract<FieldSpec, string>, strict: boolean): Check {
  switch (spec) {
    case 'string':
      return (v, p, out) => void (typeof v === 'string' || out.push(`${p} must be a string, got ${describe(v)}`));
    case 'nonEmptyString':
      return (v, p, out) => void ((typeof v === 'string' && v.length > 0) || out.push(`${p} must be a non-empty string, got ${describe(v)}`));
    case 'isoTime':
      // Appends also refuse impossible dates and times (2026-02-30); reads stay lenient so that
      // what an older build wrote still reads.
      if (strict) {
        return (v, p, out) => {
          if (typeof v !== 'string' || !ISO_TIME.test(v)) return void out.push(`${p} must be an ISO-8601 timestamp, got ${JSON.stringify(v)}`);
          const parsed = parseIsoTime(v);
          if (!parsed.ok) out.push(`${p} ${JSON.stringify(v)} ${parsed.why}`);
        };
      }
      return (v, p, out) => void ((typeof v === 'string' && ISO_TIME.test(v)) || out.push(`${p} must be an ISO-8601 timestamp, got ${JSON.stringify(v)}`));
    case 'int':
      return (v, p, out) => void (Number.isSafeInteger(v) || out.push(`${p} must be an integer, got ${JSON.stringify(v)}`));
    case 'nonNegativeInt':
      return (v, p, out) => void ((Number.isSafeInteger(v) && (v as number) >= 0) || out.push(`${p} must be an integer >= 0, got ${JSON.stringify(v)}`));
    case 'number':
      return (v, p, out) => void ((typeof v === 'number' && Number.isFinite(v)) || out.push(`${p} must be a finite number, got ${JSON.stringify(v)}`));
    case 'boolean':
      return (v, p, out) => void (typeof v === 'boolean' || out.push(`${p} must be a boolean, got ${describe(v)}`));
    case 'float32':
      return (v, p, out) => void (v instanceof Float32Array || out.push(`${p} must be a Float32Array, got ${describe(v)}`));
    case 'json':
      return () => undefined;
    default: {
      const unreachable: never = spec;
      throw new Error(`unknown field spec ${String(unreachable)}`);
    }
  }
}

function compileObject(spec: ObjectSpec, strict: boolean): Check {
  const entries = Object.entries(spec).map(([key, field]) => [key, compileField(field, strict)] as const);
  const required = Object.entries(spec)
    .filter(([, f]) => !(typeof f === 'object' && 'optional' in f))
    .map(([k]) => k);
  return (v, path, out) => {
    if (!isPlainObject(v)) return void out.push(`${path || 'data'} must be an object, got ${describe(v)}`);
    for (const key of required) if (!(key in v)) out.push(`${path ? `${path}.` : ''}${key} is required`);
    for (const [key, check] of entries) if (key in v) check(v[key], path ? `${path}.${key}` : key, out);
    if (strict) for (const key of Object.keys(v)) if (!(key in spec)) out.push(`${path ? `${path}.` : ''}${key} is not a field of this event`);
  };
}

/**
 * Compiles an object schema. `strict` rejects unknown fields (used when appending, to catch typos);
 * reads are lenient so that fields added by a newer writer survive.
 */
export function compileObjectSchema(spec: ObjectSpec, strict: boolean): Validator {
  const check = compileObject(spec, strict);
  return (value) => {
    const out: string[] = [];
    check(value, '', out);
    return out;
  };
}
