"""Trace events -> spans: the one mapping of flowscribe's trace onto OpenTelemetry.

:class:`SpanMapper` is fed a run's events in order (``add``) and hands back each span
once its flow instance ended; ``finish`` hands back the instances still open (orphaned).
Spans are plain data (:class:`SpanData`), turned into the SDK's spans by the live sink and
into OTLP/JSON by the export. The rules, and why, are in ``docs/otlp.md``:

- a flow instance is a span named by its flow id; its parent is the parent instance (or a
  remote span named by a ``traceparent`` correlation key); one trace per root instance;
- checkpoints, successes, failures, metrics and exceptions are span events, each with
  ``code.*`` attributes at the marker's file:line;
- a failed flow's status is ERROR (the reason as description, ``error.type``); an
  exception follows the exception conventions; success leaves the status unset;
- a run's process becomes a resource (``service.name``, ``flowscribe.run.id`` ...).

Recorded text arrives redacted (the runtime redacts before anything is written) and is
exported as the trace has it; evidence only when the sink is told to.
"""

from __future__ import annotations

import json
import os
from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Union

from ..vocabulary import SYSTEM, UNCLASSIFIED
from .ids import TRACEPARENT_KEY, parse_traceparent, span_id, trace_id

__all__ = [
    "DURATION_BUCKETS_S",
    "AttrValue",
    "SpanData",
    "SpanEvent",
    "SpanMapper",
    "resource_attributes",
]

AttrValue = Union[str, bool, int, float, Sequence[str]]

#: Span events kept per span (the SDK's default limit); failures and exceptions are kept
#: past it, others counted in ``dropped_events``.
MAX_SPAN_EVENTS = 128
#: Boundaries of ``flowscribe.flow.duration`` (seconds): those the HTTP duration
#: conventions recommend, as flows are of that scale.
DURATION_BUCKETS_S = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5,
                      5.0, 7.5, 10.0)
#: Ended instances whose trace is remembered for children that start after them.
_ENDED_KEPT = 65536
_KEEP_ALWAYS = frozenset({"failure", "exception"})


@dataclass
class SpanEvent:
    """One event on a span (a marker)."""

    name: str
    time_ns: int
    attributes: dict[str, AttrValue]


@dataclass
class SpanData:
    """One flow instance as a span; ids are raw bytes (16 for traces, 8 for spans)."""

    name: str
    trace_id: bytes
    span_id: bytes
    parent_span_id: bytes | None
    #: the parent is another service's span (from an incoming traceparent).
    remote_parent: bool
    start_ns: int
    end_ns: int
    pid: int | None
    attributes: dict[str, AttrValue] = field(default_factory=dict)
    events: list[SpanEvent] = field(default_factory=list)
    error: bool = False
    status_description: str | None = None
    dropped_events: int = 0
    #: trace events this span carries (its flow_start and flow_end included): what is
    #: counted as not exported when the span cannot be sent.
    n_events: int = 1
    #: for the duration histogram: flow id, seconds, and ``error.type`` when it failed.
    flow_id: str = ""
    duration_s: float = 0.0
    error_type: str | None = None
    status: str = "unfinished"


def resource_attributes(run_start: Mapping[str, Any] | None, run_id: str | None,
                        pid: int | None) -> dict[str, AttrValue]:
    """The resource of one process of a run, from its ``run_start`` event."""
    ev = run_start or {}
    raw = ev.get("evidence")
    evidence: Mapping[str, Any] = raw if isinstance(raw, dict) else {}
    attrs: dict[str, AttrValue] = {}
    app = evidence.get("app")
    attrs["service.name"] = str(app) if app else "unknown_service"
    sha = evidence.get("git_sha")
    if isinstance(sha, str) and sha:
        # Apps rarely record a version; the commit is what identifies the code that ran.
        attrs["service.version"] = sha[:12]
        attrs["vcs.ref.head.revision"] = sha
    mode = evidence.get("mode")
    if isinstance(mode, str) and mode:
        attrs["deployment.environment.name"] = mode
    if pid is not None:
        attrs["process.pid"] = pid
    python = evidence.get("python")
    if isinstance(python, str) and python:
        attrs["process.runtime.name"] = "cpython"
        attrs["process.runtime.version"] = python
    if run_id:
        attrs["flowscribe.run.id"] = run_id
    return attrs


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _ns(ts: Any) -> int:
    return int(ts * 1_000_000_000) if isinstance(ts, (int, float)) else 0


