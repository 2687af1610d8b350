/**
 * Finds the Python that runs the bundled server: the setting, else the Python extension's
 * active interpreter, else python3 / python on PATH; each is checked to be >= 3.9 by running it
 * (or by VersionCache), and the server then runs the binary that probe reported.
 */
import { execFile } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as vscode from 'vscode';
import { errorText, log } from './log';
import type { Candidate, InterpreterSource, ProbeOutput } from './pythonCandidates';
import {
  MIN_PYTHON,
  PROBE_ARGS,
  expandPath,
  interpreterCandidates,
  isSupportedPython,
  parseProbeOutput,
  parsePythonVersion,
} from './pythonCandidates';
import { interpreterSetting } from './settings';
import { VersionCache } from './versionCache';

export interface Interpreter {
  /** The candidate as found (setting, Python extension, PATH): what the user recognises. */
  command: string;
  /** What runs the server: the binary the probe reported (a shim or symlink resolved). */
  executable: string;
  /** The folder the probe ran in (part of VersionCache's key). */
  cwd: string;
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

/** `size:mtime:inode` of a file (following symlinks), for VersionCache. */
function fingerprint(file: string): string | undefined {
  try {
    const st = fs.statSync(file);
    return `${st.size}:${st.mtimeMs}:${st.ino}`;
  } catch {
    return undefined;
  }
}

/** The cache of probed interpreters, kept in the extension's global state. */
export function versionCache(memento: vscode.Memento): VersionCache {
  return new VersionCache(memento, fingerprint);
}

/**
 * Where interpreters are probed: a pyenv shim picks its Python from the folder's
 * `.python-version`. Only a trusted workspace gets that say; otherwise the home folder.
 */
export function probeFolder(): string {
  const folder = firstFolder();
  const trusted = vscode.workspace.isTrusted && folder?.uri.scheme === 'file' && fs.existsSync(folder.uri.fsPath);
  return trusted ? folder.uri.fsPath : os.homedir();
}

/** Runs the interpreter once to read its version and the binary that really runs. */
export function probeInterpreter(command: string, cwd = probeFolder()): Promise<ProbeOutput> {
  return new Promise((resolve, reject) => {
    execFile(command, [...PROBE_ARGS], { cwd, timeout: PROBE_TIMEOUT_MS, windowsHide: true }, (err, stdout) => {
      if (err) {
        reject(err instanceof Error ? err : new Error('the interpreter did not run'));
      } else {
        resolve(parseProbeOutput(stdout));
      }
    });
  });
}

/** The probed (or cached) version and executable of a candidate. */
async function probed(command: string, cwd: string, cache: VersionCache | undefined): Promise<{ out: ProbeOutput; cached: boolean }> {
  const known = cache?.get(command, cwd);
  if (known) {
    const out = { versionText: known.version, version: parsePythonVersion(known.version), executable: known.executable };
    return { out, cached: true };
  }
  return { out: await probeInterpreter(command, cwd), cached: false };
}

/** Tries each candidate in order; the first Python >= 3.9 wins. */
export async function resolveInterpreter(cache?: VersionCache): Promise<Resolution> {
  const trusted = vscode.workspace.isTrusted;
  const folder = firstFolder();
  const cwd = probeFolder();
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
      const { out, cached } = await probed(candidate.command, cwd, cache);
      const version = out.version;
      if (version && isSupportedPython(version)) {
        const text = version.join('.');
        // The resolved binary, when it is a file we can run; else the command as configured.
        const executable = out.executable && isExecutable(out.executable) ? out.executable : candidate.command;
        const runs = executable === candidate.command ? '' : ` (runs ${executable})`;
        log.info(`Python ${text} from ${candidate.source}${cached ? ' (cached)' : ''}: ${candidate.command}${runs}`);
        if (!cached) {
          await cache?.set(candidate.command, cwd, { version: text, executable });
        }
        const interpreter = { command: candidate.command, executable, cwd, version: text, source: candidate.source, cached };
        return { interpreter, refused };
      }
      refused.push({
        candidate,
        why: `it is Python ${out.versionText || '(unknown version)'}; ${MIN_PYTHON.join('.')} or newer is needed`,
      });
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
