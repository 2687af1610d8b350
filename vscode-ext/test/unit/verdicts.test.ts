import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RunInfo, RunVerdicts } from '../../src/common/protocol';
import { formatRunTime, latestRun, runDate, runVerdict, sortRunsNewestFirst } from '../../src/common/verdicts';

function v(over: Partial<RunVerdicts>): RunVerdicts {
  return { passed: 0, failed: 0, unfinished: 0, failures: 0, exceptions: 0, ...over };
}

function run(runId: string, started: RunInfo['started'], verdicts: Partial<RunVerdicts> = {}): RunInfo {
  return {
    runId,
    started,
    ended: null,
    app: 'trading_app',
    mode: 'dev',
    verdicts: v(verdicts),
    artifacts: { summary: null, ask: null, trace: null },
    isLatest: false,
    testRun: false,
    workspaceFolder: 'file:///ws',
    projectRoot: 'file:///ws',
  };
}

describe('runVerdict (the status bar text)', () => {
  it('counts failures and exceptions first', () => {
    assert.deepEqual(runVerdict(v({ passed: 3, failed: 2, failures: 2 })), { kind: 'failed', text: '✗ 2 failures' });
    assert.equal(runVerdict(v({ failures: 1 })).text, '✗ 1 failure');
    assert.equal(runVerdict(v({ failures: 2, exceptions: 1 })).text, '✗ 2 failures, 1 exception');
    assert.equal(runVerdict(v({ exceptions: 3 })).text, '✗ 3 exceptions');
  });

  it('falls back to failed flows, unfinished, passed, nothing', () => {
    assert.equal(runVerdict(v({ failed: 1 })).text, '✗ 1 failed flow');
    assert.deepEqual(runVerdict(v({ passed: 4, unfinished: 1 })), { kind: 'unfinished', text: '⚠ 1 unfinished' });
    assert.deepEqual(runVerdict(v({ passed: 5 })), { kind: 'passed', text: '✓ 5 passed' });
    assert.equal(runVerdict(v({})).kind, 'empty');
  });
});

describe('run times and order', () => {
  it('reads Unix seconds', () => {
    assert.equal(runDate(1764079387)?.getTime(), 1764079387000);
    assert.equal(runDate(null), undefined);
    assert.equal(runDate(Number.NaN), undefined);
  });

  it('shows the time for today and the date otherwise', () => {
    const now = new Date(2026, 10, 25, 18, 0, 0);
    assert.equal(formatRunTime(new Date(2026, 10, 25, 14, 3, 7), now), '14:03:07');
    assert.equal(formatRunTime(new Date(2026, 10, 24, 9, 5, 0), now), '2026-11-24 09:05');
  });

  it('sorts newest first, runs without a time last', () => {
    const runs = [run('old', 100), run('none', null), run('new', 300), run('mid', 200)];
    assert.deepEqual(sortRunsNewestFirst(runs).map((r) => r.runId), ['new', 'mid', 'old', 'none']);
    assert.equal(latestRun(runs)?.runId, 'new');
    assert.equal(latestRun([]), undefined);
    // A pytest session's run is never the latest: the app's runs are what the status bar shows.
    const tests = [...runs, { ...run('pytest', 999), testRun: true }];
    assert.equal(latestRun(tests)?.runId, 'new');
  });
});
