/**
 * What `@flowscribe` answers, without the editor: it reads the tools' text (the same the
 * language-model tools return: redacted, recorded text fenced as data), asks the model grounded
 * in it, and says so plainly when there is no model or nothing to ground on. participant.ts
 * plugs in VS Code's chat stream and model; unit tests plug in fakes.
 */
import { codeSpan, fence } from '../common/prompt';

export type ParticipantCommand = 'explain' | 'diff' | 'fix';

export const PARTICIPANT_COMMANDS: readonly ParticipantCommand[] = ['explain', 'diff', 'fix'];

/** The parts of the editor the answer uses. */
export interface AnswerDeps {
  /** A flowscribe tool's text by its MCP name; rejects with the tool's reason when refused. */
  ask(tool: string, input: object): Promise<string>;
  /** Streams the model's reply to `messages` (user turns, in order); rejects with
   * {@link NoModelError} when no model is available. */
  chat(messages: string[]): Promise<AsyncIterable<string>>;
  markdown(text: string): void;
  progress(text: string): void;
}

export interface AnswerResult {
  command: ParticipantCommand | undefined;
  /** The model answered (false: no model, or nothing to ask it about). */
  answered: boolean;
  /** Why not, when it did not. */
  error?: 'noModel' | 'noData';
}

/** No chat model is available (none installed, none allowed, or the chosen one is gone). */
export class NoModelError extends Error {}

/** What the reply says when no model answers: the user still gets the grounding. */
export const NO_MODEL_MESSAGE =
  '**No language model is available**, so flowscribe cannot explain this for you. ' +
  'Sign in to GitHub Copilot (or install an extension that provides a chat model) and pick a ' +
  'model in the Chat view, then ask again. What flowscribe recorded is below.';

const ROLE =
  'You are helping a developer debug their Python app from what flowscribe recorded at runtime ' +
  '(named flows, their failures with file:line, evidence, the causal story, run diffs). The ' +
  'failure line is where a problem was detected, not necessarily its cause: reason from the ' +
  'story\'s events, code and "what changed" upstream. Cite file:line. Be concise.';

const TASKS: Record<ParticipantCommand | 'ask', string> = {
  explain: 'Explain this failure: what happened, the most likely root cause (file:line) and why, ' +
    'and what to look at next.',
  diff: 'Summarise what changed between these two runs and which change most likely explains ' +
    'any new failure.',
  fix: 'Propose a minimal patch for the root cause (a unified diff against the files named in the ' +
    'story) and a pytest test that fails before the patch and passes after it. Then say that ' +
    '#flowscribeVerifyFix can rerun the app to confirm.',
  ask: 'Answer the developer\'s question from this recorded data.',
};

interface Grounding {
  tool: string;
  input: object;
  progress: string;
}

/** The one tool whose text grounds the answer. */
function groundingFor(command: ParticipantCommand | undefined): Grounding {
  switch (command) {
    case 'diff':
      return { tool: 'diff_runs', input: {}, progress: 'Comparing the latest run with the last good one…' };
    case 'explain':
    case 'fix':
      return { tool: 'get_failure_story', input: {}, progress: 'Reading the story of the latest run\'s first failure…' };
    default:
      return { tool: 'get_failures', input: { limit: 20 }, progress: 'Reading the latest run\'s failures…' };
  }
}

export function parseCommand(command: string | undefined): ParticipantCommand | undefined {
  return PARTICIPANT_COMMANDS.find((c) => c === command);
}

function reason(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** The user turns sent to the model: the role, the recorded data (as the tools gave it), the task. */
export function buildMessages(command: ParticipantCommand | undefined, prompt: string, data: string): string[] {
  const task = TASKS[command ?? 'ask'];
  const question = prompt.trim() ? `\n\nThe developer adds: ${prompt.trim()}` : '';
  return [ROLE, data, `${task}${question}`];
}

/** Answers one `@flowscribe` request. */
export async function answer(command: string | undefined, prompt: string, deps: AnswerDeps): Promise<AnswerResult> {
  const which = parseCommand(command);
  const g = groundingFor(which);
  deps.progress(g.progress);
  let data: string;
  try {
    data = await deps.ask(g.tool, g.input);
  } catch (err) {
    // The tool's reason may quote what the user or the run gave (a run id): data, in a fence.
    deps.markdown(`flowscribe has nothing to ground an answer on (${codeSpan(g.tool)} said):\n\n${fence(reason(err))}`);
    return { command: which, answered: false, error: 'noData' };
  }
  let reply: AsyncIterable<string>;
  try {
    reply = await deps.chat(buildMessages(which, prompt, data));
  } catch (err) {
    if (!(err instanceof NoModelError)) {
      throw err;
    }
    deps.markdown(`${NO_MODEL_MESSAGE}\n\n`);
    // The tool's text is Markdown whose recorded parts are already fenced as data.
    deps.markdown(`${data}\n`);
    return { command: which, answered: false, error: 'noModel' };
  }
  for await (const fragment of reply) {
    deps.markdown(fragment);
  }
  return { command: which, answered: true };
}
