import * as vscode from 'vscode';
import { parseTeamLedgerUrl, passwordKey } from '../adapters/postgres/pgUrl.js';
import type { EngineHost } from './engineHost.js';
import { teamLedgerSetting } from './settings.js';

/**
 * RAG Ledger: Set Team Ledger Password…: asks for the password of the role the team ledger's URL
 * names, keeps it in VS Code's secret storage (per role and server; empty forgets it), and reopens
 * the ledger with it.
 */
export async function setTeamLedgerPassword(context: vscode.ExtensionContext, host: EngineHost, log: vscode.LogOutputChannel): Promise<void> {
  const folder = host.folder;
  const url = folder ? teamLedgerSetting(folder).url : null;
  if (!url) {
    const picked = await vscode.window.showInformationMessage('RAG Ledger: no team ledger is set. Set ragLedger.store.location to "postgres" and ragLedger.store.postgresUrl to its URL first.', 'Open Settings');
    if (picked) await vscode.commands.executeCommand('workbench.action.openSettings', 'ragLedger.store');
    return;
  }
  const { display } = parseTeamLedgerUrl(url);
  const password = await vscode.window.showInputBox({
    title: 'RAG Ledger: Team Ledger Password',
    prompt: `The password of ${display.split('/')[0]}, kept in VS Code's secret storage (leave empty to forget it and use PGPASSWORD or ~/.pgpass).`,
    password: true,
    ignoreFocusOut: true,
  });
  if (password === undefined) return;
  if (password === '') await context.secrets.delete(passwordKey(url));
  else await context.secrets.store(passwordKey(url), password);
  log.info(`the team ledger password for ${display.split('/')[0]} was ${password === '' ? 'forgotten' : 'stored in secret storage'}`);
  await host.reopen();
  if (!host.current) await host.get();
  host.changed();
  const team = host.team;
  void vscode.window.showInformationMessage(team?.offline ? `RAG Ledger: password stored, but the team ledger ${team.server} cannot be reached: ${team.offline}` : `RAG Ledger: connected to the team ledger ${team?.server ?? display}.`);
}
