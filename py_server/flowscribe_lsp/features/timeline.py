"""``flowscribe/timeline``: one run as a windowed, bounded model for a timeline view.

Lanes are the run's (pid, thread) pairs; flow instances are bars (nested by parent through
``depth``), failures and exceptions marks, checkpoints and successes ticks. Whatever the
run's size the answer stays small: at most ``maxBars`` bars (failing instances and their
ancestors first, then the longest), ticks only inside the bars shown (sampled evenly
beyond ``2 × maxBars``), at most :data:`MAX_MARKS` marks; the instances not drawn are
counted per lane in :data:`DENSITY_BINS` bins over the window, so the view can shade
where they were. Times are seconds since the run's first event.

Params (all optional): ``runId`` (default the latest run), ``workspaceFolder``,
``since``/``until`` (seconds since the run's start), ``flow`` (a flow-id glob), ``where``
(``"key=value"`` or ``{key: value}``, correlation keys), ``verdict`` (one of or a list of
``passed``, ``failed``, ``unfinished``, ``orphaned``, ``running``), ``maxBars``.

The answer also carries ``latency``: per flow of the selection (at most
:data:`MAX_LATENCY_FLOWS`, failing and slowest first), its p50/p95/p99 over the whole run
against its SLA, with the counts per ``ra.yaml`` latency bucket, for the view's histograms.
Documented in docs/timeline.md.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from flowscribe.artifacts.latency import Latency
from flowscribe.config import Performance
from flowscribe.patterns import matches

from ..protocol import params_of
from . import Feature
from .latency_fold import LatencyFolds
from .run_fold import Instance, RunFold, RunFolds, verdict_of

if TYPE_CHECKING:
    from ..server import FlowscribeServer

__all__ = ["TIMELINE", "Timeline", "TimelineQuery", "build_timeline"]

TIMELINE = "flowscribe/timeline"
DEFAULT_BARS = 1500
MAX_BARS = 5000
MAX_MARKS = 1000
DENSITY_BINS = 200
MAX_LATENCY_FLOWS = 50
VERDICTS = frozenset({"passed", "failed", "unfinished", "orphaned", "running"})


@dataclass
class TimelineQuery:
    """What the client asked to see; None / empty means no condition."""

    since: float | None = None
    until: float | None = None
    flow: str | None = None
    where: dict[str, str] = field(default_factory=dict)
    verdicts: frozenset[str] = frozenset()
    max_bars: int = DEFAULT_BARS

    @classmethod
    def from_params(cls, p: Mapping[str, Any]) -> TimelineQuery:
        """Read the request's params; values of the wrong type are ignored."""
        def seconds(key: str) -> float | None:
            v = p.get(key)
            return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None

        flow = p.get("flow")
        where: dict[str, str] = {}
        raw = p.get("where")
        if isinstance(raw, str) and "=" in raw:
            k, v = raw.split("=", 1)
            if k.strip():
                where[k.strip()] = v.strip()
        elif isinstance(raw, Mapping):
            where = {str(k): str(v) for k, v in raw.items() if isinstance(k, str) and k}
        verdict = p.get("verdict")
        wanted = [verdict] if isinstance(verdict, str) else verdict if isinstance(
            verdict, list) else []
        bars = p.get("maxBars")
        return cls(
            since=seconds("since"), until=seconds("until"),
            flow=flow.strip() if isinstance(flow, str) and flow.strip() else None,
            where=where,
            verdicts=frozenset(v for v in wanted if isinstance(v, str) and v in VERDICTS),
            max_bars=min(bars, MAX_BARS) if isinstance(bars, int) and not isinstance(
                bars, bool) and bars > 0 else DEFAULT_BARS)


def _corr(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True)


def _selected(fold: RunFold, q: TimelineQuery, lo: float, hi: float) -> list[Instance]:
    t_end = fold.t_end if fold.t_end is not None else hi
    out = []
    for inst in fold.instances.values():
        end = inst.end if inst.end is not None else t_end
        if inst.start > hi or end < lo:
            continue
        if q.flow is not None and not matches(q.flow, inst.flow_id):
            continue
        if q.where and any(k not in inst.correlation or _corr(inst.correlation[k]) != v
                           for k, v in q.where.items()):
            continue
        if q.verdicts and verdict_of(fold, inst) not in q.verdicts:
            continue
        out.append(inst)
    return out


