"""What changed between two runs: verdicts, steps, evidence values, timing.

Instances are paired across runs by flow id and correlation values (``data/fetch`` for
``ticker=NFLX`` before and after), so ``rows: 390 -> 0`` is said of the right instance.
Values that differ in every run by nature (ids, timestamps, durations) are left out by
their key and shape; timing is compared as each flow's p95 instead.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from flowscribe.story._run import VERDICT_TYPES, RunView

__all__ = ["Change", "RunDiff", "diff_runs", "fold_for_diff"]

_ID_KEY = re.compile(r"(^|[._])(id|ids|uuid|ts|timestamp|elapsed\w*|duration\w*|\w*_ms|"
                     r"\w*_id|pid|tid|thread|seq)$", re.IGNORECASE)
_ID_VALUE = re.compile(r"^(?:[0-9a-f]{8,}(?:-[0-9a-f]{4,})*|\d{9,}(?:\.\d+)?|"
                       r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\S*)$", re.IGNORECASE)
_MAX_VALUES = 4  # values of one key per run beyond which the key is a sample, not a fact


@dataclass
class Change:
    """One difference; ``kind`` is verdict, new_failure, fixed, step_added, step_removed,
    value, or timing."""

    kind: str
    flow_id: str | None
    text: str
    before: Any = None
    after: Any = None
    where: str = ""  # the instance's correlation, e.g. "ticker=NFLX"


@dataclass
class RunDiff:
    """The comparison of run ``before`` with run ``after``."""

    before: str | None
    after: str | None
    changes: list[Change] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready form (``flowscribe diff --json``, the assistant tools)."""
        return {"before": self.before, "after": self.after,
                "changes": [asdict(c) for c in self.changes]}

    def lines(self, limit: int | None = None) -> list[str]:
        """One plain line per change, most telling first."""
        shown = self.changes if limit is None else self.changes[:limit]
        return [c.text for c in shown]


def _sig(ev: Mapping[str, Any]) -> str:
    corr = ev.get("correlation")
    if not isinstance(corr, Mapping) or not corr:
        return ""
    return " ".join(f"{k}={_short(v)}" for k, v in sorted(corr.items())[:4])


def _short(value: Any, limit: int = 60) -> str:
    if isinstance(value, str):
        text = value
    else:
        try:
            text = json.dumps(value, sort_keys=True, ensure_ascii=False, default=repr)
        except (TypeError, ValueError, RecursionError):
            text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _flatten(value: Any, prefix: str = "", depth: int = 0) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if isinstance(value, Mapping) and depth < 4:
        for k, v in list(value.items())[:60]:
            out.update(_flatten(v, f"{prefix}{k}.", depth + 1))
    else:
        key = prefix.rstrip(".")
        if isinstance(value, list):
            out[key + "#len"] = len(value)
        elif key:
            out[key] = value
    return out


@dataclass
class _Side:
    verdicts: dict[str, dict[str, int]] = field(default_factory=dict)
    classes: dict[str, set[str]] = field(default_factory=dict)
    steps: dict[str, set[str]] = field(default_factory=dict)
    values: dict[tuple[str, str, str, str], list[Any]] = field(default_factory=dict)
    durations: dict[str, list[float]] = field(default_factory=dict)


def _side(run: RunView) -> _Side:
    """The run's aggregate for comparing (memoized on the view: a run compared again,
    or with another run, is not folded again)."""
    if not isinstance(run.diff_side, _Side):
        run.diff_side = fold_for_diff(run.events)
    return run.diff_side


def fold_for_diff(events: Iterable[Mapping[str, Any]]) -> _Side:
    """What :func:`diff_runs` compares of a run, folded from its events as they stream by
    (none is kept: a run too big to hold as a view is compared in one pass)."""
    side = _Side()
    for ev in events:
        fid = ev.get("flow_id")
        if not isinstance(fid, str):
            continue
        kind = ev.get("event_type")
        if kind == "flow_end":
            counts = side.verdicts.setdefault(fid, {"passed": 0, "failed": 0, "unfinished": 0})
            status = ev.get("status")
            if status in counts:
                counts[status] += 1
            d = ev.get("duration_ms")
            if isinstance(d, (int, float)) and math.isfinite(d):
                side.durations.setdefault(fid, []).append(float(d))
            continue
        if kind in VERDICT_TYPES:
            side.classes.setdefault(fid, set()).add(str(ev.get("error_class") or "?"))
        if kind in ("flow_start",):
            continue
        step = f"{kind} {ev.get('step')}" if ev.get("step") else str(kind)
        side.steps.setdefault(fid, set()).add(step)
        sig = _sig(ev)
        for key, value in _flatten(ev.get("evidence")).items():
            if _ID_KEY.search(key.replace("#len", "")):
                continue
            if isinstance(value, str) and _ID_VALUE.match(value):
                continue
            bucket = side.values.setdefault((fid, sig, step, key), [])
            if len(bucket) <= _MAX_VALUES:
                bucket.append(value)
        if kind == "metric" and isinstance(ev.get("value"), (int, float)):
            bucket = side.values.setdefault((fid, sig, step, "value"), [])
            if len(bucket) <= _MAX_VALUES:
                bucket.append(ev.get("value"))
    return side


