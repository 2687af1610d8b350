/**
 * The Runs view: the app's runs newest first, named by time, verdict and size (the id in the tooltip); under each, its
 * summary.md, ask.md and trace.jsonl (the ones that exist), opened with a click. Runs of pytest sessions are apart,
 * under "Test runs": they never displace the app's latest run.
 */
import * as vscode from 'vscode';
import { Commands, Views } from '../common/constants';
import { displayPath, fileUri, normalizeUri } from '../common/locations';
import type { RunInfo } from '../common/protocol';
import type { TraceData } from '../common/traceData';
import { runVerdict } from '../common/verdicts';
import { runAccessibleLabel, runLabel, runTooltipLines } from './runLabels';

export type ArtifactKind = 'summary' | 'ask' | 'trace';

export const ARTIFACT_FILES: Record<ArtifactKind, string> = {
  summary: 'summary.md',
  ask: 'ask.md',
  trace: 'trace.jsonl',
};

export interface RunNode {
  kind: 'run';
  key: string;
  run: RunInfo;
  newest: boolean;
}

export interface ArtifactNode {
  kind: 'artifact';
  key: string;
  run: RunInfo;
  artifact: ArtifactKind;
  uri: vscode.Uri;
}

export interface TestRunsNode {
  kind: 'tests';
  key: string;
  runs: RunNode[];
}

export type RunsNode = RunNode | ArtifactNode | TestRunsNode;

const VERDICT_ICONS = {
  failed: new vscode.ThemeIcon('error', new vscode.ThemeColor('testing.iconFailed')),
  unfinished: new vscode.ThemeIcon('warning', new vscode.ThemeColor('list.warningForeground')),
  passed: new vscode.ThemeIcon('pass', new vscode.ThemeColor('testing.iconPassed')),
  empty: new vscode.ThemeIcon('circle-large-outline'),
} as const;

const ARTIFACT_ICONS: Record<ArtifactKind, vscode.ThemeIcon> = {
  summary: new vscode.ThemeIcon('book'),
  ask: new vscode.ThemeIcon('comment-discussion'),
  trace: new vscode.ThemeIcon('json'),
};

/** The run's artifact URI, when it has that artifact and it is a file. */
export function artifactUri(run: RunInfo, kind: ArtifactKind): vscode.Uri | undefined {
  return fileUri(run.artifacts?.[kind]);
}

export class RunsView implements vscode.TreeDataProvider<RunsNode>, vscode.Disposable {
  private nodes: RunNode[] = [];
  private tests: TestRunsNode | undefined;
  private readonly changeEmitter = new vscode.EventEmitter<RunsNode | undefined>();
  private readonly disposables: vscode.Disposable[] = [];
  readonly onDidChangeTreeData = this.changeEmitter.event;
  readonly view: vscode.TreeView<RunsNode>;

  constructor(private readonly data: TraceData) {
    this.view = vscode.window.createTreeView(Views.runs, { treeDataProvider: this });
    this.disposables.push(this.view, this.changeEmitter, data.onDidChange(() => this.rebuild()));
    this.rebuild();
  }

  private rebuild(): void {
    const node = (run: RunInfo, newest: boolean): RunNode => ({
      kind: 'run',
      key: `run:${normalizeUri(run.workspaceFolder)}#${run.runId}`,
      run,
      newest,
    });
    const app = this.data.runs.filter((r) => !r.testRun);
    const tests = this.data.runs.filter((r) => r.testRun);
    this.nodes = app.map((run, i) => node(run, i === 0));
    this.tests = tests.length ? { kind: 'tests', key: 'tests', runs: tests.map((run) => node(run, false)) } : undefined;
    this.changeEmitter.fire(undefined);
  }

  getChildren(node?: RunsNode): RunsNode[] {
    if (!node) {
      return this.tests ? [...this.nodes, this.tests] : this.nodes;
    }
    if (node.kind === 'tests') {
      return node.runs;
    }
    if (node.kind === 'artifact') {
      return [];
    }
    const out: ArtifactNode[] = [];
    for (const artifact of ['summary', 'ask', 'trace'] as const) {
      const uri = artifactUri(node.run, artifact);
      if (uri) {
        out.push({ kind: 'artifact', key: `${node.key}#${artifact}`, run: node.run, artifact, uri });
      }
    }
    return out;
  }

  getParent(node: RunsNode): RunsNode | undefined {
    if (node.kind === 'tests') {
      return undefined;
    }
    const runs = [...this.nodes, ...(this.tests?.runs ?? [])];
    if (node.kind === 'artifact') {
      return runs.find((n) => n.run === node.run);
    }
    return this.tests?.runs.includes(node) ? this.tests : undefined;
  }

  getTreeItem(node: RunsNode): vscode.TreeItem {
    if (node.kind === 'tests') {
      const n = node.runs.length;
      const item = new vscode.TreeItem('Test runs', vscode.TreeItemCollapsibleState.Collapsed);
      item.id = node.key;
      item.iconPath = new vscode.ThemeIcon('beaker');
      item.description = `${n} pytest session${n === 1 ? '' : 's'}`;
      item.tooltip = 'Runs recorded while pytest ran (the flowscribe pytest plugin): kept apart from the app\'s runs.';
      item.contextValue = 'testRuns';
      return item;
    }
    if (node.kind === 'artifact') {
      const item = new vscode.TreeItem(ARTIFACT_FILES[node.artifact], vscode.TreeItemCollapsibleState.None);
      item.id = node.key;
      item.iconPath = ARTIFACT_ICONS[node.artifact];
      item.resourceUri = node.uri;
      item.tooltip = `Open ${displayPath(node.uri.toString())} (run ${node.run.runId})`;
      item.accessibilityInformation = { label: `${ARTIFACT_FILES[node.artifact]} of run ${node.run.runId}` };
      item.contextValue = `artifact artifact-${node.artifact}${node.artifact === 'ask' ? ' hasAsk' : ''}`;
      item.command = { command: 'vscode.open', title: 'Open', arguments: [node.uri] };
      return item;
    }
    const run = node.run;
    const now = new Date();
    const hasAny = (['summary', 'ask', 'trace'] as const).some((k) => artifactUri(run, k));
    const item = new vscode.TreeItem(
      runLabel(run, now, node.newest),
      !hasAny
        ? vscode.TreeItemCollapsibleState.None
        : node.newest
          ? vscode.TreeItemCollapsibleState.Expanded
          : vscode.TreeItemCollapsibleState.Collapsed,
    );
    item.id = node.key;
    item.iconPath = VERDICT_ICONS[runVerdict(run.verdicts).kind];
    item.accessibilityInformation = { label: runAccessibleLabel(run, now, node.newest), role: 'treeitem' };
    item.tooltip = runTooltipLines(run, now).join('\n');
    const words = ['run'];
    for (const [kind, word] of [
      ['summary', 'hasSummary'],
      ['ask', 'hasAsk'],
      ['trace', 'hasTrace'],
    ] as const) {
      if (artifactUri(run, kind)) {
        words.push(word);
      }
    }
    item.contextValue = words.join(' ');
    const summary = artifactUri(run, 'summary');
    if (summary) {
      item.command = { command: Commands.openSummary, title: 'Open summary.md', arguments: [node] };
    }
    return item;
  }

  dispose(): void {
    this.disposables.forEach((d) => {
      d.dispose();
    });
  }
}
