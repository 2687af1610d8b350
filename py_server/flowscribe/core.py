"""Sessions, flows and events: what an application records, and how.

A :class:`Session` is one run of a program. A :class:`Flow` is one instance of a named unit
of work (``with session.flow("orders/submit", ticker="AAPL") as f:``), and its markers
(``checkpoint``, ``success``, ``failure``, ``metric``, ``exception``) record what it meant
to do and what happened. Each marker becomes one event dict with the keys of
``docs/trace-format.md``, in that order; it is encoded once and handed to the buffered
writer (``_writer.py``), which feeds the sinks and the run's aggregate.

Nothing here raises into the application: a problem is reported once on stderr and the
call does nothing. A flow that is disabled (catalog ``enabled: false``) or filtered out by
the config is a :class:`NullFlow`, whose markers cost a method call.
"""

from __future__ import annotations

import atexit
import functools
import itertools
import os
import sys
import threading
import time
import weakref
from collections import deque
from collections.abc import Awaitable, Iterator, Mapping, Sequence
from types import TracebackType

from . import _callsite
from ._context import CURRENT, ENV_PARENT, ENV_ROOT, ENV_RUN_ID, ENV_RUN_PID
from ._warn import warn_once
from ._writer import Sink, Writer

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (import cost)
if TYPE_CHECKING:
    from pathlib import Path
    from typing import Any, Callable, TypeVar, Union

    from ._writer import Item
    from .aggregate import RunAggregate
    from .catalog import Catalog
    from .config import Config
    from .redact import Redactor
    from .runs import RunLayout
    from .sinks.jsonl import JsonlSink

    F = TypeVar("F", bound=Callable[..., Any])
    ParentLike = Union["Flow", "NullFlow", str, None]

__all__ = [
    "EVENT_KEYS",
    "MARKER_TYPES",
    "SCHEMA_VERSION",
    "SEVERITIES",
    "Event",
    "Flow",
    "NullFlow",
    "Session",
    "end_session",
    "get_session",
    "init",
    "traced",
]

SCHEMA_VERSION = 1
#: The keys of every event, in the order the trace writes them (docs/trace-format.md).
EVENT_KEYS = (
    "schema", "id", "run_id", "seq", "ts", "event_type", "flow_id", "instance", "parent",
    "parent_flow", "step", "correlation", "tags", "file", "line", "function", "thread", "pid",
    "severity", "error_class", "reason", "evidence", "value", "unit", "status",
    "duration_ms", "caused_by", "exception",
)  # fmt: skip
SEVERITIES = ("debug", "info", "warn", "error", "critical")
#: Event types a user may record through :meth:`Flow.add_event`.
MARKER_TYPES = frozenset({"checkpoint", "success", "failure", "exception", "metric"})
_SEVERITY_SET = frozenset(SEVERITIES)
_SEVERITY_ALIASES = {"warning": "warn", "fatal": "critical", "err": "error"}
SYSTEM = "SYSTEM"
#: The summary event lists at most this many orphaned instances (the count is exact).
MAX_LISTED_ORPHANS = 100


_CO_COROUTINE = 0x0080
_EXC_ATTR = "_flowscribe_event"

_now = time.time
_perf = time.perf_counter
_current_thread = threading.current_thread
_get_ident = threading.get_ident
#: threading's registry of live threads (what current_thread() looks in), read directly:
#: the hot path cannot afford current_thread() and the .name property.
_threads: dict[int, threading.Thread] = getattr(threading, "_active", {})
_caller = _callsite.caller
_NO_SITE = _callsite.NO_SITE
_NO_FLOW = '"flow_id":null,"instance":null,"parent":null,"parent_flow":null,'
#: The line's text for each severity (None included), which is also the set of valid ones.
_SEVERITY_JSON: dict[str | None, str] = {
    None: '"severity":null,', **{s: f'"severity":"{s}",' for s in SEVERITIES}
}
#: A plain marker's line around its evidence: no class, reason, value, status or cause.
_PLAIN_MIDDLE = '"error_class":null,"reason":null,'
_PLAIN_END = (
    ',"value":null,"unit":null,"status":null,"duration_ms":null,"caused_by":null,"exception":null}'
)
#: What each code object resolves to (``_callsite``'s cache): markers look their caller
#: up here first, and ask ``_caller`` only on a miss.
_code_infos = _callsite._code_cache
_getframe = sys._getframe
#: Queued events are written once this many wait (else by the flusher, within 100 ms).
#: Small on purpose: queued events are garbage-collected objects, and those still queued
#: when a young collection runs are promoted to the old generation, which brings on the
#: app's next full collection (a walk of its whole heap). In benchmarks/bench_runtime.py
#: that costs 0.4 µs an event at 512, nothing measurable at 128; a write per 128 events
#: costs far less.
_BATCH = 128


# -- encoding -----------------------------------------------------------------------
# An event's line is assembled from JSON fragments: what is constant for a session, a
# flow instance or a call site is encoded once, and only the fields that change per event
# are encoded per event. The line equals json.dumps(event, separators=(",", ":")) (the
# tests check this for every event type); json itself is imported when the first session
# starts, so that `import flowscribe` stays cheap.


def _no_json(value: Any) -> str:
    raise RuntimeError("no session started: the JSON encoder is not loaded")


#: A str as a JSON string (ASCII-only); a JSON value of anything.
_esc: Callable[[str], str] = _no_json
_enc_value: Callable[[Any], str] = _no_json


def _no_chunks(value: Any, indent: int) -> Any:
    raise RuntimeError("no session started: the JSON encoder is not loaded")


#: The C encoder's chunks of a JSON-safe value (json's own encoder where there is no C).
_chunks: Callable[[Any, int], Any] = _no_chunks


def _load_encoders() -> None:
    global _esc, _enc_value, _chunks
    if _esc is not _no_json:
        return
    import json  # lazily: `import flowscribe` must stay cheap
    from json import encoder as json_encoder

    esc = json_encoder.encode_basestring_ascii
    slow = json.JSONEncoder(separators=(",", ":"), default=_fallback, allow_nan=False).encode
    fast: Callable[[Any], str] = slow
    c_make = getattr(json_encoder, "c_make_encoder", None)
    if c_make is not None:
        try:
            # One reusable C encoder: no per-call setup. Without a circularity check,
            # which redacted data never needs; a cycle becomes a RecursionError below.
            chunks = c_make(None, _fallback, esc, None, ":", ",", False, False, False)

            def joined(value: Any) -> str:
                return "".join(chunks(value, 0))

            if joined({"a": [1, "\u00e9", 1.5, None, True]}) == slow(
                {"a": [1, "\u00e9", 1.5, None, True]}
            ):
                fast = joined
                _chunks = chunks
        except Exception:
            pass

    def value(obj: Any) -> str:
        try:
            return fast(obj)
        except (ValueError, TypeError, RecursionError):
            return slow(_sanitize(obj, 0))  # NaN, odd keys, cycles: unredacted data only

    _esc, _enc_value = esc, value
    if _chunks is _no_chunks:
        _chunks = _python_chunks(slow)


def _python_chunks(encode: Callable[[Any], str]) -> Callable[[Any, int], Any]:
    def chunks(value: Any, _indent: int) -> tuple[str]:
        return (encode(value),)

    return chunks


_thread_json: dict[str, str] = {}


def _thread_fragment(name: str) -> str:
    frag = _thread_json.get(name)
    if frag is None:
        if len(_thread_json) > 1000:
            _thread_json.clear()
        frag = _thread_json[name] = f'"thread":{_esc(name)},'
    return frag


def _js(value: str | None) -> str:
    return "null" if value is None else _esc(value)


