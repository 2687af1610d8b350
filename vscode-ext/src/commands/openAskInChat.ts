/**
 * flowscribe.openAskInChat: puts ask.md (of the chosen run, else the latest) into the Chat
 * input, as written, for the user to review and send; without chat, opens it beside and copies it.
 */
import * as vscode from 'vscode';
import { openInChat } from '../common/chat';
import type { Services } from '../services';
import type { RunArg } from './openArtifact';
import { findArtifact, noArtifactMessage } from './openArtifact';

export async function openAskInChat(s: Services, arg?: RunArg): Promise<void> {
  const uri = await findArtifact(s, 'ask', arg);
  if (!uri) {
    void vscode.window.showInformationMessage(noArtifactMessage('ask'));
    return;
  }
  // Exactly what the runtime wrote: ask.md is already fitted to flowscribe's one token
  // budget, in whole items, so cutting it here could only leave a fence open.
  const text = new TextDecoder('utf-8').decode(await vscode.workspace.fs.readFile(uri));
  await openInChat(text, { file: uri, what: 'ask.md' });
}
