import { dirname, join } from 'node:path';
import { homedir, userInfo } from 'node:os';
import * as vscode from 'vscode';
import type { EngineSettings, PipelineSettings } from '../adapters/engineSettings.js';
import { pipelineFromConfiguration } from './pipelineSettings.js';
import { ledgerFolderName } from '../adapters/postgres/pgUrl.js';
import { DEFAULT_CONTEXT_TOKENS } from '../core/answer/prompt.js';
import { DEFAULT_ANSWER_TIMEOUT_MS, DEFAULT_MAX_ANSWER_CHARS } from '../app/ask/generator.js';

/** Settings that change what the pipeline produces: a change defines a new pipeline version. */
export const PIPELINE_SETTINGS = ['embedding.model', 'embedding.dimensions', 'embedding.dtype', 'chunking', 'retrieval', 'ollama.model'].map((s) => `ragLedger.${s}`);

/**
 * Where this workspace's store lives, from `ragLedger.store.location`: VS Code's storage for the
 * workspace, or a `.rag-ledger` folder: at the root of the folder; with several folders, next to
 * the saved `.code-workspace` file (the first folder's root while the workspace is untitled).
 */
export function storeDirFor(context: vscode.ExtensionContext, folder: vscode.WorkspaceFolder): string {
  const where = trustedSetting<string>(folder, 'store.location') ?? 'workspaceStorage';
  const team = teamLedgerSetting(folder);
  // A member of a team ledger keeps only its projections here, one folder per ledger.
  if (team.url) return join((context.storageUri ?? context.globalStorageUri).fsPath, 'team', ledgerFolderName(team.url));
  if (where === 'workspaceFolder' || !context.storageUri) {
    const file = vscode.workspace.workspaceFile;
    if ((vscode.workspace.workspaceFolders?.length ?? 0) > 1 && file?.scheme === 'file') return join(dirname(file.fsPath), '.rag-ledger');
    return join(folder.uri.fsPath, '.rag-ledger');
  }
  return join(context.storageUri.fsPath, 'store');
}

/**
 * A setting that decides where data goes (the store, the team ledger's server): in Restricted Mode
 * only the user's own value counts, never the workspace's.
 */
function trustedSetting<T>(folder: vscode.WorkspaceFolder, key: string): T | undefined {
  const c = vscode.workspace.getConfiguration('ragLedger', folder.uri);
  if (vscode.workspace.isTrusted) return c.get<T>(key);
  const i = c.inspect<T>(key);
  return i?.globalValue ?? i?.defaultValue;
}

/**
 * The team ledger the settings name: `ragLedger.store.location` "postgres" and its URL
 * (`ragLedger.store.postgresUrl`). `missing` when the location is set without a URL.
 */
export function teamLedgerSetting(folder: vscode.WorkspaceFolder): { readonly url: string | null; readonly missing: boolean } {
  if (trustedSetting<string>(folder, 'store.location') !== 'postgres') return { url: null, missing: false };
  const url = (trustedSetting<string>(folder, 'store.postgresUrl') ?? '').trim();
  return url ? { url, missing: false } : { url: null, missing: true };
}

/** The pipeline configuration the settings describe (the embedding dimensions only when set). */
export function pipelineFromSettings(folder: vscode.WorkspaceFolder): PipelineSettings {
  const c = vscode.workspace.getConfiguration('ragLedger', folder.uri);
  return pipelineFromConfiguration((key, fallback) => c.get(key, fallback));
}

/** Everything the engine needs, from the settings of the workspace folder. */
export function engineSettings(context: vscode.ExtensionContext, folder: vscode.WorkspaceFolder): EngineSettings {
  const c = vscode.workspace.getConfiguration('ragLedger', folder.uri);
  const modelDir = c.get<string>('embedding.modelDirectory', '').trim();
  const host = c.get<string>('ollama.host', '').trim();
  let user = 'unknown';
  try {
    user = userInfo().username;
  } catch {
    /* no user name on this platform */
  }
  const team = teamLedgerSetting(folder);
  return {
    storeDir: storeDirFor(context, folder),
    ...(team.url ? { team: { url: team.url } } : {}),
    workspaceRoot: folder.uri.fsPath,
    folders: (vscode.workspace.workspaceFolders ?? [folder]).filter((f) => f.uri.scheme === 'file').map((f) => ({ name: f.name, path: f.uri.fsPath })),
    pipeline: pipelineFromSettings(folder),
    walk: { include: c.get<string[]>('files.include', []), exclude: c.get<string[]>('files.exclude', []), respectGitignore: c.get<boolean>('files.respectGitignore', true) },
    documents: { maxBytes: c.get<number>('files.maxFileSize', 1_048_576), allowSecrets: c.get<boolean>('files.allowSecrets', false), secrets: c.get<string>('ingest.secrets', 'reject') === 'redact' ? 'redact' : 'reject' },
    ...(modelDir ? { modelDir: modelDir.startsWith('~') ? join(homedir(), modelDir.slice(1)) : modelDir } : process.env.RAG_LEDGER_MODEL_DIR ? { modelDir: process.env.RAG_LEDGER_MODEL_DIR } : {}),
    ollama: { ...(host ? { host } : {}), idleTimeoutMs: c.get<number>('ollama.timeoutSeconds', 120) * 1000, answerTimeoutMs: c.get<number>('ollama.answerTimeoutSeconds', DEFAULT_ANSWER_TIMEOUT_MS / 1000) * 1000, maxAnswerChars: c.get<number>('ollama.maxAnswerChars', DEFAULT_MAX_ANSWER_CHARS), contextTokens: c.get<number>('ollama.contextTokens', DEFAULT_CONTEXT_TOKENS) },
    embedBatchTimeoutMs: c.get<number>('embedding.batchTimeoutSeconds', 120) * 1000,
    indexBuildTimeoutMs: c.get<number>('index.buildTimeoutSeconds', 600) * 1000,
    actor: `vscode:${user}`,
    owner: `a VS Code window (${vscode.env.appName}, workspace ${vscode.workspace.name ?? folder.name})`,
  };
}
