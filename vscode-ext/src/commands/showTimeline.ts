/** flowscribe.showTimeline: the Run Timeline panel, for a run of the Runs view or the latest run. */
import type { RunInfo } from '../common/protocol';
import type { Services } from '../services';
import { TimelinePanel } from '../timeline/panel';
import type { RunsNode } from '../views/runsView';

export function showTimeline(s: Services, arg?: RunsNode | RunInfo): Promise<void> {
  const run = arg && 'kind' in arg ? arg.run : arg;
  // No run named: the latest, followed live as new runs start.
  TimelinePanel.show(s, run ? { runId: run.runId, workspaceFolder: run.workspaceFolder } : {});
  return Promise.resolve();
}
