// A test-only extension (see package.json): what it saw goes to $FLOWSCRIBE_PROBE_OUT as JSON,
// for the test to read. Plain JavaScript, so the test needs no build step for it.
'use strict';
const vscode = require('vscode');
const fs = require('node:fs');
const path = require('node:path');

function write(name, value) {
  const out = process.env.FLOWSCRIBE_PROBE_OUT;
  if (!out) {
    throw new Error('FLOWSCRIBE_PROBE_OUT is not set');
  }
  const file = path.join(out, name);
  fs.writeFileSync(file + '.tmp', JSON.stringify(value, null, 1));
  fs.renameSync(file + '.tmp', file);  // the test never reads half a file
}

function textOf(result) {
  return result.content.map((part) => (part instanceof vscode.LanguageModelTextPart ? part.value : '')).join('');
}

async function invokeStory() {
  const tools = vscode.lm.tools.filter((t) => t.name.startsWith('flowscribe_')).map((t) => ({
    name: t.name, description: t.description, inputSchema: t.inputSchema, tags: t.tags,
  }));
  try {
    const result = await vscode.lm.invokeTool('flowscribe_get_failure_story', { input: {}, toolInvocationToken: undefined });
    write('story.json', { tools, text: textOf(result) });
  } catch (err) {
    write('story.json', { tools, error: String(err && err.message ? err.message : err) });
  }
}

function activate(context) {
  context.subscriptions.push(vscode.commands.registerCommand('flowscribeProbe.invokeStory', invokeStory));
}

module.exports = { activate };
