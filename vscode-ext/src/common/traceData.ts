/**
 * The flows and runs the views show, fetched from the server (`flowscribe/flows`,
 * `flowscribe/runs`) when it starts, when it says runs changed, and on manual refresh.
 */
import * as vscode from 'vscode';
import { log } from './log';
import type { FlowNode, RunInfo } from './protocol';
import { Methods } from './protocol';
import type { FlowscribeServer } from './server';
import { latestRun, sortRunsNewestFirst } from './verdicts';

/** runsChanged arrives in bursts while a run writes; one refresh per burst is enough. */
const DEBOUNCE_MS = 300;

export class TraceData implements vscode.Disposable {
  private flowList: FlowNode[] = [];
  private runList: RunInfo[] = [];
  private generation = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly changeEmitter = new vscode.EventEmitter<void>();
  private readonly disposables: vscode.Disposable[] = [];

  readonly onDidChange = this.changeEmitter.event;

  constructor(private readonly server: FlowscribeServer) {
    this.disposables.push(
      this.changeEmitter,
      server.onRunsChanged((p) => {
        log.debug(`runsChanged: ${p.runId} in ${p.workspaceFolder}`);
        this.scheduleRefresh();
      }),
      // Editing the catalog or the config changes the flows (descriptions, parents, SLAs).
      vscode.workspace.onDidSaveTextDocument((doc) => {
        if (/(^|[\\/])(flows|ra)\.yaml$/.test(doc.uri.path)) {
          this.scheduleRefresh();
        }
      }),
      server.onDidChangeState((state) => {
        if (state === 'running') {
          void this.refresh();
        } else if (state !== 'starting') {
          this.clear();
        }
      }),
    );
  }

  get flows(): readonly FlowNode[] {
    return this.flowList;
  }

  /** Newest first. */
  get runs(): readonly RunInfo[] {
    return this.runList;
  }

  get latestRun(): RunInfo | undefined {
    return latestRun(this.runList);
  }

  scheduleRefresh(): void {
    if (this.timer) {
      clearTimeout(this.timer);
    }
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.refresh();
    }, DEBOUNCE_MS);
  }

  /** Fetches both lists; if refreshes overlap, the last one asked for wins. */
  async refresh(): Promise<void> {
    const generation = ++this.generation;
    const [flows, runs] = await Promise.all([
      this.server.request<{ flows?: FlowNode[] }>(Methods.flows, {}),
      this.server.request<{ runs?: RunInfo[] }>(Methods.runs, {}),
    ]);
    if (generation !== this.generation) {
      return;
    }
    this.flowList = Array.isArray(flows?.flows) ? flows.flows : [];
    this.runList = sortRunsNewestFirst(Array.isArray(runs?.runs) ? runs.runs : []);
    log.debug(`refreshed: ${this.flowList.length} flows, ${this.runList.length} runs`);
    this.changeEmitter.fire();
  }

  private clear(): void {
    this.generation++;
    if (this.flowList.length || this.runList.length) {
      this.flowList = [];
      this.runList = [];
      this.changeEmitter.fire();
    }
  }

  dispose(): void {
    if (this.timer) {
      clearTimeout(this.timer);
    }
    this.disposables.forEach((d) => {
      d.dispose();
    });
  }
}
