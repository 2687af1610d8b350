/**
 * The probe that decides whether `flowscribe mcp` is offered to VS Code, run on real
 * interpreters: the repo's .venv (which has the `mcp` extra) says yes, a Python without
 * flowscribe says no; and the package.json id of the provider is the one registered.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import pkg from '../../package.json';
import { MCP_PROBE_ARGS, MCP_PROVIDER_ID, mcpServerArgs, parseMcpProbe } from '../../src/agent/mcpProbe';

const venvPython = join(__dirname, '..', '..', '..', '.venv', 'bin', 'python');

function probe(python: string): boolean {
  return parseMcpProbe(execFileSync(python, [...MCP_PROBE_ARGS], { encoding: 'utf8', cwd: '/' }));
}

describe('the MCP server offer', () => {
  it('is declared under the id it is registered with', () => {
    assert.deepEqual(pkg.contributes.mcpServerDefinitionProviders.map((p) => p.id), [MCP_PROVIDER_ID]);
  });

  it('probes an interpreter with the extra as able', { skip: !existsSync(venvPython) && 'no .venv' }, () => {
    assert.equal(probe(venvPython), true);
  });

  it('probes one without flowscribe as unable', { skip: !existsSync(venvPython) && 'no .venv' }, () => {
    // -S: no site-packages, so this interpreter has neither flowscribe nor the SDK.
    const out = execFileSync(venvPython, ['-S', ...MCP_PROBE_ARGS], { encoding: 'utf8', cwd: '/' });
    assert.equal(parseMcpProbe(out), false);
  });

  it('reads only its own marked line', () => {
    assert.equal(parseMcpProbe('flowscribe-mcp:yes\n'), true);
    assert.equal(parseMcpProbe('noise flowscribe-mcp:yes\nflowscribe-mcp:no\n'), false);
    assert.equal(parseMcpProbe(''), false);
  });

  it('serves the folder with the interpreter isolated from the workspace', () => {
    assert.deepEqual(mcpServerArgs('/w'), ['-I', '-m', 'flowscribe', 'mcp', '--workspace', '/w']);
  });
});
