/**
 * The Flows view: the catalog hierarchy with a status icon per flow, counts and p95 vs SLA as
 * the description, the last failure in the tooltip; a click goes to the flow's marker in code.
 */
import * as vscode from 'vscode';
import { Views } from '../common/constants';
import { displayPath, fileUri, normalizeUri, toRange } from '../common/locations';
import type { FlowNode, FlowStatus } from '../common/protocol';
import type { TraceData } from '../common/traceData';
import type { FlowTreeNode, TreeNode } from './flowTree';
import {
  buildFlowTree,
  flowAccessibleLabel,
  flowContextValue,
  flowDescription,
  flowTooltipLines,
  walkFlows,
} from './flowTree';

const ICONS: Record<FlowStatus, vscode.ThemeIcon> = {
  passed: new vscode.ThemeIcon('pass', new vscode.ThemeColor('testing.iconPassed')),
  failed: new vscode.ThemeIcon('error', new vscode.ThemeColor('testing.iconFailed')),
  unfinished: new vscode.ThemeIcon('warning', new vscode.ThemeColor('list.warningForeground')),
  never_run: new vscode.ThemeIcon('circle-large-outline', new vscode.ThemeColor('disabledForeground')),
  disabled: new vscode.ThemeIcon('circle-slash', new vscode.ThemeColor('disabledForeground')),
  uncatalogued: new vscode.ThemeIcon('question', new vscode.ThemeColor('list.warningForeground')),
};

export class FlowsView implements vscode.TreeDataProvider<TreeNode>, vscode.Disposable {
  private roots: TreeNode[] = [];
  private byKey = new Map<string, TreeNode>();
  private readonly changeEmitter = new vscode.EventEmitter<TreeNode | undefined>();
  private readonly disposables: vscode.Disposable[] = [];
  readonly onDidChangeTreeData = this.changeEmitter.event;
  readonly view: vscode.TreeView<TreeNode>;

  constructor(private readonly data: TraceData) {
    this.view = vscode.window.createTreeView(Views.flows, {
      treeDataProvider: this,
      showCollapseAll: true,
    });
    this.disposables.push(this.view, this.changeEmitter, data.onDidChange(() => this.rebuild()));
    this.rebuild();
  }

  private rebuild(): void {
    const folders = new Map((vscode.workspace.workspaceFolders ?? []).map((f) => [f.uri.toString(), f.name]));
    this.roots = buildFlowTree(this.data.flows, (uri) => folders.get(normalizeUri(uri)) ?? displayPath(uri));
    this.byKey = new Map();
    const index = (nodes: readonly TreeNode[]): void => {
      for (const n of nodes) {
        this.byKey.set(n.key, n);
        index(n.children);
      }
    };
    index(this.roots);
    this.changeEmitter.fire(undefined);
  }

  getChildren(node?: TreeNode): TreeNode[] {
    return node ? node.children : this.roots;
  }

  getParent(node: TreeNode): TreeNode | undefined {
    if (node.kind === 'folder') {
      return undefined;
    }
    if (node.parentKey) {
      return this.byKey.get(node.parentKey);
    }
    return this.roots.find((r) => r.kind === 'folder' && r.folder === node.flow.workspaceFolder);
  }

  getTreeItem(node: TreeNode): vscode.TreeItem {
    const state = node.children.length
      ? vscode.TreeItemCollapsibleState.Expanded
      : vscode.TreeItemCollapsibleState.None;
    if (node.kind === 'folder') {
      const item = new vscode.TreeItem(node.name, state);
      item.id = node.key;
      item.iconPath = vscode.ThemeIcon.Folder;
      item.contextValue = 'folder';
      const failed = [...walkFlows(node.children)].filter((n) => n.flow.status === 'failed').length;
      item.description = failed ? `${failed} failed` : undefined;
      item.accessibilityInformation = { label: `workspace folder ${node.name}${failed ? `, ${failed} failed flows` : ''}` };
      return item;
    }
    const flow = node.flow;
    const item = new vscode.TreeItem(flow.id, state);
    item.id = node.key;
    item.description = flowDescription(flow);
    item.iconPath = ICONS[flow.status] ?? ICONS.uncatalogued;
    item.contextValue = flowContextValue(flow);
    item.accessibilityInformation = { label: flowAccessibleLabel(flow), role: 'treeitem' };
    item.tooltip = tooltip(flow);
    const target = flow.markers[0] ?? flow.catalog;
    const uri = fileUri(target?.uri);
    if (target && uri) {
      item.command = {
        command: 'vscode.open',
        title: flow.markers[0] ? 'Go to Marker' : 'Open Catalog Entry',
        arguments: [uri, { selection: toRange(target), preview: true }],
      };
    }
    return item;
  }

  /** Finds a flow by id, preferring the workspace folder of `near` when several folders have it. */
  find(flowId: string, near?: vscode.Uri): FlowTreeNode | undefined {
    const matches = [...walkFlows(this.roots)].filter((n) => n.flow.id === flowId);
    if (near && matches.length > 1) {
      const folder = vscode.workspace.getWorkspaceFolder(near)?.uri.toString();
      return matches.find((n) => normalizeUri(n.flow.workspaceFolder) === folder) ?? matches[0];
    }
    return matches[0];
  }

  /** Shows the view and selects the flow. */
  async reveal(node: FlowTreeNode): Promise<void> {
    await this.view.reveal(node, { select: true, focus: true, expand: true });
  }

  dispose(): void {
    this.disposables.forEach((d) => {
      d.dispose();
    });
  }
}

/** Untrusted text from the trace, rendered as escaped markdown: no links run, no HTML. */
function tooltip(flow: FlowNode): vscode.MarkdownString {
  const md = new vscode.MarkdownString(undefined, false);
  md.isTrusted = false;
  md.supportHtml = false;
  flowTooltipLines(flow, displayPath).forEach((line, i) => {
    if (i > 0) {
      md.appendMarkdown('\n\n');
    }
    md.appendText(line);
  });
  return md;
}
