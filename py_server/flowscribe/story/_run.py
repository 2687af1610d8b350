"""One run's events, indexed the way a failure's story is told: by id, by flow instance,
and as the tree of flow instances (parent, children, siblings).

A run is read from its trace file by :func:`load_run`, or collected while it records by an
:class:`EventWindow`, bounded in memory whatever the run's size: every structural event
(run start, flow start and end, failure, exception, summary) is kept, and of the others
(checkpoints, metrics, successes) those near a failure and the newest ones, which is where
a story looks.
"""

from __future__ import annotations

import collections
import operator
from array import array
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flowscribe.trace import iter_events

__all__ = ["VERDICT_TYPES", "WHOLE_RUN_BYTES", "EventWindow", "RunView", "load_instance",
           "load_near", "load_run", "run_passed", "too_big_to_read_whole", "well_typed"]

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
    #: Memo of :mod:`flowscribe.story._slice`: each correlation/evidence value (JSON text)
    #: -> where it occurs, ``2 * position`` (correlation) or ``2 * position + 1``
    #: (evidence); built once per view, so telling many failures never rescans the run.
    value_index: dict[str, array[int]] | None = field(default=None, repr=False, compare=False)
    #: Memo of :mod:`flowscribe.story._diff`: this run's side of a comparison.
    diff_side: object | None = field(default=None, repr=False, compare=False)
    #: Memo of :func:`flowscribe.story._slice.top_failures` (all of them, in order).
    tops: list[Any] | None = field(default=None, repr=False, compare=False)
    #: ``(start, end, size)`` when the view holds only the bytes ``start``–``end`` of a
    #: ``size``-byte trace around one event (:func:`load_near`); None: the whole run.
    window: tuple[int, int, int] | None = field(default=None, compare=False)
    _verdicts: list[dict[str, Any]] | None = field(default=None, repr=False, compare=False)

    @classmethod
    def from_events(cls, events: Iterable[Mapping[str, Any]], dropped: int = 0) -> RunView:
        """Index ``events`` (one run's, in trace order)."""
        evs = [well_typed(e) for e in events]
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
        """Failure and exception events, oldest first (found once per view)."""
        if self._verdicts is None:
            self._verdicts = [e for e in self.events if e.get("event_type") in VERDICT_TYPES]
        return list(self._verdicts)

    def passed(self) -> bool:
        """True when the run recorded no failure or exception."""
        return not self.verdict_events()

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


class EventWindow:
    """Keeps, of a run's events fed in order, what a story can tell, in bounded memory:
    every structural event (at most :data:`_MAX_STRUCTURAL`, newest kept), the
    :data:`_WINDOW_BEFORE` other events before each failure and :data:`_WINDOW_AFTER`
    after it, and the newest :data:`_WINDOW_BEFORE` at the end.

    The runtime feeds one while a run records (from its flusher thread, so the app pays
    nothing for it); :func:`load_run` feeds one from a trace file.
    """

    def __init__(self) -> None:
        self._reset()

    def _reset(self) -> None:
        self._structural: collections.deque[dict[str, Any]] = collections.deque(
            maxlen=_MAX_STRUCTURAL)
        self._verdicts: list[dict[str, Any]] = []
        self._near: list[dict[str, Any]] = []
        self._recent: collections.deque[dict[str, Any]] = collections.deque(
            maxlen=_WINDOW_BEFORE)
        self._after = 0
        self.dropped = 0

    def add(self, ev: dict[str, Any]) -> None:
        """Feed the run's next event."""
        kind = ev.get("event_type")
        if kind in VERDICT_TYPES:
            if len(self._verdicts) < _MAX_STRUCTURAL:
                self._verdicts.append(ev)
            self._near.extend(self._recent)
            self._recent.clear()
            self._after = _WINDOW_AFTER
        elif kind in _STRUCTURAL:
            if len(self._structural) == self._structural.maxlen:
                self.dropped += 1
            self._structural.append(ev)
        elif self._after > 0:
            self._near.append(ev)
            self._after -= 1
        else:
            if len(self._recent) == self._recent.maxlen:
                self.dropped += 1
            self._recent.append(ev)

    def clear(self) -> None:
        """Forget everything (a forked child does not tell its parent's run)."""
        self._reset()

    def view(self) -> RunView:
        """The kept events, in trace order, indexed."""
        kept = [*self._structural, *self._verdicts, *self._near, *self._recent]
        kept.sort(key=_order)
        return RunView.from_events(kept, dropped=self.dropped)


