/**
 * Model -> picture: where each bar, mark and tick of a timeline goes, and the zoom/pan of
 * the time axis. Pure (no DOM): the webview draws what this returns.
 *
 * Lanes are stacked top to bottom in the order the server gives them. Within a lane a bar
 * sits on the first row at or below its nesting depth that is free over its time span, so
 * children sit under their parent and concurrent instances (asyncio tasks on one thread)
 * never overlap.
 */
import type { Bar, Mark, Tick, TimelineModel } from './model';

export const ROW_H = 18;
export const LANE_HEADER_H = 16;
export const LANE_GAP = 6;
/** The narrowest a bar is drawn, so a 1 µs instance can still be hovered. */
export const MIN_BAR_W = 2;

/** The visible time span, seconds since the run's start, mapped onto `width` pixels. */
export interface Viewport {
  from: number;
  to: number;
  width: number;
}

export interface PlacedBar {
  bar: Bar;
  x: number;
  y: number;
  w: number;
  row: number;
}

export interface PlacedLane {
  lane: number;
  label: string;
  y: number;
  height: number;
  rows: number;
}

export interface Layout {
  lanes: PlacedLane[];
  bars: PlacedBar[];
  marks: { mark: Mark; x: number; y: number }[];
  ticks: { tick: Tick; x: number; y: number }[];
  height: number;
}

export function xOf(t: number, v: Viewport): number {
  const span = v.to - v.from;
  return span > 0 ? ((t - v.from) / span) * v.width : 0;
}

export function timeAt(x: number, v: Viewport): number {
  return v.from + (x / Math.max(v.width, 1)) * (v.to - v.from);
}

/** The whole run (with a little room on the right for a mark at its very end). */
export function fullView(model: TimelineModel, width: number): Viewport {
  const since = model.window?.since ?? 0;
  const until = model.window?.until ?? model.duration ?? 0;
  const span = until - since;
  return { from: since, to: since + (span > 0 ? span * 1.02 : 1), width };
}

/** Zooms by `factor` (> 1 closer) keeping the time under pixel `x` in place. */
export function zoom(v: Viewport, x: number, factor: number, minSpan = 1e-6): Viewport {
  const at = timeAt(x, v);
  const span = Math.max((v.to - v.from) / factor, minSpan);
  const from = at - (x / Math.max(v.width, 1)) * span;
  return { from, to: from + span, width: v.width };
}

/** Pans by `dx` pixels (dragging right shows earlier times). */
export function pan(v: Viewport, dx: number): Viewport {
  const dt = (dx / Math.max(v.width, 1)) * (v.to - v.from);
  return { from: v.from - dt, to: v.to - dt, width: v.width };
}

/** Rows of one lane's bars: each on the first free row at or below its depth. */
export function packRows(bars: readonly Bar[]): Map<Bar, number> {
  const rowEnds: number[] = [];
  const rows = new Map<Bar, number>();
  const sorted = [...bars].sort((a, b) => a.start - b.start || a.depth - b.depth);
  const minRow = Math.min(...sorted.map((b) => b.depth), Infinity);
  for (const bar of sorted) {
    let row = Math.max(0, bar.depth - (Number.isFinite(minRow) ? minRow : 0));
    while ((rowEnds[row] ?? -Infinity) > bar.start) {
      row++;
    }
    rowEnds[row] = bar.end;
    rows.set(bar, row);
  }
  return rows;
}

export function layout(model: TimelineModel, v: Viewport): Layout {
  const byLane = new Map<number, Bar[]>();
  for (const bar of model.bars) {
    const list = byLane.get(bar.lane) ?? [];
    list.push(bar);
    byLane.set(bar.lane, list);
  }
  const lanes: PlacedLane[] = [];
  const bars: PlacedBar[] = [];
  const laneTop = new Map<number, PlacedLane>();
  const instanceRow = new Map<string, PlacedBar>();
  let y = 0;
  for (const lane of model.lanes) {
    const own = byLane.get(lane.lane) ?? [];
    const rows = packRows(own);
    const count = Math.max(1, ...[...rows.values()].map((r) => r + 1));
    const placed: PlacedLane = {
      lane: lane.lane,
      label: `${lane.thread} (pid ${lane.pid})${lane.hidden ? ` · ${lane.hidden} more not drawn` : ''}`,
      y,
      height: LANE_HEADER_H + count * ROW_H,
      rows: count,
    };
    lanes.push(placed);
    laneTop.set(lane.lane, placed);
    for (const bar of own) {
      const row = rows.get(bar) ?? 0;
      const x0 = xOf(bar.start, v);
      const x1 = xOf(bar.end, v);
      const pb = { bar, row, x: x0, y: y + LANE_HEADER_H + row * ROW_H, w: Math.max(MIN_BAR_W, x1 - x0) };
      bars.push(pb);
      instanceRow.set(bar.instance, pb);
    }
    y += placed.height + LANE_GAP;
  }
  const rowY = (lane: number, instance: string | null): number => {
    const pb = instance ? instanceRow.get(instance) : undefined;
    if (pb) {
      return pb.y + ROW_H / 2;
    }
    const l = laneTop.get(lane);
    return l ? l.y + LANE_HEADER_H + ROW_H / 2 : ROW_H / 2;
  };
  return {
    lanes,
    bars,
    marks: model.marks.map((mark) => ({ mark, x: xOf(mark.t, v), y: rowY(mark.lane, mark.instance) })),
    ticks: model.ticks.map((tick) => ({ tick, x: xOf(tick.t, v), y: rowY(tick.lane, tick.instance) })),
    height: Math.max(0, y - LANE_GAP),
  };
}

/** Bars that overlap the viewport at all (the rest need no DOM node). */
export function visible<T extends { x: number; w?: number }>(items: readonly T[], v: Viewport): T[] {
  return items.filter((i) => i.x + (i.w ?? 0) >= 0 && i.x <= v.width);
}
