"""One run's events, indexed the way a failure's story is told: by id, by flow instance,
and as the tree of flow instances (parent, children, siblings).

A run is read from its trace file by :func:`load_run`, bounded in memory whatever the
trace's size: every structural event (run start, flow start and end, failure, exception,
summary) is kept, and of the others (checkpoints, metrics, successes) those near a failure
and the newest ones, which is where a story looks.
"""

from __future__ import annotations

import collections
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flowscribe.trace import iter_events

__all__ = ["VERDICT_TYPES", "RunView", "load_run"]

#: Events that carry a verdict against the run: what a story starts from.
VERDICT_TYPES = frozenset({"failure", "exception"})
_STRUCTURAL = frozenset({"run_start", "flow_start", "flow_end", "summary"}) | VERDICT_TYPES
#: Non-structural events kept before each failure and after the last one.
_WINDOW_BEFORE = 2_000
_WINDOW_AFTER = 200
#: At most this many structural events are kept (a run with millions of flow instances
#: keeps its newest ones); the count of what was dropped is on the view.
_MAX_STRUCTURAL = 200_000


@dataclass
class RunView:
    """The events of one run (oldest first) and the indexes a story needs."""

    run_id: str | None
    events: list[dict[str, Any]]
    dropped: int = 0
    by_id: dict[str, dict[str, Any]] = field(default_factory=dict)
    by_instance: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    starts: dict[str, dict[str, Any]] = field(default_factory=dict)
    ends: dict[str, dict[str, Any]] = field(default_factory=dict)
    children: dict[str, list[str]] = field(default_factory=dict)
    position: dict[str, int] = field(default_factory=dict)

    @classmethod
    def from_events(cls, events: Iterable[Mapping[str, Any]], dropped: int = 0) -> RunView:
        """Index ``events`` (one run's, in trace order)."""
        evs = [dict(e) for e in events]
        view = cls(run_id=next((e.get("run_id") for e in evs if e.get("run_id")), None),
                   events=evs, dropped=dropped)
        for n, ev in enumerate(evs):
            eid = ev.get("id")
            if isinstance(eid, str):
                view.by_id.setdefault(eid, ev)
                view.position.setdefault(eid, n)
            inst = ev.get("instance")
            if not isinstance(inst, str):
                continue
            view.by_instance.setdefault(inst, []).append(ev)
            kind = ev.get("event_type")
            if kind == "flow_start":
                view.starts[inst] = ev
                parent = ev.get("parent")
                if isinstance(parent, str):
                    view.children.setdefault(parent, []).append(inst)
            elif kind == "flow_end":
                view.ends[inst] = ev
        return view

    # --- the run as a whole ---------------------------------------------------------
    @property
    def header(self) -> dict[str, Any]:
        """The first ``run_start``'s evidence (app, root, argv, cwd, git sha)."""
        for ev in self.events:
            if ev.get("event_type") == "run_start":
                evidence = ev.get("evidence")
                return dict(evidence) if isinstance(evidence, Mapping) else {}
        return {}

    def verdict_events(self) -> list[dict[str, Any]]:
        """Failure and exception events, oldest first."""
        return [e for e in self.events if e.get("event_type") in VERDICT_TYPES]

    def passed(self) -> bool:
        """True when the run recorded no failure or exception."""
        return not any(e.get("event_type") in VERDICT_TYPES for e in self.events)

    # --- the instance tree ------------------------------------------------------------
    def status(self, instance: str | None) -> str | None:
        """``passed``/``failed``/``unfinished`` from the instance's flow_end; None if open."""
        end = self.ends.get(instance or "")
        return end.get("status") if end else None

    def ancestors(self, instance: str | None) -> list[str]:
        """The instance's parent, grandparent, … (nearest first; cycles cut)."""
        out: list[str] = []
        seen = {instance}
        start = self.starts.get(instance or "")
        while start is not None:
            parent = start.get("parent")
            if not isinstance(parent, str) or parent in seen:
                break
            out.append(parent)
            seen.add(parent)
            start = self.starts.get(parent)
        return out

    def descendants(self, instance: str) -> list[str]:
        """Every instance below ``instance``, depth first."""
        out: list[str] = []
        stack = list(reversed(self.children.get(instance, [])))
        seen = {instance}
        while stack:
            inst = stack.pop()
            if inst in seen:
                continue
            seen.add(inst)
            out.append(inst)
            stack.extend(reversed(self.children.get(inst, [])))
        return out

    def siblings_before(self, instance: str) -> list[str]:
        """Instances under the same parent that started before ``instance``, newest first."""
        start = self.starts.get(instance)
        parent = start.get("parent") if start else None
        if not isinstance(parent, str):
            return []
        mine = self.position.get(instance, 1 << 62)
        earlier = [i for i in self.children.get(parent, [])
                   if i != instance and self.position.get(i, 1 << 62) < mine]
        return list(reversed(earlier))

    def instances_of(self, flow_id: str) -> Iterator[str]:
        """The instances of one flow, oldest first."""
        for inst, ev in self.starts.items():
            if ev.get("flow_id") == flow_id:
                yield inst


def load_run(trace: Path, run_id: str | None = None) -> RunView:
    """The events of one run from a trace file (a run folder's, or the top-level stream
    filtered by ``run_id``), bounded as the module docstring says."""
    kept: list[dict[str, Any]] = []
    recent: collections.deque[dict[str, Any]] = collections.deque(maxlen=_WINDOW_BEFORE)
    after = 0
    structural = 0
    dropped = 0
    needle = None
    if run_id is not None:
        from flowscribe.trace import field_marker

        needle = [field_marker("run_id", run_id)]
    for ev in iter_events(trace, contains=needle):
        if run_id is not None and ev.get("run_id") != run_id:
            continue
        kind = ev.get("event_type")
        if kind in _STRUCTURAL:
            if kind in VERDICT_TYPES:
                kept.extend(recent)
                recent.clear()
                after = _WINDOW_AFTER
            structural += 1
            kept.append(ev)
            continue
        if after > 0:
            kept.append(ev)
            after -= 1
            continue
        if len(recent) == recent.maxlen:
            dropped += 1
        recent.append(ev)
    kept.extend(recent)
    if structural > _MAX_STRUCTURAL:
        # Keep every verdict and the newest structure; say how much went.
        verdicts = [e for e in kept if e.get("event_type") in VERDICT_TYPES]
        rest = [e for e in kept if e.get("event_type") not in VERDICT_TYPES][-_MAX_STRUCTURAL:]
        dropped += len(kept) - len(rest) - len(verdicts)
        ids = {id(e) for e in verdicts} | {id(e) for e in rest}
        kept = [e for e in kept if id(e) in ids]
    kept.sort(key=_order)
    return RunView.from_events(kept, dropped=dropped)


def _order(ev: Mapping[str, Any]) -> tuple[float, int]:
    ts = ev.get("ts")
    seq = ev.get("seq")
    return (float(ts) if isinstance(ts, (int, float)) else 0.0,
            int(seq) if isinstance(seq, int) else 0)