def _fallback(obj: Any) -> Any:
    """JSON for what json cannot encode: never raises."""
    if isinstance(obj, (set, frozenset, tuple)):
        return list(obj)
    if isinstance(obj, (bytes, bytearray)):
        return f"<{len(obj)} bytes>"
    try:
        text = repr(obj)
    except Exception:
        text = f"<unrepresentable {type(obj).__name__}>"
    return text if len(text) <= 200 else text[:199] + "…"


def _sanitize(value: Any, depth: int) -> Any:
    if isinstance(value, float):
        return value if value == value and value not in (float("inf"), float("-inf")) else None
    if value is None or isinstance(value, (str, int, bool)):
        return value
    if depth > 8:
        return _fallback(value)
    if isinstance(value, Mapping):
        return {str(k): _sanitize(v, depth + 1) for k, v in list(value.items())[:100]}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_sanitize(v, depth + 1) for v in list(value)[:100]]
    return _fallback(value)


def _severity(value: Any) -> str:
    """A trace severity from what a user passed (``WARNING`` -> ``warn``)."""
    text = str(value).lower()
    text = _SEVERITY_ALIASES.get(text, text)
    if text in _SEVERITY_SET:
        return text
    warn_once(f"severity:{text}", f"unknown severity {value!r} recorded as 'info' "
              f"(use one of {', '.join(SEVERITIES)})")
    return "info"


def _id_of(ref: Any) -> str | None:
    """An event id from what a user passes as ``caused_by`` (an id, an Event, a Flow)."""
    if ref is None or isinstance(ref, str):
        return ref
    ident = getattr(ref, "id", None) or getattr(ref, "instance", None)
    return ident if isinstance(ident, str) else str(ref)


def _looks_like_event_id(text: str) -> bool:
    token, sep, seq = text.partition("-")
    return bool(sep) and len(token) == 8 and seq.isdigit() and all(
        c in "0123456789abcdef" for c in token
    )


def _is_muted(session: Session, severity: Any) -> bool:
    """True if ``severity`` is filtered out by the config. Whatever the app passed
    (even an unhashable value) is answered, never raised: an odd severity is kept."""
    try:
        return severity in session._muted
    except TypeError:
        return False


def _float_or_none(value: Any) -> float | None:
    try:
        f = float(value)
    except (TypeError, ValueError):
        return None
    return f if f == f and f not in (float("inf"), float("-inf")) else None


def _exc_type_name(exc: BaseException) -> str:
    cls = type(exc)
    mod = cls.__module__
    return cls.__qualname__ if mod in ("builtins", "__main__") else f"{mod}.{cls.__qualname__}"


def _exc_message(exc: BaseException) -> str:
    try:
        return str(exc)
    except Exception:
        return f"<unprintable {type(exc).__name__}>"


class Event:
    """One marker, in the shape of the original quickstart; record it with
    :meth:`Flow.add_event`. After that, :attr:`id` holds the recorded event's id."""

    __slots__ = (
        "caused_by",
        "error_class",
        "event_type",
        "evidence",
        "flow_id",
        "id",
        "reason",
        "severity",
        "step",
        "tags",
        "unit",
        "value",
    )

    def __init__(
        self,
        event_type: str,
        flow_id: str | None = None,
        step: str | None = None,
        evidence: Mapping[str, Any] | None = None,
        error_class: str | None = None,
        reason: str | None = None,
        severity: str | None = None,
        tags: Sequence[str] | None = None,
        caused_by: Any = None,
        value: float | None = None,
        unit: str | None = None,
    ) -> None:
        self.event_type = event_type
        self.flow_id = flow_id
        self.step = step
        self.evidence = evidence
        self.error_class = error_class
        self.reason = reason
        self.severity = severity
        self.tags = tags
        self.caused_by = caused_by
        self.value = value
        self.unit = unit
        self.id: str | None = None

    def __repr__(self) -> str:
        return f"Event({self.event_type!r}, flow_id={self.flow_id!r}, step={self.step!r})"


class _More:
    """What an event has beyond a plain marker's fields (see :meth:`Session._record`).

    ``ident`` is a (seq, id) already taken (a flow start's id is its instance id);
    ``trusted`` evidence is flowscribe's own (run header, summary) and is not redacted;
    ``urgent`` events are written before the call returns.
    """

    __slots__ = (
        "caused_by",
        "duration_ms",
        "error_class",
        "exception",
        "ident",
        "reason",
        "status",
        "tags",
        "trusted",
        "unit",
        "urgent",
        "value",
    )

    def __init__(
        self,
        error_class: str | None = None,
        reason: Any = None,
        *,
        caused_by: str | None = None,
        value: float | None = None,
        unit: str | None = None,
        status: str | None = None,
        duration_ms: float | None = None,
        exception: dict[str, Any] | None = None,
        tags: Sequence[str] | None = None,
        urgent: bool = False,
        trusted: bool = False,
        ident: tuple[int, str] | None = None,
    ) -> None:
        self.error_class = error_class
        self.reason = reason
        self.caused_by = caused_by
        self.value = value
        self.unit = unit
        self.status = status
        self.duration_ms = duration_ms
        self.exception = exception
        self.tags = tags
        self.urgent = urgent
        self.trusted = trusted
        self.ident = ident


class NullFlow:
    """A flow that records nothing: disabled, filtered out, or tracing is off.

    It has the whole :class:`Flow` interface, so code never checks; :attr:`enabled` says
    which one it got. Markers return None instead of an event id.
    """

    __slots__ = ("flow_id",)
    enabled = False
    instance: str | None = None
    parent: str | None = None
    parent_flow: str | None = None
    status: str | None = None
    correlation: Mapping[str, Any] = {}
    tags: Sequence[str] = ()

    def __init__(self, flow_id: str) -> None:
        self.flow_id = flow_id

    def __enter__(self) -> NullFlow:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def __repr__(self) -> str:
        return f"NullFlow({self.flow_id!r})"

    def start(self) -> NullFlow:
        return self

    def checkpoint(self, step: str, **evidence: Any) -> None:
        return None

    def success(self, reason: str | None = None, **evidence: Any) -> None:
        return None

    def failure(self, error_class: str, reason: str | None = None, **evidence: Any) -> None:
        return None

    def metric(self, name: str, value: float, unit: str | None = None, **evidence: Any) -> None:
        return None

    def exception(self, exc: BaseException | None = None, **evidence: Any) -> None:
        return None

    def add_event(self, event: Event) -> None:
        return None

    def end(self) -> None:
        return None


class _FlowInfo:
    """What the session knows about a flow id before any instance starts (cached)."""

    __slots__ = ("catalog_parent", "correlation_keys", "enabled", "null", "tags")

    def __init__(
        self,
        enabled: bool,
        tags: list[str],
        correlation_keys: frozenset[str],
        catalog_parent: str | None,
        null: NullFlow,
    ) -> None:
        self.enabled = enabled
        self.tags = tags
        self.correlation_keys = correlation_keys
        self.catalog_parent = catalog_parent
        self.null = null


