/**
 * Hands a prompt to the Chat view for the user to review and send. Where there is no chat,
 * the prompt goes to the clipboard and its text opens beside the editor, and the user is told.
 */
import * as vscode from 'vscode';
import { errorText, log } from './log';

const CHAT_OPEN = 'workbench.action.chat.open';

/** Whether this editor has a Chat view that can take a query. */
export async function chatAvailable(): Promise<boolean> {
  if (vscode.workspace.getConfiguration('chat').get<boolean>('disableAIFeatures', false)) {
    return false;
  }
  const commands = await vscode.commands.getCommands(true);
  return commands.includes(CHAT_OPEN);
}

export interface Fallback {
  /** What the user sees beside the editor: the prompt's file, or an untitled copy when there is none. */
  file?: vscode.Uri;
  /** Names the prompt in the message, e.g. "ask.md". */
  what: string;
}

/** Opens chat with `prompt` in the input (not sent). Returns where the prompt went. */
export async function openInChat(prompt: string, fallback: Fallback): Promise<'chat' | 'clipboard'> {
  if (await chatAvailable()) {
    try {
      // isPartialQuery: put the text in the input without sending it, so the user reviews it.
      await vscode.commands.executeCommand(CHAT_OPEN, { query: prompt, isPartialQuery: true });
      log.info(`Put ${fallback.what} (${prompt.length} characters) into the chat input.`);
      return 'chat';
    } catch (err) {
      log.warn(`Chat did not open: ${errorText(err)}`);
    }
  }
  await vscode.env.clipboard.writeText(prompt);
  const doc = fallback.file
    ? await vscode.workspace.openTextDocument(fallback.file)
    : await vscode.workspace.openTextDocument({ language: 'markdown', content: prompt });
  await vscode.window.showTextDocument(doc, { viewColumn: vscode.ViewColumn.Beside, preview: true });
  void vscode.window.showInformationMessage(
    `No chat is available in this editor, so ${fallback.what} is open beside the editor and copied to the clipboard: paste it into your AI assistant.`,
  );
  return 'clipboard';
}
