/**
 * Whether an interpreter can run `flowscribe mcp` (the `mcp` extra: `pip install 'flowscribe[mcp]'`,
 * Python >= 3.10), and the command that starts it. No editor import: unit-tested directly.
 */

/** The provider's id in `contributes.mcpServerDefinitionProviders`. */
export const MCP_PROVIDER_ID = 'flowscribe.mcp';

/** Ends the probe's one line of output, so stray output (a sitecustomize) cannot be read as it. */
const MARK = 'flowscribe-mcp:';

/**
 * Cheap: `find_spec` locates the packages without importing the SDK (only `flowscribe` itself is
 * imported, as the parent of `flowscribe.mcp`). `-I`, as the server runs: the workspace cannot
 * shadow what is installed.
 */
export const MCP_PROBE_ARGS: readonly string[] = [
  '-I',
  '-c',
  'import sys, importlib.util as u\n' +
    'ok = sys.version_info >= (3, 10) and all(u.find_spec(m) is not None for m in ("mcp", "flowscribe.mcp"))\n' +
    `print("${MARK}" + ("yes" if ok else "no"))`,
];

/** True when the probe's output says the interpreter has the extra. */
export function parseMcpProbe(stdout: string): boolean {
  return stdout.split(/\r?\n/).some((line) => line.trim() === `${MARK}yes`);
}

/** The arguments that serve `folder` over stdio (`-I`: the workspace cannot shadow flowscribe). */
export function mcpServerArgs(folder: string): string[] {
  return ['-I', '-m', 'flowscribe', 'mcp', '--workspace', folder];
}
