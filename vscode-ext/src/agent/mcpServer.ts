/**
 * Offers `flowscribe mcp` to VS Code's MCP support (agent mode, and any MCP-aware chat) for each
 * workspace folder, when the interpreter flowscribe runs on has the `mcp` extra. Without it
 * nothing is offered: the language-model tools (tools.ts) answer the same through the bundled server.
 */
import { execFile } from 'node:child_process';
import * as vscode from 'vscode';
import { VERSION } from '../common/constants';
import { log } from '../common/log';
import type { FlowscribeServer } from '../common/server';
import { MCP_PROBE_ARGS, MCP_PROVIDER_ID, mcpServerArgs, parseMcpProbe } from './mcpProbe';

const PROBE_TIMEOUT_MS = 10_000;

function hasMcpExtra(executable: string): Promise<boolean> {
  return new Promise((resolve) => {
    execFile(executable, [...MCP_PROBE_ARGS], { timeout: PROBE_TIMEOUT_MS, windowsHide: true }, (err, stdout) => {
      resolve(!err && parseMcpProbe(stdout));
    });
  });
}

class FlowscribeMcpServers implements vscode.McpServerDefinitionProvider<vscode.McpStdioServerDefinition> {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeMcpServerDefinitions = this.changed.event;
  /** The interpreter probed, and whether it had the extra. */
  private probed: { executable: string; ok: Promise<boolean> } | undefined;

  constructor(private readonly server: FlowscribeServer) {}

  /** Offer again when the interpreter changed (a restart), or always (`force`: the folders changed). */
  refresh(force = false): void {
    if (force || this.probed?.executable !== this.server.python?.executable) {
      this.changed.fire();
    }
  }

  async provideMcpServerDefinitions(): Promise<vscode.McpStdioServerDefinition[]> {
    const executable = this.server.python?.executable;
    if (!executable) {
      return [];
    }
    if (this.probed?.executable !== executable) {
      this.probed = { executable, ok: hasMcpExtra(executable) };
    }
    if (!(await this.probed.ok)) {
      log.info(`Not offering the flowscribe MCP server: ${executable} has no 'mcp' extra (pip install 'flowscribe[mcp]').`);
      return [];
    }
    const folders = (vscode.workspace.workspaceFolders ?? []).filter((f) => f.uri.scheme === 'file');
    return folders.map((f) => {
      const label = folders.length > 1 ? `flowscribe (${f.name})` : 'flowscribe';
      const def = new vscode.McpStdioServerDefinition(label, executable, mcpServerArgs(f.uri.fsPath), {}, VERSION);
      def.cwd = f.uri;
      return def;
    });
  }

  dispose(): void {
    this.changed.dispose();
  }
}

/** Registers the provider (VS Code 1.101+), re-offered when the server restarts or folders change. */
export function registerMcpServers(server: FlowscribeServer): vscode.Disposable[] {
  const provider = new FlowscribeMcpServers(server);
  return [
    provider,
    vscode.lm.registerMcpServerDefinitionProvider(MCP_PROVIDER_ID, provider),
    server.onDidChangeState((state) => state === 'running' && provider.refresh()),
    vscode.workspace.onDidChangeWorkspaceFolders(() => provider.refresh(true)),
  ];
}
