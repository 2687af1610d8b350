"""One run folded into compact records for pictures of it: flow instances (start, end,
verdict, lane, parent), failure and exception marks, checkpoint ticks.

The fold reads the trace with the runtime's :class:`~flowscribe.trace.TraceFollower`, so a
live run is followed incrementally (only the appended lines are read on the next request),
and it is bounded whatever the run's size: at most :data:`MAX_INSTANCES` instances,
:data:`MAX_MARKS` marks and :data:`MAX_TICKS` ticks are kept (the oldest first; what was
not kept is counted). Recorded text (reasons, steps, evidence, correlation) is redacted
once more with the default keys, as the trace index does: a trace the runtime did not
write may hold secrets it would have hidden. It is the client's job to show it as text.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from flowscribe.artifacts import default_scrubber
from flowscribe.trace import TraceFollower

__all__ = ["Instance", "Mark", "RunFold", "RunFolds", "Tick"]

MAX_INSTANCES = 200_000
MAX_MARKS = 50_000
MAX_TICKS = 200_000
#: Recorded evidence is shown in a hover: this much of its JSON is kept per event.
EVIDENCE_CHARS = 300
#: The second redaction pass over what the fold keeps (see the module docstring).
_SCRUB = default_scrubber()
#: Folds kept (one per run a client looks at; the live one and one to compare).
_CACHED = 4


@dataclass
class Instance:
    """One flow instance (one ``with flowscribe.flow(...)``)."""

    instance: str
    flow_id: str
    parent: str | None
    lane: int
    start: float
    end: float | None = None
    #: ``passed``/``failed``/``unfinished``; None while open (orphaned at the run's end).
    status: str | None = None
    error_class: str | None = None
    file: str | None = None
    line: int | None = None
    correlation: dict[str, Any] = field(default_factory=dict)
    marks: int = 0
    ticks: int = 0


class Mark(NamedTuple):
    """A failure or an exception."""

    t: float
    kind: str
    lane: int
    instance: str | None
    flow_id: str | None
    error_class: str | None
    exception_type: str | None
    reason: str | None
    severity: str | None
    file: str | None
    line: int | None
    event_id: str | None
    evidence: str


class Tick(NamedTuple):
    """A checkpoint (or a success) inside a flow instance."""

    t: float
    kind: str
    lane: int
    instance: str | None
    step: str | None
    file: str | None
    line: int | None
    event_id: str | None
    evidence: str


@dataclass
class RunFold:
    """What :class:`RunFolds` knows of one run so far."""

    run_id: str | None
    lanes: list[tuple[int, str]] = field(default_factory=list)
    instances: dict[str, Instance] = field(default_factory=dict)
    marks: list[Mark] = field(default_factory=list)
    ticks: list[Tick] = field(default_factory=list)
    t0: float | None = None
    t_end: float | None = None
    events: int = 0
    dropped: dict[str, int] = field(default_factory=dict)
    ended: bool = False
    _lane_ids: dict[tuple[int, str], int] = field(default_factory=dict, repr=False)

    def lane(self, ev: Mapping[str, Any]) -> int:
        pid = ev.get("pid")
        key = (pid if isinstance(pid, int) and not isinstance(pid, bool) else 0,
               _text(ev.get("thread")) or "?")
        n = self._lane_ids.get(key)
        if n is None:
            n = self._lane_ids[key] = len(self.lanes)
            self.lanes.append(key)
        return n

    def depth(self, inst: Instance) -> int:
        """How many known ancestors ``inst`` has (cycles cut)."""
        seen = {inst.instance}
        depth, parent = 0, inst.parent
        while parent is not None and parent not in seen:
            up = self.instances.get(parent)
            if up is None:
                break
            seen.add(parent)
            depth += 1
            parent = up.parent
        return depth

    def add(self, ev: Mapping[str, Any]) -> None:
        """Fold the run's next event (any event: fields are checked, traces are untrusted)."""
        ts = _num(ev.get("ts"))
        if ts is None:
            return
        self.events += 1
        if self.run_id is None:
            self.run_id = _text(ev.get("run_id"))
        self.t0 = ts if self.t0 is None else min(self.t0, ts)
        self.t_end = ts if self.t_end is None else max(self.t_end, ts)
        kind = ev.get("event_type")
        inst_id = _text(ev.get("instance"))
        if kind == "flow_start" and inst_id is not None:
            if len(self.instances) >= MAX_INSTANCES:
                self._drop("instances")
                return
            corr = ev.get("correlation")
            self.instances[inst_id] = Instance(
                instance=inst_id, flow_id=_text(ev.get("flow_id")) or "?",
                parent=_text(ev.get("parent")), lane=self.lane(ev), start=ts,
                file=_text(ev.get("file")), line=_int(ev.get("line")),
                correlation=_SCRUB.data(corr))
        elif kind == "flow_end" and inst_id is not None:
            inst = self.instances.get(inst_id)
            if inst is None:
                return  # its start was not kept (or is in an older generation)
            inst.end = ts
            inst.status = _text(ev.get("status")) or "unfinished"
            inst.error_class = _text(ev.get("error_class"))
        elif kind in ("failure", "exception"):
            if len(self.marks) >= MAX_MARKS:
                self._drop("marks")
                return
            exc = ev.get("exception")
            self.marks.append(Mark(
                t=ts, kind=str(kind), lane=self.lane(ev), instance=inst_id,
                flow_id=_text(ev.get("flow_id")), error_class=_text(ev.get("error_class")),
                exception_type=_text(exc.get("type")) if isinstance(exc, Mapping) else None,
                reason=_scrubbed(ev.get("reason")), severity=_text(ev.get("severity")),
                file=_text(ev.get("file")), line=_int(ev.get("line")),
                event_id=_text(ev.get("id")), evidence=_evidence(ev)))
            if inst_id is not None and inst_id in self.instances:
                self.instances[inst_id].marks += 1
        elif kind in ("checkpoint", "success"):
            if len(self.ticks) >= MAX_TICKS:
                self._drop("ticks")
                return
            self.ticks.append(Tick(
                t=ts, kind=str(kind), lane=self.lane(ev), instance=inst_id,
                step=_scrubbed(ev.get("step")) or _scrubbed(ev.get("reason")),
                file=_text(ev.get("file")), line=_int(ev.get("line")),
                event_id=_text(ev.get("id")), evidence=_evidence(ev)))
            if inst_id is not None and inst_id in self.instances:
                self.instances[inst_id].ticks += 1
        elif kind == "summary":
            self.ended = True

    def _drop(self, what: str) -> None:
        self.dropped[what] = self.dropped.get(what, 0) + 1


