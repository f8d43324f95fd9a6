import { CancelledError, RagLedgerError } from '../core/errors.js';
import { terminalSafe } from '../core/text/terminalText.js';
import { cliSigner, setDefaultHeadSigner } from '../adapters/node/signing.js';
import { setDefaultStoreNotice } from '../adapters/sqljs/sqljsEventStore.js';
import type { Command, Io } from './cliSupport.js';
import { CheckFailed, OutputClosed, UsageError, parseCommandArgs, streamIo } from './cliSupport.js';
import { appendCommand, logCommand, statsCommand, verifyCommand } from './commands/logCommands.js';
import { askCommand } from './commands/askCommand.js';
import { ingestCommand } from './commands/ingestCommand.js';
import { pipelinesCommand } from './commands/pipelinesCommand.js';
import { evalCommand } from './commands/evalCommand.js';
import { searchCommand } from './commands/searchCommand.js';
import { showCommand } from './commands/showCommand.js';
import { forgetCommand } from './commands/forgetCommand.js';
import { replayCommand } from './commands/replayCommand.js';
import { compareCommand } from './commands/compareCommand.js';
import { exportCommand, importCommand, rebuildCommand, recoverCommand } from './commands/maintenanceCommands.js';
import { migrateStoreCommand } from './commands/migrateStoreCommand.js';

declare const RAG_LEDGER_VERSION: string | undefined;

/** Injected by esbuild from package.json; "dev" when running from sources. */
const VERSION = typeof RAG_LEDGER_VERSION === 'string' ? RAG_LEDGER_VERSION : 'dev';

const commands: readonly Command[] = [ingestCommand, askCommand, showCommand, replayCommand, compareCommand, searchCommand, evalCommand, pipelinesCommand, logCommand, appendCommand, statsCommand, verifyCommand, exportCommand, importCommand, migrateStoreCommand, rebuildCommand, recoverCommand, forgetCommand];

/** The command names, in the order --help lists them (tests run every one). */
export const commandNames: readonly string[] = commands.map((c) => c.name);

function mainUsage(): string {
  return `rag-ledger ${VERSION}: the RAG Ledger event log from the command line

usage: rag-ledger <command> [options]

commands:
${commands.map((c) => `  ${c.name.padEnd(9)} ${c.summary}`).join('\n')}

options for every command:
  --store DIR   the store directory (default: $RAG_LEDGER_STORE, else ./.rag-ledger)
  --json        machine-readable output
  --help, -h    help for the command

exit codes: 0 success, 1 a failed check or operation, 2 bad usage
`;
}

const CLEAR_LINE = '\x1b[K';

/**
 * The Io every command writes through: text on stdout and everything on stderr has its control
 * characters shown as visible escapes (terminalSafe), so nothing a file or the log holds can drive
 * the terminal; `--json` output goes out exactly as the command wrote it. The one sequence kept is
 * the progress line's own redraw on a terminal (`\r` … `\x1b[K`, written by progressReporter).
 */
function terminalIo(io: Io, json: () => boolean): Io {
  return {
    ...io,
    out: (text) => io.out(json() ? text : terminalSafe(text)),
    err: (text) => {
      const redraw = io.tty && text.startsWith('\r') && text.endsWith(CLEAR_LINE);
      io.err(redraw ? `\r${terminalSafe(text.slice(1, -CLEAR_LINE.length))}${CLEAR_LINE}` : terminalSafe(text));
    },
  };
}

/** Runs the CLI and returns its exit code. Exported for tests; `dist/cli.js` calls it. */
export async function runCli(argv: string[], rawIo: Io): Promise<number> {
  let json = false;
  const io = terminalIo(rawIo, () => json);
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.out(mainUsage());
    return name === undefined ? 2 : 0;
  }
  if (name === '--version' || name === '-V') {
    io.out(`${VERSION}\n`);
    return 0;
  }
  const cmd = commands.find((c) => c.name === name);
  try {
    if (!cmd) throw new UsageError(`unknown command ${JSON.stringify(name)}; run rag-ledger --help for the list`);
    const args = parseCommandArgs(cmd, rest, io);
    if (args !== 'help') json = args.json;
    if (args === 'help') {
      io.out(`${cmd.usage}\n\n  --store DIR   the store directory (default: $RAG_LEDGER_STORE, else ./.rag-ledger)\n`);
      return 0;
    }
    // Writers seal the head they leave with this key (see core/signing.ts); resolved when a writer opens.
    setDefaultHeadSigner(() => cliSigner(io.env), (reason) => io.err(`rag-ledger ${cmd.name}: warning: ${reason}\n`));
    setDefaultStoreNotice((message) => io.err(`rag-ledger ${cmd.name}: ${message.replace(/^RAG Ledger: /, '')}\n`));
    await cmd.run(args, io);
    return 0;
  } catch (err) {
    return reportError(err, io, cmd);
  }
}

