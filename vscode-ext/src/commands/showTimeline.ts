/**
 * flowscribe.showTimeline: the Run Timeline panel, for a run of the Runs view, the latest
 * run, or (from a flow marker's `timeline` lens) the latest run filtered to that flow.
 */
import type { Services } from '../services';
import { TimelinePanel } from '../timeline/panel';
import type { RunArg } from './openArtifact';
import { runOf } from './openArtifact';

/** A lens's argument (docs/lsp-protocol.md): the flow to filter to, in a workspace folder. */
export interface FlowLensArg {
  flow: string;
  workspaceFolder?: string | null;
}

function isFlowArg(arg: unknown): arg is FlowLensArg {
  return typeof arg === 'object' && arg !== null && typeof (arg as { flow?: unknown }).flow === 'string' && !('kind' in arg) && !('runId' in arg);
}

export function showTimeline(s: Services, arg?: RunArg | FlowLensArg): Promise<void> {
  if (isFlowArg(arg)) {
    // The latest run of the lens's folder, followed live, showing that flow only.
    TimelinePanel.show(s, arg.workspaceFolder ? { workspaceFolder: arg.workspaceFolder } : {}, { flow: arg.flow, where: '', verdict: '' });
    return Promise.resolve();
  }
  const run = runOf(arg);
  // No run named: the latest, followed live as new runs start.
  TimelinePanel.show(s, run ? { runId: run.runId, workspaceFolder: run.workspaceFolder } : {});
  return Promise.resolve();
}
