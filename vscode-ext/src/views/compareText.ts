/** The text of a run comparison (pure: no editor import, unit-tested). */
import type { CompareRunsResult } from '../common/protocol';

/** The comparison document's text: the two runs, then one line per change (recorded text on one line). */
export function renderComparison(result: CompareRunsResult | undefined): string {
  if (!result || typeof result.error === 'string' || !result.after) {
    return `Nothing to compare: ${result?.error ?? 'the language server did not answer'}.\n`;
  }
  const changes = Array.isArray(result.changes) ? result.changes : [];
  const lines = [
    `before: ${result.before ?? '?'}`,
    `after:  ${result.after}`,
    changes.length ? `${changes.length} change${changes.length === 1 ? '' : 's'}:` : 'no changes',
    ...changes.map((c) => `  ${oneLine(c.text)}${c.where ? `  [${oneLine(c.where)}]` : ''}`),
  ];
  return `${lines.join('\n')}\n`;
}

function oneLine(text: unknown): string {
  // eslint-disable-next-line no-control-regex
  return String(text).replace(/[\u0000-\u001f\u007f\u2028\u2029]+/g, ' ');
}