def _keep(fold: RunFold, cands: list[Instance], limit: int, t_end: float) -> list[Instance]:
    """At most ``limit`` of ``cands``: failing ones and their ancestors first, then the
    longest; in start order."""
    if len(cands) <= limit:
        return cands
    by_id = {i.instance: i for i in cands}
    kept: dict[str, Instance] = {}

    def take(inst: Instance) -> None:
        if len(kept) < limit and inst.instance not in kept:
            kept[inst.instance] = inst

    for inst in cands:
        if inst.status == "failed" or inst.marks:
            take(inst)
            parent, seen = inst.parent, {inst.instance}
            while parent is not None and parent in by_id and parent not in seen:
                seen.add(parent)
                take(by_id[parent])
                parent = by_id[parent].parent
    rest = sorted((i for i in cands if i.instance not in kept),
                  key=lambda i: (i.end if i.end is not None else t_end) - i.start, reverse=True)
    for inst in rest[: max(0, limit - len(kept))]:
        take(inst)
    return sorted(kept.values(), key=lambda i: i.start)


def selected_flows(fold: RunFold, q: TimelineQuery) -> list[str]:
    """The flow ids of ``q``'s selection (window aside: a histogram is the whole run's)."""
    lo, hi = -float("inf"), float("inf")
    return sorted({i.flow_id for i in _selected(fold, q, lo, hi)})


def latency_json(latencies: Mapping[str, Latency]) -> list[dict[str, Any]]:
    """At most :data:`MAX_LATENCY_FLOWS` flows' latency: over their SLA first, then by
    p95, slowest first."""
    ranked = sorted(latencies.values(), key=lambda lat: (not lat.over_sla, -lat.p95_ms,
                                                         lat.flow_id))
    return [lat.to_json() for lat in ranked[:MAX_LATENCY_FLOWS]]


