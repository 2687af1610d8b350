/**
 * Prompts handed to Copilot Chat: size capping and the client-side failure prompt used when the
 * server cannot build one. No editor import: unit-tested directly.
 */

export interface CappedPrompt {
  text: string;
  truncated: boolean;
  /** Characters left out. */
  omitted: number;
}

/**
 * Cuts `text` to at most `cap` characters, at a line boundary when one is near, and says so at
 * the end so the reader (and the model) knows the prompt is partial. The beginning is kept (a
 * person sees the first line in the chat input), the end goes.
 */
export function capPrompt(text: string, cap: number, fullSource?: string): CappedPrompt {
  if (text.length <= cap) {
    return { text, truncated: false, omitted: 0 };
  }
  const where = fullSource ? `; the full text is in ${fullSource}` : '';
  // The note's length depends on the number it carries; reserve room for the widest one.
  const note = (omitted: number): string => `\n\n… (truncated: ${omitted} characters left out${where})`;
  const room = Math.max(0, cap - note(text.length).length);
  let cut = room;
  const lastBreak = text.lastIndexOf('\n', room);
  // Prefer a whole-line cut unless it would throw away most of the room (one huge line).
  if (lastBreak > room / 2) {
    cut = lastBreak;
  }
  const kept = text.slice(0, cut).trimEnd();
  const omitted = text.length - kept.length;
  return { text: kept + note(omitted), truncated: true, omitted };
}

export interface FailureFacts {
  message: string;
  errorClass?: string | null;
  flowId?: string | null;
  /** Workspace-relative (or absolute) path of the file that recorded the failure. */
  file: string;
  /** 1-based line. */
  line: number;
  runId?: string | null;
  /** Already-rendered lines of the flow's recent events, oldest first. */
  recentEvents?: readonly string[];
}

/** Longest events excerpt a failure prompt carries, in lines. */
export const RECENT_EVENT_LINES = 30;

/**
 * A focused prompt about one failure, built from what the editor knows (the diagnostic and
 * the flow's events) for when the server's `flowscribe/failurePrompt` is not available.
 */
export function buildFailurePrompt(f: FailureFacts, cap: number): string {
  const what = f.flowId ? `flow \`${f.flowId}\`` : 'my app';
  const lines: string[] = [
    `Help me fix a runtime failure that flowscribe recorded in ${what} at ${f.file}:${f.line}.`,
    '',
    '## Failure',
    `- where: ${f.file}:${f.line}`,
  ];
  if (f.errorClass) {
    lines.push(`- class: ${f.errorClass}`);
  }
  if (f.runId) {
    lines.push(`- run: ${f.runId}`);
  }
  lines.push(`- message: ${oneLine(f.message)}`);
  const events = (f.recentEvents ?? []).slice(-RECENT_EVENT_LINES);
  if (events.length > 0) {
    lines.push('', `## Recent events of this flow (oldest first, last ${events.length})`, '```', ...events, '```');
  }
  lines.push(
    '',
    '## What I need',
    '1. The most likely root cause, citing file:line.',
    '2. A minimal patch that keeps the flow markers intact.',
    '3. A test that fails before the patch and passes after it.',
  );
  return capPrompt(lines.join('\n'), cap).text;
}

function oneLine(s: string): string {
  return s.replace(/\s*\n\s*/g, ' ').trim();
}
