/**
 * The status-bar item: the latest run's verdict (`✗ 2 failures`); a click opens its summary.md.
 * Without a usable Python it offers to pick one instead.
 */
import * as vscode from 'vscode';
import { Commands, NAME } from './common/constants';
import type { FlowscribeServer } from './common/server';
import type { TraceData } from './common/traceData';
import { runVerdict } from './common/verdicts';

export class StatusBar implements vscode.Disposable {
  private readonly item: vscode.StatusBarItem;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    private readonly data: TraceData,
    private readonly server: FlowscribeServer,
  ) {
    this.item = vscode.window.createStatusBarItem(`${NAME}.status`, vscode.StatusBarAlignment.Left, 50);
    this.item.name = 'flowscribe: latest run';
    this.disposables.push(
      this.item,
      data.onDidChange(() => this.update()),
      server.onDidChangeState(() => this.update()),
    );
    this.update();
  }

  private update(): void {
    const item = this.item;
    if (this.server.state === 'noPython') {
      item.text = '$(warning) flowscribe: no Python';
      item.tooltip = 'flowscribe needs Python 3.9 or newer for its language server. Click to pick one.';
      item.accessibilityInformation = { label: 'flowscribe needs a Python interpreter; select one' };
      item.command = Commands.selectInterpreter;
      item.show();
      return;
    }
    const run = this.data.latestRun;
    if (!run) {
      item.hide();
      return;
    }
    const verdict = runVerdict(run.verdicts);
    item.text = verdict.text;
    item.tooltip = `flowscribe: latest run ${run.runId}${run.app ? ` of ${run.app}` : ''}. Click to open its summary.md.`;
    item.accessibilityInformation = { label: `flowscribe latest run: ${verdict.text.slice(2)}` };
    item.command = { command: Commands.openSummary, title: 'Open summary.md', arguments: [run] };
    item.show();
  }

  dispose(): void {
    this.disposables.forEach((d) => {
      d.dispose();
    });
  }
}
