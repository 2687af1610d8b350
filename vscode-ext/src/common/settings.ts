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

/** The settings the server reads, for one workspace folder (or the window). */
export function serverSettings(scope?: vscode.ConfigurationScope): ServerSettings {
  const c = config(scope);
  return {
    artifactsDir: c.get<string>(Settings.artifactsDir, '.autodev') || '.autodev',
    markers: c.get<string[]>(Settings.markers, ['start_flow', 'flow', 'traced']),
    diagnostics: {
      enabled: c.get<boolean>(Settings.diagnosticsEnabled, true),
      minSeverity: c.get<string>(Settings.minSeverity, 'warn'),
    },
    lenses: { enabled: c.get<boolean>(Settings.lensesEnabled, true) },
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
