/**
 * Read-only documents comparing a run with the one before it (`flowscribe-compare:` URIs):
 * `flowscribe/compareRuns`' changes, one per line, as `flowscribe diff` prints them.
 */
import * as vscode from 'vscode';
import { COMPARE_SCHEME } from '../common/constants';
import type { CompareRunsParams, CompareRunsResult } from '../common/protocol';
import { renderComparison } from './compareText';
import { Methods } from '../common/protocol';
import type { FlowscribeServer } from '../common/server';

/** The URI of the comparison of run `runId` (in `workspaceFolder`) with its previous run. */
export function compareUri(params: CompareRunsParams): vscode.Uri {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (typeof value === 'string' && value) {
      query.set(key, value);
    }
  }
  const title = `${params.runId ?? 'latest'} vs previous.diff.txt`;
  return vscode.Uri.from({ scheme: COMPARE_SCHEME, path: `/${title}`, query: query.toString() });
}

export class CompareDocuments implements vscode.TextDocumentContentProvider, vscode.Disposable {
  private readonly registration: vscode.Disposable;

  constructor(private readonly server: FlowscribeServer) {
    this.registration = vscode.workspace.registerTextDocumentContentProvider(COMPARE_SCHEME, this);
  }

  async provideTextDocumentContent(uri: vscode.Uri, token: vscode.CancellationToken): Promise<string> {
    const q = new URLSearchParams(uri.query);
    const params: CompareRunsParams = {};
    for (const key of ['runId', 'baseRunId', 'workspaceFolder'] as const) {
      const value = q.get(key);
      if (value) {
        params[key] = value;
      }
    }
    const result = await this.server.request<CompareRunsResult>(Methods.compareRuns, params, token);
    return renderComparison(result);
  }

  dispose(): void {
    this.registration.dispose();
  }
}