def _p95(values: list[float]) -> float | None:
    if not values:
        return None
    s = sorted(values)
    return s[min(len(s) - 1, math.ceil(0.95 * len(s)) - 1)]


def _fmt_counts(c: Mapping[str, int] | None) -> str:
    if not c:
        return "not run"
    parts = [f"{c['passed']} passed"]
    if c.get("failed"):
        parts.append(f"{c['failed']} failed")
    if c.get("unfinished"):
        parts.append(f"{c['unfinished']} unfinished")
    return ", ".join(parts)


def diff_runs(before: RunView, after: RunView, sla_ms: Mapping[str, float] | None = None,
              ) -> RunDiff:
    """What changed from ``before`` (e.g. the last good run) to ``after``."""
    a, b = _side(before), _side(after)
    diff = RunDiff(before.run_id, after.run_id)
    ch = diff.changes
    flows = sorted(set(a.verdicts) | set(b.verdicts) | set(a.steps) | set(b.steps))
    for fid in flows:
        va, vb = a.verdicts.get(fid), b.verdicts.get(fid)
        if (va or {}).get("failed", 0) != (vb or {}).get("failed", 0) or (va is None) != (
                vb is None):
            ch.append(Change("verdict", fid, f"{fid}: {_fmt_counts(va)} -> {_fmt_counts(vb)}",
                             va, vb))
        for cls in sorted(b.classes.get(fid, set()) - a.classes.get(fid, set())):
            ch.append(Change("new_failure", fid, f"{fid}: {cls} is new", None, cls))
        for cls in sorted(a.classes.get(fid, set()) - b.classes.get(fid, set())):
            ch.append(Change("fixed", fid, f"{fid}: {cls} no longer happens", cls, None))
        if va is not None and vb is not None:
            for step in sorted(b.steps.get(fid, set()) - a.steps.get(fid, set())):
                ch.append(Change("step_added", fid, f"{fid}: `{step}` appeared", None, step))
            for step in sorted(a.steps.get(fid, set()) - b.steps.get(fid, set())):
                ch.append(Change("step_removed", fid, f"{fid}: `{step}` vanished", step, None))
    for key in sorted(set(a.values) & set(b.values), key=lambda k: tuple(map(str, k))):
        old, new = a.values[key], b.values[key]
        if len(old) > _MAX_VALUES or len(new) > _MAX_VALUES:
            continue  # a key that takes many values per run is not one fact
        if old == new:
            continue
        fid, sig, step, field_key = key
        where = f"[{sig}] " if sig else ""
        shown_old = _short(old[0]) if len(old) == 1 else "/".join(_short(v, 20) for v in old)
        shown_new = _short(new[0]) if len(new) == 1 else "/".join(_short(v, 20) for v in new)
        ch.append(Change("value", fid,
                         f"{fid} {where}{step.split(' ', 1)[-1]}: {field_key}: "
                         f"{shown_old} -> {shown_new}", old, new, sig))
    for fid in flows:
        pa, pb = _p95(a.durations.get(fid, [])), _p95(b.durations.get(fid, []))
        if pa is None or pb is None:
            continue
        sla = (sla_ms or {}).get(fid)
        slower = pb > max(1.5 * pa, pa + 5.0)
        over = sla is not None and pb > sla >= pa
        if slower or over:
            note = f" (SLA {sla:g} ms)" if sla is not None else ""
            ch.append(Change("timing", fid, f"{fid}: p95 {pa:.1f} ms -> {pb:.1f} ms{note}",
                             pa, pb))
    order = {"verdict": 0, "new_failure": 1, "value": 2, "step_added": 3, "step_removed": 3,
             "timing": 4, "fixed": 5}
    ch.sort(key=lambda c: order.get(c.kind, 9))
    return diff
