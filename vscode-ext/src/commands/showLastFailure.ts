/** flowscribe.showLastFailure: opens the line where the flow last failed and says why. */
import * as vscode from 'vscode';
import { openFileAt } from '../common/locations';
import type { Services } from '../services';
import { plain } from '../views/eventLines';
import type { FlowArg } from './flowArg';
import { resolveFlow } from './flowArg';

export async function showLastFailure(s: Services, arg?: FlowArg): Promise<void> {
  const flow = await resolveFlow(s, arg, 'Flow whose last failure to show');
  if (!flow) {
    return;
  }
  const lf = flow.lastFailure;
  if (!lf) {
    void vscode.window.showInformationMessage(`Flow ${flow.id} has no recorded failure.`);
    return;
  }
  if (!(await openFileAt(lf.uri, lf.line))) {
    void vscode.window.showInformationMessage(`The last failure of ${flow.id} has no file in this workspace.`);
    return;
  }
  // The reason comes from the trace: plain text, and `$(` so the status bar shows no icon syntax.
  const what = [plain(lf.errorClass, 80), plain(lf.reason, 160)].filter((p) => p).join(': ').replace(/\$\(/g, '$\u200b(');
  vscode.window.setStatusBarMessage(`flowscribe: ${flow.id} failed: ${what || 'failure'} (run ${plain(lf.runId, 60)})`, 10_000);
}