class Flow:
    """One instance of a flow: ``with session.flow(...) as f:`` or ``session.start_flow``.

    Markers return the recorded event's id (usable as ``caused_by``), or None when the
    event was filtered out by ``min_severity``. A flow's verdict: ``failed`` once any
    failure (or exception) was recorded, else ``passed`` once a success was, else
    ``unfinished``.
    """

    __slots__ = (
        "_cause",
        "_ended",
        "_fail_class",
        "_fail_event",
        "_fail_reason",
        "_frag_ctx",
        "_frag_flow",
        "_passed",
        "_prev",
        "_site",
        "_t0",
        "_template",
        "_token",
        "correlation",
        "flow_id",
        "instance",
        "parent",
        "parent_flow",
        "session",
        "tags",
    )
    enabled = True

    def __init__(
        self,
        session: Session,
        flow_id: str,
        info: _FlowInfo,
        parent: ParentLike = None,
        tags: Sequence[str] | None = None,
        correlation: dict[str, Any] | None = None,
        site: _callsite.Site | None = None,
    ) -> None:
        self.session = session
        self.flow_id = flow_id
        self.instance: str | None = None
        self.tags = info.tags if not tags else _merge_tags(info.tags, tags)
        self.correlation: dict[str, Any] = correlation or {}
        self.parent: str | None = None
        self.parent_flow: str | None = info.catalog_parent
        self._prev: ParentLike = parent
        self._site = site
        self._cause: str | None = None
        self._frag_flow = _NO_FLOW
        self._frag_ctx = ""
        self._template: dict[str, Any] | None = None
        self._t0 = 0.0
        self._token: Any = None
        self._ended = False
        self._passed = False
        self._fail_class: str | None = None
        self._fail_event: str | None = None
        self._fail_reason: str | None = None

    def __repr__(self) -> str:
        return f"Flow({self.flow_id!r}, instance={self.instance!r}, status={self.status!r})"

    @property
    def status(self) -> str:
        """The verdict so far: ``failed``, ``passed`` or ``unfinished``."""
        if self._fail_class is not None:
            return "failed"
        return "passed" if self._passed else "unfinished"

    # -- lifecycle -------------------------------------------------------------------

    def start(self) -> Flow:
        """Record ``flow_start`` (once); ``with`` and ``start_flow`` call it for you."""
        if self.instance is None:
            self._start(_getframe(1))
        return self

    def _start(self, frame: Any) -> None:
        s = self.session
        parent = self._prev
        self._prev = None
        inherited: Mapping[str, Any] | None = None
        if parent is None:
            cur = CURRENT.get()
            if cur is not None and cur.instance is not None:
                self.parent, self.parent_flow = cur.instance, cur.flow_id
                inherited = cur.correlation
            elif s._env_parent is not None:
                self.parent, self.parent_flow = s._env_parent
        elif isinstance(parent, str):
            if _looks_like_event_id(parent):
                self.parent = parent
            else:
                self.parent_flow = parent
        else:
            self.parent, self.parent_flow = parent.instance, parent.flow_id
            inherited = parent.correlation
        corr = self.correlation
        if corr:
            corr = s._clean_evidence(corr)
        if inherited:
            corr = {**inherited, **corr}
        self.correlation = corr
        site = self._site = self._site or _caller(frame)  # flow_end reports it too
        if s.closed or not s.active:
            return
        seq = next(s._seq)
        self.instance = eid = s._id_prefix + str(seq)
        self._scope()
        self._t0 = _perf()
        s._record(
            self, "flow_start", None, None, None, site,
            _More(caused_by=self._cause, ident=(seq, eid)),
        )  # fmt: skip

    def _scope(self) -> dict[str, Any]:
        """Build what every event of this instance shares, once: the JSON of its flow
        and context fields, and a dict of its event with them filled in (each event is
        a copy). A flow never started (markers with no ``with``) gets them too: its
        events carry the flow id, no instance."""
        s = self.session
        corr = self.correlation
        if self.instance is None and corr:
            corr = s._clean_evidence(corr)  # cleaned by _start, which did not run
        self._frag_flow = (
            f'"flow_id":{_esc(self.flow_id)},"instance":{_js(self.instance)},'
            f'"parent":{_js(self.parent)},"parent_flow":{_js(self.parent_flow)},'
        )
        self._frag_ctx = f'"correlation":{_enc_value(corr)},"tags":{_enc_value(self.tags)},'
        template = s._run_template.copy()
        template["flow_id"] = self.flow_id
        template["instance"] = self.instance
        template["parent"] = self.parent
        template["parent_flow"] = self.parent_flow
        template["correlation"] = corr
        template["tags"] = self.tags
        self._template = template
        return template

    def __enter__(self) -> Flow:
        try:
            if self.instance is None:
                self._start(_getframe(1))
            self._token = CURRENT.set(self)
        except Exception as exc:
            self.session._trouble("flow", exc)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            token, self._token = self._token, None
            if token is not None:
                try:
                    CURRENT.reset(token)
                except ValueError:  # exited in another context than it was entered in
                    CURRENT.set(None)
            if isinstance(exc, Exception):
                self._escaped(exc, tb)
            self._end(_getframe(1))
        except Exception as err:
            self.session._trouble("flow", err)

    def end(self) -> None:
        """Record ``flow_end`` with the verdict and duration (once; ``with`` does it)."""
        try:
            self._end(_getframe(1))
        except Exception as exc:
            self.session._trouble("flow", exc)

    def _end(self, frame: Any) -> None:
        if self._ended or self.instance is None:
            return
        self._ended = True
        status = self.status
        severity = "error" if status == "failed" else "warn" if status == "unfinished" else "info"
        duration = round((_perf() - self._t0) * 1000.0, 3)
        site = self._site or _caller(frame)
        self.session._record(
            self, "flow_end", None, severity, None, site, _More(
                self._fail_class, self._fail_reason, status=status, duration_ms=duration,
                caused_by=self._fail_event,
            ),
        )  # fmt: skip

    def _escaped(self, exc: Exception, tb: TracebackType | None) -> None:
        eid = getattr(exc, _EXC_ATTR, None)
        if eid is None:
            eid = self.session._record_exception(self, exc, tb, None, "error", None, None)
        self._failed(SYSTEM, f"{_exc_type_name(exc)}: {_exc_message(exc)}", eid)

    def _failed(self, error_class: str, reason: str | None, eid: str | None) -> None:
        if self._fail_class is None:
            self._fail_class = error_class
            self._fail_event = eid
            self._fail_reason = self.session._clean_text(reason) if reason else None

    # -- markers ---------------------------------------------------------------------

    def checkpoint(
        self, step: str, *, severity: str = "info", caused_by: Any = None, **evidence: Any
    ) -> str | None:
        """Record that ``step`` was reached; keyword arguments are evidence."""
        s = self.session
        if _is_muted(s, severity):
            return None
        frame = _getframe(1)
        info = _code_infos.get(frame.f_code)  # the caller's code, resolved before
        site = (info, frame.f_lineno) if info is not None else _caller(frame)
        return s._record(
            self, "checkpoint", step, severity, evidence, site,
            None if caused_by is None else _More(caused_by=_id_of(caused_by)),
        )  # fmt: skip

    def success(
        self,
        reason: str | None = None,
        *,
        step: str | None = None,
        severity: str = "info",
        caused_by: Any = None,
        **evidence: Any,
    ) -> str | None:
        """Record that the flow's intent was met (the verdict is ``passed`` unless it
        also fails)."""
        self._passed = True
        s = self.session
        if _is_muted(s, severity):
            return None
        frame = _getframe(1)
        info = _code_infos.get(frame.f_code)
        site = (info, frame.f_lineno) if info is not None else _caller(frame)
        return s._record(
            self, "success", step, severity, evidence, site,
            None if reason is None and caused_by is None
            else _More(None, reason, caused_by=_id_of(caused_by)),
        )  # fmt: skip

    def failure(
        self,
        error_class: str,
        reason: str | None = None,
        *,
        step: str | None = None,
        severity: str = "error",
        caused_by: Any = None,
        **evidence: Any,
    ) -> str | None:
        """Record that the intent was not met, with a class (``DATA.EMPTY``) and a reason.

        Written to disk before this returns.
        """
        s = self.session
        eid = None
        if not _is_muted(s, severity):
            eid = s._record(
                self, "failure", step, severity, evidence, _caller(_getframe(1)),
                _More(str(error_class), reason, caused_by=_id_of(caused_by), urgent=True),
            )  # fmt: skip
        self._failed(str(error_class), reason, eid)
        return eid

    def metric(
        self,
        name: str,
        value: float,
        unit: str | None = None,
        *,
        severity: str = "info",
        caused_by: Any = None,
        **evidence: Any,
    ) -> str | None:
        """Record a number (``step`` is the metric's name)."""
        s = self.session
        if _is_muted(s, severity):
            return None
        return s._record(
            self, "metric", name, severity, evidence, _caller(_getframe(1)), _More(
                value=_float_or_none(value), unit=None if unit is None else str(unit),
                caused_by=_id_of(caused_by) if caused_by is not None else None,
            ),
        )  # fmt: skip

    def exception(
        self,
        exc: BaseException | None = None,
        *,
        step: str | None = None,
        severity: str = "error",
        caused_by: Any = None,
        **evidence: Any,
    ) -> str | None:
        """Record a caught exception (default: the one being handled); the flow fails
        with class SYSTEM. It is not recorded again if it later escapes a flow."""
        if exc is None:
            exc = sys.exc_info()[1]
        if exc is None:
            return None
        try:
            eid = self.session._record_exception(
                self, exc, exc.__traceback__, step, severity, _id_of(caused_by), evidence,
                fallback_site=_caller(_getframe(1)),
            )  # fmt: skip
            self._failed(SYSTEM, f"{_exc_type_name(exc)}: {_exc_message(exc)}", eid)
            return eid
        except Exception as err:
            self.session._trouble("record", err)
            return None

    def add_event(self, event: Event) -> str | None:
        """Record an :class:`Event` (the original quickstart's API) in this flow."""
        try:
            return self._add_event(event, _caller(_getframe(1)))
        except Exception as exc:
            self.session._trouble("record", exc)
            return None

    def _add_event(self, ev: Event, site: _callsite.Site) -> str | None:
        etype = ev.event_type
        s = self.session
        if etype not in MARKER_TYPES:
            warn_once(
                f"event-type:{etype}",
                f"add_event: {etype!r} is not a marker type "
                f"({', '.join(sorted(MARKER_TYPES))}); the event is dropped",
            )
            return None
        severity = ev.severity or ("error" if etype in ("failure", "exception") else "info")
        error_class = ev.error_class
        if etype == "success":
            self._passed = True
        elif etype in ("failure", "exception"):
            error_class = error_class or (SYSTEM if etype == "exception" else "UNCLASSIFIED")
        eid = None
        if not _is_muted(s, severity):
            exc_info: dict[str, Any] | None = None
            if etype == "exception":
                exc_info = {"type": error_class, "message": ev.reason or "", "frames": []}
            eid = s._record(
                self, etype, ev.step, severity, dict(ev.evidence) if ev.evidence else None, site,
                _More(
                    error_class, ev.reason,
                    value=_float_or_none(ev.value) if etype == "metric" else None,
                    unit=ev.unit, caused_by=_id_of(ev.caused_by),
                    urgent=etype in ("failure", "exception"), tags=ev.tags, exception=exc_info,
                ),
            )  # fmt: skip
        if error_class is not None and etype in ("failure", "exception"):
            self._failed(error_class, ev.reason, eid)
        ev.id = eid
        return eid


