/** What the commands work with: created once in extension.ts. */
import type * as vscode from 'vscode';
import type { FlowscribeServer } from './common/server';
import type { TraceData } from './common/traceData';
import type { CompareDocuments } from './views/compareDocument';
import type { EventsDocuments } from './views/eventsDocument';
import type { FlowsView } from './views/flowsView';
import type { RunsView } from './views/runsView';

export interface Services {
  context: vscode.ExtensionContext;
  server: FlowscribeServer;
  data: TraceData;
  flows: FlowsView;
  runs: RunsView;
  events: EventsDocuments;
  compare: CompareDocuments;
}
