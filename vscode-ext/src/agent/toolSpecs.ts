/**
 * flowscribe's language-model tools as package.json declares them (`contributes.languageModelTools`,
 * the one list): each is one of `flowscribe mcp`'s tools, named `flowscribe_<mcp name>`, answered by
 * the bundled server (`flowscribe/agentTool`). No editor import: unit-tested directly.
 */
import pkg from '../../package.json';

/** A declared tool's name is this prefix and the MCP tool's name. */
export const TOOL_PREFIX = 'flowscribe_';

/** The one tool that runs something (the user's recorded command): it asks first. */
export const VERIFY_FIX = 'verify_fix';

export interface AgentToolSpec {
  /** The name VS Code knows (`flowscribe_get_failure_story`). */
  name: string;
  /** The MCP tool's name (`get_failure_story`), what the server answers. */
  mcpName: string;
  /** `#flowscribeStory` in a chat prompt. */
  referenceName: string;
  displayName: string;
}

/** The MCP name of a declared tool's name; throws for one without the prefix. */
export function mcpName(name: string): string {
  if (!name.startsWith(TOOL_PREFIX) || name.length === TOOL_PREFIX.length) {
    throw new Error(`language-model tool ${name} is not named ${TOOL_PREFIX}<mcp tool>`);
  }
  return name.slice(TOOL_PREFIX.length);
}

/** Every tool package.json declares, in its order. */
export const AGENT_TOOLS: readonly AgentToolSpec[] = pkg.contributes.languageModelTools.map((t) => ({
  name: t.name,
  mcpName: mcpName(t.name),
  referenceName: t.toolReferenceName,
  displayName: t.displayName,
}));

/** The tool declared for MCP tool `mcp`; throws when there is none. */
export function toolFor(mcp: string): AgentToolSpec {
  const found = AGENT_TOOLS.find((t) => t.mcpName === mcp);
  if (!found) {
    throw new Error(`no language-model tool for ${mcp} in package.json`);
  }
  return found;
}