def _merge_tags(*groups: Sequence[str] | None) -> list[str]:
    seen: dict[str, None] = {}
    for group in groups:
        if group:
            for tag in group:
                seen.setdefault(str(tag), None)
    return list(seen)


class _RunState(Sink):
    """The run's in-process view, fed by the writer: aggregate, last events, counts.

    It is what the summary event and the end-of-run artifacts are made from, so it sees
    exactly what the sinks saw.
    """

    name = "aggregate"

    def __init__(self, aggregate: RunAggregate | None, tail: int) -> None:
        self.aggregate = aggregate
        self.tail: deque[dict[str, Any]] = deque(maxlen=max(tail, 1))
        self.events = 0
        self.flows = 0
        self.verdicts = {"passed": 0, "failed": 0, "unfinished": 0}
        #: instance -> (flow_id, file, line) of flows started and not yet ended.
        self.open: dict[str, tuple[Any, Any, Any]] = {}

    def write(self, batch: Sequence[Item]) -> None:
        opened, verdicts = self.open, self.verdicts
        events = [ev for ev, _ in batch]
        count = len(events)
        for ev in events:
            etype = ev["event_type"]
            if etype == "flow_start":
                self.flows += 1
                if len(opened) < 10_000:
                    opened[ev["instance"]] = (ev["flow_id"], ev["file"], ev["line"])
            elif etype == "flow_end":
                status = ev["status"]
                verdicts[status if status in ("passed", "failed") else "unfinished"] += 1
                opened.pop(ev["instance"], None)
            elif etype == "summary":
                count -= 1
        self.events += count
        self.tail.extend(events[-(self.tail.maxlen or 1) :])
        agg = self.aggregate
        if agg is not None:
            try:
                # The session built these events itself: the aggregate's unchecked path.
                agg.add_trusted(events)
            except Exception as exc:
                warn_once("aggregate", f"run aggregate failed ({type(exc).__name__}: {exc})")

    def add(self, ev: dict[str, Any]) -> None:
        """Fold in one event read back from a trace (untrusted: fields may be missing)."""
        etype = ev.get("event_type")
        inst = ev.get("instance")
        if etype == "flow_start":
            self.flows += 1
            if isinstance(inst, str) and len(self.open) < 10_000:
                self.open[inst] = (ev.get("flow_id"), ev.get("file"), ev.get("line"))
        elif etype == "flow_end":
            status = ev.get("status")
            self.verdicts[status if status in ("passed", "failed") else "unfinished"] += 1
            if isinstance(inst, str):
                self.open.pop(inst, None)
        if etype != "summary":
            self.events += 1
        self.tail.append(ev)
        if self.aggregate is not None:
            try:
                self.aggregate.add(ev)
            except Exception as exc:
                warn_once("aggregate", f"run aggregate failed ({type(exc).__name__}: {exc})")

    def after_fork_child(self) -> None:
        # Only the process that owns the run writes its artifacts.
        self.aggregate = None
        self.tail.clear()


