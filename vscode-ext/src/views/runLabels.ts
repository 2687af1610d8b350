/**
 * How the Runs view names a run: by when it started, its verdict and its size
 * (`18:01:45 · ✗ 2 · 12 flows · 1.2 s`), the id only in the tooltip. Pure: unit-tested directly.
 */
import type { RunInfo, RunVerdicts } from '../common/protocol';
import { formatRunTime, runDate, runVerdict } from '../common/verdicts';
import { formatMs } from './flowTree';

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** Flow instances the run started: those that ended with any verdict, and its orphans. */
export function flowInstances(v: RunVerdicts): number {
  return (v.passed ?? 0) + (v.failed ?? 0) + (v.unfinished ?? 0) + (v.orphaned ?? 0);
}

/** `✗ 2` (failure and exception events, else failed flows), `⚠ 1` (unfinished or orphaned), `✓`, `○`. */
export function verdictMark(v: RunVerdicts): string {
  const kind = runVerdict(v).kind;
  if (kind === 'failed') {
    const events = (v.failures ?? 0) + (v.exceptions ?? 0);
    return `✗ ${events || v.failed}`;
  }
  if (kind === 'unfinished') {
    return `⚠ ${v.unfinished}`;
  }
  return kind === 'passed' ? '✓' : '○';
}

/** `1.2 s` from start to end, `running` for the newest run without an end, else undefined. */
export function runDuration(run: Pick<RunInfo, 'started' | 'ended'>, newest: boolean): string | undefined {
  const started = runDate(run.started);
  const ended = runDate(run.ended);
  if (started && ended) {
    // Unix seconds keep sub-millisecond precision that a Date drops.
    const ms =
      typeof run.started === 'number' && typeof run.ended === 'number'
        ? (run.ended - run.started) * 1000
        : ended.getTime() - started.getTime();
    return formatMs(Math.max(0, ms));
  }
  return newest && !ended ? 'running' : undefined;
}

/** The tree item's label: `18:01:45 · ✗ 2 · 12 flows · 1.2 s`. */
export function runLabel(run: RunInfo, now: Date, newest: boolean): string {
  const started = runDate(run.started);
  const n = flowInstances(run.verdicts);
  const parts = [
    run.testRun ? 'pytest' : undefined,
    started ? formatRunTime(started, now) : 'unknown time',
    verdictMark(run.verdicts),
    plural(n, 'flow'),
    runDuration(run, newest),
  ];
  return parts.filter((p): p is string => !!p).join(' · ');
}

/** `10 passed, 3 failed, 1 unfinished, 3 orphaned` (flow instances), or undefined with none. */
export function runCountsText(v: RunVerdicts): string | undefined {
  const parts: string[] = [];
  for (const [n, word] of [
    [v.passed, 'passed'],
    [v.failed, 'failed'],
    [v.unfinished, 'unfinished'],
    [v.orphaned, 'orphaned'],
  ] as const) {
    if (n) {
      parts.push(`${n} ${word}`);
    }
  }
  return parts.length ? parts.join(', ') : undefined;
}

/** What a screen reader says: `run 18:01:45, 2 failures, 1 exception, 12 flows, 1.2 s`. */
export function runAccessibleLabel(run: RunInfo, now: Date, newest: boolean): string {
  const started = runDate(run.started);
  const verdict = runVerdict(run.verdicts).text.replace(/^[✗⚠✓○] /, '');
  const parts = [
    `run ${started ? formatRunTime(started, now) : 'at an unknown time'}`,
    verdict,
    plural(flowInstances(run.verdicts), 'flow'),
    runDuration(run, newest),
  ];
  return parts.filter((p): p is string => !!p).join(', ');
}

/** Plain-text lines of the tooltip: the id, the app, the verdict and counts in words. */
export function runTooltipLines(run: RunInfo, now: Date): string[] {
  const app = [run.app, run.mode].filter((p) => p).join(', ');
  const lines = [`Run ${run.runId}${app ? ` (${app})` : ''}`, runVerdict(run.verdicts).text];
  const counts = runCountsText(run.verdicts);
  if (counts) {
    lines.push(`Flows: ${counts}`);
  }
  const started = runDate(run.started);
  if (started) {
    const took = runDuration(run, false);
    lines.push(`Started ${formatRunTime(started, now)}${took ? `, took ${took}` : ''}`);
  }
  return lines;
}
