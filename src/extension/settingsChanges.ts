import * as vscode from 'vscode';
import type { EngineHost } from './engineHost.js';
import { showError } from './engineHost.js';
import { PIPELINE_SETTINGS } from './settings.js';

/**
 * Follows the settings: the next operation uses them; a new store location or team ledger takes
 * effect after a reload (offered); settings that change results define a new pipeline version, and
 * the user picks whether to build it in the shadow, build and activate it, or neither.
 */
export function watchSettingsChanges(host: EngineHost, log: vscode.LogOutputChannel, buildVersion: (version: string) => Promise<unknown>): vscode.Disposable {
  return vscode.workspace.onDidChangeConfiguration(async (e) => {
    if (!e.affectsConfiguration('ragLedger')) return;
    host.settingsChanged();
    if ((e.affectsConfiguration('ragLedger.store.location') || e.affectsConfiguration('ragLedger.store.postgresUrl')) && host.current) {
      void vscode.window.showInformationMessage('RAG Ledger: the new store location takes effect when the window reloads (the open store stays where it is until then).', 'Reload Window').then((p) => p && vscode.commands.executeCommand('workbench.action.reloadWindow'));
    }
    if (!PIPELINE_SETTINGS.some((s) => e.affectsConfiguration(s)) || !host.current) return;
    try {
      const engine = host.current;
      const configured = engine.configuredVersion();
      log.info(`pipeline settings changed: they describe ${configured.version}${configured.defined ? ` (already defined${configured.active ? ', active' : ''})` : ' (new)'}`);
      if (configured.defined) {
        host.changed();
        return;
      }
      const version = await engine.defineConfigured(`settings ${new Date().toISOString().slice(0, 16).replace('T', ' ')}`);
      host.changed();
      const picked = await vscode.window.showInformationMessage(`RAG Ledger: the new settings define pipeline version ${version}. Build it in the shadow (questions keep using ${engine.ledger.readModels.activePipeline() ?? 'the active version'}), or build and activate it now?`, 'Build in the Shadow', 'Build and Activate', 'Not Now');
      if (picked === 'Build in the Shadow') await buildVersion(version);
      if (picked === 'Build and Activate') {
        await buildVersion(version);
        await engine.activate(version);
        host.changed();
        void vscode.window.showInformationMessage(`RAG Ledger: ${version} is now active; new questions use it.`);
      }
    } catch (err) {
      await showError(err, log, 'defining a pipeline version from the settings');
    }
  });
}
