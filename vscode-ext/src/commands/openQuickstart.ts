/** flowscribe.openQuickstart: opens the "Get started" walkthrough. */
import * as vscode from 'vscode';
import { WALKTHROUGH_ID } from '../common/constants';

export async function openQuickstart(): Promise<void> {
  await vscode.commands.executeCommand('workbench.action.openWalkthrough', WALKTHROUGH_ID, false);
}
