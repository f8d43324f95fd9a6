// `npm start`: builds and packages the extension, installs it into a real VS Code (code-server,
// installed and cached on first use), opens a copy of the sample workspace that ships with the
// project, and prints the URL to open in a browser. Ctrl+C stops the server.
//
// The copy lives in .cache/sample-workspace (kept between runs, so its ledger is too; delete the folder
// to start over). Settings: RAG_LEDGER_MODEL_DIR becomes the local model folder, OLLAMA_HOST the Ollama
// server; without a reachable embedding model the ledger still works, with full-text retrieval.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startCodeServer } from '../test/e2e/codeServer.mjs';
import { ensureTools } from '../test/e2e/tools.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

/** One clear line instead of a stack trace for what the user can fix (a missing package, a failed build). */
function fail(what, err) {
  console.error(`npm start: ${what}: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
  process.exit(1);
}

const tools = await ensureTools({ log: (line) => console.log(line), browser: false }).catch((err) => fail('VS Code (code-server) is not ready', err));
try {
  execFileSync(process.execPath, [join(root, 'scripts', 'package.mjs')], { cwd: root, stdio: 'inherit' });
} catch (err) {
  fail('building the extension failed (see above)', err);
}
const vsix = join(root, `${pkg.name}-${pkg.version}-${process.platform}-${process.arch}.vsix`);

const workspace = join(root, '.cache', 'sample-workspace');
if (!existsSync(workspace)) cpSync(join(root, 'test', 'fixtures', 'sample-workspace'), workspace, { recursive: true });

const settings = {
  'workbench.startupEditor': 'none',
  ...(process.env.RAG_LEDGER_MODEL_DIR ? { 'ragLedger.embedding.modelDirectory': process.env.RAG_LEDGER_MODEL_DIR } : {}),
  ...(process.env.OLLAMA_HOST ? { 'ragLedger.ollama.host': process.env.OLLAMA_HOST } : {}),
};
const server = await startCodeServer({ tools, runDir: join(root, '.cache', 'code-server'), userSettings: settings, vsix }).catch((err) => fail('code-server did not start', err));
const url = `${server.baseUrl}/?folder=${encodeURIComponent(workspace)}`;
console.log(`\nRAG Ledger is running in VS Code at\n\n    ${url}\n\nOpen it in a browser, then run "RAG Ledger: Ingest Workspace" from the command palette (F1), or the "Get Started with RAG Ledger" walkthrough,\nand ask "What happens when a channel is full?" (RAG Ledger: Ask a Question): the sample workspace answers it from docs/threads.md.\nServer log: ${server.logFile}. Ctrl+C stops the server.`);
const stop = async () => {
  await server.stop();
  process.exit(0);
};
process.once('SIGINT', () => void stop());
process.once('SIGTERM', () => void stop());
// Stay up until stopped (a pending promise alone would not keep Node running).
setInterval(() => {}, 1 << 30);
