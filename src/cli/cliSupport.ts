import { homedir, userInfo } from 'node:os';
import { join, resolve } from 'node:path';
import { isPostgresUrl, ledgerFolderName, parseTeamLedgerUrl } from '../adapters/postgres/pgUrl.js';
import { parseArgs } from 'node:util';
import type { ParseArgsConfig } from 'node:util';
import { ValidationError } from '../core/errors.js';
import { parseIsoTime } from '../core/isoTime.js';
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

/** A check that ran and failed (e.g. verify), or a command that cannot run as asked: exit code 1; the message says what to do. */
export class CheckFailed extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CheckFailed';
  }
}

/**
 * Standard output can no longer be written. When its reader went away (`rag-ledger log | head`),
 * the command stops quietly with exit code 0, like other Unix tools; any other write error is exit 1.
 */
export class OutputClosed extends Error {
  constructor(readonly reason: NodeJS.ErrnoException | undefined) {
    super(`cannot write to standard output${reason ? ` (${reason.code ?? reason.message})` : ''}`);
    this.name = 'OutputClosed';
  }

  /** True when the reader closed the pipe: not an error for the user. */
  get readerGone(): boolean {
    return this.reason === undefined || this.reason.code === 'EPIPE' || this.reason.code === 'ERR_STREAM_DESTROYED';
  }
}

export interface Io {
  /**
   * Writes to standard output. Returns false when the output is backed up: the caller should
   * `await drain()` before writing more. Throws OutputClosed once the output cannot be written.
   */
  readonly out: (text: string) => boolean;
  /** Resolves when standard output has room again; rejects with OutputClosed if it closes instead. */
  readonly drain: () => Promise<void>;
  readonly err: (text: string) => void;
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
  /** True when stderr is a terminal (progress lines are redrawn in place). */
  readonly tty: boolean;
}

/** The Io of a real process over its stdout and stderr streams. */
export function streamIo(stdout: NodeJS.WritableStream & { writableNeedDrain?: boolean }, stderr: NodeJS.WritableStream, env: NodeJS.ProcessEnv, cwd: string, tty: boolean): Io {
  let outFailure: OutputClosed | undefined;
  let errClosed = false;
  // Without these listeners a closed pipe is an unhandled 'error' event: a stack trace and exit 1.
  stdout.on('error', (e: NodeJS.ErrnoException) => {
    outFailure ??= new OutputClosed(e);
  });
  stdout.on('close', () => {
    outFailure ??= new OutputClosed(undefined);
  });
  stderr.on('error', () => {
    errClosed = true;
  });
  return {
    out(text) {
      if (outFailure) throw outFailure;
      return stdout.write(text);
    },
    drain() {
      if (outFailure) return Promise.reject(outFailure);
      if (stdout.writableNeedDrain === false) return Promise.resolve();
      return new Promise<void>((resolveDrain, reject) => {
        const done = (): void => {
          stdout.off('drain', onDrain);
          stdout.off('error', onEnd);
          stdout.off('close', onEnd);
        };
        const onDrain = (): void => {
          done();
          resolveDrain();
        };
        const onEnd = (e?: NodeJS.ErrnoException): void => {
          done();
          reject(outFailure ?? new OutputClosed(e));
        };
        stdout.on('drain', onDrain);
        stdout.on('error', onEnd);
        stdout.on('close', onEnd);
      });
    },
    err(text) {
      if (!errClosed) stderr.write(text);
    },
    env,
    cwd,
    tty,
  };
}

export type Options = NonNullable<ParseArgsConfig['options']>;

/** Options every command accepts. */
export const commonOptions = {
  store: { type: 'string' },
  projections: { type: 'string' },
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
  /** The store directory; for a team ledger, this member's projections folder. */
  readonly store: string;
  /** The team ledger's URL when --store (or RAG_LEDGER_STORE) is `postgres://…`. */
  readonly team?: string;
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
  if (parsed.values.store === '') throw new UsageError('--store needs a directory or a postgres:// URL', cmd.name);
  if (parsed.values.projections === '') throw new UsageError('--projections needs a directory', cmd.name);
  const where = parsed.values.store ?? (io.env.RAG_LEDGER_STORE || '.rag-ledger');
  if (isPostgresUrl(where)) {
    let projections: string;
    try {
      projections = parsed.values.projections ?? (io.env.RAG_LEDGER_PROJECTIONS || memberProjectionsDir(where, io.env));
      parseTeamLedgerUrl(where);
    } catch (err) {
      // A URL that cannot name a ledger is a mistake in the command line: usage, exit 2.
      if (err instanceof ValidationError) throw new UsageError(`${err.message}. ${err.hint}`, cmd.name);
      throw err;
    }
    return { values: parsed.values, positionals: parsed.positionals, store: resolve(io.cwd, projections), team: where, json: parsed.values.json === true };
  }
  if (parsed.values.projections !== undefined) throw new UsageError('--projections is for a team ledger (--store postgres://…): a local store keeps its projections inside it', cmd.name);
  const store = resolve(io.cwd, where);
  return { values: parsed.values, positionals: parsed.positionals, store, json: parsed.values.json === true };
}