def _attr(value: Any) -> AttrValue:
    """An attribute value: scalars as they are, a list of strings as an array, anything
    else as its JSON text."""
    if isinstance(value, (str, bool, int, float)):
        return value
    if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
        return list(value)
    try:
        return json.dumps(value, separators=(",", ":"), sort_keys=True, default=str)
    except (TypeError, ValueError):
        return str(value)


def _stacktrace(exc: Mapping[str, Any]) -> str:
    """The recorded frames in Python's traceback layout (what backends show as is)."""
    lines = ["Traceback (most recent call last):"]
    frames = exc.get("frames")
    for fr in frames if isinstance(frames, list) else ():
        if isinstance(fr, dict):
            lines.append(f'  File "{fr.get("file")}", line {fr.get("line")}, '
                         f'in {fr.get("function")}')
    lines.append(f"{exc.get('type')}: {exc.get('message')}")
    return "\n".join(lines)


class _Open:
    """An instance between its flow_start and flow_end."""

    __slots__ = ("first_failure", "span")

    def __init__(self, span: SpanData) -> None:
        self.span = span
        #: (event id, severity, exception type or None) of the first failure/exception
        self.first_failure: tuple[str | None, str | None, str | None] | None = None


class SpanMapper:
    """Folds one run's events (in order; any mix of its processes) into spans."""

    def __init__(self, export_evidence: bool = False) -> None:
        self.export_evidence = export_evidence
        self.run_id: str | None = None
        #: pid -> that process's run_start event (the resource); the first one for
        #: processes that never recorded their own.
        self.run_starts: dict[int, dict[str, Any]] = {}
        self._root_dir: str | None = None
        self._open: dict[str, _Open] = {}
        self._traces: OrderedDict[str, bytes] = OrderedDict()
        self._last_ns = 0
        #: set once anything was given up on (:meth:`lose`, :meth:`lose_open`): from then
        #: on an event of an instance the mapper does not hold belongs to one given up on
        #: (or started while the backend was down and never seen), and is counted lost
        #: (:meth:`take_lost`). No set of lost instances to grow: nothing to forget.
        self._losing = False
        self._lost_events = 0

    # -- resources -------------------------------------------------------------------

    def resource(self, pid: int | None) -> dict[str, AttrValue]:
        """The resource attributes of process ``pid`` of this run."""
        start = self.run_starts.get(pid) if pid is not None else None
        if start is None and self.run_starts:
            start = next(iter(self.run_starts.values()))
        return resource_attributes(start, self.run_id, pid)

    # -- folding ---------------------------------------------------------------------

    def add(self, ev: Mapping[str, Any]) -> list[SpanData]:
        """Fold one event; returns the spans it completed (usually none)."""
        etype = ev.get("event_type")
        if self.run_id is None and isinstance(ev.get("run_id"), str):
            self.run_id = ev["run_id"]
        ts = _ns(ev.get("ts"))
        if ts > self._last_ns:
            self._last_ns = ts
        if etype == "run_start":
            self._run_start(ev)
            return []
        instance = ev.get("instance")
        if etype == "flow_start" and isinstance(instance, str):
            self._start(ev, instance, ts)
            return []
        if etype == "exception" and ev.get("flow_id") is None:
            return [self._lone_exception(ev, ts)]
        if not isinstance(instance, str):
            return []  # run-level (summary), or a marker of a flow that never started
        op = self._open.get(instance)
        if op is None:
            if self._losing:  # of an instance given up on
                self._lost_events += 1
            return []  # else its flow_start is in another process or an earlier file
        op.span.n_events += 1
        if etype == "flow_end":
            del self._open[instance]
            return [self._end(op, ev, ts)]
        self._marker(op, ev, etype, ts)
        return []

    def finish(self) -> list[SpanData]:
        """The instances still open (the run ended first): spans ending at the last event
        seen, ``flowscribe.flow.status`` = ``orphaned``."""
        out = []
        for op in self._open.values():
            span = op.span
            span.end_ns = max(span.start_ns, self._last_ns)
            span.status = "orphaned"
            span.attributes["flowscribe.flow.status"] = "orphaned"
            span.duration_s = (span.end_ns - span.start_ns) / 1e9
            out.append(span)
        self._open.clear()
        return out

    def lose(self, ev: Mapping[str, Any]) -> int:
        """Give up on ``ev`` and its flow instance without building anything (a backend
        that is down); returns how many events that loses: the event, and the events of
        its instance's span so far. The instance's later events are lost too
        (:meth:`take_lost`). The run's resource is kept."""
        etype = ev.get("event_type")
        if etype == "run_start":
            if self.run_id is None and isinstance(ev.get("run_id"), str):
                self.run_id = ev["run_id"]
            self._run_start(ev)
            return 0
        instance = ev.get("instance")
        if not isinstance(instance, str) or (etype == "exception" and ev.get("flow_id") is None):
            return 1 if etype == "exception" else 0
        self._losing = True
        op = self._open.pop(instance, None)
        return 1 + (op.span.n_events if op is not None else 0)

    def lose_open(self) -> int:
        """Give up on every instance still open (the backend went down: what they hold
        would go out with holes); returns how many events that loses. Their later events
        are lost too (:meth:`take_lost`)."""
        self._losing = True
        n = sum(op.span.n_events for op in self._open.values())
        self._open.clear()
        return n

    def take_lost(self) -> int:
        """Events of lost instances that :meth:`add` was given since the last call."""
        n, self._lost_events = self._lost_events, 0
        return n

    def open_events(self) -> int:
        """Events held by instances still open (safe to call from another thread)."""
        try:
            return sum(op.span.n_events for op in list(self._open.values()))
        except RuntimeError:  # changed while read
            return 0

    def forget_open(self) -> None:
        """Drop the open instances but keep the traces known (a forked child: its
        parent exports what was open)."""
        self._open.clear()

    # -- the parts -------------------------------------------------------------------

    def _run_start(self, ev: Mapping[str, Any]) -> None:
        pid = ev.get("pid")
        if isinstance(pid, int):
            self.run_starts.setdefault(pid, dict(ev))
        evidence = ev.get("evidence")
        if isinstance(evidence, dict) and self._root_dir is None:
            root = evidence.get("root")
            if isinstance(root, str) and root:
                self._root_dir = root

    def _code(self, ev: Mapping[str, Any], attrs: dict[str, AttrValue]) -> None:
        """``code.*`` of the event's file:line, current names and the deprecated ones."""
        file, line, function = ev.get("file"), ev.get("line"), ev.get("function")
        if isinstance(file, str) and file:
            if self._root_dir and not os.path.isabs(file) and not file.startswith("<"):
                # The conventions ask for the path that identifies the file best: the
                # absolute one (the trace keeps it relative to the project root).
                file = f"{self._root_dir.rstrip('/')}/{file}"
            attrs["code.file.path"] = file
            attrs["code.filepath"] = file
        if isinstance(line, int) and not isinstance(line, bool):
            attrs["code.line.number"] = line
            attrs["code.lineno"] = line
        if isinstance(function, str) and function:
            attrs["code.function.name"] = function
            attrs["code.function"] = function

    def _trace_of(self, ev: Mapping[str, Any], instance: str) -> tuple[bytes, bytes | None,
                                                                       bool]:
        """(trace id, parent span id, remote parent) of a starting instance."""
        run_id = self.run_id or ""
        parent = ev.get("parent")
        corr = ev.get("correlation")
        remote = parse_traceparent(corr.get(TRACEPARENT_KEY)) if isinstance(corr, dict) \
            else None
        if isinstance(parent, str) and parent:
            known = self._traces.get(parent)
            if known is not None:
                return known, span_id(run_id, parent), False
            # The parent started in another process (or before this file): its trace is
            # the remote caller's when one is inherited, else the parent's own key.
            tid = remote[0] if remote is not None else trace_id(run_id, parent)
            return tid, span_id(run_id, parent), False
        if remote is not None:
            return remote[0], remote[1], True
        return trace_id(run_id, instance), None, False

    def _start(self, ev: Mapping[str, Any], instance: str, ts: int) -> None:
        tid, parent_sid, remote = self._trace_of(ev, instance)
        self._traces[instance] = tid
        if len(self._traces) > _ENDED_KEPT:
            for key in list(self._traces)[: _ENDED_KEPT // 4]:
                if key not in self._open:
                    del self._traces[key]
        flow_id = str(ev.get("flow_id") or "")
        attrs: dict[str, AttrValue] = {
            "flowscribe.flow.id": flow_id,
            "flowscribe.flow.instance": instance,
        }
        parent_flow = ev.get("parent_flow")
        if isinstance(parent_flow, str) and parent_flow:
            attrs["flowscribe.flow.parent_flow"] = parent_flow
        corr = ev.get("correlation")
        if isinstance(corr, dict):
            for key, value in corr.items():
                if key != TRACEPARENT_KEY:  # it is the span's parent, not an attribute
                    attrs[f"flowscribe.correlation.{key}"] = _attr(value)
        tags = ev.get("tags")
        if isinstance(tags, list) and tags:
            attrs["flowscribe.tags"] = [str(t) for t in tags]
        caused_by = ev.get("caused_by")
        if isinstance(caused_by, str):
            attrs["flowscribe.caused_by"] = caused_by
        thread = ev.get("thread")
        if isinstance(thread, str):
            attrs["thread.name"] = thread
        self._code(ev, attrs)
        pid = ev.get("pid")
        span = SpanData(
            name=flow_id, trace_id=tid, span_id=span_id(self.run_id or "", instance),
            parent_span_id=parent_sid, remote_parent=remote, start_ns=ts, end_ns=ts,
            pid=pid if isinstance(pid, int) else None, attributes=attrs, flow_id=flow_id,
        )
        self._open[instance] = _Open(span)

    def _event_attrs(self, ev: Mapping[str, Any]) -> dict[str, AttrValue]:
        attrs: dict[str, AttrValue] = {}
        eid = ev.get("id")
        if isinstance(eid, str):
            attrs["flowscribe.event.id"] = eid
        severity = ev.get("severity")
        if isinstance(severity, str):
            attrs["flowscribe.severity"] = severity
        self._code(ev, attrs)
        caused_by = ev.get("caused_by")
        if isinstance(caused_by, str):
            attrs["flowscribe.caused_by"] = caused_by
        if self.export_evidence:
            evidence = ev.get("evidence")
            if isinstance(evidence, dict):
                for key, value in evidence.items():
                    attrs[f"flowscribe.evidence.{key}"] = _attr(value)
        return attrs

    def _marker(self, op: _Open, ev: Mapping[str, Any], etype: Any, ts: int) -> None:
        span = op.span
        if len(span.events) >= MAX_SPAN_EVENTS and etype not in _KEEP_ALWAYS:
            span.dropped_events += 1
            return
        attrs = self._event_attrs(ev)
        step = ev.get("step")
        if isinstance(step, str):
            attrs["flowscribe.step"] = step
        if etype == "checkpoint":
            name = step if isinstance(step, str) and step else "checkpoint"
        elif etype == "exception":
            # The exception conventions: an event named "exception" with these three.
            name = "exception"
            raw = ev.get("exception")
            exc: Mapping[str, Any] = raw if isinstance(raw, dict) else {}
            exc_type = str(exc.get("type") or ev.get("error_class") or "")
            attrs["exception.type"] = exc_type
            attrs["exception.message"] = str(exc.get("message") or "")
            attrs["exception.stacktrace"] = _stacktrace(exc)
            if op.first_failure is None:
                op.first_failure = (_str(ev.get("id")), _str(ev.get("severity")), exc_type)
        else:
            name = f"flowscribe.{etype}"
            if etype == "failure":
                if isinstance(ev.get("error_class"), str):
                    attrs["error.type"] = ev["error_class"]
                if op.first_failure is None:
                    op.first_failure = (_str(ev.get("id")), _str(ev.get("severity")), None)
            elif etype == "metric":
                value = ev.get("value")
                if isinstance(value, (int, float)) and not isinstance(value, bool):
                    attrs["flowscribe.metric.value"] = value
                if isinstance(ev.get("unit"), str):
                    attrs["flowscribe.metric.unit"] = ev["unit"]
        reason = ev.get("reason")
        if isinstance(reason, str) and etype != "exception":
            attrs["flowscribe.reason"] = reason
        span.events.append(SpanEvent(name, ts, attrs))

    def _end(self, op: _Open, ev: Mapping[str, Any], ts: int) -> SpanData:
        span = op.span
        span.end_ns = max(ts, span.start_ns)
        status = ev.get("status")
        span.status = status if isinstance(status, str) else "unfinished"
        span.attributes["flowscribe.flow.status"] = span.status
        duration = ev.get("duration_ms")
        span.duration_s = (duration / 1000.0 if isinstance(duration, (int, float))
                           else (span.end_ns - span.start_ns) / 1e9)
        if span.status == "failed":
            error_class = ev.get("error_class")
            error_class = error_class if isinstance(error_class, str) else UNCLASSIFIED
            first = op.first_failure
            exc_type = first[2] if first is not None else None
            span.error = True
            reason = ev.get("reason")
            span.status_description = reason if isinstance(reason, str) else error_class
            # error.type: the failure class; for an exception, its type (as the error
            # conventions ask), with the class kept beside it.
            error_type = exc_type or error_class
            span.error_type = error_type
            span.attributes["error.type"] = error_type
            span.attributes["flowscribe.failure.class"] = error_class
            severity = first[1] if first is not None else ev.get("severity")
            if isinstance(severity, str):
                span.attributes["flowscribe.failure.severity"] = severity
        if span.dropped_events:
            span.attributes["flowscribe.span_events_dropped"] = span.dropped_events
        return span

    def _lone_exception(self, ev: Mapping[str, Any], ts: int) -> SpanData:
        """An exception outside any flow (an unhandled one): a span of its own, so a
        crash is seen in the backend too."""
        run_id = self.run_id or ""
        eid = str(ev.get("id") or "")
        pid = ev.get("pid")
        span = SpanData(
            name="flowscribe.unhandled_exception", trace_id=trace_id(run_id, eid),
            span_id=span_id(run_id, eid), parent_span_id=None, remote_parent=False,
            start_ns=ts, end_ns=ts, pid=pid if isinstance(pid, int) else None,
            flow_id="", status="failed",
        )
        op = _Open(span)
        self._marker(op, ev, "exception", ts)
        first = op.first_failure
        span.error = True
        error_type = first[2] if first is not None and first[2] else SYSTEM
        span.error_type = error_type
        span.attributes["error.type"] = error_type
        span.attributes["flowscribe.failure.class"] = SYSTEM
        reason = ev.get("reason")
        span.status_description = reason if isinstance(reason, str) else None
        return span


def map_events(events: Iterable[Mapping[str, Any]], export_evidence: bool = False
               ) -> tuple[SpanMapper, list[SpanData]]:
    """Every span of a whole recorded run (orphans included), in order of ending."""
    mapper = SpanMapper(export_evidence)
    spans: list[SpanData] = []
    for ev in events:
        spans.extend(mapper.add(ev))
    spans.extend(mapper.finish())
    return mapper, spans