class Session:
    """One run of a program: where events go, and its end-of-run artifacts.

    ``Session(app_name="my-app", mode="dev", tags=["demo"])`` reads ``.autodev/ra.yaml``
    and ``.autodev/flows.yaml`` under ``root`` (default: the current directory), opens
    the configured sinks and records ``run_start``. In a child process of a traced
    program (``FLOWSCRIBE_RUN_ID`` in the environment), it joins the parent's run
    instead of starting one. :meth:`end_session` (also called at exit) records the
    ``summary`` event and writes ``summary.md``, ``ask.md`` and the run's trace.
    """

    def __init__(
        self,
        app_name: str | None = None,
        mode: str | None = None,
        tags: Sequence[str] | None = None,
        *,
        root: str | os.PathLike[str] | None = None,
        run_id: str | None = None,
    ) -> None:
        self.app_name = app_name or _default_app_name()
        self.mode = mode or "dev"
        self.tags = _merge_tags(tags)
        self.run_id: str | None = None
        from pathlib import Path  # lazily: `import flowscribe` must stay cheap

        self.root = Path(os.getcwd())
        self.config: Config | None = None
        self.catalog: Catalog | None = None
        self.run_dir: Path | None = None
        #: False when tracing is off (config, RA_ENABLED=0, or a failed start).
        self.active = False
        self.closed = False
        self._owner = True
        self._pid = os.getpid()
        self._id_prefix = ""
        self._seq: Iterator[int] = itertools.count(1)
        self._frag_run = '"run_id":null,'
        #: An event of this run with what all its events share filled in (see _record).
        self._run_template: dict[str, Any] = {}
        self._frag_pid = ""
        self._muted: frozenset[str | None] = frozenset()
        self._infos: dict[str, _FlowInfo] = {}
        self._tagged: dict[tuple[str, tuple[str, ...]], bool] = {}
        self._env_parent: tuple[str, str] | None = None
        self._env_saved: dict[str, str | None] = {}
        self._redactor: Redactor | None = None
        self._redact_evidence: Callable[[Any], tuple[dict[str, Any], int]] | None = None
        self._redacted = 0
        self._writer: Writer | None = None
        self._buf: list[Item] = []  # the writer's queue, once there is a writer
        self._state: _RunState | None = None
        self._run_trace: JsonlSink | None = None
        self._main_trace: JsonlSink | None = None
        self._main_trace_start = 0
        self._layout: RunLayout | None = None
        self._end_lock = threading.Lock()
        try:
            self._start(root, run_id)
        except Exception as exc:
            warn_once(
                "session-start",
                f"tracing could not start ({type(exc).__name__}: {exc}); the app runs untraced",
            )
            self._deactivate()

    def __repr__(self) -> str:
        state = "closed" if self.closed else "active" if self.active else "inactive"
        return f"Session(app_name={self.app_name!r}, run_id={self.run_id!r}, {state})"

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc: object) -> None:
        self.end_session()

    # -- start -----------------------------------------------------------------------

    def _start(self, root: str | os.PathLike[str] | None, run_id: str | None) -> None:
        env = os.environ
        joining = (
            run_id is None
            and bool(env.get(ENV_RUN_ID))
            and env.get(ENV_RUN_PID) != str(os.getpid())
        )
        if root is None and joining and env.get(ENV_ROOT):
            root = env[ENV_ROOT]
        self.root = type(self.root)(os.path.abspath(root if root is not None else os.getcwd()))
        _callsite.set_root(str(self.root))
        self._owner = not joining

        cfg = self._load_config()
        if cfg is None or not cfg.enabled:
            return
        _load_encoders()
        self.config = cfg
        self.catalog = self._load_catalog(cfg)
        self._redactor = self._make_redactor(cfg)
        if self._redactor is not None:
            self._redact_evidence = self._redactor.evidence
        muted = {s for s in SEVERITIES if not cfg.severity_allowed(s)}
        muted.update(a for a, s in _SEVERITY_ALIASES.items() if s in muted)
        muted.update(s.upper() for s in list(muted))
        self._muted = frozenset(muted)

        from .runs import RunLayout, new_run_id

        self._layout = RunLayout(cfg.autodev_dir)
        self.run_id = env[ENV_RUN_ID] if joining else (run_id or new_run_id())
        if joining:
            self._env_parent = _parse_env_parent(env.get(ENV_PARENT))
        self._frag_run = f'"run_id":{_esc(self.run_id)},'
        template = dict.fromkeys(EVENT_KEYS)
        template.update(schema=SCHEMA_VERSION, run_id=self.run_id, correlation={}, tags=[])
        self._run_template = template
        self._new_process_ids()
        if cfg.artifacts.per_run_dirs:
            try:
                if self._owner:
                    self.run_dir = self._layout.start_run(self.run_id)
                else:
                    self.run_dir = self._layout.run_dir(self.run_id)
                    self.run_dir.mkdir(parents=True, exist_ok=True)
            except (OSError, ValueError) as exc:
                warn_once(
                    "run-dir",
                    f"cannot create the run directory under {cfg.autodev_dir} ({exc}); "
                    "the run's artifacts are not written",
                )
        sinks = self._make_sinks(cfg)
        if self._owner:
            self._state = _RunState(self._new_aggregate(), cfg.artifacts.trace_tail_events)
            sinks.append(self._state)
        self._writer = Writer(sinks, max_pending=_BATCH)
        self._buf = self._writer.pending
        self.active = True
        if self._owner:
            for key, value in (
                (ENV_RUN_ID, self.run_id),
                (ENV_ROOT, str(self.root)),
                (ENV_RUN_PID, str(os.getpid())),
            ):
                self._env_saved[key] = env.get(key)
                env[key] = value
            self._env_saved[ENV_PARENT] = env.pop(ENV_PARENT, None)
        _register(self)
        self._record_run_start(_caller(_getframe(1)))

    def _load_config(self) -> Config | None:
        from .config import Config, load_config

        try:
            cfg, problems = load_config(self.root)
        except Exception as exc:
            warn_once("config-crash", f"reading the config failed ({exc}); using defaults")
            return Config.defaults(self.root)
        for problem in problems:
            warn_once(f"config:{problem}", str(problem))
        return cfg

    def _load_catalog(self, cfg: Config) -> Catalog | None:
        from .catalog import CATALOG_FILE, load_catalog

        try:
            catalog = load_catalog(cfg.autodev_dir / CATALOG_FILE, self.root)
        except Exception as exc:
            warn_once("catalog-crash", f"reading the flow catalog failed ({exc}); ignoring it")
            return None
        for problem in catalog.problems:
            warn_once(f"catalog:{problem}", str(problem))
        return catalog

    @staticmethod
    def _make_redactor(cfg: Config) -> Redactor:
        from .redact import Redactor

        p = cfg.privacy
        return Redactor(p.redact_keys, p.payload_limit, p.allow_raw_payloads)

    def _make_sinks(self, cfg: Config) -> list[Sink]:
        from .sinks import make_sink
        from .sinks.jsonl import JsonlSink

        sinks: list[Sink] = []
        ret = cfg.retention
        for spec in cfg.sinks:
            path = str(cfg.resolve(spec.path)) if spec.path else None
            try:
                rotate = ret.max_trace_bytes if ret.rotate_trace and spec.type == "jsonl" else 0
                sink = make_sink(spec.type, path, max_bytes=rotate)
            except Exception as exc:
                warn_once(f"sink:{spec.type}:{path}", f"sink {spec.type} skipped: {exc}")
                continue
            if isinstance(sink, JsonlSink) and self._main_trace is None:
                self._main_trace = sink
                try:
                    self._main_trace_start = os.path.getsize(sink.path)
                except OSError:
                    self._main_trace_start = 0
            sinks.append(sink)
        if self.run_dir is not None:
            self._run_trace = JsonlSink(str(self.run_dir / "trace.jsonl"))
            sinks.append(self._run_trace)
        return sinks

    def _new_aggregate(self) -> RunAggregate | None:
        """The aggregate summary.md and ask.md are rendered from; None when this run
        renders neither (its cost is then not paid on every event)."""
        cfg = self.config
        if cfg is None or not (cfg.artifacts.summary_md or cfg.artifacts.ask_md != "never"):
            return None
        from .artifacts import aggregate_for

        return aggregate_for(cfg, self.catalog, self.run_id)

    def _new_process_ids(self) -> None:
        self._pid = os.getpid()
        self._frag_pid = f'"pid":{self._pid},'
        self._id_prefix = os.urandom(4).hex() + "-"
        self._seq = itertools.count(1)

    def _record_run_start(self, site: _callsite.Site) -> None:
        evidence: dict[str, Any] = {
            "app": self.app_name,
            "mode": self.mode,
            "root": str(self.root),
            "git_sha": _git_sha(self.root),
            "python": sys.version.split()[0],
            "argv": self._safe_argv(),
        }
        self._record(
            None, "run_start", None, None, evidence, site, _More(tags=self.tags, trusted=True)
        )

    def _safe_argv(self) -> list[str]:
        red = self._redactor
        out: list[str] = []
        secret_next = False
        for arg in sys.argv[:64]:
            arg = str(arg)
            if red is None:
                out.append(arg)
                continue
            if secret_next:
                out.append("[REDACTED]")
                secret_next = False
                continue
            name, eq, _ = arg.partition("=")
            if name.startswith("-") and red.is_secret_key(name.lstrip("-")):
                if eq:
                    out.append(f"{name}=[REDACTED]")
                else:
                    out.append(arg)
                    secret_next = True
                continue
            out.append(red.text(arg)[0])
        return out

    def _deactivate(self) -> None:
        self.active = False
        writer, self._writer = self._writer, None
        self._buf = []
        if writer is not None:
            try:  # noqa: SIM105 - contextlib costs import time
                writer.close()
            except Exception:
                pass
        self._restore_env()

    # -- recording -------------------------------------------------------------------

    def _trouble(self, what: str, exc: BaseException) -> None:
        warn_once(
            f"{what}:{type(exc).__name__}",
            f"could not record an event ({type(exc).__name__}: {exc}); the app runs on",
        )

    def _clean_evidence(self, data: Mapping[str, Any]) -> dict[str, Any]:
        red = self._redact_evidence
        if red is None:
            return dict(data)
        clean, n = red(data)
        if n:
            self._redacted += n
        return clean

    def _clean_text(self, text: Any) -> str:
        red = self._redactor
        if red is None:
            return str(text)
        clean, n = red.text(text)
        if n:
            self._redacted += n
        return clean

    def _record(
        self,
        flow: Flow | None,
        etype: str,
        step: Any,
        severity: Any,
        evidence: Mapping[str, Any] | None,
        site: _callsite.Site,
        more: _More | None = None,
    ) -> str | None:
        """Build, encode and queue one event; returns its id. The hot path.

        A plain marker (a checkpoint, a success without a reason) in a flow passes no
        ``more``: its fields past the evidence are null, so that part of its line is a
        constant. Everything else says what it has in a :class:`_More`.
        """
        if self.closed or not self.active:
            return None
        try:
            # The fields of ``more`` are read here, and stored in the event below, only
            # when there is a ``more``.
            if more is None:
                tags: Sequence[str] | None = None
                trusted = False
                middle, end = _PLAIN_MIDDLE, _PLAIN_END
            else:
                error_class, reason, caused_by = more.error_class, more.reason, more.caused_by
                value, unit, status = more.value, more.unit, more.status
                duration_ms, exception, tags = more.duration_ms, more.exception, more.tags
                trusted = more.trusted
                if reason is not None:
                    reason = self._clean_text(reason)
                middle = (
                    f'"error_class":{"null" if error_class is None else _esc(error_class)},'
                    f'"reason":{"null" if reason is None else _esc(reason)},'
                )
                end = (
                    f',"value":{"null" if value is None else repr(value)},'
                    f'"unit":{"null" if unit is None else _esc(unit)},'
                    f'"status":{"null" if status is None else _esc(status)},'
                    f'"duration_ms":{"null" if duration_ms is None else repr(duration_ms)},'
                    f'"caused_by":{"null" if caused_by is None else _esc(caused_by)},'
                    f'"exception":{"null" if exception is None else _enc_value(exception)}}}'
                )
            if evidence:
                if not trusted:
                    red = self._redact_evidence
                    if red is not None:
                        evidence, n = red(evidence)
                        if n:
                            self._redacted += n
                    else:
                        evidence = _sanitize(evidence, 0)
                try:
                    evidence_json = "".join(_chunks(evidence, 0))
                except (ValueError, TypeError, RecursionError):
                    evidence_json = _enc_value(evidence)
            else:
                evidence = {}
                evidence_json = "{}"
            if step is not None and type(step) is not str:
                step = str(step)
            if type(severity) is not str or severity not in _SEVERITY_JSON:
                severity = _severity(severity)  # also whatever odd value the app passed
            if more is None or more.ident is None:
                seq = next(self._seq)
                eid = self._id_prefix + str(seq)
            else:
                seq, eid = more.ident
            template: dict[str, Any] | None
            if flow is None:
                template = self._run_template
                frag_flow = _NO_FLOW
                ftags: Sequence[str] = _merge_tags(tags)
                frag_ctx = f'"correlation":{{}},"tags":{_enc_value(ftags)},'
            else:
                template = flow._template
                if template is None:
                    template = flow._scope()
                frag_flow = flow._frag_flow
                if tags:
                    ftags = _merge_tags(flow.tags, tags)
                    frag_ctx = (
                        f'"correlation":{_enc_value(template["correlation"])},'
                        f'"tags":{_enc_value(ftags)},'
                    )
                else:
                    ftags = ()
                    frag_ctx = flow._frag_ctx
            info, line = site
            current = _threads.get(_get_ident())
            thread = (
                current._name  # type: ignore[attr-defined]  # the property, without its cost
                if current is not None else _current_thread().name
            )
            ts = _now()
            # A copy of the template (its keys in trace order) costs a third of a dict
            # display of all 28 keys; then only what this event has of its own.
            ev = template.copy()
            ev["id"] = eid
            ev["seq"] = seq
            ev["ts"] = ts
            ev["event_type"] = etype
            ev["step"] = step
            ev["file"] = info[0]
            ev["line"] = line
            ev["function"] = info[1]
            ev["thread"] = thread
            ev["pid"] = self._pid
            ev["severity"] = severity
            ev["evidence"] = evidence
            if more is not None:
                if ftags:
                    ev["tags"] = ftags
                ev["error_class"] = error_class
                ev["reason"] = reason
                ev["value"] = value
                ev["unit"] = unit
                ev["status"] = status
                ev["duration_ms"] = duration_ms
                ev["caused_by"] = caused_by
                ev["exception"] = exception
            text = (
                f'{{"schema":1,"id":"{eid}",{self._frag_run}"seq":{seq},"ts":{ts!r},'
                f'"event_type":"{etype}",{frag_flow}'
                f'"step":{"null" if step is None else _esc(step)},{frag_ctx}'
                f'{info[2]}{"null" if line is None else line}{info[3]}'
                f"{_thread_json.get(thread) or _thread_fragment(thread)}{self._frag_pid}"
                f"{_SEVERITY_JSON[severity]}{middle}"
                f'"evidence":{evidence_json}{end}'
            )
            buf = self._buf
            buf.append((ev, text))
            if len(buf) >= _BATCH or (more is not None and more.urgent):
                writer = self._writer
                if writer is not None:
                    writer.flush()
            return eid
        except Exception as exc:
            self._trouble("record", exc)
            return None

    def _record_exception(
        self,
        flow: Flow | None,
        exc: BaseException,
        tb: TracebackType | None,
        step: str | None,
        severity: str,
        caused_by: str | None,
        evidence: Mapping[str, Any] | None,
        fallback_site: _callsite.Site = _NO_SITE,
    ) -> str | None:
        frames, site = _callsite.traceback_frames(tb)
        if site is _NO_SITE:
            site = fallback_site
        type_name = _exc_type_name(exc)
        message = self._clean_text(_exc_message(exc))
        info = {"type": type_name, "message": message, "frames": frames}
        eid = self._record(
            flow, "exception", step, severity, evidence, site, _More(
                SYSTEM, f"{type_name}: {message}", caused_by=caused_by, urgent=True,
                exception=info,
            ),
        )  # fmt: skip
        if eid is not None:
            try:  # noqa: SIM105 - contextlib costs import time
                setattr(exc, _EXC_ATTR, eid)
            except Exception:
                pass
        return eid

    # -- flows -----------------------------------------------------------------------

    def _info(self, flow_id: str) -> _FlowInfo:
        info = self._infos.get(flow_id)
        if info is not None:
            return info
        spec = self.catalog.get(flow_id) if self.catalog is not None else None
        tags = _merge_tags(self.tags, spec.tags if spec is not None else None)
        enabled = bool(
            self.active
            and (spec is None or spec.enabled)
            and self.config is not None
            and self.config.flow_allowed(flow_id, tags)
        )
        info = _FlowInfo(
            enabled,
            tags,
            frozenset(spec.correlation_keys) if spec is not None else frozenset(),
            spec.parent if spec is not None else None,
            NullFlow(flow_id),
        )
        if len(self._infos) > 10_000:
            self._infos.clear()
        self._infos[flow_id] = info
        return info

    def _allowed_with(self, flow_id: str, info: _FlowInfo, tags: Sequence[str]) -> bool:
        key = (flow_id, tuple(tags))
        ok = self._tagged.get(key)
        if ok is None:
            spec = self.catalog.get(flow_id) if self.catalog is not None else None
            ok = bool(
                self.active
                and (spec is None or spec.enabled)
                and self.config is not None
                and self.config.flow_allowed(flow_id, _merge_tags(info.tags, tags))
            )
            if len(self._tagged) > 10_000:
                self._tagged.clear()
            self._tagged[key] = ok
        return ok

    def flow(
        self,
        flow_id: str,
        *,
        parent: ParentLike = None,
        tags: Sequence[str] | None = None,
        caused_by: Any = None,
        **correlation: Any,
    ) -> Flow | NullFlow:
        """A flow instance to use with ``with``; keyword arguments are correlation keys.

        The parent is the enclosing flow (in this thread or task), or ``parent=``: a Flow,
        a flow instance id, or a flow id. Returns a :class:`NullFlow` when the flow is
        disabled or filtered out.
        """
        try:
            info = self._infos.get(flow_id) or self._info(flow_id)
            if tags:
                if not self._allowed_with(flow_id, info, tags):
                    return info.null
            elif not info.enabled or self.closed:
                return info.null
            f = Flow(self, flow_id, info, parent, tags, correlation)
            if caused_by is not None:
                f._cause = _id_of(caused_by)
            return f
        except Exception as exc:
            self._trouble("flow", exc)
            return NullFlow(str(flow_id))

    def start_flow(
        self,
        flow_id: str,
        *,
        parent: ParentLike = None,
        tags: Sequence[str] | None = None,
        **correlation: Any,
    ) -> Flow | NullFlow:
        """Start a flow now (the original API); end it with :meth:`Flow.end`. It is not
        the enclosing flow of later code unless entered with ``with``."""
        f = self.flow(flow_id, parent=parent, tags=tags, **correlation)
        if isinstance(f, Flow):
            try:
                f._start(_getframe(1))
            except Exception as exc:
                self._trouble("flow", exc)
        return f

    def traced(
        self,
        flow_id: str,
        *,
        parent: ParentLike = None,
        tags: Sequence[str] | None = None,
        **correlation: Any,
    ) -> Callable[[F], F]:
        """Decorator: each call of the function is one instance of ``flow_id``."""
        return traced(flow_id, parent=parent, tags=tags, session=self, **correlation)

    # -- end -------------------------------------------------------------------------

    def flush(self) -> None:
        """Write everything recorded so far to the sinks, now."""
        writer = self._writer
        if writer is not None:
            try:
                writer.flush()
            except Exception as exc:
                self._trouble("flush", exc)

    def end_session(self) -> None:
        """End the run: record ``summary``, flush, write the artifacts. Idempotent.

        In a child process that joined a run, this only flushes: the process that owns
        the run writes its summary and artifacts, including the child's events.
        """
        with self._end_lock:
            if self.closed:
                return
            try:
                self._end(_caller(_getframe(1)))
            except Exception as exc:
                warn_once("session-end", f"ending the run failed ({type(exc).__name__}: {exc})")
            finally:
                self.closed = True
                self._deactivate()
                _unregister(self)

    def _end(self, site: _callsite.Site) -> None:
        writer = self._writer
        if writer is None or not self.active:
            return
        if not self._owner or self._pid != os.getpid():
            writer.close()
            return
        with writer.lock:  # the flusher waits: the state is swapped under it
            writer.flush()
            self._reaggregate_if_joined()
        if self._state is not None:
            self._record(
                None, "summary", None, None, self._summary_evidence(), site,
                _More(tags=self.tags, urgent=True, trusted=True),
            )
        writer.close()
        self._write_artifacts()
        cfg, layout = self.config, self._layout
        if cfg is not None and layout is not None and cfg.artifacts.per_run_dirs:
            try:
                layout.prune(cfg.retention.keep_runs)
            except Exception as exc:
                warn_once("prune", f"removing old runs failed ({exc})")

    def _summary_evidence(self) -> dict[str, Any]:
        state = self._state
        if state is None:
            return {}
        orphans = [
            {"instance": inst, "flow_id": fid, "file": file, "line": line}
            for inst, (fid, file, line) in itertools.islice(
                state.open.items(), MAX_LISTED_ORPHANS
            )
        ]
        return {
            "flows": state.flows,
            "passed": state.verdicts["passed"],
            "failed": state.verdicts["failed"],
            "unfinished": state.verdicts["unfinished"],
            "orphaned": len(state.open),
            "events": state.events,
            "redacted": self._redacted,
            "orphaned_instances": orphans,
        }

    def _reaggregate_if_joined(self) -> None:
        """Rebuild the run state from the trace file when child processes wrote to it."""
        state = self._state
        if state is None:
            return
        if self._run_trace is not None:
            path, start = self._run_trace.path, 0
            mine = self._run_trace.file.bytes_written
        elif self._main_trace is not None:
            path, start = self._main_trace.path, self._main_trace_start
            mine = self._main_trace.file.bytes_written
        else:
            return
        try:
            others = os.path.getsize(path) - start - mine
        except OSError:
            return
        if others <= 0:
            return
        from .trace import parse_line

        fresh = _RunState(self._new_aggregate(), state.tail.maxlen or 1)
        try:
            with open(path, "rb") as fh:
                fh.seek(start)
                for line in fh:
                    ev = parse_line(line)
                    if ev is not None and ev.get("run_id") == self.run_id:
                        fresh.add(ev)
        except OSError as exc:
            warn_once("reaggregate", f"could not re-read {path} ({exc}); children's events "
                      "are missing from the summary")
            return
        writer = self._writer
        if writer is not None:
            writer.sinks = [fresh if s is state else s for s in writer.sinks]
        self._state = fresh

    def _write_artifacts(self) -> None:
        state, cfg, layout = self._state, self.config, self._layout
        if state is None or cfg is None or layout is None:
            return
        try:
            from .artifacts import aggregate_for, write_run_artifacts

            # Without an aggregate (no artifact wanted) an empty one still lets
            # write_run_artifacts remove an older run's copies from .autodev/.
            agg = state.aggregate or aggregate_for(cfg, self.catalog, self.run_id)
            agg.note_redacted(self._redacted)
            write_run_artifacts(agg, self.catalog, cfg, list(state.tail), layout)
        except Exception as exc:
            warn_once(
                "artifacts",
                f"writing the run's artifacts failed ({type(exc).__name__}: {exc})",
            )

    def _on_unhandled(self, exc: BaseException, tb: TracebackType | None, main: bool) -> None:
        """An exception nobody caught: record it (unless a flow did), then the artifacts."""
        if not self.active or self.closed or self._pid != os.getpid():
            return
        if isinstance(exc, Exception) and getattr(exc, _EXC_ATTR, None) is None:
            self._record_exception(None, exc, tb, None, "critical", None, None)
        if main:
            self.end_session()
        elif self._writer is not None and self._owner:
            # The app goes on: write the artifacts of the run so far, with the flusher
            # held off so the aggregate does not change while it is rendered.
            with self._writer.lock:
                self._writer.flush()
                self._write_artifacts()

    def _after_fork_child(self) -> None:
        self._new_process_ids()
        self._owner = False  # the parent owns the run and writes its artifacts
        self._end_lock = threading.Lock()
        self._env_saved = {}
        if self._writer is not None:
            self._buf = self._writer.pending  # the writer's hook gave it a fresh queue
        if self.active and not self.closed:
            site = _callsite.caller()
            self._record_run_start(site)

    def _restore_env(self) -> None:
        saved, self._env_saved = self._env_saved, {}
        if not saved or self._pid != os.getpid():
            return
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _parse_env_parent(value: str | None) -> tuple[str, str] | None:
    if not value or "|" not in value:
        return None
    instance, _, flow_id = value.partition("|")
    return (instance, flow_id) if instance and flow_id else None


