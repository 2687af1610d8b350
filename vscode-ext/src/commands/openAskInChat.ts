/**
 * flowscribe.openAskInChat: puts ask.md (of the chosen run, else the latest) into the Chat
 * input for the user to review and send; without chat, opens it beside and copies it.
 */
import * as vscode from 'vscode';
import { openInChat } from '../common/chat';
import { PROMPT_CAP_CHARS } from '../common/constants';
import { displayPath } from '../common/locations';
import { capPrompt } from '../common/prompt';
import type { Services } from '../services';
import type { RunArg } from './openArtifact';
import { findArtifact, noArtifactMessage } from './openArtifact';

export async function openAskInChat(s: Services, arg?: RunArg): Promise<void> {
  const uri = await findArtifact(s, 'ask', arg);
  if (!uri) {
    void vscode.window.showInformationMessage(noArtifactMessage('ask'));
    return;
  }
  const text = new TextDecoder('utf-8').decode(await vscode.workspace.fs.readFile(uri));
  const prompt = capPrompt(text, PROMPT_CAP_CHARS, displayPath(uri.toString()));
  await openInChat(prompt.text, { file: uri, what: 'ask.md' });
}
