import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fullView, layout, LANE_HEADER_H, packRows, pan, ROW_H, timeAt, xOf, zoom } from '../../src/timeline/layout';
import type { Bar, TimelineModel } from '../../src/timeline/model';

function bar(over: Partial<Bar>): Bar {
  return {
    instance: 'i', flowId: 'a/b', parent: null, lane: 0, depth: 0, start: 0, end: 1, status: 'passed',
    errorClass: null, correlation: {}, file: null, line: null, uri: null, marks: 0, ticks: 0, ...over,
  };
}

function model(bars: Bar[]): TimelineModel {
  return {
    runId: 'r', duration: 10, window: { since: 0, until: 10 },
    lanes: [
      { lane: 0, pid: 1, thread: 'MainThread', hidden: 0, density: null },
      { lane: 1, pid: 1, thread: 'worker', hidden: 3, density: null },
    ],
    bars,
    marks: [{ t: 2, kind: 'failure', lane: 1, instance: 'c', flowId: 'a/c', errorClass: 'DATA.EMPTY', exceptionType: null,
      reason: '<img src=x onerror=alert(1)>', severity: 'error', file: null, line: null, uri: null, eventId: 'e', evidence: '' }],
    ticks: [],
  };
}

describe('packRows (bars nested by parent, concurrent ones never overlap)', () => {
  it('puts a child under its parent and two overlapping siblings on two rows', () => {
    const parent = bar({ instance: 'p', start: 0, end: 10 });
    const a = bar({ instance: 'a', parent: 'p', depth: 1, start: 1, end: 5 });
    const b = bar({ instance: 'b', parent: 'p', depth: 1, start: 2, end: 6 });
    const c = bar({ instance: 'c', parent: 'p', depth: 1, start: 6, end: 7 });
    const rows = packRows([b, c, parent, a]);
    assert.equal(rows.get(parent), 0);
    assert.equal(rows.get(a), 1);
    assert.equal(rows.get(b), 2); // overlaps a
    assert.equal(rows.get(c), 1); // a has ended: its row is free again
  });

  it('starts a lane whose bars are all children (the parent is on another thread) at row 0', () => {
    const rows = packRows([bar({ instance: 'x', depth: 2 }), bar({ instance: 'y', depth: 3, start: 0.2, end: 0.5 })]);
    assert.deepEqual([...rows.values()], [0, 1]);
  });
});

describe('layout', () => {
  it('stacks lanes, places bars by time and marks on their instance\'s row', () => {
    const m = model([bar({ instance: 'p', start: 0, end: 10 }), bar({ instance: 'c', lane: 1, depth: 1, parent: 'p', start: 1, end: 3, status: 'failed' })]);
    const v = { from: 0, to: 10, width: 1000 };
    const l = layout(m, v);
    assert.equal(l.lanes.length, 2);
    assert.ok(l.lanes[1].y > l.lanes[0].y + l.lanes[0].height - 1);
    assert.match(l.lanes[1].label, /worker \(pid 1\) · 3 more not drawn/);
    const c = l.bars.find((b) => b.bar.instance === 'c')!;
    assert.equal(c.x, 100);
    assert.equal(c.w, 200);
    assert.equal(c.y, l.lanes[1].y + LANE_HEADER_H);
    const [mark] = l.marks;
    assert.equal(mark.x, 200);
    assert.equal(mark.y, c.y + ROW_H / 2);
  });

  it('draws a zero-length instance wide enough to hover', () => {
    const l = layout(model([bar({ start: 5, end: 5 })]), { from: 0, to: 10, width: 1000 });
    assert.ok(l.bars[0].w >= 2);
  });
});

describe('zoom and pan', () => {
  const v = { from: 0, to: 10, width: 1000 };
  it('keeps the time under the cursor in place when zooming', () => {
    const z = zoom(v, 250, 2);
    assert.equal(z.to - z.from, 5);
    assert.ok(Math.abs(timeAt(250, z) - timeAt(250, v)) < 1e-9);
  });
  it('moves the view against the drag', () => {
    const p = pan(v, 100);
    assert.equal(p.from, -1);
    assert.equal(xOf(0, p), 100);
  });
  it('starts showing the whole window', () => {
    const f = fullView(model([]), 500);
    assert.equal(f.from, 0);
    assert.ok(f.to >= 10);
  });
});