def _default_app_name() -> str:
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None) or (sys.argv[0] if sys.argv and sys.argv[0] else "")
    name = os.path.splitext(os.path.basename(path))[0]
    return name or "python"


def _git_sha(root: Path) -> str | None:
    """The checked-out commit, read from ``.git`` without running git."""
    for directory in (root, *root.parents):
        git = directory / ".git"
        try:
            if git.is_file():  # a worktree or submodule: "gitdir: <path>"
                text = git.read_text(encoding="utf-8").strip()
                if not text.startswith("gitdir:"):
                    return None
                git = (directory / text[7:].strip()).resolve()
            elif not git.is_dir():
                continue
            head = (git / "HEAD").read_text(encoding="utf-8").strip()
            if not head.startswith("ref:"):
                return head or None
            ref = head[4:].strip()
            common = git
            commondir = git / "commondir"
            if commondir.is_file():
                common = (git / commondir.read_text(encoding="utf-8").strip()).resolve()
            for base in (git, common):
                ref_file = base / ref
                if ref_file.is_file():
                    return ref_file.read_text(encoding="utf-8").strip() or None
            packed = common / "packed-refs"
            if packed.is_file():
                for line in packed.read_text(encoding="utf-8").splitlines():
                    if line.endswith(" " + ref):
                        return line.split(" ", 1)[0]
            return None
        except OSError:
            return None
    return None


