/**
 * flowscribe.selectInterpreter: lets the user pick the Python that runs the server, stores it in
 * the user settings (`flowscribe.python.interpreter`) and restarts the server.
 */
import * as os from 'os';
import * as vscode from 'vscode';
import { isSupportedPython } from '../common/pythonCandidates';
import { probeInterpreter } from '../common/python';
import { setUserInterpreter } from '../common/settings';
import type { Services } from '../services';

interface Choice extends vscode.QuickPickItem {
  action: 'browse' | 'type' | 'path';
  path?: string;
}

async function askForPath(): Promise<string | undefined> {
  const pick = await vscode.window.showQuickPick<Choice>(
    [
      { label: '$(folder-opened) Browse…', description: 'Pick a Python executable', action: 'browse' },
      { label: '$(edit) Enter a path…', description: 'e.g. /usr/bin/python3 or ~/.venv/bin/python', action: 'type' },
    ],
    { placeHolder: 'Python 3.9 or newer for the flowscribe language server' },
  );
  if (pick?.action === 'browse') {
    const files = await vscode.window.showOpenDialog({
      canSelectMany: false,
      openLabel: 'Use this Python',
      defaultUri: vscode.Uri.file(os.homedir()),
    });
    return files?.[0]?.fsPath;
  }
  if (pick?.action === 'type') {
    return vscode.window.showInputBox({ prompt: 'Path to a Python 3.9+ executable', ignoreFocusOut: true });
  }
  return undefined;
}

export async function selectInterpreter(s: Services): Promise<void> {
  const file = (await askForPath())?.trim();
  if (!file) {
    return;
  }
  let version: readonly number[] | undefined;
  try {
    version = (await probeInterpreter(file.replace(/^~(?=$|[\\/])/, os.homedir()))).version;
  } catch {
    version = undefined;
  }
  if (!version || !isSupportedPython(version)) {
    void vscode.window.showErrorMessage(
      `${file} is not Python 3.9 or newer${version ? ` (it is ${version.join('.')})` : ' (it did not run)'}. The setting was not changed.`,
    );
    return;
  }
  await setUserInterpreter(file);
  await s.server.restart();
}
