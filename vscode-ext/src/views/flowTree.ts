/**
 * Turns the server's flat FlowNode list into the catalog hierarchy the Flows view shows, and
 * says in words what each flow's status, counts and latency are. Pure: unit-tested directly.
 */
import type { FlowNode, FlowStatus } from '../common/protocol';

export interface FlowTreeNode {
  kind: 'flow';
  /** Unique across the tree (and across workspace folders): the TreeItem id. */
  key: string;
  flow: FlowNode;
  parentKey: string | undefined;
  children: FlowTreeNode[];
}

export interface FolderTreeNode {
  kind: 'folder';
  key: string;
  folder: string;
  name: string;
  children: FlowTreeNode[];
}

export type TreeNode = FlowTreeNode | FolderTreeNode;

export function flowKey(workspaceFolder: string, flowId: string): string {
  return `flow:${workspaceFolder}#${flowId}`;
}

/**
 * Nests flows under their catalog `parent` (within one workspace folder), keeping the server's
 * order. A parent that is missing, or a parent chain that loops, makes the flow a root. When
 * the flows come from more than one workspace folder, each folder becomes a top-level node.
 */
export function buildFlowTree(flows: readonly FlowNode[], folderName: (uri: string) => string): TreeNode[] {
  const byFolder = new Map<string, FlowNode[]>();
  for (const f of flows) {
    const list = byFolder.get(f.workspaceFolder) ?? [];
    list.push(f);
    byFolder.set(f.workspaceFolder, list);
  }
  const roots: TreeNode[] = [];
  for (const [folder, list] of byFolder) {
    const folderRoots = nestFlows(folder, list);
    if (byFolder.size > 1) {
      roots.push({ kind: 'folder', key: `folder:${folder}`, folder, name: folderName(folder), children: folderRoots });
    } else {
      roots.push(...folderRoots);
    }
  }
  return roots;
}

function nestFlows(folder: string, flows: readonly FlowNode[]): FlowTreeNode[] {
  const byId = new Map<string, FlowNode>();
  for (const f of flows) {
    if (!byId.has(f.id)) {
      byId.set(f.id, f);
    }
  }
  const nodes = new Map<string, FlowTreeNode>();
  for (const f of byId.values()) {
    nodes.set(f.id, { kind: 'flow', key: flowKey(folder, f.id), flow: f, parentKey: undefined, children: [] });
  }
  const roots: FlowTreeNode[] = [];
  for (const node of nodes.values()) {
    const parentId = node.flow.parent;
    const parent = parentId ? nodes.get(parentId) : undefined;
    if (parent && !loops(node.flow.id, byId)) {
      node.parentKey = parent.key;
      parent.children.push(node);
    } else {
      roots.push(node);
    }
  }
  return roots;
}

/** Whether following `parent` links from `id` comes back to `id`. */
function loops(id: string, byId: ReadonlyMap<string, FlowNode>): boolean {
  const seen = new Set<string>([id]);
  let cur = byId.get(id)?.parent;
  while (cur) {
    if (seen.has(cur)) {
      return cur === id;
    }
    seen.add(cur);
    cur = byId.get(cur)?.parent ?? undefined;
  }
  return false;
}

/** Every flow node, depth first: for finding a flow by id. */
export function* walkFlows(nodes: readonly TreeNode[]): Generator<FlowTreeNode> {
  for (const n of nodes) {
    if (n.kind === 'flow') {
      yield n;
    }
    yield* walkFlows(n.children);
  }
}

const STATUS_WORDS: Record<FlowStatus, string> = {
  passed: 'passed',
  failed: 'failed',
  unfinished: 'unfinished',
  never_run: 'never run',
  disabled: 'disabled',
  uncatalogued: 'not in catalog',
};

export function statusWord(status: FlowStatus): string {
  return STATUS_WORDS[status] ?? String(status);
}

/** `812 ms`, `1.2 s`. */
export function formatMs(ms: number): string {
  if (ms < 1000) {
    return `${Math.round(ms)} ms`;
  }
  return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
}

/** `p95 1.2 s > SLA 1.0 s`, or undefined without a p95. */
export function latencyText(flow: Pick<FlowNode, 'p95Ms' | 'slaP95Ms'>): string | undefined {
  if (flow.p95Ms === null || flow.p95Ms === undefined) {
    return undefined;
  }
  const p95 = `p95 ${formatMs(flow.p95Ms)}`;
  if (flow.slaP95Ms === null || flow.slaP95Ms === undefined) {
    return p95;
  }
  return `${p95} ${flow.p95Ms > flow.slaP95Ms ? '>' : '≤'} SLA ${formatMs(flow.slaP95Ms)}`;
}

