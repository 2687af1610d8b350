import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import { describe, it } from 'node:test';
import type { CandidateInputs } from '../../src/common/pythonCandidates';
import {
  expandPath,
  findOnPath,
  interpreterCandidates,
  isSupportedPython,
  parseProbeOutput,
  parsePythonVersion,
  PROBE_ARGS,
} from '../../src/common/pythonCandidates';

const onDisk = new Set(['/usr/bin/python3', '/usr/bin/python', '/opt/py/bin/python3']);

function inputs(over: Partial<CandidateInputs> = {}): CandidateInputs {
  return {
    setting: {},
    trusted: true,
    pythonExtension: undefined,
    pathEnv: '/usr/local/bin:/usr/bin',
    platform: 'linux',
    isExecutable: (f) => onDisk.has(f),
    expand: (v) => v,
    ...over,
  };
}

const commands = (inp: CandidateInputs): string[] => interpreterCandidates(inp).candidates.map((c) => c.command);

describe('interpreterCandidates', () => {
  it('tries the setting, then the Python extension, then python3 and python on PATH', () => {
    const list = interpreterCandidates(
      inputs({ setting: { globalValue: '/opt/py/bin/python3' }, pythonExtension: '/venv/bin/python' }),
    );
    assert.deepEqual(
      list.candidates.map((c) => [c.command, c.source]),
      [
        ['/opt/py/bin/python3', 'setting'],
        ['/venv/bin/python', 'python-extension'],
        ['/usr/bin/python3', 'PATH'],
        ['/usr/bin/python', 'PATH'],
      ],
    );
  });

  it('prefers the folder setting over the workspace and user settings when trusted', () => {
    const s = { globalValue: '/user/python', workspaceValue: '/ws/python', workspaceFolderValue: '/folder/python' };
    assert.equal(commands(inputs({ setting: s }))[0], '/folder/python');
    assert.equal(commands(inputs({ setting: { ...s, workspaceFolderValue: undefined } }))[0], '/ws/python');
  });

  it('in an untrusted workspace never uses the workspace settings or the Python extension', () => {
    const list = interpreterCandidates(
      inputs({
        trusted: false,
        setting: { globalValue: '/user/python', workspaceValue: './evil/python', workspaceFolderValue: '/evil2' },
        pythonExtension: '/venv-from-workspace/bin/python',
      }),
    );
    const cmds = list.candidates.map((c) => c.command);
    assert.deepEqual(cmds, ['/user/python', '/usr/bin/python3', '/usr/bin/python']);
    assert.ok(list.notes.some((n) => /Restricted Mode/.test(n)));
  });

  it('in an untrusted workspace with only a workspace setting falls back to PATH', () => {
    const cmds = commands(inputs({ trusted: false, setting: { workspaceValue: '/ws/python' } }));
    assert.deepEqual(cmds, ['/usr/bin/python3', '/usr/bin/python']);
  });

  it('ignores empty settings, expands the configured path and removes duplicates', () => {
    const cmds = commands(
      inputs({
        setting: { globalValue: '  ', workspaceValue: '' },
        pythonExtension: '/usr/bin/python3',
      }),
    );
    assert.deepEqual(cmds, ['/usr/bin/python3', '/usr/bin/python']);
    const expanded = commands(inputs({ setting: { globalValue: '~/x' }, expand: (v) => v.replace('~', '/home/me') }));
    assert.equal(expanded[0], '/home/me/x');
  });

  it('returns nothing when no interpreter exists anywhere', () => {
    assert.deepEqual(commands(inputs({ pathEnv: '/nowhere' })), []);
  });
});

describe('findOnPath', () => {
  it('skips relative PATH entries, which would resolve inside the workspace', () => {
    const seen: string[] = [];
    const found = findOnPath('python3', '.:bin::/usr/bin', 'linux', (f) => {
      seen.push(f);
      return true;
    });
    assert.equal(found, '/usr/bin/python3');
    assert.deepEqual(seen, ['/usr/bin/python3']);
  });

  it('uses ; and .exe on Windows', () => {
    const found = findOnPath('python.exe', 'C:\\Py311;D:\\x', 'win32', (f) => f === 'D:\\x\\python.exe');
    assert.equal(found, 'D:\\x\\python.exe');
  });
});

describe('python versions', () => {
  it('parses probe output and the Python banner', () => {
    assert.deepEqual(parsePythonVersion('3.11.7\n'), [3, 11, 7]);
    assert.deepEqual(parsePythonVersion('Python 3.9.18'), [3, 9, 18]);
    assert.deepEqual(parsePythonVersion('3.12'), [3, 12, 0]);
    assert.equal(parsePythonVersion('not python'), undefined);
  });

  it('accepts 3.9 and newer only', () => {
    assert.ok(isSupportedPython([3, 9, 0]));
    assert.ok(isSupportedPython([3, 13, 1]));
    assert.ok(isSupportedPython([4, 0, 0]));
    assert.ok(!isSupportedPython([3, 8, 18]));
    assert.ok(!isSupportedPython([2, 7, 18]));
  });
});

describe('the probe', () => {
  it('reads the version and the resolved executable, one per line', () => {
    const out = parseProbeOutput('3.11.7\n/root/.pyenv/versions/3.11.7/bin/python3.11\n');
    assert.deepEqual(out.version, [3, 11, 7]);
    assert.equal(out.versionText, '3.11.7');
    assert.equal(out.executable, '/root/.pyenv/versions/3.11.7/bin/python3.11');
    assert.equal(parseProbeOutput('3.12.1\r\nC:\\Py312\\python.exe\r\n').executable, 'C:\\Py312\\python.exe');
  });

  it('never takes a version from the path line', () => {
    const out = parseProbeOutput('\n/opt/python-3.12.1/bin/python\n');
    assert.equal(out.version, undefined);
    assert.equal(out.executable, '/opt/python-3.12.1/bin/python');
  });

  it('has no executable when none was printed or it was not valid UTF-8', () => {
    assert.equal(parseProbeOutput('3.10.4\n\n').executable, undefined);
    assert.equal(parseProbeOutput('3.10.4').executable, undefined);
    assert.equal(parseProbeOutput('3.10.4\n/opt/py\uFFFD/bin/python\n').executable, undefined);
  });

  const python = ['/usr/bin/python3', '/usr/local/bin/python3'].find((f) => fs.existsSync(f));
  it('prints what parseProbeOutput reads when a real Python runs it', { skip: !python && 'no python3' }, () => {
    const out = parseProbeOutput(execFileSync(python as string, [...PROBE_ARGS], { encoding: 'utf8' }));
    const real = execFileSync(python as string, ['-c', 'import os, sys; print(os.path.realpath(sys.executable))'], {
      encoding: 'utf8',
    }).trim();
    assert.ok(out.version && isSupportedPython(out.version), out.versionText);
    assert.equal(out.executable, real);
    assert.equal(out.executable, fs.realpathSync(out.executable));
  });
});

describe('expandPath', () => {
  it('expands ~, ${userHome} and ${workspaceFolder}', () => {
    assert.equal(expandPath('~/.venv/bin/python', '/home/me', '/ws'), '/home/me/.venv/bin/python');
    assert.equal(expandPath('${workspaceFolder}/.venv/bin/python', '/home/me', '/ws'), '/ws/.venv/bin/python');
    assert.equal(expandPath('${userHome}/py', '/home/me', undefined), '/home/me/py');
    assert.equal(expandPath('/abs/~/python', '/home/me', '/ws'), '/abs/~/python');
  });
});
