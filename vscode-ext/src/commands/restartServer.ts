/** flowscribe.restartServer: stops the language server and starts it again (re-picking the interpreter). */
import * as vscode from 'vscode';
import { log } from '../common/log';
import type { Services } from '../services';

export async function restartServer(s: Services): Promise<void> {
  log.info('Restarting the server on request.');
  await s.server.restart();
  vscode.window.setStatusBarMessage(`flowscribe: server ${s.server.state}`, 5000);
}
