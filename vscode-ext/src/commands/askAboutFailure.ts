/**
 * flowscribe.askAboutFailure: from a failure diagnostic, a focused prompt (that failure, its
 * flow's recent events, its catalog entry, the file:line) put into the Chat input. The server
 * builds it (`flowscribe/failurePrompt`); if it cannot, the editor builds a smaller one.
 */
import { openInChat } from '../common/chat';
import { PROMPT_BUDGET_TOKENS, PROMPT_CAP_CHARS } from '../common/constants';
import { displayPath } from '../common/locations';
import { log } from '../common/log';
import type { FailurePromptParams, FailurePromptResult, TraceDiagnosticData, TraceEvent } from '../common/protocol';
import { Methods } from '../common/protocol';
import { buildFailurePrompt, capPrompt, RECENT_EVENT_LINES } from '../common/prompt';
import type { Services } from '../services';
import { eventLine } from '../views/eventLines';

export interface FailureArg {
  uri: string;
  /** 1-based line of the diagnostic. */
  line: number;
  message: string;
  code?: string;
  data?: TraceDiagnosticData;
}

async function serverPrompt(s: Services, data: TraceDiagnosticData | undefined): Promise<string | undefined> {
  if (!data) {
    return undefined;
  }
  const params: FailurePromptParams = { runId: data.runId, eventId: data.eventId, budgetTokens: PROMPT_BUDGET_TOKENS };
  const result = await s.server.request<FailurePromptResult>(Methods.failurePrompt, params);
  if (typeof result?.error === 'string') {
    log.warn(`${Methods.failurePrompt} (run ${data.runId}, event ${data.eventId}): ${result.error}`);
  }
  return typeof result?.prompt === 'string' && result.prompt.trim() ? result.prompt : undefined;
}

async function localPrompt(s: Services, arg: FailureArg): Promise<string> {
  const data = arg.data;
  let recent: string[] = [];
  if (data?.flowId) {
    const params: Record<string, string> = { flowId: data.flowId, runId: data.runId };
    if (data.instance) {
      params.instance = data.instance;
    }
    const result = await s.server.request<{ events?: TraceEvent[] }>(Methods.flowEvents, params);
    const events = Array.isArray(result?.events) ? result.events : [];
    recent = events.slice(-RECENT_EVENT_LINES).map((e) => eventLine(e, displayPath));
  }
  return buildFailurePrompt(
    {
      message: arg.message,
      errorClass: arg.code,
      flowId: data?.flowId,
      file: displayPath(arg.uri),
      line: arg.line,
      runId: data?.runId,
      recentEvents: recent,
    },
    PROMPT_CAP_CHARS,
  );
}

export async function askAboutFailure(s: Services, arg?: FailureArg): Promise<void> {
  if (!arg) {
    return;
  }
  // The server's prompt is fitted to the budget in whole items: it goes to Chat as written.
  let prompt = await serverPrompt(s, arg.data);
  if (!prompt) {
    log.info('The server gave no failure prompt; building one in the editor.');
    prompt = capPrompt(await localPrompt(s, arg), PROMPT_CAP_CHARS).text;
  }
  await openInChat(prompt, { what: 'the failure prompt' });
}