/** Whether the flow's p95 is over its SLA. */
export function overSla(flow: Pick<FlowNode, 'p95Ms' | 'slaP95Ms'>): boolean {
  return flow.p95Ms !== null && flow.slaP95Ms !== null && flow.p95Ms > flow.slaP95Ms;
}

/** `2 passed, 1 failed, 3 orphaned`: the non-zero counts in words, or undefined when all are zero. */
export function countsText(counts: FlowNode['counts']): string | undefined {
  const parts: string[] = [];
  if (counts.passed) {
    parts.push(`${counts.passed} passed`);
  }
  if (counts.failed) {
    parts.push(`${counts.failed} failed`);
  }
  if (counts.unfinished) {
    parts.push(`${counts.unfinished} unfinished`);
  }
  if (counts.orphaned) {
    parts.push(`${counts.orphaned} orphaned`);
  }
  return parts.length ? parts.join(', ') : undefined;
}

/** What failed last, by its most telling name: the exception's type, else the error class. */
export function lastFailureName(flow: Pick<FlowNode, 'lastFailure'>): string | undefined {
  const lf = flow.lastFailure;
  return (lf?.exceptionType || lf?.errorClass) ?? undefined;
}

/**
 * `✓4 ✗1 TimeoutError · 3 orphaned`: the non-zero counts short enough for a tree row beside the
 * flow id (marks for the common verdicts, the last failure's name right after its ✗, words for
 * the rare states), or undefined when there is nothing to say.
 */
export function shortCounts(counts: FlowNode['counts'], lastFailure?: string): string | undefined {
  const failed = counts.failed ? `✗${counts.failed}${lastFailure ? ` ${lastFailure}` : ''}` : '';
  const marks = [counts.passed ? `✓${counts.passed}` : '', failed].filter((p) => p).join(' ');
  const parts = [marks];
  if (counts.unfinished) {
    parts.push(`${counts.unfinished} unfinished`);
  }
  if (counts.orphaned) {
    parts.push(`${counts.orphaned} orphaned`);
  }
  const text = parts.filter((p) => p).join(' · ');
  return text || undefined;
}

/** The tree item's description: counts with the last failure, p95 vs SLA, or what the status means. */
export function flowDescription(flow: FlowNode): string {
  const last = flow.status === 'failed' ? lastFailureName(flow) : undefined;
  const parts = [shortCounts(flow.counts, last), latencyText(flow)].filter((p): p is string => !!p);
  if (parts.length === 0) {
    return statusWord(flow.status);
  }
  return parts.join(' · ');
}

/** What a screen reader says: the flow id, its status, then counts and latency in words. */
export function flowAccessibleLabel(flow: FlowNode): string {
  const last = flow.status === 'failed' ? lastFailureName(flow) : undefined;
  const parts = [flow.id, statusWord(flow.status), countsText(flow.counts), last && `last ${last}`, latencyText(flow)];
  return parts.filter((p): p is string => !!p).join(', ');
}

/** Plain-text lines of the tooltip (the view escapes them into markdown). */
export function flowTooltipLines(flow: FlowNode, relPath: (uri: string) => string): string[] {
  const lines = [`${flow.id} — ${statusWord(flow.status)}`];
  if (flow.description) {
    lines.push(flow.description);
  }
  const counts = countsText(flow.counts);
  if (counts) {
    lines.push(`Latest run: ${counts}`);
  }
  const latency = latencyText(flow);
  if (latency) {
    lines.push(overSla(flow) ? `${latency} (over SLA)` : latency);
  }
  const lf = flow.lastFailure;
  if (lf) {
    // An exception's reason starts with its type already ("TimeoutError: ...").
    const reason = lf.exceptionType && lf.reason?.startsWith(`${lf.exceptionType}: `) ? lf.reason.slice(lf.exceptionType.length + 2) : lf.reason;
    const what = [lastFailureName(flow), reason].filter((p) => !!p).join(': ') || 'failure';
    const where = lf.uri ? ` at ${relPath(lf.uri)}${lf.line ? `:${lf.line}` : ''}` : '';
    lines.push(`Last failure: ${what}${where} (run ${lf.runId})`);
  }
  return lines;
}

/**
 * The tree item's contextValue: words that package.json's `viewItem =~ /\bword\b/` menus
 * match on.
 */
export function flowContextValue(flow: FlowNode): string {
  const words = ['flow', `status-${flow.status}`];
  if (flow.catalog) {
    words.push('hasCatalog');
  }
  if (flow.lastFailure) {
    words.push('hasFailure');
  }
  if (flow.markers.length > 0) {
    words.push('hasMarker');
  }
  return words.join(' ');
}
