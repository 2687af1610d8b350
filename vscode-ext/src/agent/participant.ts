/**
 * The `@flowscribe` chat participant: `/explain` (the latest run's first failure, with its story),
 * `/diff` (since the last good run), `/fix` (a minimal patch and a test, grounded in the story),
 * or a question about the latest run's failures. What it says is participantCore.ts's; this file
 * connects it to the chat stream, the flowscribe server, and whatever model the user has.
 */
import * as vscode from 'vscode';
import { errorText, log } from '../common/log';
import type { FlowscribeServer } from '../common/server';
import type { AnswerResult } from './participantCore';
import { answer, NoModelError } from './participantCore';
import { askServer } from './tools';

/** `contributes.chatParticipants[0].id`. */
export const PARTICIPANT_ID = 'flowscribe.agent';

/** A model that cannot answer at all (none, not allowed, gone), as opposed to one that failed. */
function unavailable(err: unknown): boolean {
  return err instanceof vscode.LanguageModelError || /language model unavailable/i.test(errorText(err));
}

/** The model's reply, or undefined when it cannot answer. A model that is gone may only say so
 * once its reply is read, so the first fragment is awaited here. */
async function reply(model: vscode.LanguageModelChat, turns: vscode.LanguageModelChatMessage[], token: vscode.CancellationToken): Promise<AsyncIterable<string> | undefined> {
  try {
    const response = await model.sendRequest(turns, { justification: 'flowscribe explains a recorded failure with it.' }, token);
    const fragments = response.text[Symbol.asyncIterator]();
    const first = await fragments.next();
    return (async function* () {
      if (!first.done) {
        yield first.value;
        for (let next = await fragments.next(); !next.done; next = await fragments.next()) {
          yield next.value;
        }
      }
    })();
  } catch (err) {
    if (!unavailable(err)) {
      throw err;
    }
    log.info(`@flowscribe: model ${model.id} cannot answer: ${errorText(err)}`);
    return undefined;
  }
}

/** The reply of the request's model, else of another model VS Code has; NoModelError if none. */
async function send(preferred: vscode.LanguageModelChat, messages: string[], token: vscode.CancellationToken): Promise<AsyncIterable<string>> {
  const turns = messages.map((m) => vscode.LanguageModelChatMessage.User(m));
  const first = await reply(preferred, turns, token);
  if (first) {
    return first;
  }
  const other = (await vscode.lm.selectChatModels()).find((m) => m.id !== preferred.id);
  const second = other && (await reply(other, turns, token));
  if (second) {
    return second;
  }
  throw new NoModelError();
}

export function registerParticipant(context: vscode.ExtensionContext, server: FlowscribeServer): vscode.Disposable {
  const handler: vscode.ChatRequestHandler = async (request, _context, stream, token): Promise<vscode.ChatResult> => {
    const result: AnswerResult = await answer(request.command, request.prompt, {
      ask: (tool, input) => askServer(server, tool, input, token),
      chat: (messages) => send(request.model, messages, token),
      markdown: (text) => stream.markdown(text),
      progress: (text) => stream.progress(text),
    });
    return { metadata: { ...result } };
  };
  const participant = vscode.chat.createChatParticipant(PARTICIPANT_ID, handler);
  participant.iconPath = vscode.Uri.joinPath(context.extensionUri, 'media', 'flowscribe.svg');
  return participant;
}
