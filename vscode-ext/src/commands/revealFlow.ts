/** flowscribe.revealFlow [flowId]: the code lens's command; shows the flow in the Flows view. */
import * as vscode from 'vscode';
import type { Services } from '../services';
import type { FlowArg } from './flowArg';
import { resolveFlow } from './flowArg';

export async function revealFlow(s: Services, arg?: FlowArg): Promise<void> {
  const flowId = typeof arg === 'string' ? arg : (await resolveFlow(s, arg, 'Flow to reveal'))?.id;
  if (!flowId) {
    return;
  }
  const near = vscode.window.activeTextEditor?.document.uri;
  let node = s.flows.find(flowId, near);
  if (!node) {
    // A lens can be clicked before the first refresh finished, or right after a new run.
    await s.data.refresh();
    node = s.flows.find(flowId, near);
  }
  if (!node) {
    void vscode.window.showInformationMessage(
      `Flow ${flowId} is not in the Flows view yet: it appears once a run records it or .autodev/flows.yaml declares it.`,
    );
    return;
  }
  await s.flows.reveal(node);
}
