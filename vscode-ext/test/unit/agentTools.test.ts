/**
 * The language-model tools package.json declares are `flowscribe mcp`'s tools: the same names
 * (prefixed), descriptions and input schemas as src/agent/mcpTools.json, which a Python test
 * (tests/lsp/test_agent_tools.py) keeps equal to what the MCP server lists. So Copilot's agent
 * mode and an MCP client see one set of tools, and the server answers every name registered.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import pkg from '../../package.json';
import { AGENT_TOOLS, mcpName, TOOL_PREFIX, toolFor, VERIFY_FIX } from '../../src/agent/toolSpecs';

type Schema = Record<string, unknown>;
interface McpTool {
  name: string;
  description: string;
  inputSchema: Schema;
}

const mcpTools = JSON.parse(readFileSync(join(__dirname, '..', '..', 'src/agent/mcpTools.json'), 'utf8')) as McpTool[];
const declared = pkg.contributes.languageModelTools;

/** An MCP (pydantic) schema as a language-model tool declares it: no titles, an optional
 * argument as its type (the model leaves it out) rather than `anyOf [T, null]` with a null default. */
function asToolSchema(value: unknown): unknown {
  if (Array.isArray(value)) {
    return value.map(asToolSchema);
  }
  if (typeof value !== 'object' || value === null) {
    return value;
  }
  let s = value as Schema;
  const anyOf = s.anyOf as Schema[] | undefined;
  if (anyOf) {
    const alternatives = anyOf.filter((a) => a.type !== 'null');
    if (alternatives.length === 1) {
      const rest = { ...s };
      delete rest.anyOf;
      s = { ...alternatives[0], ...rest };
    }
  }
  const out: Schema = {};
  for (const [k, v] of Object.entries(s)) {
    if (k === 'title' || (k === 'default' && v === null)) {
      continue;
    }
    out[k] = k === 'properties'
      ? Object.fromEntries(Object.entries(v as Schema).map(([p, ps]) => [p, asToolSchema(ps)]))
      : asToolSchema(v);
  }
  return out;
}

describe('language-model tools', () => {
  it('are the MCP server\'s tools, one each', () => {
    assert.deepEqual(declared.map((t) => mcpName(t.name)).sort(), mcpTools.map((t) => t.name).sort());
    assert.deepEqual(AGENT_TOOLS.map((t) => t.mcpName), declared.map((t) => t.name.slice(TOOL_PREFIX.length)));
  });

  it('describe themselves and their arguments as the MCP tools do', () => {
    for (const mcp of mcpTools) {
      const tool = declared.find((t) => t.name === TOOL_PREFIX + mcp.name);
      assert.ok(tool, mcp.name);
      assert.equal(tool.modelDescription, mcp.description, mcp.name);
      assert.deepEqual(tool.inputSchema, asToolSchema(mcp.inputSchema), mcp.name);
    }
  });

  it('can be referenced in a prompt by short, distinct names', () => {
    const names = declared.map((t) => t.toolReferenceName);
    assert.equal(new Set(names).size, names.length);
    for (const t of declared) {
      assert.equal(t.canBeReferencedInPrompt, true, t.name);
      assert.match(t.toolReferenceName, /^flowscribe[A-Z]\w+$/, t.name);
      assert.ok(t.userDescription && t.displayName.startsWith('flowscribe: '), t.name);
    }
    assert.equal(toolFor('get_failures').referenceName, 'flowscribeFailures');
    assert.equal(toolFor('get_failure_story').referenceName, 'flowscribeStory');
  });

  it('say that verify_fix runs the user\'s program', () => {
    assert.match(toolFor(VERIFY_FIX).name, /^flowscribe_verify_fix$/);
    assert.match(declared.find((t) => t.name === 'flowscribe_verify_fix')?.modelDescription ?? '', /Runs the user's program/);
  });

  it('are named, each by its reference, in the chat skill package.json contributes', () => {
    const [skill] = pkg.contributes.chatSkills;
    assert.ok(skill);
    const path = join(__dirname, '..', '..', skill.path);
    const text = readFileSync(path, 'utf8');
    // The Agent Skills rule: the skill's name is its folder's.
    const name = /^---\nname: ([\w-]+)\n/.exec(text)?.[1];
    assert.equal(name, basename(dirname(path)));
    for (const t of declared) {
      assert.ok(text.includes(`#${t.toolReferenceName}`), t.toolReferenceName);
    }
  });

  it('refuse a name that is not an MCP tool\'s', () => {
    assert.throws(() => mcpName('get_failures'), /flowscribe_<mcp tool>/);
    assert.throws(() => toolFor('rm_rf'), /no language-model tool/);
  });
});
