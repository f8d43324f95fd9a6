// Child process for test/int/concurrentIngest.int.test.ts: a second window's engine. Not a test itself.
//
//   node --import tsx test/support/engineWindow.ts <settings JSON> <question>
//
// Opens a WorkspaceEngine with the given settings (as a VS Code window would), ingests the workspace,
// asks the question, prints one JSON line {"ingested": n, "queryId": id} and exits.
import { WorkspaceEngine } from '../../src/adapters/workspaceEngine.js';
import type { EngineSettings } from '../../src/adapters/engineSettings.js';

const [settingsJson, question] = process.argv.slice(2);
if (!settingsJson || !question) {
  process.stderr.write('usage: engineWindow.ts <settings JSON> <question>\n');
  process.exit(2);
}

async function main(settings: EngineSettings, question: string): Promise<void> {
  const engine = await WorkspaceEngine.open(settings);
  try {
    const ingest = await engine.ingest();
    const answer = await engine.ask(question, { userId: 'the other window' });
    process.stdout.write(`${JSON.stringify({ ingested: ingest.ingest.submitted, queryId: answer.queryId })}\n`);
  } finally {
    await engine.close();
  }
}

main(JSON.parse(settingsJson) as EngineSettings, question).catch((err: unknown) => {
  process.stderr.write(`engineWindow failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