def load_run(trace: Path, run_id: str | None = None) -> RunView:
    """The events of one run from a trace file (a run folder's, or the top-level stream
    filtered by ``run_id``), bounded as :class:`EventWindow` keeps them."""
    window = EventWindow()
    needle = None
    if run_id is not None:
        from flowscribe.trace import field_marker

        needle = [field_marker("run_id", run_id)]
    for ev in iter_events(trace, contains=needle):
        if run_id is None or ev.get("run_id") == run_id:
            window.add(ev)
    return window.view()


#: A run's trace up to this size is read whole for a story or one answer about it; a
#: bigger one only where the answer is (:func:`load_near`, :func:`load_instance`).
WHOLE_RUN_BYTES = 16 << 20


def too_big_to_read_whole(trace: Path | None, limit: int = WHOLE_RUN_BYTES) -> bool:
    """``trace`` is over ``limit`` bytes (False when there is none, or it is unreadable)."""
    try:
        return trace is not None and trace.stat().st_size > limit
    except OSError:
        return False


#: :func:`load_near` reads this much of the trace before the event, and after it.
NEAR_BEFORE = 4 << 20
NEAR_AFTER = 1 << 19


def load_near(trace: Path, event_id: str, run_id: str | None = None, *,
              before: int = NEAR_BEFORE, after: int = NEAR_AFTER) -> RunView | None:
    """The events of one run in the bytes of ``trace`` around event ``event_id`` (found by
    its id, :func:`flowscribe.trace.find_event`), for a run too big to read whole: what a
    story of that one event looks at (its flow instance, the instances that ran just
    before it, what shares its values) is there. Added from elsewhere in the file: the
    run header of the event's process and the starts of its instance's ancestors. None
    when the event is not found that way: the caller reads the whole run."""
    from flowscribe.trace import find_event, open_trace

    at = find_event(trace, event_id)
    if at is None:
        return None
    try:
        with open_trace(trace) as fh:
            size = fh.seek(0, 2)
            start = _line_start_at(fh, max(0, at - before))
            end = _line_end(fh, min(size, at + after), size)
    except OSError:
        return None
    return _load_window(trace, event_id, run_id, start, end, size)


def load_instance(trace: Path, instance: str, run_id: str | None = None) -> RunView | None:
    """The events of flow ``instance`` and of its children, from its span of ``trace``
    (:func:`flowscribe.trace.instance_span`, found by its id), with the run header and the
    instance's ancestors as :func:`load_near` adds them; None when the span is not found
    that way (the caller reads the whole run)."""
    from flowscribe.trace import instance_span

    span = instance_span(trace, instance)
    if span is None:
        return None
    try:
        size = trace.stat().st_size
    except OSError:
        return None
    start, end = span
    return _load_window(trace, instance, run_id, start, size if end is None else end, size)


def _load_window(trace: Path, focus_id: str, run_id: str | None, start: int, end: int,
                 size: int) -> RunView | None:
    """The run's events in bytes ``start``–``end`` (line starts) of the ``size``-byte
    ``trace``, with the header of event ``focus_id``'s process and the starts of its
    instance's ancestors added from wherever they are; None without that event."""
    from flowscribe.trace import MAX_LINE_BYTES, find_event, open_trace, parse_line

    window = EventWindow()
    for ev in iter_events(trace, start=start, limit=end):
        if run_id is None or ev.get("run_id") == run_id:
            window.add(ev)
    view = window.view()
    focus = view.by_id.get(focus_id)
    if focus is None:
        return None
    extra: list[dict[str, Any]] = []

    def line_of(eid: str) -> dict[str, Any] | None:
        pos = find_event(trace, eid)
        if pos is None:
            return None
        try:
            with open_trace(trace) as fh:
                fh.seek(pos)
                ev = parse_line(fh.readline(MAX_LINE_BYTES + 1))
        except OSError:
            return None
        return ev if ev is not None and ev.get("id") == eid else None

    prefix = focus_id.rsplit("-", 1)[0]
    if not any(e.get("event_type") == "run_start" for e in view.events):
        header = line_of(f"{prefix}-1")
        if header is not None and header.get("event_type") == "run_start":
            extra.append(header)
    parent = (view.starts.get(str(focus.get("instance"))) or {}).get("parent")
    for _ in range(32):  # the ancestors' starts, nearest first (a cycle is cut)
        if not isinstance(parent, str) or parent in view.starts:
            break
        ancestor = line_of(parent)
        if ancestor is None or ancestor.get("event_type") != "flow_start":
            break
        extra.append(ancestor)
        parent = ancestor.get("parent")
    if extra:
        view = RunView.from_events(sorted([*view.events, *extra], key=_order))
    view.window = (start, end, size)
    return view


