/**
 * Read-only documents listing one flow's events (`flowscribe-events:` URIs), fetched with
 * `flowscribe/flowEvents`; each file:line is a link to the recorded line.
 */
import * as vscode from 'vscode';
import { EVENTS_SCHEME } from '../common/constants';
import { displayPath } from '../common/locations';
import type { FlowEventsParams, TraceEvent } from '../common/protocol';
import { Methods } from '../common/protocol';
import type { FlowscribeServer } from '../common/server';
import type { EventLink } from './eventLines';
import { renderEvents } from './eventLines';

/** The URI of the events document of a flow (optionally of one run / instance). */
export function eventsUri(params: FlowEventsParams): vscode.Uri {
  const query = new URLSearchParams();
  query.set('flowId', params.flowId);
  if (params.runId) {
    query.set('runId', params.runId);
  }
  if (params.instance) {
    query.set('instance', params.instance);
  }
  // The path is only the tab's title; the query carries the parameters.
  const title = `${params.flowId.replace(/[\\/]+/g, '.')} events.log`;
  return vscode.Uri.from({ scheme: EVENTS_SCHEME, path: `/${title}`, query: query.toString() });
}

function paramsOf(uri: vscode.Uri): FlowEventsParams {
  const q = new URLSearchParams(uri.query);
  const params: FlowEventsParams = { flowId: q.get('flowId') ?? '' };
  const runId = q.get('runId');
  const instance = q.get('instance');
  if (runId) {
    params.runId = runId;
  }
  if (instance) {
    params.instance = instance;
  }
  return params;
}

export class EventsDocuments implements vscode.TextDocumentContentProvider, vscode.DocumentLinkProvider, vscode.Disposable {
  private readonly links = new Map<string, EventLink[]>();
  private readonly changeEmitter = new vscode.EventEmitter<vscode.Uri>();
  private readonly disposables: vscode.Disposable[] = [];
  readonly onDidChange = this.changeEmitter.event;

  constructor(private readonly server: FlowscribeServer) {
    this.disposables.push(
      this.changeEmitter,
      vscode.workspace.registerTextDocumentContentProvider(EVENTS_SCHEME, this),
      vscode.languages.registerDocumentLinkProvider({ scheme: EVENTS_SCHEME }, this),
      vscode.workspace.onDidCloseTextDocument((d) => this.links.delete(d.uri.toString())),
    );
  }

  /** Re-fetches every open events document (after a run changed). */
  refreshOpen(): void {
    for (const doc of vscode.workspace.textDocuments) {
      if (doc.uri.scheme === EVENTS_SCHEME) {
        this.changeEmitter.fire(doc.uri);
      }
    }
  }

  async provideTextDocumentContent(uri: vscode.Uri, token: vscode.CancellationToken): Promise<string> {
    const params = paramsOf(uri);
    const result = await this.server.request<{ events?: TraceEvent[] }>(Methods.flowEvents, params, token);
    if (!result) {
      this.links.delete(uri.toString());
      return `Events of flow ${params.flowId}: the flowscribe server is not running, so they cannot be read.\n`;
    }
    const rendered = renderEvents(params, Array.isArray(result.events) ? result.events : [], displayPath);
    this.links.set(uri.toString(), rendered.links);
    return rendered.text;
  }

  provideDocumentLinks(document: vscode.TextDocument): vscode.DocumentLink[] {
    return (this.links.get(document.uri.toString()) ?? []).map((l) => {
      const target = vscode.Uri.parse(l.uri, true).with({ fragment: `L${l.targetLine}` });
      const link = new vscode.DocumentLink(new vscode.Range(l.line, l.startColumn, l.line, l.endColumn), target);
      link.tooltip = `Open ${displayPath(l.uri)} at line ${l.targetLine}`;
      return link;
    });
  }

  dispose(): void {
    this.disposables.forEach((d) => {
      d.dispose();
    });
  }
}
