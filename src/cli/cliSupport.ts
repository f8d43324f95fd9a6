import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { ParseArgsConfig } from 'node:util';
import { isEventType, eventTypes } from '../core/events/eventCatalog.js';
import type { EventType } from '../core/events/eventCatalog.js';

/** A mistake in how the command was called: exit code 2. */
export class UsageError extends Error {
  constructor(
    message: string,
    readonly command?: string,
  ) {
    super(message);
    this.name = 'UsageError';
  }
}

/** A check that ran and failed (e.g. verify): exit code 1, message already printed. */
export class CheckFailed extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CheckFailed';
  }
}

export interface Io {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
  /** True when stderr is a terminal (progress lines are redrawn in place). */
  readonly tty: boolean;
}

export type Options = NonNullable<ParseArgsConfig['options']>;

/** Options every command accepts. */
export const commonOptions = {
  store: { type: 'string' },
  json: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const satisfies Options;

export interface Command {
  readonly name: string;
  readonly summary: string;
  /** Usage text shown by --help. */
  readonly usage: string;
  readonly options: Options;
  readonly allowPositionals: number;
  run(args: ParsedArgs, io: Io): Promise<void>;
}

export interface ParsedArgs {
  readonly values: Record<string, string | boolean | string[] | boolean[] | undefined>;
  readonly positionals: string[];
  readonly store: string;
  readonly json: boolean;
}

/** Parses a command's arguments strictly; any mistake is a UsageError. */
export function parseCommandArgs(cmd: Command, argv: string[], io: Io): ParsedArgs | 'help' {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: { ...commonOptions, ...cmd.options }, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError((err as Error).message.replace(/\. To specify a positional argument.*$/s, ''), cmd.name);
  }
  if (parsed.values.help === true) return 'help';
  if (parsed.positionals.length > cmd.allowPositionals) {
    throw new UsageError(`unexpected argument ${JSON.stringify(parsed.positionals[cmd.allowPositionals])}`, cmd.name);
  }
  const store = resolve(io.cwd, (parsed.values.store) || io.env.RAG_LEDGER_STORE || '.rag-ledger');
  return { values: parsed.values, positionals: parsed.positionals, store, json: parsed.values.json === true };
}

export function intOption(value: unknown, name: string, min = 0): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !/^\d+$/.test(value) || Number(value) < min) throw new UsageError(`--${name} must be an integer >= ${min}, got ${JSON.stringify(value)}`);
  return Number(value);
}

/** Accepts an ISO date or date-time; returns the canonical ISO-8601 UTC form stored in the log. */
export function timeOption(value: unknown, name: string): string | undefined {
  if (value === undefined) return undefined;
  const text = typeof value === 'string' ? value : '';
  const ms = /^\d{4}-\d{2}-\d{2}/.test(text) ? Date.parse(text) : Number.NaN;
  if (Number.isNaN(ms)) throw new UsageError(`--${name} must be an ISO date or time such as 2026-01-31 or 2026-01-31T12:00:00Z, got ${JSON.stringify(text)}`);
  return new Date(ms).toISOString();
}

export function typeOptions(value: unknown): EventType[] | undefined {
  if (value === undefined) return undefined;
  const list = (value as string[]).flatMap((v) => v.split(',')).filter((v) => v !== '');
  for (const t of list) if (!isEventType(t)) throw new UsageError(`unknown event type ${JSON.stringify(t)}; known types: ${eventTypes.join(', ')}`);
  return list as EventType[];
}

/** Progress on stderr: counts and rate, redrawn in place on a terminal. */
export function progressReporter(io: Io, label: string): { update: (done: number, total: number) => void; done: () => void } {
  const started = Date.now();
  let last = 0;
  let shown = false;
  return {
    update(done, total) {
      const now = Date.now();
      if (now - last < 250 && done < total) return;
      last = now;
      const rate = done / Math.max(0.001, (now - started) / 1000);
      const line = `${label}: ${done}/${total} (${Math.round(rate)}/s)`;
      if (io.tty) io.err(`\r${line}\x1b[K`);
      else io.err(`${line}\n`);
      shown = true;
    },
    done() {
      if (shown && io.tty) io.err('\n');
    },
  };
}