def _line_start_at(fh: Any, pos: int) -> int:
    """The start of the first line at or after ``pos``."""
    if pos == 0:
        return 0
    fh.seek(pos - 1)
    block = fh.read(1 << 20)
    nl = block.find(b"\n")
    return pos + nl if nl >= 0 else pos - 1 + len(block)


def _line_end(fh: Any, pos: int, size: int) -> int:
    """The end of the line holding byte ``pos`` (just past its newline)."""
    if pos >= size:
        return size
    fh.seek(pos)
    nl = fh.read(1 << 20).find(b"\n")
    return pos + nl + 1 if nl >= 0 else size


_TAIL_BYTES = 64 * 1024


def run_passed(trace: Path) -> bool | None:
    """Whether the run in ``trace`` (a run folder's) passed, read from its closing
    ``summary`` event in the file's last bytes: no failed flow and no failure or exception
    event; None when the run has no summary there (killed, or still running)."""
    from flowscribe.trace import open_trace, parse_line

    try:
        with open_trace(trace) as fh:
            size = fh.seek(0, 2)
            fh.seek(max(0, size - _TAIL_BYTES))
            data = fh.read(_TAIL_BYTES)
    except OSError:
        return None
    for line in reversed(data.splitlines()):
        ev = parse_line(line)
        if ev is None or ev.get("event_type") != "summary":
            continue
        raw = ev.get("evidence")
        evidence = raw if isinstance(raw, Mapping) else {}
        counts = [evidence.get(k, 0) for k in ("failed", "failures", "exceptions")]
        return all(isinstance(c, int) and c == 0 for c in counts)
    return None


#: Fields the story reads, and the types it may take them as. A trace is untrusted (any
#: JSON in any field): a value of another type is read as absent, so nothing downstream
#: hashes a dict or adds a string to a line number.
_TEXT_FIELDS = ("id", "run_id", "event_type", "flow_id", "instance", "parent", "step",
                "file", "function", "severity", "error_class", "reason", "caused_by",
                "status", "unit")
_MAPPING_FIELDS = ("exception", "evidence", "correlation")


#: The fast check of :func:`well_typed`: every field present (as in every line the runtime
#: writes), of exactly these types.
_TEXT_VALUES = operator.itemgetter(*_TEXT_FIELDS)
_MAPPING_VALUES = operator.itemgetter(*_MAPPING_FIELDS)
_TEXT_TYPES = frozenset({str, type(None)})
_MAPPING_TYPES = frozenset({dict, type(None)})
_LINE_TYPES = (int, type(None))


def well_typed(ev: Mapping[str, Any]) -> dict[str, Any]:
    """``ev`` itself when every field the story reads has its type; else a copy with the
    odd ones set to None (read-only use: no copies of good events)."""
    out = ev if type(ev) is dict else dict(ev)
    try:  # one C-level pass over the fields, for the lines the runtime wrote
        if (_TEXT_TYPES.issuperset(map(type, _TEXT_VALUES(out)))
                and _MAPPING_TYPES.issuperset(map(type, _MAPPING_VALUES(out)))
                and type(out.get("line")) in _LINE_TYPES):
            return out
    except KeyError:
        pass
    odd = [k for k in _TEXT_FIELDS if k in out and out[k] is not None
           and not isinstance(out[k], str)]
    odd += [k for k in _MAPPING_FIELDS if k in out and out[k] is not None
            and not isinstance(out[k], Mapping)]
    line = out.get("line")
    if line is not None and (isinstance(line, bool) or not isinstance(line, int)):
        odd.append("line")
    if not odd:
        return out
    out = dict(out)
    for key in odd:
        out[key] = None
    return out


def _order(ev: Mapping[str, Any]) -> tuple[float, int]:
    ts = ev.get("ts")
    seq = ev.get("seq")
    return (float(ts) if isinstance(ts, (int, float)) else 0.0,
            int(seq) if isinstance(seq, int) else 0)