# -- the process-wide parts: live sessions, the default session, hooks ---------------

_sessions: weakref.WeakSet[Session] = weakref.WeakSet()
_default: Session | None = None
_default_lock = threading.RLock()
_hooks_installed = False


def _register(session: Session) -> None:
    global _default
    _sessions.add(session)
    with _default_lock:
        if _default is None or _default.closed:
            _default = session
    _install_hooks()


def _unregister(session: Session) -> None:
    _sessions.discard(session)


def _install_hooks() -> None:
    global _hooks_installed
    if _hooks_installed:
        return
    _hooks_installed = True
    atexit.register(_end_all)
    previous = sys.excepthook

    def excepthook(
        exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None
    ) -> None:
        _unhandled(exc, tb, main=True)
        previous(exc_type, exc, tb)

    sys.excepthook = excepthook
    previous_thread_hook = threading.excepthook

    def thread_excepthook(args: Any) -> None:
        if args.exc_value is not None:
            _unhandled(args.exc_value, args.exc_traceback, main=False)
        previous_thread_hook(args)

    threading.excepthook = thread_excepthook


def _unhandled(exc: BaseException, tb: TracebackType | None, main: bool) -> None:
    for session in list(_sessions):
        try:  # noqa: SIM105 - contextlib costs import time
            session._on_unhandled(exc, tb, main)
        except Exception:
            pass