class _Followed:
    def __init__(self, path: Path, run_id: str | None) -> None:
        self.path = path
        self.run_id = run_id
        self.follower = TraceFollower(path)
        self.fold = RunFold(run_id)


class RunFolds:
    """The folds of the runs clients look at, each caught up with its file on request.

    Called from the index worker only; the lock guards against a second caller anyway."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._followed: dict[tuple[Path, str | None], _Followed] = {}

    def fold(self, trace: Path, run_id: str | None) -> RunFold:
        """The fold of ``run_id``'s events in ``trace`` (every event when None), read up
        to the file's current end."""
        with self._lock:
            key = (trace, run_id)
            followed = self._followed.pop(key, None) or _Followed(trace, run_id)
            self._followed[key] = followed  # newest last: the oldest is evicted first
            while len(self._followed) > _CACHED:
                del self._followed[next(iter(self._followed))]
            while True:
                result = followed.follower.poll()
                if result.reset:
                    followed.fold = RunFold(run_id)
                fold = followed.fold
                for ev in result.events:
                    if run_id is None or ev.get("run_id") == run_id:
                        fold.add(ev)
                if not result.more:
                    return fold


def _text(v: Any) -> str | None:
    return v if isinstance(v, str) else None


def _scrubbed(v: Any) -> str | None:
    return _SCRUB.text(v) if isinstance(v, str) else None


def _int(v: Any) -> int | None:
    return v if isinstance(v, int) and not isinstance(v, bool) else None


def _num(v: Any) -> float | None:
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None


def _evidence(ev: Mapping[str, Any]) -> str:
    raw = _SCRUB.data(ev.get("evidence"))
    if not raw:
        return ""
    try:
        text = json.dumps(raw, ensure_ascii=False, sort_keys=True, default=str)
    except (TypeError, ValueError):
        return ""
    return text if len(text) <= EVIDENCE_CHARS else text[: EVIDENCE_CHARS - 1] + "…"


def verdict_of(fold: RunFold, inst: Instance) -> str:
    """The instance's verdict; an open one is ``orphaned`` once the run ended."""
    if inst.status is not None:
        return inst.status
    return "orphaned" if fold.ended else "running"