def build_timeline(fold: RunFold, q: TimelineQuery,
                   uri: Callable[[str | None], str | None]) -> dict[str, Any]:
    """The bounded model of ``fold`` for ``q``; ``uri`` maps a recorded file to a
    workspace file's URI (None outside the workspace)."""
    t0 = fold.t0 if fold.t0 is not None else 0.0
    t_end = fold.t_end if fold.t_end is not None else t0
    lo = t0 + q.since if q.since is not None else t0
    hi = t0 + q.until if q.until is not None else t_end
    hi = max(hi, lo)
    cands = _selected(fold, q, lo, hi)
    bars = _keep(fold, cands, q.max_bars, t_end)
    shown = {i.instance for i in bars}
    filtered = bool(q.flow or q.where or q.verdicts)
    candidate_ids = {i.instance for i in cands}

    def rel(t: float) -> float:
        return round(t - t0, 6)

    # What is not drawn, per lane: counts of instance starts over the window.
    span = hi - lo
    density: dict[int, list[int]] = {}
    for inst in cands:
        if inst.instance in shown:
            continue
        bins = density.setdefault(inst.lane, [0] * DENSITY_BINS)
        b = int((inst.start - lo) / span * DENSITY_BINS) if span > 0 else 0
        bins[min(max(b, 0), DENSITY_BINS - 1)] += 1

    marks: list[dict[str, Any]] = []
    marks_total = 0
    for m in fold.marks:
        if not lo <= m.t <= hi:
            continue
        if m.instance is not None and m.instance in fold.instances:
            if m.instance not in candidate_ids:
                continue
        elif filtered:
            continue
        marks_total += 1
        if len(marks) < MAX_MARKS:
            marks.append({
                "t": rel(m.t), "kind": m.kind, "lane": m.lane, "instance": m.instance,
                "flowId": m.flow_id, "errorClass": m.error_class,
                "exceptionType": m.exception_type, "reason": m.reason,
                "severity": m.severity, "file": m.file, "line": m.line, "uri": uri(m.file),
                "eventId": m.event_id, "evidence": m.evidence})

    ticks_in = [t for t in fold.ticks if t.instance in shown and lo <= t.t <= hi]
    tick_limit = 2 * q.max_bars
    step = len(ticks_in) / tick_limit if len(ticks_in) > tick_limit else 1.0
    sampled = ticks_in if step == 1.0 else [ticks_in[int(n * step)] for n in range(tick_limit)]
    ticks = [{"t": rel(t.t), "kind": t.kind, "lane": t.lane, "instance": t.instance,
              "step": t.step, "file": t.file, "line": t.line, "uri": uri(t.file),
              "eventId": t.event_id, "evidence": t.evidence} for t in sampled]

    out_bars: list[dict[str, Any]] = []
    for inst in bars:
        end = inst.end if inst.end is not None else t_end
        out_bars.append({
            "instance": inst.instance, "flowId": inst.flow_id, "parent": inst.parent,
            "lane": inst.lane, "depth": fold.depth(inst), "start": rel(inst.start),
            "end": rel(end), "status": verdict_of(fold, inst),
            "errorClass": inst.error_class, "correlation": inst.correlation,
            "file": inst.file, "line": inst.line, "uri": uri(inst.file),
            "marks": inst.marks, "ticks": inst.ticks})

    lanes_used: list[int] = sorted({i.lane for i in bars} | {int(m["lane"]) for m in marks}
                                   | set(density))
    lanes = [{"lane": n, "pid": fold.lanes[n][0], "thread": fold.lanes[n][1],
              "hidden": sum(density.get(n, ())), "density": density.get(n)}
             for n in lanes_used]
    return {
        "runId": fold.run_id,
        "t0": t0,
        "duration": round(t_end - t0, 6),
        "window": {"since": rel(lo), "until": rel(hi)},
        "ended": fold.ended,
        "lanes": lanes,
        "bars": out_bars,
        "marks": marks,
        "ticks": ticks,
        "totals": {
            "events": fold.events, "instances": len(cands), "bars": len(out_bars),
            "marks": marks_total, "ticks": len(ticks_in), "ticksShown": len(ticks),
            "notFolded": dict(fold.dropped),
        },
        "truncated": len(out_bars) < len(cands) or len(marks) < marks_total
        or len(ticks) < len(ticks_in),
    }


class Timeline(Feature):
    """The ``flowscribe/timeline`` request."""

    def __init__(self, server: FlowscribeServer, folds: RunFolds,
                 latency: LatencyFolds) -> None:
        super().__init__(server)
        self.folds = folds
        self.latency = latency
        server.handle(TIMELINE)(self.timeline)

    async def timeline(self, params: Any) -> dict[str, Any]:
        p = params_of(params)
        q = TimelineQuery.from_params(p)
        found = self.server.queries.locate_run(p)
        if found is None:
            return {"runId": p.get("runId"), "lanes": [], "bars": [], "marks": [],
                    "ticks": [], "error": "no trace for this run"}
        project, trace, rid = found
        uri = self.server.queries.recorded_uris(project)

        perf = project.config.performance if project.config is not None else Performance()

        def build() -> dict[str, Any]:
            fold = self.folds.fold(trace, rid)
            result = build_timeline(fold, q, uri)
            result["latency"] = latency_json(self.latency.latencies(
                trace, rid, perf.latency_buckets_ms, project.sla_ms,
                flows=selected_flows(fold, q)))
            return result

        empty: dict[str, Any] = {"runId": rid, "lanes": [], "bars": [], "marks": [],
                                 "ticks": [], "error": "reading the run failed"}
        try:
            result = await self.server.in_worker(build)
        except Exception as exc:  # a bad trace must not take the server down
            self.server.log(f"{TIMELINE} failed: {type(exc).__name__}: {exc}")
            return empty
        if not result["totals"]["events"]:
            result["error"] = f"no events of run {rid} in {trace.name}"
        result["workspaceFolder"] = project.folder.uri
        return result
