/** Mirrors the server's state into the `flowscribe.serverState` context key (views' empty states). */
import * as vscode from 'vscode';
import { ContextKeys } from './common/constants';
import type { FlowscribeServer } from './common/server';

export function watchServerState(server: FlowscribeServer): vscode.Disposable {
  const set = (): void => {
    void vscode.commands.executeCommand('setContext', ContextKeys.serverState, server.state);
  };
  set();
  return server.onDidChangeState(set);
}
