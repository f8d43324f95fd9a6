import { RagLedgerError } from '../core/errors.js';
import { cliSigner, setDefaultHeadSigner } from '../adapters/node/signing.js';
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

declare const RAG_LEDGER_VERSION: string | undefined;

/** Injected by esbuild from package.json; "dev" when running from sources. */
const VERSION = typeof RAG_LEDGER_VERSION === 'string' ? RAG_LEDGER_VERSION : 'dev';

const commands: readonly Command[] = [ingestCommand, askCommand, showCommand, replayCommand, compareCommand, searchCommand, evalCommand, pipelinesCommand, logCommand, appendCommand, statsCommand, verifyCommand, exportCommand, importCommand, rebuildCommand, recoverCommand, forgetCommand];

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

/** Runs the CLI and returns its exit code. Exported for tests; `dist/cli.js` calls it. */
export async function runCli(argv: string[], io: Io): Promise<number> {
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
    if (args === 'help') {
      io.out(`${cmd.usage}\n\n  --store DIR   the store directory (default: $RAG_LEDGER_STORE, else ./.rag-ledger)\n`);
      return 0;
    }
    // Writers seal the head they leave with this key (see core/signing.ts); resolved when a writer opens.
    setDefaultHeadSigner(() => cliSigner(io.env), (reason) => io.err(`rag-ledger ${cmd.name}: warning: ${reason}\n`));
    await cmd.run(args, io);
    return 0;
  } catch (err) {
    return reportError(err, io, cmd);
  }
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ');
}

/** Ends a message with a full stop unless it already ends a sentence ("...an archive?"). */
function sentence(text: string): string {
  const line = oneLine(text).trimEnd();
  return /[.?!]$/.test(line) ? line : `${line}.`;
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
  if (err instanceof RagLedgerError) {
    io.err(`rag-ledger ${cmd?.name ?? ''}: ${sentence(err.message)} ${oneLine(err.hint)}\n`);
    return 1;
  }
  const e = err as NodeJS.ErrnoException;
  if (e && typeof e.code === 'string' && typeof e.path === 'string') {
    io.err(`rag-ledger ${cmd?.name ?? ''}: ${e.code} on ${e.path}: ${oneLine(e.message)}. Check the path and its permissions.\n`);
    return 1;
  }
  io.err(`rag-ledger ${cmd?.name ?? ''}: unexpected error: ${oneLine(String((err as Error)?.stack ?? err))}. Please report this with the command you ran.\n`);
  return 1;
}

if (require.main === module) {
  const io: Io = streamIo(process.stdout, process.stderr, process.env, process.cwd(), process.stderr.isTTY === true);
  runCli(process.argv.slice(2), io).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      io.err(`rag-ledger: ${String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