/**
 * Where a CLI member keeps its projections of a team ledger when --projections is not given: a
 * folder per ledger (server, database, schema) in the user's cache, so every command in every
 * directory shares one copy.
 */
export function memberProjectionsDir(url: string, env: NodeJS.ProcessEnv): string {
  const cache = env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(cache, 'rag-ledger', 'team', ledgerFolderName(url));
}

/** The openLedger options that put the log on the team ledger when --store names one. */
export function teamOptions(args: ParsedArgs): { readonly team?: { readonly url: string; readonly allowOffline: true } } {
  // Offline, a member still reads its projections (search, ask); what needs the log says the server cannot be reached.
  return args.team ? { team: { url: args.team, allowOffline: true } } : {};
}

export function intOption(value: unknown, name: string, min = 0): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !/^\d+$/.test(value) || Number(value) < min) throw new UsageError(`--${name} must be an integer >= ${min}, got ${JSON.stringify(value)}`);
  return Number(value);
}

/** A string option that, when given, must not be empty (`--stream ""` would silently match nothing). */
export function textOption(value: unknown, name: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value === '') throw new UsageError(`--${name} needs a value`);
  return value;
}

/**
 * Accepts an ISO-8601 date (midnight UTC) or date-time, `YYYY-MM-DDTHH:MM[:SS[.fff]]` with `Z`, an
 * offset `±HH:MM`, or no offset (UTC, never local time). Returns the canonical form the log
 * stores (`toISOString()`, compared as text); fractions below a millisecond round up.
 */
export function timeOption(value: unknown, name: string): string | undefined {
  if (value === undefined) return undefined;
  const text = typeof value === 'string' ? value : '';
  const parsed = parseIsoTime(text);
  if (!parsed.ok) throw new UsageError(`--${name} ${JSON.stringify(text)} ${parsed.why}`);
  return parsed.iso;
}

export function typeOptions(value: unknown): EventType[] | undefined {
  if (value === undefined) return undefined;
  const list = (value as string[]).flatMap((v) => v.split(',')).filter((v) => v !== '');
  if (list.length === 0) throw new UsageError('--type needs an event type');
  for (const t of list) if (!isEventType(t)) throw new UsageError(`unknown event type ${JSON.stringify(t)}; known types: ${eventTypes.join(', ')}`);
  return list as EventType[];
}

/** Progress on stderr: counts and rate, redrawn in place on a terminal. */
export function progressReporter(io: Io, label: string): { update: (done: number, total?: number) => void; done: () => void } {
  const started = Date.now();
  let last = 0;
  let shown = false;
  return {
    update(done, total) {
      const now = Date.now();
      if (now - last < 250 && (total === undefined || done < total)) return;
      last = now;
      const rate = done / Math.max(0.001, (now - started) / 1000);
      const line = `${label}: ${done}${total === undefined ? '' : `/${total}`} (${Math.round(rate)}/s)`;
      if (io.tty) io.err(`\r${line}\x1b[K`);
      else io.err(`${line}\n`);
      shown = true;
    },
    done() {
      if (shown && io.tty) io.err('\n');
      shown = false;
    },
  };
}


/** Prints, as one line on stderr, a reader's warning that the store's files disagree (see SqlJsEventStore.integrityWarning). */
export function warnIfDamaged(io: Io, store: { readonly integrityWarning: string | null }): void {
  if (store.integrityWarning) io.err(`${store.integrityWarning}\n`);
}

/**
 * The OS user's name, for the record of who asked or forgot. A process running under a uid with no
 * passwd entry (containers, a team member's service account) has none: then the environment's, else
 * the uid.
 */
export function osUser(env: NodeJS.ProcessEnv): string {
  try {
    return userInfo().username;
  } catch {
    return env.USER || env.USERNAME || (process.getuid ? `uid ${process.getuid()}` : 'unknown user');
  }
}
