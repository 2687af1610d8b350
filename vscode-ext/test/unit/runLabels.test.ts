import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RunInfo, RunVerdicts } from '../../src/common/protocol';
import { runAccessibleLabel, runLabel, runTooltipLines, verdictMark } from '../../src/views/runLabels';

function v(over: Partial<RunVerdicts>): RunVerdicts {
  return { passed: 0, failed: 0, unfinished: 0, failures: 0, exceptions: 0, ...over };
}

const now = new Date(2026, 11, 3, 18, 30, 0);
const started = new Date(2026, 11, 3, 18, 1, 45).getTime() / 1000;

function run(over: Partial<RunInfo> = {}): RunInfo {
  return {
    runId: '20261203T180145.120Z-42bc12',
    started,
    ended: started + 1.2,
    app: 'shop',
    mode: 'demo',
    verdicts: v({ passed: 9, failed: 2, unfinished: 1, failures: 1, exceptions: 1 }),
    artifacts: { summary: null, ask: null, trace: null },
    isLatest: false,
    testRun: false,
    workspaceFolder: 'file:///ws',
    projectRoot: 'file:///ws',
    ...over,
  };
}

describe('runLabel (the Runs view names a run by time, verdict and size)', () => {
  it('reads `time · verdict · flows · duration`, without the run id', () => {
    assert.equal(runLabel(run(), now, false), '18:01:45 · ✗ 2 · 12 flows · 1.2 s');
    assert.ok(!runLabel(run(), now, false).includes('42bc12'));
  });

  it('names a pytest session\'s run as one', () => {
    assert.equal(runLabel(run({ testRun: true }), now, false), 'pytest · 18:01:45 · ✗ 2 · 12 flows · 1.2 s');
  });

  it('counts orphaned instances in the size when the server gives them', () => {
    const r = run({ verdicts: v({ passed: 10, failed: 3, unfinished: 1, orphaned: 3, failures: 1, exceptions: 1 }) });
    assert.equal(runLabel(r, now, false), '18:01:45 · ✗ 2 · 17 flows · 1.2 s');
  });

  it('says a newest run without an end is running, and an older one just has no duration', () => {
    assert.equal(runLabel(run({ ended: null }), now, true), '18:01:45 · ✗ 2 · 12 flows · running');
    assert.equal(runLabel(run({ ended: null }), now, false), '18:01:45 · ✗ 2 · 12 flows');
  });

  it('shows the date of an older day, and copes with no start time', () => {
    const older = new Date(2026, 11, 1, 9, 5, 0).getTime() / 1000;
    assert.equal(runLabel(run({ started: older, ended: older + 0.0016 }), now, false), '2026-12-01 09:05 · ✗ 2 · 12 flows · 2 ms');
    assert.equal(runLabel(run({ started: null, ended: null }), now, false), 'unknown time · ✗ 2 · 12 flows');
  });

  it('marks the verdict: failures, failed flows, unfinished, passed, nothing', () => {
    assert.equal(verdictMark(v({ failures: 2, exceptions: 1 })), '✗ 3');
    assert.equal(verdictMark(v({ failed: 1 })), '✗ 1');
    assert.equal(verdictMark(v({ passed: 4, unfinished: 1 })), '⚠ 1');
    assert.equal(verdictMark(v({ passed: 5 })), '✓');
    assert.equal(verdictMark(v({})), '○');
  });

  it('keeps the run id for the tooltip, with the counts in words', () => {
    const r = run({ verdicts: v({ passed: 10, failed: 3, unfinished: 1, orphaned: 3, failures: 1, exceptions: 1 }) });
    assert.deepEqual(runTooltipLines(r, now), [
      'Run 20261203T180145.120Z-42bc12 (shop, demo)',
      '✗ 1 failure, 1 exception',
      'Flows: 10 passed, 3 failed, 1 unfinished, 3 orphaned',
      'Started 18:01:45, took 1.2 s',
    ]);
  });

  it('gives screen readers the same facts in words', () => {
    assert.equal(runAccessibleLabel(run(), now, false), 'run 18:01:45, 1 failure, 1 exception, 12 flows, 1.2 s');
  });
});