def _end_all() -> None:
    for session in list(_sessions):
        try:  # noqa: SIM105 - contextlib costs import time
            session.end_session()
        except Exception:
            pass


def _after_fork_child() -> None:
    global _default_lock
    _default_lock = threading.RLock()
    for session in list(_sessions):
        session._after_fork_child()
    mp_util = sys.modules.get("multiprocessing.util")
    if mp_util is not None and _sessions:
        # multiprocessing's forked children leave through os._exit, skipping atexit:
        # have its own exit hook flush ours. Registered through its after-fork hooks
        # because it clears its finalizers when the child starts.
        mp_util.register_after_fork(_after_fork_token, _register_mp_finalizer)


class _Token:
    """A weak-referenceable object for multiprocessing.util.register_after_fork."""


_after_fork_token = _Token()


def _register_mp_finalizer(_: object) -> None:
    mp_util = sys.modules.get("multiprocessing.util")
    if mp_util is not None:
        mp_util.Finalize(None, _end_all, exitpriority=100)


if hasattr(os, "register_at_fork"):  # POSIX only; Windows has no fork
    os.register_at_fork(after_in_child=_after_fork_child)


def get_session() -> Session:
    """The default session: the first one started and still open, else a new one.

    After the default session ended, a new one is started only by :func:`init`; until
    then the module-level functions record nothing.
    """
    global _default
    s = _default
    if s is not None:
        return s
    with _default_lock:
        if _default is None:
            # An inactive session (tracing off) is kept too, so it is asked only once.
            _default = Session()
        return _default


def init(
    app_name: str | None = None,
    mode: str | None = None,
    tags: Sequence[str] | None = None,
    *,
    root: str | os.PathLike[str] | None = None,
    run_id: str | None = None,
) -> Session:
    """Start the default session (ending the previous default, if one is open)."""
    global _default
    with _default_lock:
        old = _default
        _default = None
        if old is not None:
            old.end_session()
        session = Session(app_name, mode, tags, root=root, run_id=run_id)
        _default = session
        return session


def end_session() -> None:
    """End the default session (see :meth:`Session.end_session`)."""
    s = _default
    if s is not None:
        s.end_session()


def traced(
    flow_id: str,
    *,
    parent: ParentLike = None,
    tags: Sequence[str] | None = None,
    session: Session | None = None,
    **correlation: Any,
) -> Callable[[F], F]:
    """Decorator: every call of the function (sync or ``async``) is one instance of
    ``flow_id``, placed at the function's definition.

    Arguments whose names are the flow's catalog ``correlation_keys`` become correlation
    keys of the instance; keyword arguments given here are added to them.
    """

    def decorate(fn: F) -> F:
        code = getattr(fn, "__code__", None)
        names: tuple[str, ...] = ()
        if code is not None:
            names = code.co_varnames[: code.co_argcount + code.co_kwonlyargcount]

        def open_flow(args: tuple[Any, ...], kwargs: dict[str, Any]) -> Flow | NullFlow:
            s = session if session is not None else get_session()
            info = s._infos.get(flow_id) or s._info(flow_id)
            corr = dict(correlation)
            keys = info.correlation_keys
            if keys:
                for name, value in zip(names, args):
                    if name in keys:
                        corr[name] = value
                for name in keys.intersection(kwargs):
                    corr[name] = kwargs[name]
            f = s.flow(flow_id, parent=parent, tags=tags, **corr)
            if code is not None and isinstance(f, Flow):
                f._site = _callsite.site_of_code(code)
            return f

        if code is not None and code.co_flags & _CO_COROUTINE:
            async_fn: Callable[..., Awaitable[Any]] = fn

            @functools.wraps(fn)
            async def run_async(*args: Any, **kwargs: Any) -> Any:
                with open_flow(args, kwargs):
                    return await async_fn(*args, **kwargs)

            return run_async  # type: ignore[return-value]

        @functools.wraps(fn)
        def run(*args: Any, **kwargs: Any) -> Any:
            with open_flow(args, kwargs):
                return fn(*args, **kwargs)

        return run  # type: ignore[return-value]

    return decorate
