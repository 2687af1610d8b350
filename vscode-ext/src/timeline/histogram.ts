/**
 * A flow's latency histogram for the Run Timeline's Latency tab: one column per ra.yaml
 * bucket, its height the bucket's share of the tallest, the SLA target's bucket and the
 * buckets of p50/p95/p99 named under it. Pure (no DOM): the webview draws what this returns.
 */
import type { FlowLatency } from './model';

export interface HistogramColumn {
  label: string;
  count: number;
  x: number;
  /** Top of the column (the baseline is at `height - AXIS_H`). */
  y: number;
  w: number;
  h: number;
  /** What falls in this bucket: `p50`, `p95`, `p99`, `SLA`. */
  notes: string[];
  /** The bucket is above the SLA target's: durations here missed it. */
  overSla: boolean;
}

export interface Histogram {
  columns: HistogramColumn[];
  width: number;
  height: number;
  /** `p50 12 ms · p95 840 ms · p99 1.2 s · SLA p95 1000 ms ✓ · 40 ended`. */
  caption: string;
}

/** Room under the columns for the bucket labels. */
export const AXIS_H = 28;
export const GAP = 4;

/** A duration for people, as the server words it: `0.42 ms`, `12 ms`, `3.4 s`. */
export function fmtMs(ms: number): string {
  if (ms < 10) {
    return `${ms.toFixed(2)} ms`;
  }
  if (ms < 10_000) {
    return `${ms.toFixed(0)} ms`;
  }
  return `${(ms / 1000).toFixed(1)} s`;
}

/** The bucket a duration falls in: the first whose upper bound is at or above it. */
export function bucketOf(ms: number, bounds: readonly number[]): number {
  const n = bounds.findIndex((b) => ms <= b);
  return n < 0 ? bounds.length : n;
}

export function caption(lat: FlowLatency): string {
  const parts = [`p50 ${fmtMs(lat.p50Ms)}`, `p95 ${fmtMs(lat.p95Ms)}`, `p99 ${fmtMs(lat.p99Ms)}`];
  if (lat.slaP95Ms !== null) {
    parts.push(`SLA p95 ${fmtMs(lat.slaP95Ms)} ${lat.overSla ? '✗ over' : '✓'}`);
  }
  parts.push(`${lat.count} ended${lat.estimated ? ' (estimated within 1 %)' : ''}`);
  return parts.join(' · ');
}

export function histogram(lat: FlowLatency, width: number, height: number): Histogram {
  const n = Math.max(lat.counts.length, 1);
  const most = Math.max(0, ...lat.counts);
  const colW = Math.max(1, (width - GAP * (n - 1)) / n);
  const plotH = Math.max(0, height - AXIS_H);
  const notes = new Map<number, string[]>();
  const note = (bucket: number, what: string): void => {
    notes.set(bucket, [...(notes.get(bucket) ?? []), what]);
  };
  note(bucketOf(lat.p50Ms, lat.boundsMs), 'p50');
  note(bucketOf(lat.p95Ms, lat.boundsMs), 'p95');
  note(bucketOf(lat.p99Ms, lat.boundsMs), 'p99');
  const sla = lat.slaP95Ms === null ? undefined : bucketOf(lat.slaP95Ms, lat.boundsMs);
  if (sla !== undefined) {
    note(sla, 'SLA');
  }
  const columns = lat.counts.map((count, i) => {
    // A bucket with durations is never drawn empty, however tall the tallest one is.
    const h = most > 0 && count > 0 ? Math.max(2, (count / most) * plotH) : 0;
    return {
      label: lat.labels[i] ?? '',
      count,
      x: i * (colW + GAP),
      y: plotH - h,
      w: colW,
      h,
      notes: notes.get(i) ?? [],
      overSla: sla !== undefined && i > sla,
    };
  });
  return { columns, width, height, caption: caption(lat) };
}
