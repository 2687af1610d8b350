/**
 * Entry point. Activation only wires things up; the language server starts in the background
 * so the editor never waits for Python.
 */
import * as vscode from 'vscode';
import { registerMcpServers } from './agent/mcpServer';
import { registerParticipant } from './agent/participant';
import { registerAgentTools } from './agent/tools';
import { registerCommands } from './commands';
import { DISPLAY_NAME, NAME, Settings, VERSION } from './common/constants';
import { initLog, log, setLogLevel } from './common/log';
import { onPythonExtensionChange } from './common/python';
import { FlowscribeServer } from './common/server';
import { affects, logLevelSetting } from './common/settings';
import { TraceData } from './common/traceData';
import { registerFailureCodeActions } from './failureCodeActions';
import { watchServerState } from './serverState';
import type { Services } from './services';
import { StatusBar } from './statusBar';
import { CompareDocuments } from './views/compareDocument';
import { EventsDocuments } from './views/eventsDocument';
import { FlowsView } from './views/flowsView';
import { RunsView } from './views/runsView';

/** Set by the bundle's last line (esbuild.mjs): how long its top level took to run. */
declare const __flowscribeLoadMs: number | undefined;

let running: FlowscribeServer | undefined;

export function activate(context: vscode.ExtensionContext): void {
  const t0 = performance.now();
  const output = vscode.window.createOutputChannel(DISPLAY_NAME);
  initLog(output, logLevelSetting());
  const server = new FlowscribeServer(context, output, t0);
  running = server;
  const data = new TraceData(server);
  const services: Services = {
    context,
    server,
    data,
    flows: new FlowsView(data),
    runs: new RunsView(data),
    events: new EventsDocuments(server),
    compare: new CompareDocuments(server),
  };
  context.subscriptions.push(
    output,
    server,
    data,
    services.flows,
    services.runs,
    services.events,
    services.compare,
    new StatusBar(data, server),
    watchServerState(server),
    registerFailureCodeActions(),
    ...registerCommands(services),
    ...registerAgentTools(server),
    ...registerMcpServers(server),
    registerParticipant(context, server),
    data.onDidChange(() => services.events.refreshOpen()),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (affects(e, Settings.logLevel)) {
        setLogLevel(logLevelSetting());
      }
      if (affects(e, Settings.interpreter)) {
        void server.restart();
      } else if (e.affectsConfiguration(NAME)) {
        void server.sendSettings().then(() => data.scheduleRefresh());
      }
    }),
    vscode.workspace.onDidGrantWorkspaceTrust(() => void server.restart()),
    vscode.workspace.onDidChangeWorkspaceFolders(() => data.scheduleRefresh()),
  );

  // Background: the server (interpreter probe + process start) and the Python extension hook.
  void server.start();
  void onPythonExtensionChange(() => void server.restart()).then((d) => d && context.subscriptions.push(d));

  const end = performance.now();
  const load = typeof __flowscribeLoadMs === 'number' ? ` (+ ${__flowscribeLoadMs.toFixed(1)} ms loading the bundle)` : '';
  log.info(`${DISPLAY_NAME} ${VERSION} activated in ${(end - t0).toFixed(1)} ms${load}; the server starts in the background.`);
}

/** Lets VS Code wait for the server to shut down cleanly. */
export function deactivate(): Promise<void> | undefined {
  return running?.stop();
}
