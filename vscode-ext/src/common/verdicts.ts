/**
 * A run's verdict in words (`✗ 2 failures`), shared by the status bar and the Runs view.
 * Pure: unit-tested directly.
 */
import type { RunInfo, RunVerdicts } from './protocol';

export type VerdictKind = 'failed' | 'unfinished' | 'passed' | 'empty';

export interface Verdict {
  kind: VerdictKind;
  /** Short text with a leading mark: `✗ 2 failures`, `⚠ 1 unfinished`, `✓ 5 passed`. */
  text: string;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

export function runVerdict(v: RunVerdicts): Verdict {
  const failures = v.failures ?? 0;
  const exceptions = v.exceptions ?? 0;
  if (failures > 0 || exceptions > 0) {
    const parts: string[] = [];
    if (failures > 0) {
      parts.push(plural(failures, 'failure'));
    }
    if (exceptions > 0) {
      parts.push(plural(exceptions, 'exception'));
    }
    return { kind: 'failed', text: `✗ ${parts.join(', ')}` };
  }
  if ((v.failed ?? 0) > 0) {
    return { kind: 'failed', text: `✗ ${plural(v.failed, 'failed flow')}` };
  }
  if ((v.unfinished ?? 0) > 0) {
    return { kind: 'unfinished', text: `⚠ ${v.unfinished} unfinished` };
  }
  if ((v.passed ?? 0) > 0) {
    return { kind: 'passed', text: `✓ ${v.passed} passed` };
  }
  return { kind: 'empty', text: '○ no verdicts yet' };
}

/** Reads the server's `started` (Unix seconds) into a Date. */
export function runDate(value: number | null | undefined): Date | undefined {
  if (value === null || value === undefined) {
    return undefined;
  }
  const d = new Date(value * 1000);
  return Number.isNaN(d.getTime()) ? undefined : d;
}

function pad(n: number): string {
  return String(n).padStart(2, '0');
}

/** `14:03:07` for today, `2026-11-24 14:03` otherwise (local time). */
export function formatRunTime(d: Date, now: Date): string {
  const time = `${pad(d.getHours())}:${pad(d.getMinutes())}`;
  const sameDay =
    d.getFullYear() === now.getFullYear() && d.getMonth() === now.getMonth() && d.getDate() === now.getDate();
  if (sameDay) {
    return `${time}:${pad(d.getSeconds())}`;
  }
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${time}`;
}

/** Newest first by start time; runs without a time keep the server's order after the rest. */
export function sortRunsNewestFirst(runs: readonly RunInfo[]): RunInfo[] {
  return runs
    .map((run, index) => ({ run, index, t: runDate(run.started)?.getTime() }))
    .sort((a, b) => {
      if (a.t !== undefined && b.t !== undefined && a.t !== b.t) {
        return b.t - a.t;
      }
      if (a.t === undefined && b.t !== undefined) {
        return 1;
      }
      if (b.t === undefined && a.t !== undefined) {
        return -1;
      }
      return a.index - b.index;
    })
    .map((x) => x.run);
}

/** The newest app run across all workspace folders (a pytest session's run never is): what
 * the status bar shows and what commands act on by default. */
export function latestRun(runs: readonly RunInfo[]): RunInfo | undefined {
  return sortRunsNewestFirst(runs.filter((r) => !r.testRun))[0];
}
