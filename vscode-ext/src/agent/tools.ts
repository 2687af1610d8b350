/**
 * Registers flowscribe's language-model tools (toolSpecs.ts) so Copilot's agent mode, and the
 * `@flowscribe` participant, can call them. Each is answered by the bundled server with the MCP
 * tool's own text (redacted, recorded text fenced as data). `verify_fix` runs the user's recorded
 * command, so VS Code asks first, naming that command.
 */
import * as vscode from 'vscode';
import { codeSpan } from '../common/prompt';
import type { AgentToolParams, AgentToolResult } from '../common/protocol';
import { Methods } from '../common/protocol';
import type { FlowscribeServer } from '../common/server';
import type { AgentToolSpec } from './toolSpecs';
import { AGENT_TOOLS, VERIFY_FIX } from './toolSpecs';

/** The server's answer to `tool` with `input`; throws (what VS Code tells the model) when refused. */
export async function askServer(
  server: FlowscribeServer,
  tool: string,
  input: object,
  token?: vscode.CancellationToken,
): Promise<string> {
  const params: AgentToolParams = { tool, input };
  const result = await server.request<AgentToolResult>(Methods.agentTool, params, token);
  if (!result) {
    throw new Error('the flowscribe language server is not running (see the flowscribe output channel)');
  }
  if (result.isError) {
    throw new Error(result.text);
  }
  return result.text;
}

async function confirmRerun(server: FlowscribeServer, input: object, token: vscode.CancellationToken): Promise<vscode.PreparedToolInvocation> {
  const params: AgentToolParams = { tool: VERIFY_FIX, input, prepare: true };
  const plan = await server.request<AgentToolResult>(Methods.agentTool, params, token);
  const message = new vscode.MarkdownString();
  if (plan?.command) {
    // The command line was recorded: a code span, never markup.
    message.appendMarkdown(`flowscribe will run ${codeSpan(plan.command)} in ${codeSpan(plan.cwd ?? '.')} `);
    message.appendMarkdown('(the failing run\'s own command, with a timeout), then compare the new run with the failing one.');
  } else {
    message.appendText(plan?.text || 'flowscribe cannot tell which command it would run.');
  }
  return {
    invocationMessage: 'Rerunning the app to verify the fix',
    confirmationMessages: { title: 'Rerun the app to verify the fix?', message },
  };
}

function tool(server: FlowscribeServer, spec: AgentToolSpec): vscode.LanguageModelTool<object> {
  return {
    async invoke(options, token) {
      const text = await askServer(server, spec.mcpName, options.input ?? {}, token);
      return new vscode.LanguageModelToolResult([new vscode.LanguageModelTextPart(text)]);
    },
    prepareInvocation(options, token) {
      if (spec.mcpName === VERIFY_FIX) {
        return confirmRerun(server, options.input ?? {}, token);
      }
      return { invocationMessage: `Asking flowscribe (${spec.displayName.replace(/^flowscribe: /, '')})` };
    },
  };
}

/** One registration per declared tool (the API exists since VS Code 1.95). */
export function registerAgentTools(server: FlowscribeServer): vscode.Disposable[] {
  return AGENT_TOOLS.map((spec) => vscode.lm.registerTool(spec.name, tool(server, spec)));
}
