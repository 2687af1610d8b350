/**
 * The Run Timeline panel: one webview showing a run's timeline and the picture of its flows
 * (`flowscribe/timeline`, `flowscribe/flowGraph`), refreshed when the server says runs
 * changed. Webview security: a strict CSP with a nonce, scripts and styles only from the
 * extension's media folder, and the only thing the webview can ask for besides data is
 * opening a `file:` URI inside the workspace.
 */
import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import { fileUri, openFileAt } from '../common/locations';
import { log } from '../common/log';
import type { Services } from '../services';
import type { FlowGraphModel, FromWebview, TimelineFilters, TimelineModel, ToWebview } from './model';

const TIMELINE = 'flowscribe/timeline';
const FLOW_GRAPH = 'flowscribe/flowGraph';
const NO_FILTERS: TimelineFilters = { flow: '', where: '', verdict: '' };

export interface RunRef {
  runId?: string;
  workspaceFolder?: string;
}

export class TimelinePanel implements vscode.Disposable {
  private static current: TimelinePanel | undefined;
  private filters: TimelineFilters = NO_FILTERS;
  private readonly disposables: vscode.Disposable[] = [];

  /** Shows the panel for `run` (default: the latest run, followed live), with `filters`
   * when given (a lens: its flow), else the ones the panel had. */
  static show(s: Services, run: RunRef, filters?: TimelineFilters): void {
    if (TimelinePanel.current) {
      TimelinePanel.current.run = run;
      if (filters) {
        TimelinePanel.current.filters = filters;
      }
      TimelinePanel.current.panel.reveal();
      void TimelinePanel.current.update();
      return;
    }
    TimelinePanel.current = new TimelinePanel(s, run);
    if (filters) {
      TimelinePanel.current.filters = filters;
    }
  }

  private readonly panel: vscode.WebviewPanel;

  private constructor(
    private readonly s: Services,
    private run: RunRef,
  ) {
    const media = vscode.Uri.joinPath(s.context.extensionUri, 'media');
    this.panel = vscode.window.createWebviewPanel('flowscribe.timeline', 'flowscribe: Run Timeline', vscode.ViewColumn.Active, {
      enableScripts: true,
      localResourceRoots: [media],
    });
    this.panel.webview.html = html(this.panel.webview, media);
    this.disposables.push(
      this.panel.onDidDispose(() => this.dispose()),
      this.panel.webview.onDidReceiveMessage((m: FromWebview) => void this.onMessage(m)),
      // A live run: the data refreshes on the server's runsChanged, and so does the panel.
      s.data.onDidChange(() => void this.update()),
    );
  }

  private async onMessage(m: FromWebview): Promise<void> {
    if (m.type === 'ready') {
      await this.update();
    } else if (m.type === 'filters') {
      this.filters = { flow: String(m.filters.flow ?? ''), where: String(m.filters.where ?? ''), verdict: m.filters.verdict ?? '' };
      await this.update();
    } else if (m.type === 'open') {
      await openInWorkspace(m.uri, m.line);
    }
  }

  private async update(): Promise<void> {
    const params: Record<string, unknown> = { ...this.run };
    const f = this.filters;
    const query = { ...params, ...(f.flow ? { flow: f.flow } : {}), ...(f.where ? { where: f.where } : {}), ...(f.verdict ? { verdict: f.verdict } : {}) };
    const [timeline, graph] = await Promise.all([
      this.s.server.request<TimelineModel>(TIMELINE, query),
      this.s.server.request<FlowGraphModel>(FLOW_GRAPH, params),
    ]);
    const message: ToWebview = {
      type: 'data',
      timeline: timeline ?? { runId: null, lanes: [], bars: [], marks: [], ticks: [], error: 'the server did not answer' },
      graph: graph ?? { runId: null, nodes: [], sequence: null },
      filters: f,
    };
    log.debug(`timeline: ${message.timeline.bars.length} bars, ${message.timeline.marks.length} marks`);
    await this.panel.webview.postMessage(message);
  }

  dispose(): void {
    TimelinePanel.current = undefined;
    this.disposables.forEach((d) => {
      d.dispose();
    });
    this.panel.dispose();
  }
}

/** Opens a file the webview names, only when it is a `file:` URI inside a workspace folder. */
async function openInWorkspace(uriText: unknown, line: unknown): Promise<void> {
  const uri = typeof uriText === 'string' ? fileUri(uriText) : undefined;
  if (!uri || !vscode.workspace.getWorkspaceFolder(uri)) {
    log.warn(`timeline: not opening ${String(uriText)}: not a file in the workspace`);
    return;
  }
  await openFileAt(uri.toString(), typeof line === 'number' ? line : null);
}

function html(webview: vscode.Webview, media: vscode.Uri): string {
  const nonce = randomBytes(16).toString('base64');
  const script = webview.asWebviewUri(vscode.Uri.joinPath(media, 'timeline.js'));
  const style = webview.asWebviewUri(vscode.Uri.joinPath(media, 'timeline.css'));
  const csp = `default-src 'none'; img-src ${webview.cspSource}; script-src 'nonce-${nonce}'; style-src ${webview.cspSource}`;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="${style.toString()}">
<title>flowscribe: Run Timeline</title>
</head>
<body>
<div id="app"></div>
<script nonce="${nonce}" src="${script.toString()}"></script>
</body>
</html>`;
}
