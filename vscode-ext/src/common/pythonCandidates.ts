/**
 * Which Python interpreters to try for the server, in order, and how to read their version.
 * Pure (no editor import) so the order and the Restricted Mode rule are unit-tested.
 */
import * as path from 'path';

export type InterpreterSource = 'setting' | 'python-extension' | 'PATH';

export interface Candidate {
  command: string;
  source: InterpreterSource;
}

/** `flowscribe.python.interpreter` as `WorkspaceConfiguration.inspect` reports it. */
export interface SettingValues {
  globalValue?: string;
  workspaceValue?: string;
  workspaceFolderValue?: string;
}

export interface CandidateInputs {
  setting: SettingValues;
  /** Whether the workspace is trusted. */
  trusted: boolean;
  /** The Python extension's active interpreter, when that extension is installed. */
  pythonExtension?: string;
  pathEnv: string | undefined;
  platform: NodeJS.Platform;
  isExecutable: (file: string) => boolean;
  /** Expands `~` and `${workspaceFolder}` in a configured path. */
  expand: (value: string) => string;
}

export interface CandidateList {
  candidates: Candidate[];
  /** Why a source was skipped, for the log. */
  notes: string[];
}

export const MIN_PYTHON: readonly [number, number] = [3, 9];

/**
 * Arguments that make an interpreter print two lines: its version (`3.11.7`) and the real path
 * of the binary that runs (a pyenv shim or a symlink resolved), so the server can start that
 * binary directly instead of paying for the shim a second time. `-S`: no site-packages, whose
 * `.pth` files would only slow the probe down. Written to run (and fail clearly) on Python 2 too.
 */
export const PROBE_ARGS: readonly string[] = [
  '-I',
  '-S',
  '-c',
  'import os, sys; e = os.path.realpath(sys.executable) if sys.executable else ""; ' +
    's = "%d.%d.%d\\n%s\\n" % (tuple(sys.version_info[:3]) + (e,)); b = getattr(sys.stdout, "buffer", None); ' +
    'b.write(s.encode("utf-8", "surrogateescape")) if b else sys.stdout.write(s)',
];

/** What the probe printed. */
export interface ProbeOutput {
  /** The first line, for messages ("it is Python 3.8.10"). */
  versionText: string;
  version: [number, number, number] | undefined;
  /** The binary that ran, when the interpreter reported one. */
  executable: string | undefined;
}

/** Splits the probe's output into the version and the resolved executable. */
export function parseProbeOutput(text: string): ProbeOutput {
  const [first = '', second = ''] = text.split(/\r?\n/);
  const executable = second.trim();
  return {
    versionText: first.trim(),
    version: parsePythonVersion(first),
    // U+FFFD: the path was not valid UTF-8 as printed; starting the original command is safer.
    executable: executable && !executable.includes('\uFFFD') ? executable : undefined,
  };
}

/**
 * The interpreters to try, best first: the setting; else the Python extension's active
 * interpreter; else python3 / python on PATH. In an untrusted workspace the workspace's own
 * settings (and the Python extension, whose choice may come from them) are never used.
 */
export function interpreterCandidates(inp: CandidateInputs): CandidateList {
  const notes: string[] = [];
  const out: Candidate[] = [];
  const add = (command: string | undefined, source: InterpreterSource): void => {
    const c = command?.trim();
    if (c && !out.some((o) => o.command === c)) {
      out.push({ command: c, source });
    }
  };

  const s = inp.setting;
  const fromWorkspace = nonEmpty(s.workspaceFolderValue) ?? nonEmpty(s.workspaceValue);
  if (inp.trusted) {
    const configured = fromWorkspace ?? nonEmpty(s.globalValue);
    add(configured === undefined ? undefined : inp.expand(configured), 'setting');
  } else {
    if (fromWorkspace !== undefined) {
      notes.push(
        'Restricted Mode: ignoring the interpreter named in this workspace\'s settings; only your user setting is used.',
      );
    }
    const user = nonEmpty(s.globalValue);
    add(user === undefined ? undefined : inp.expand(user), 'setting');
  }

  if (!inp.trusted) {
    notes.push('Restricted Mode: not asking the Python extension, whose choice may come from workspace settings.');
  } else {
    add(inp.pythonExtension, 'python-extension');
  }

  const names = inp.platform === 'win32' ? ['python3.exe', 'python.exe'] : ['python3', 'python'];
  for (const name of names) {
    add(findOnPath(name, inp.pathEnv, inp.platform, inp.isExecutable), 'PATH');
  }
  return { candidates: out, notes };
}

/**
 * The first absolute `PATH` entry holding an executable `name`. Relative entries (`.`, empty)
 * are skipped: they would resolve against the workspace, which may not be trusted.
 */
export function findOnPath(
  name: string,
  pathEnv: string | undefined,
  platform: NodeJS.Platform,
  isExecutable: (file: string) => boolean,
): string | undefined {
  const p = platform === 'win32' ? path.win32 : path.posix;
  for (const dir of (pathEnv ?? '').split(p.delimiter)) {
    if (dir && p.isAbsolute(dir)) {
      const file = p.join(dir, name);
      if (isExecutable(file)) {
        return file;
      }
    }
  }
  return undefined;
}

/** Reads `3.11.7` (or `Python 3.11.7`) into numbers; undefined when there is no version. */
export function parsePythonVersion(text: string): [number, number, number] | undefined {
  const m = /(\d+)\.(\d+)(?:\.(\d+))?/.exec(text);
  if (!m) {
    return undefined;
  }
  return [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)];
}

export function isSupportedPython(version: readonly number[]): boolean {
  const [major = 0, minor = 0] = version;
  return major > MIN_PYTHON[0] || (major === MIN_PYTHON[0] && minor >= MIN_PYTHON[1]);
}

/** Expands a leading `~` and `${workspaceFolder}` / `${userHome}` in a configured path. */
export function expandPath(value: string, home: string, workspaceFolder: string | undefined): string {
  let v = value.trim();
  if (v === '~' || v.startsWith('~/') || v.startsWith('~\\')) {
    v = home + v.slice(1);
  }
  v = v.replace(/\$\{userHome\}/g, home);
  if (workspaceFolder !== undefined) {
    v = v.replace(/\$\{workspaceFolder\}/g, workspaceFolder);
  }
  return v;
}

function nonEmpty(v: string | undefined): string | undefined {
  return v !== undefined && v.trim() !== '' ? v : undefined;
}
