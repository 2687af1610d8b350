/**
 * Opening places the server or a trace names. Only `file:` URIs are opened: a trace is
 * untrusted, and another scheme (`command:`, `vscode:`) could do more than show a file.
 */
import * as vscode from 'vscode';
import type { Location } from './protocol';

/** The URI if it is a well-formed `file:` URI, else undefined. */
export function fileUri(value: string | null | undefined): vscode.Uri | undefined {
  if (!value) {
    return undefined;
  }
  try {
    const uri = vscode.Uri.parse(value, true);
    return uri.scheme === 'file' ? uri : undefined;
  } catch {
    return undefined;
  }
}

/** A workspace-relative path for display (with the folder's name in multi-root), or the URI as text when it is no file. */
export function displayPath(uri: string): string {
  const parsed = fileUri(uri);
  return parsed ? vscode.workspace.asRelativePath(parsed) : uri;
}

export function toRange(loc: Location): vscode.Range {
  const r = loc.range;
  return new vscode.Range(r.start.line, r.start.character, r.end.line, r.end.character);
}

/** Opens a server Location (0-based range), selecting it. False when it is not a file. */
export async function openLocation(loc: Location, preview = true): Promise<boolean> {
  const uri = fileUri(loc.uri);
  if (!uri) {
    return false;
  }
  await vscode.window.showTextDocument(uri, { selection: toRange(loc), preview });
  return true;
}

/** Opens a file at a 1-based line. False when it is not a file. */
export async function openFileAt(uriText: string | null | undefined, line: number | null | undefined): Promise<boolean> {
  const uri = fileUri(uriText);
  if (!uri) {
    return false;
  }
  const l = Math.max(0, (line ?? 1) - 1);
  await vscode.window.showTextDocument(uri, { selection: new vscode.Range(l, 0, l, 0), preview: true });
  return true;
}

/** A URI string in VS Code's own spelling, so the server's and the editor's compare equal. */
export function normalizeUri(value: string): string {
  try {
    return vscode.Uri.parse(value, true).toString();
  } catch {
    return value;
  }
}
