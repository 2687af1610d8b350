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

// The stand-in chat model: it records the messages it was sent and answers with a fixed line.
// With <out>/no-model present it is "gone", as a model whose access was withdrawn is.
const MODEL = { id: 'echo', name: 'Probe Echo', family: 'probe', version: '1', maxInputTokens: 100000,
  maxOutputTokens: 1000, capabilities: {} };

const provider = {
  provideLanguageModelChatInformation() {
    return [MODEL];
  },
  async provideLanguageModelChatResponse(_model, messages, _options, progress) {
    if (fs.existsSync(path.join(process.env.FLOWSCRIBE_PROBE_OUT || '', 'no-model'))) {
      throw vscode.LanguageModelError.NotFound('the probe model is gone');
    }
    const texts = messages.map((m) => m.content.map((p) => (p instanceof vscode.LanguageModelTextPart ? p.value : '')).join(''));
    write('model-messages.json', { messages: texts });
    progress.report(new vscode.LanguageModelTextPart(`PROBE MODEL ANSWER after ${texts.length} messages.`));
  },
  async provideTokenCount(_model, text) {
    return Math.ceil((typeof text === 'string' ? text.length : 1000) / 4);
  },
};

async function askExplain() {
  await vscode.commands.executeCommand('workbench.action.chat.open', {
    query: '@flowscribe /explain', modelSelector: { vendor: 'flowscribe-probe', id: 'echo' },
  });
}

async function listSkills() {
  // VS Code's own (internal) listing of the prompt files, instructions and skills extensions contribute.
  const files = await vscode.commands.executeCommand('_listExtensionPromptFiles');
  write('chat-files.json', { files });
}

function activate(context) {
  context.subscriptions.push(
    vscode.commands.registerCommand('flowscribeProbe.invokeStory', invokeStory),
    vscode.commands.registerCommand('flowscribeProbe.askExplain', askExplain),
    vscode.commands.registerCommand('flowscribeProbe.listSkills', listSkills),
    vscode.lm.registerLanguageModelChatProvider('flowscribe-probe', provider),
  );
}

module.exports = { activate };
