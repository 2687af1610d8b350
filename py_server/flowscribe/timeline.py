"""A searchable timeline of one run: ``flowscribe timeline``.

Filters combine (all must hold): flow glob, flow instance (with its children), correlation
``key=value``, event type, text anywhere in the event, and a time window in seconds since
the run started. Shown as a tree (each event indented under its parent flows) or flat, or
as JSON lines.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from flowscribe.patterns import matches
from flowscribe.story import RunView, event_line

__all__ = ["TimelineFilter", "render", "select"]


@dataclass
class TimelineFilter:
    """What ``flowscribe timeline`` keeps; None / empty means no condition."""

    flow: str | None = None
    instance: str | None = None
    where: dict[str, str] = field(default_factory=dict)
    types: set[str] = field(default_factory=set)
    text: str | None = None
    since: float | None = None
    until: float | None = None


def _t0(run: RunView) -> float:
    times = [e["ts"] for e in run.events if isinstance(e.get("ts"), (int, float))]
    return min(times) if times else 0.0


def _ts(ev: Mapping[str, Any], default: float) -> float:
    ts = ev.get("ts")
    return float(ts) if isinstance(ts, (int, float)) else default


def _corr_value(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True)


def select(run: RunView, f: TimelineFilter) -> list[dict[str, Any]]:
    """The run's events that pass every condition of ``f``, in trace order."""
    t0 = _t0(run)
    scope: set[str] | None = None
    if f.instance is not None:
        scope = {f.instance, *run.descendants(f.instance)}
    needle = f.text.lower() if f.text else None
    out = []
    for ev in run.events:
        if f.types and ev.get("event_type") not in f.types:
            continue
        fid = ev.get("flow_id")
        if f.flow is not None and not (isinstance(fid, str) and matches(f.flow, fid)):
            continue
        if scope is not None and ev.get("instance") not in scope:
            continue
        if f.where:
            raw = ev.get("correlation")
            corr: Mapping[str, Any] = raw if isinstance(raw, Mapping) else {}
            if any(k not in corr or _corr_value(corr[k]) != v for k, v in f.where.items()):
                continue
        ts = _ts(ev, t0)
        if f.since is not None and ts - t0 < f.since:
            continue
        if f.until is not None and ts - t0 > f.until:
            continue
        if needle is not None and needle not in json.dumps(ev, ensure_ascii=False).lower():
            continue
        out.append(ev)
    return out


def render(run: RunView, events: Sequence[Mapping[str, Any]], *, tree: bool = True) -> list[str]:
    """One line per event: ``+seconds thread [indent] compact event``."""
    t0 = _t0(run)
    lines = []
    for ev in events:
        ts = _ts(ev, t0)
        depth = 0
        if tree and isinstance(ev.get("instance"), str):
            depth = len(run.ancestors(ev["instance"])) + (
                0 if ev.get("event_type") in ("flow_start", "flow_end") else 1)
        indent = "  " * min(depth, 30)
        thread = str(ev.get("thread") or "?")[:16]
        lines.append(f"+{ts - t0:9.3f}s {thread:<16} {indent}{event_line(ev)}")
    return lines
