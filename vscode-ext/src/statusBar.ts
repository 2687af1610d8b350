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
    if (this.server.state === 'failed') {
      item.text = '$(error) flowscribe: server failed';
      item.tooltip = 'The flowscribe language server did not start or kept crashing. Click to see its log.';
      item.accessibilityInformation = { label: 'flowscribe server failed; show its log' };
      item.command = Commands.showLog;
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
    item.tooltip = this.tooltip(run.runId, run.app, !!run.artifacts?.ask);
    item.accessibilityInformation = { label: `flowscribe latest run: ${verdict.text.slice(2)}` };
    item.command = { command: Commands.openSummary, title: 'Open summary.md', arguments: [run] };
    item.show();
  }

  /** The run's id and app are untrusted text; the only links are our own two commands. */
  private tooltip(runId: string, app: string | null, hasAsk: boolean): vscode.MarkdownString {
    const md = new vscode.MarkdownString(undefined, true);
    md.isTrusted = { enabledCommands: [Commands.openSummary, Commands.openAskInChat, Commands.showTimeline] };
    md.supportHtml = false;
    md.appendText(`flowscribe: latest run ${runId}${app ? ` of ${app}` : ''}`);
    md.appendMarkdown(`\n\n[$(book) Open summary.md](command:${Commands.openSummary})`);
    md.appendMarkdown(` · [$(graph-line) Show Run Timeline](command:${Commands.showTimeline})`);
    if (hasAsk) {
      md.appendMarkdown(` · [$(comment-discussion) Open ask.md in Copilot Chat](command:${Commands.openAskInChat})`);
    }
    return md;
  }

  dispose(): void {
    this.disposables.forEach((d) => {
      d.dispose();
    });
  }
}
