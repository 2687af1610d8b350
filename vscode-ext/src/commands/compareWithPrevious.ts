/** flowscribe.compareWithPrevious: what changed between a run (the item's, else the latest) and the one before it. */
import * as vscode from 'vscode';
import type { Services } from '../services';
import { compareUri } from '../views/compareDocument';
import type { RunArg } from './openArtifact';
import { runOf } from './openArtifact';

export async function compareWithPrevious(s: Services, arg?: RunArg): Promise<void> {
  const run = runOf(arg) ?? s.data.latestRun;
  const doc = await vscode.workspace.openTextDocument(
    compareUri({ runId: run?.runId, workspaceFolder: run?.workspaceFolder }),
  );
  await vscode.window.showTextDocument(doc, { preview: true });
}
