/** flowscribe.showTimeline: the Run Timeline panel, for a run of the Runs view or the latest run. */
import type { Services } from '../services';
import { TimelinePanel } from '../timeline/panel';
import type { RunArg } from './openArtifact';
import { runOf } from './openArtifact';

export function showTimeline(s: Services, arg?: RunArg): Promise<void> {
  const run = runOf(arg);
  // No run named: the latest, followed live as new runs start.
  TimelinePanel.show(s, run ? { runId: run.runId, workspaceFolder: run.workspaceFolder } : {});
  return Promise.resolve();
}
