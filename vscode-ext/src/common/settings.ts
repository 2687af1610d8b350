/**
 * Reads the `flowscribe.*` settings, and shapes the part the server understands
 * (docs/lsp-protocol.md: initialization options and `workspace/didChangeConfiguration`).
 */
import * as vscode from 'vscode';
import { NAME, Settings } from './constants';

export interface ServerSettings {
  artifactsDir: string;
  markers: string[];
  diagnostics: { enabled: boolean; minSeverity: string };
  lenses: { enabled: boolean };
}

function config(scope?: vscode.ConfigurationScope): vscode.WorkspaceConfiguration {
  return vscode.workspace.getConfiguration(NAME, scope);
}

/** A setting's value; package.json's `contributes.configuration` holds every default. */
function value<T>(c: vscode.WorkspaceConfiguration, key: string): T {
  return c.get<T>(key) as T;
}

/**
 * The settings the server reads, for one workspace folder (or the window). The defaults are
 * package.json's; the server's own (settings.py, for other editors) are tested to match them.
 */
export function serverSettings(scope?: vscode.ConfigurationScope): ServerSettings {
  const c = config(scope);
  return {
    artifactsDir: value<string>(c, Settings.artifactsDir),
    markers: value<string[]>(c, Settings.markers),
    diagnostics: {
      enabled: value<boolean>(c, Settings.diagnosticsEnabled),
      minSeverity: value<string>(c, Settings.minSeverity),
    },
    lenses: { enabled: value<boolean>(c, Settings.lensesEnabled) },
  };
}

export function artifactsDir(folder: vscode.WorkspaceFolder): string {
  return serverSettings(folder).artifactsDir;
}

export function logLevelSetting(): string {
  return config().get<string>(Settings.logLevel, 'info');
}

/** Every source of `flowscribe.python.interpreter`, so Restricted Mode can pick the user's. */
export function interpreterSetting(scope?: vscode.ConfigurationScope): {
  globalValue?: string;
  workspaceValue?: string;
  workspaceFolderValue?: string;
} {
  const i = config(scope).inspect<string>(Settings.interpreter);
  return {
    globalValue: i?.globalValue,
    workspaceValue: i?.workspaceValue,
    workspaceFolderValue: i?.workspaceFolderValue,
  };
}

/** Stores an interpreter in the user's settings (never the workspace's: see Restricted Mode). */
export async function setUserInterpreter(file: string): Promise<void> {
  await config().update(Settings.interpreter, file, vscode.ConfigurationTarget.Global);
}

export function affects(e: vscode.ConfigurationChangeEvent, key: string): boolean {
  return e.affectsConfiguration(`${NAME}.${key}`);
}
