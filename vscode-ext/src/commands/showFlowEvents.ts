/** flowscribe.showFlowEvents: the flow's events of the latest run, as a read-only document. */
import * as vscode from 'vscode';
import type { Services } from '../services';
import { eventsUri } from '../views/eventsDocument';
import type { FlowArg } from './flowArg';
import { resolveFlow } from './flowArg';

export async function showFlowEvents(s: Services, arg?: FlowArg): Promise<void> {
  const flow = await resolveFlow(s, arg, 'Flow whose events to show');
  if (!flow) {
    return;
  }
  const doc = await vscode.workspace.openTextDocument(eventsUri({ flowId: flow.id }));
  await vscode.window.showTextDocument(doc, { preview: true });
}
