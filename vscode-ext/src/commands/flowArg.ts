/** The flow a command is about: the tree item it was run on, a flow id, or one the user picks. */
import * as vscode from 'vscode';
import type { FlowNode } from '../common/protocol';
import type { Services } from '../services';
import type { FlowTreeNode } from '../views/flowTree';
import { statusWord } from '../views/flowTree';

export type FlowArg = FlowTreeNode | FlowNode | string | undefined;

export async function resolveFlow(s: Services, arg: FlowArg, placeHolder: string): Promise<FlowNode | undefined> {
  if (typeof arg === 'string') {
    return s.flows.find(arg)?.flow;
  }
  if (arg && 'kind' in arg && arg.kind === 'flow') {
    return arg.flow;
  }
  if (arg && 'id' in arg) {
    return arg;
  }
  if (s.data.flows.length === 0) {
    void vscode.window.showInformationMessage('No flows yet: run your app with flowscribe, or declare flows in .autodev/flows.yaml.');
    return undefined;
  }
  const picked = await vscode.window.showQuickPick(
    s.data.flows.map((flow) => ({ label: flow.id, description: statusWord(flow.status), flow })),
    { placeHolder, matchOnDescription: true },
  );
  return picked?.flow;
}
