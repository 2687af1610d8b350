/**
 * flowscribe.openSummary / openAsk / openTrace: open a run's summary.md, ask.md or trace.jsonl
 * (the run of the tree item, else the latest run). Without a server, the files in each folder's
 * artifacts directory are used, so these work even when no Python was found.
 */
import * as vscode from 'vscode';
import type { RunInfo } from '../common/protocol';
import { artifactsDir } from '../common/settings';
import type { Services } from '../services';
import type { ArtifactKind, RunsNode } from '../views/runsView';
import { ARTIFACT_FILES, artifactUri } from '../views/runsView';

export type RunArg = RunsNode | RunInfo | undefined;

/** The run a command was invoked on (a Runs view item, or a run). */
export function runOf(arg: RunArg): RunInfo | undefined {
  if (!arg) {
    return undefined;
  }
  if (!('kind' in arg)) {
    return arg;
  }
  return arg.kind === 'tests' ? undefined : arg.run;
}

/** The newest `<folder>/<artifactsDir>/<file>` across workspace folders, read from disk. */
async function newestOnDisk(file: string): Promise<vscode.Uri | undefined> {
  let best: { uri: vscode.Uri; mtime: number } | undefined;
  for (const folder of vscode.workspace.workspaceFolders ?? []) {
    const uri = vscode.Uri.joinPath(folder.uri, artifactsDir(folder), file);
    try {
      const stat = await vscode.workspace.fs.stat(uri);
      if (!best || stat.mtime > best.mtime) {
        best = { uri, mtime: stat.mtime };
      }
    } catch {
      // not in this folder
    }
  }
  return best?.uri;
}

/** Where the artifact is: the given run's, else the latest run's, else the newest on disk. */
export async function findArtifact(s: Services, kind: ArtifactKind, arg: RunArg): Promise<vscode.Uri | undefined> {
  if (arg && 'kind' in arg && arg.kind === 'artifact' && arg.artifact === kind) {
    return arg.uri;
  }
  const run = runOf(arg) ?? s.data.latestRun;
  return (run && artifactUri(run, kind)) ?? (arg ? undefined : await newestOnDisk(ARTIFACT_FILES[kind]));
}

export function noArtifactMessage(kind: ArtifactKind): string {
  const file = ARTIFACT_FILES[kind];
  const when = kind === 'ask' ? ' It is written when a run ends (by default when it had failures).' : '';
  return `No ${file} yet: run your app with flowscribe first.${when}`;
}

export function openArtifact(kind: ArtifactKind): (s: Services, arg?: RunArg) => Promise<void> {
  return async (s, arg) => {
    const uri = await findArtifact(s, kind, arg);
    if (!uri) {
      void vscode.window.showInformationMessage(noArtifactMessage(kind));
      return;
    }
    await vscode.window.showTextDocument(uri, { preview: true });
  };
}
