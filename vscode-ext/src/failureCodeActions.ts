/**
 * The quick fix "Ask Copilot about this failure" on the server's runtime-failure diagnostics
 * (source `flowscribe.trace`); it runs the askAboutFailure command with the diagnostic's facts.
 */
import * as vscode from 'vscode';
import type { FailureArg } from './commands/askAboutFailure';
import { Commands } from './common/constants';
import { DiagnosticSources, traceDiagnosticData } from './common/protocol';

export const ASK_TITLE = 'Ask Copilot about this failure';

function codeText(code: vscode.Diagnostic['code']): string | undefined {
  if (code === undefined) {
    return undefined;
  }
  return typeof code === 'object' ? String(code.value) : String(code);
}

export class FailureCodeActions implements vscode.CodeActionProvider {
  static readonly kinds = [vscode.CodeActionKind.QuickFix];

  provideCodeActions(
    document: vscode.TextDocument,
    _range: vscode.Range,
    context: vscode.CodeActionContext,
  ): vscode.CodeAction[] {
    return context.diagnostics
      .filter((d) => d.source === DiagnosticSources.trace)
      .map((d) => {
        const arg: FailureArg = {
          uri: document.uri.toString(),
          line: d.range.start.line + 1,
          message: d.message,
          code: codeText(d.code),
          // vscode-languageclient keeps the LSP diagnostic's `data` on the object it creates.
          data: traceDiagnosticData((d as { data?: unknown }).data),
        };
        const action = new vscode.CodeAction(ASK_TITLE, vscode.CodeActionKind.QuickFix);
        action.diagnostics = [d];
        action.command = { command: Commands.askAboutFailure, title: ASK_TITLE, arguments: [arg] };
        return action;
      });
  }
}

export function registerFailureCodeActions(): vscode.Disposable {
  return vscode.languages.registerCodeActionsProvider({ scheme: 'file' }, new FailureCodeActions(), {
    providedCodeActionKinds: FailureCodeActions.kinds,
  });
}
