/**
 * Finds the Python that runs the bundled server: the setting, else the Python extension's
 * active interpreter, else python3 / python on PATH; each is checked to be >= 3.9 by running it.
 */
import { execFile } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as vscode from 'vscode';
import { errorText, log } from './log';
import type { Candidate, InterpreterSource } from './pythonCandidates';
import {
  MIN_PYTHON,
  VERSION_PROBE_ARGS,
  expandPath,
  interpreterCandidates,
  isSupportedPython,
  parsePythonVersion,
} from './pythonCandidates';
import { interpreterSetting } from './settings';

export interface Interpreter {
  command: string;
  version: string;
  source: InterpreterSource;
  /** The version came from VersionCache rather than from running the interpreter. */
  cached: boolean;
}

export interface Resolution {
  interpreter: Interpreter | undefined;
  /** Candidates that were tried and why each was refused. */
  refused: { candidate: Candidate; why: string }[];
}

/** The subset of the Python extension's API used here (its `environments` API). */
interface PythonExtensionApi {
  environments?: {
    getActiveEnvironmentPath(resource?: vscode.Uri): { path: string };
    resolveEnvironment(env: { path: string } | string): Promise<{ executable: { uri?: vscode.Uri } } | undefined>;
    onDidChangeActiveEnvironmentPath: vscode.Event<unknown>;
  };
}

const PYTHON_EXTENSION_ID = 'ms-python.python';
const PROBE_TIMEOUT_MS = 10_000;

function firstFolder(): vscode.WorkspaceFolder | undefined {
  return vscode.workspace.workspaceFolders?.[0];
}

async function pythonExtensionApi(): Promise<PythonExtensionApi | undefined> {
  const ext = vscode.extensions.getExtension<PythonExtensionApi>(PYTHON_EXTENSION_ID);
  if (!ext) {
    return undefined;
  }
  try {
    return ext.isActive ? ext.exports : await ext.activate();
  } catch (err) {
    log.warn(`The Python extension did not activate: ${errorText(err)}`);
    return undefined;
  }
}

/** The Python extension's active interpreter for the first workspace folder, if any. */
async function pythonExtensionInterpreter(): Promise<string | undefined> {
  const api = await pythonExtensionApi();
  const envs = api?.environments;
  if (!envs) {
    return undefined;
  }
  try {
    const active = envs.getActiveEnvironmentPath(firstFolder()?.uri);
    const resolved = await envs.resolveEnvironment(active);
    return resolved?.executable.uri?.fsPath ?? active.path;
  } catch (err) {
    log.warn(`Could not read the Python extension's interpreter: ${errorText(err)}`);
    return undefined;
  }
}

/** Calls `listener` when the Python extension's active interpreter changes (trusted workspaces). */
export async function onPythonExtensionChange(listener: () => void): Promise<vscode.Disposable | undefined> {
  if (!vscode.workspace.isTrusted || !vscode.extensions.getExtension(PYTHON_EXTENSION_ID)) {
    return undefined;
  }
  const api = await pythonExtensionApi();
  return api?.environments?.onDidChangeActiveEnvironmentPath(() => listener());
}

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/**
 * Versions of interpreters already probed, kept across sessions: running a pyenv shim just to
 * read its version costs a few hundred milliseconds of every start. An entry holds only while
 * the file keeps its size, mtime and inode; a shim that now runs another Python is caught when
 * the server fails to start (the server then drops the entry and probes again).
 */
export class VersionCache {
  private static readonly KEY = 'pythonVersions';

  constructor(private readonly memento: vscode.Memento) {}

  get(command: string): string | undefined {
    const entry = this.entries()[command];
    return entry && entry.fingerprint === fingerprint(command) ? entry.version : undefined;
  }

  async set(command: string, version: string): Promise<void> {
    const fp = fingerprint(command);
    if (fp) {
      await this.memento.update(VersionCache.KEY, { ...this.entries(), [command]: { version, fingerprint: fp } });
    }
  }

  async delete(command: string): Promise<void> {
    const entries = { ...this.entries() };
    delete entries[command];
    await this.memento.update(VersionCache.KEY, entries);
  }

  private entries(): Record<string, { version: string; fingerprint: string } | undefined> {
    return this.memento.get(VersionCache.KEY, {});
  }
}

function fingerprint(command: string): string | undefined {
  try {
    const st = fs.statSync(command);
    return `${st.size}:${st.mtimeMs}:${st.ino}`;
  } catch {
    return undefined;
  }
}

/** Runs the interpreter once to read its version. */
export function probeVersion(command: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(command, [...VERSION_PROBE_ARGS], { timeout: PROBE_TIMEOUT_MS, windowsHide: true }, (err, stdout) => {
      if (err) {
        reject(err instanceof Error ? err : new Error('the interpreter did not run'));
      } else {
        resolve(stdout.trim());
      }
    });
  });
}

/** Tries each candidate in order; the first Python >= 3.9 wins. */
export async function resolveInterpreter(cache?: VersionCache): Promise<Resolution> {
  const trusted = vscode.workspace.isTrusted;
  const folder = firstFolder();
  const { candidates, notes } = interpreterCandidates({
    setting: interpreterSetting(folder),
    trusted,
    pythonExtension: trusted ? await pythonExtensionInterpreter() : undefined,
    pathEnv: process.env.PATH,
    platform: process.platform,
    isExecutable,
    expand: (v) => expandPath(v, os.homedir(), folder?.uri.fsPath),
  });
  notes.forEach((n) => log.info(n));
  const refused: Resolution['refused'] = [];
  for (const candidate of candidates) {
    try {
      const known = cache?.get(candidate.command);
      const out = known ?? (await probeVersion(candidate.command));
      const version = parsePythonVersion(out);
      if (version && isSupportedPython(version)) {
        const text = version.join('.');
        log.info(`Python ${text} from ${candidate.source}${known ? ' (version cached)' : ''}: ${candidate.command}`);
        if (!known) {
          await cache?.set(candidate.command, text);
        }
        const interpreter = { command: candidate.command, version: text, source: candidate.source, cached: !!known };
        return { interpreter, refused };
      }
      refused.push({ candidate, why: `it is Python ${out || '(unknown version)'}; ${MIN_PYTHON.join('.')} or newer is needed` });
    } catch (err) {
      refused.push({ candidate, why: `it did not run: ${errorText(err)}` });
    }
  }
  for (const r of refused) {
    log.warn(`Not using ${r.candidate.command} (${r.candidate.source}): ${r.why}`);
  }
  if (candidates.length === 0) {
    log.warn('No Python interpreter found: no setting, no Python extension interpreter, no python3/python on PATH.');
  }
  return { interpreter: undefined, refused };
}
