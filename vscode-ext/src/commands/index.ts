/** Registers every command of package.json with its handler (one handler per file). */
import * as vscode from 'vscode';
import { Commands } from '../common/constants';
import { errorText, log } from '../common/log';
import type { Services } from '../services';
import { askAboutFailure } from './askAboutFailure';
import { compareWithPrevious } from './compareWithPrevious';
import { openArtifact } from './openArtifact';
import { openAskInChat } from './openAskInChat';
import { openCatalogEntry } from './openCatalogEntry';
import { openQuickstart } from './openQuickstart';
import { refresh } from './refresh';
import { restartServer } from './restartServer';
import { revealFlow } from './revealFlow';
import { selectInterpreter } from './selectInterpreter';
import { showFlowEvents } from './showFlowEvents';
import { showLastFailure } from './showLastFailure';
import { showLog } from './showLog';
import { showTimeline } from './showTimeline';

type Handler<A extends unknown[]> = (s: Services, ...args: A) => Promise<void>;

export function registerCommands(s: Services): vscode.Disposable[] {
  const register = <A extends unknown[]>(id: string, handler: Handler<A>): vscode.Disposable =>
    vscode.commands.registerCommand(id, async (...args: unknown[]) => {
      try {
        await handler(s, ...(args as A));
      } catch (err) {
        log.error(`${id}: ${errorText(err)}`);
        void vscode.window.showErrorMessage(`flowscribe: ${errorText(err)}`);
      }
    });
  return [
    register(Commands.restartServer, restartServer),
    register(Commands.openAskInChat, openAskInChat),
    register(Commands.askAboutFailure, askAboutFailure),
    register(Commands.revealFlow, revealFlow),
    register(Commands.refresh, refresh),
    register(Commands.openCatalogEntry, openCatalogEntry),
    register(Commands.showLastFailure, showLastFailure),
    register(Commands.showFlowEvents, showFlowEvents),
    register(Commands.openSummary, openArtifact('summary')),
    register(Commands.openAsk, openArtifact('ask')),
    register(Commands.openTrace, openArtifact('trace')),
    register(Commands.selectInterpreter, selectInterpreter),
    register(Commands.showLog, showLog),
    register(Commands.openQuickstart, openQuickstart),
    register(Commands.showTimeline, showTimeline),
    register(Commands.compareWithPrevious, compareWithPrevious),
  ];
}
