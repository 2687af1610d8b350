import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AXIS_H, bucketOf, caption, fmtMs, histogram } from '../../src/timeline/histogram';
import type { FlowLatency } from '../../src/timeline/model';

function lat(over: Partial<FlowLatency>): FlowLatency {
  return {
    flowId: 'orders/submit', count: 20, p50Ms: 10, p95Ms: 120, p99Ms: 900, maxMs: 900,
    boundsMs: [50, 200, 1000], counts: [18, 1, 1, 0], labels: ['<= 50 ms', '50-200 ms', '200-1000 ms', '> 1000 ms'],
    slaP95Ms: 100, overSla: true, estimated: false, bimodal: false, ...over,
  };
}

describe('histogram (a flow latency over ra.yaml buckets, against its SLA)', () => {
  it('draws one column per bucket, heights relative to the tallest, on one baseline', () => {
    const h = histogram(lat({}), 400, 128);
    assert.equal(h.columns.length, 4);
    const plot = 128 - AXIS_H;
    const [a, b, , d] = h.columns;
    assert.equal(a.h, plot); // the tallest fills the plot
    assert.ok(b.h >= 2 && b.h < a.h / 2); // 1 of 18: small, never invisible
    assert.equal(d.h, 0); // an empty bucket has no column
    for (const col of h.columns) {
      assert.equal(col.y + col.h, plot);
    }
    // Left to right, same width, none overlapping, all inside the width.
    for (let i = 1; i < 4; i++) {
      assert.ok(h.columns[i].x >= h.columns[i - 1].x + h.columns[i - 1].w);
    }
    assert.ok(d.x + d.w <= 400 + 1e-9);
    assert.deepEqual(h.columns.map((col) => col.label), ['<= 50 ms', '50-200 ms', '200-1000 ms', '> 1000 ms']);
  });

  it('names the buckets of p50/p95/p99 and the SLA, and marks the buckets past the SLA', () => {
    const h = histogram(lat({}), 400, 128);
    assert.deepEqual(h.columns.map((col) => col.notes), [['p50'], ['p95', 'SLA'], ['p99'], []]);
    assert.deepEqual(h.columns.map((col) => col.overSla), [false, false, true, true]);
    const noSla = histogram(lat({ slaP95Ms: null, overSla: false }), 400, 128);
    assert.ok(noSla.columns.every((col) => !col.overSla && !col.notes.includes('SLA')));
  });

  it('words it as the hover does', () => {
    assert.equal(caption(lat({})), 'p50 10 ms · p95 120 ms · p99 900 ms · SLA p95 100 ms ✗ over · 20 ended');
    assert.equal(caption(lat({ slaP95Ms: null, estimated: true, p50Ms: 0.5, p99Ms: 12_500 })),
      'p50 0.50 ms · p95 120 ms · p99 12.5 s · 20 ended (estimated within 1 %)');
    assert.equal(fmtMs(9.999), '10.00 ms');
    assert.equal(bucketOf(50, [50, 200]), 0); // a bound belongs to its bucket
    assert.equal(bucketOf(50.01, [50, 200]), 1);
    assert.equal(bucketOf(5000, [50, 200]), 2);
  });

  it('survives an all-empty or a bucket-less flow', () => {
    const empty = histogram(lat({ counts: [0, 0, 0, 0], count: 0 }), 100, 40);
    assert.ok(empty.columns.every((col) => col.h === 0 && Number.isFinite(col.y)));
    const one = histogram(lat({ boundsMs: [], counts: [3], labels: ['all'] }), 100, 40);
    assert.equal(one.columns.length, 1);
    assert.equal(one.columns[0].w, 100);
  });
});