/** The longest error message printed; a library's error can quote pages of its own context. */
const MAX_MESSAGE = 400;

function oneLine(text: string): string {
  const line = text.replace(/\s*\n\s*/g, ' ');
  return line.length > MAX_MESSAGE ? `${line.slice(0, MAX_MESSAGE - 1)}…` : line;
}

/** Ends a message with a full stop unless it already ends a sentence ("...an archive?"). */
function sentence(text: string): string {
  const line = oneLine(text).trimEnd();
  return /[.?!]$/.test(line) ? line : `${line}.`;
}

/** What to do about a system error the commands did not turn into a RagLedgerError. */
function systemErrorHint(code: string, otherwise: string): string {
  if (code === 'ENOSPC' || code === 'EDQUOT') return 'The disk is full: free some space and run the command again.';
  if (code === 'EROFS') return 'The file system is read-only: use a writable store folder (--store DIR).';
  if (code === 'EACCES' || code === 'EPERM') return 'Permission denied: check the owner and the permissions of that path.';
  return otherwise;
}

function reportError(err: unknown, io: Io, cmd: Command | undefined): number {
  if (err instanceof OutputClosed) {
    if (err.readerGone) return 0;
    io.err(`rag-ledger ${cmd?.name ?? ''}: ${oneLine(err.message)}\n`);
    return 1;
  }
  if (err instanceof UsageError) {
    io.err(`rag-ledger${cmd ? ` ${cmd.name}` : ''}: ${oneLine(err.message)} (see rag-ledger ${cmd ? `${cmd.name} ` : ''}--help)\n`);
    return 2;
  }
  if (err instanceof CheckFailed) {
    io.err(`rag-ledger ${cmd?.name ?? ''}: ${oneLine(err.message)}\n`);
    return 1;
  }
  if (err instanceof CancelledError) {
    // Ctrl+C: the shell's convention for a command ended by SIGINT (128 + 2).
    io.err(`rag-ledger ${cmd?.name ?? ''}: ${sentence(err.message)} ${oneLine(err.hint)}\n`);
    return 130;
  }
  if (err instanceof RagLedgerError) {
    io.err(`rag-ledger ${cmd?.name ?? ''}: ${sentence(err.message)} ${oneLine(err.hint)}\n`);
    return 1;
  }
  const e = err as NodeJS.ErrnoException;
  if (e && typeof e.code === 'string' && typeof e.path === 'string') {
    io.err(`rag-ledger ${cmd?.name ?? ''}: ${e.code} on ${e.path}: ${oneLine(e.message)}. ${systemErrorHint(e.code, 'Check the path and its permissions.')}\n`);
    return 1;
  }
  if (e && typeof e.code === 'string' && typeof e.syscall === 'string') {
    io.err(`rag-ledger ${cmd?.name ?? ''}: ${e.code} during ${e.syscall}: ${oneLine(e.message)}. ${systemErrorHint(e.code, "Check the disk and the store folder's permissions.")}\n`);
    return 1;
  }
  // SQLite saying a database image is damaged where the store did not name the file itself.
  if (err instanceof Error && /database disk image is malformed|file is not a database/i.test(err.message)) {
    io.err(`rag-ledger ${cmd?.name ?? ''}: a store file is damaged (SQLite: ${oneLine(err.message)}). Run \`rag-ledger verify\` to see which, then \`rag-ledger recover\`: it keeps the damaged file beside the store and rebuilds from what is intact.\n`);
    return 1;
  }
  // A bug: one line with where it happened, never the whole stack.
  const frame = /\n\s+at (.*)/.exec(String((err as Error)?.stack ?? ''))?.[1];
  io.err(`rag-ledger ${cmd?.name ?? ''}: unexpected error: ${oneLine(err instanceof Error ? `${err.name}: ${err.message}` : String(err))}${frame ? ` (at ${frame})` : ''}. Please report this with the command you ran.\n`);
  return 1;
}

if (require.main === module) {
  const io: Io = streamIo(process.stdout, process.stderr, process.env, process.cwd(), process.stderr.isTTY === true);
  // Nothing left to wait on (an unref'd worker or handle still closing) must never end the process with
  // code 0 before the command has settled: this timer keeps it alive until then.
  const keepAlive = setInterval(() => undefined, 1 << 30);
  runCli(process.argv.slice(2), io).then(
    (code) => {
      clearInterval(keepAlive);
      process.exitCode = code;
    },
    (err: unknown) => {
      clearInterval(keepAlive);
      io.err(`rag-ledger: ${terminalSafe(String(err).split('\n')[0]!)}\n`);
      process.exitCode = 1;
    },
  );
}
