"""Flow instances and their markers: what an app calls while its code runs.

A :class:`Flow` is one instance of a named unit of work; its markers (``checkpoint``,
``success``, ``failure``, ``metric``, ``exception``, ``add_event``) find the user's call
site and hand the event to the recorder's hot path (``Recorder.record``, ``_recorder.py``),
and its ``with`` block links it into the context (the enclosing flow is the parent) and
records its start, verdict and duration. A :class:`NullFlow` has the same interface and
records nothing: what a disabled or filtered-out flow is, so a marker on it costs a method
call. Both are re-exported by ``core.py``, their public home. Flows record only through
the recorder's interface (next id, record, clean, muted, scope); this module imports
nothing from ``core``.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Mapping, Sequence
from types import TracebackType

from . import _callsite
from ._context import AMBIENT, CURRENT
from ._event import (
    _EXC_ATTR,
    MARKER_TYPES,
    Event,
    _exc_message,
    _exc_type_name,
    _float_or_none,
    _id_of,
    _merge_tags,
    _More,
)
from ._recorder import trouble as _trouble
from ._warn import warn_once
from .vocabulary import SYSTEM, default_error_class

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (import cost)
if TYPE_CHECKING:
    from typing import Any, Union

    from ._recorder import Recorder
    from .core import Session

    ParentLike = Union["Flow", "NullFlow", str, None]

_perf = time.perf_counter
_caller = _callsite.caller
#: What each code object resolves to (``_callsite``'s cache): markers look their caller
#: up here first, and ask ``_caller`` only on a miss.
_code_infos = _callsite._code_cache
_getframe = sys._getframe


def _looks_like_event_id(text: str) -> bool:
    token, sep, seq = text.partition("-")
    return bool(sep) and len(token) == 8 and seq.isdigit() and all(
        c in "0123456789abcdef" for c in token
    )


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
    root: str | None = None
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
        "_args",
        "_cause",
        "_ended",
        "_fail_class",
        "_fail_event",
        "_fail_reason",
        "_passed",
        "_pid",
        "_prev",
        "_rec",
        "_site",
        "_t0",
        "_token",
        "correlation",
        "event_fragments",
        "event_template",
        "flow_id",
        "instance",
        "parent",
        "parent_flow",
        "root",
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
        cause: str | None = None,
    ) -> None:
        self.session = session
        self._rec: Recorder = session.recorder
        self.flow_id = flow_id
        self.instance: str | None = None
        self.tags = info.tags if not tags else _merge_tags(info.tags, tags)
        self.correlation: dict[str, Any] = correlation or {}
        self.parent: str | None = None
        self.parent_flow: str | None = info.catalog_parent
        #: The instance at the top of this flow's tree as far as this process knows it
        #: (None: this flow is the top); its OTLP trace id is derived from it.
        self.root: str | None = None
        self._prev: ParentLike = parent
        self._site = site
        self._cause = cause
        #: The call's arguments (``traced(..., capture_args=True)``): the flow_start's evidence.
        self._args: dict[str, Any] | None = None
        #: What every event of this instance shares, and its JSON: the recorder's cache
        #: (``Recorder.scope``), built on the first event.
        self.event_template: dict[str, Any] | None = None
        self.event_fragments: tuple[str, str] | None = None
        self._t0 = 0.0
        self._pid = 0
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

    def start(self, *, frame: Any = None) -> Flow:
        """Record ``flow_start`` (once); ``with`` and ``start_flow`` call it for you.

        ``frame`` is the call site to report (default: the caller; a wrapper such as
        ``Session.start_flow`` passes its own caller's)."""
        if self.instance is None:
            self._start(frame if frame is not None else _getframe(1))
        return self

    def bind_call(self, site: _callsite.Site, args: dict[str, Any] | None) -> None:
        """Report ``site`` (a traced function) as this flow's call site, and ``args``
        (its captured arguments, if any) as the flow_start's evidence."""
        self._site = site
        self._args = args

    def _start(self, frame: Any) -> None:
        rec = self._rec
        parent = self._prev
        self._prev = None
        inherited: Mapping[str, Any] | None = None
        if parent is None:
            cur = CURRENT.get()
            if cur is not None and cur.instance is not None:
                self.parent, self.parent_flow = cur.instance, cur.flow_id
                self.root = cur.root or cur.instance
                inherited = cur.correlation
            elif rec.env_parent is not None:
                self.parent, self.parent_flow = rec.env_parent
                self.root = self.parent
        elif isinstance(parent, str):
            if _looks_like_event_id(parent):
                self.parent = self.root = parent
            else:
                self.parent_flow = parent
        else:
            self.parent, self.parent_flow = parent.instance, parent.flow_id
            self.root = parent.root or parent.instance
            inherited = parent.correlation
        corr = self.correlation
        if corr:
            corr = rec.clean_evidence(corr)
        if AMBIENT:  # flowscribe.testing: the running test's id, over what a parent carried
            inherited = {**inherited, **AMBIENT} if inherited else AMBIENT
        if inherited:
            corr = {**inherited, **corr}
        self.correlation = corr
        site = self._site
        if site is None:  # flow_end reports it too
            info = _code_infos.get(frame.f_code)
            site = self._site = (info, frame.f_lineno) if info is not None else _caller(frame)
        if not rec.on:
            return
        seq, eid = rec.next_id()
        self.instance = eid
        rec.scope(self)
        self._pid = rec.pid
        self._t0 = _perf()
        rec.record(
            self, "flow_start", None, None, self._args, site,
            _More(caused_by=self._cause, ident=(seq, eid)),
        )  # fmt: skip

    def __enter__(self) -> Flow:
        try:
            if self.instance is None:
                self._start(_getframe(1))
            self._token = CURRENT.set(self)
        except Exception as exc:
            _trouble("flow", exc)
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
            _trouble("flow", err)

    def end(self) -> None:
        """Record ``flow_end`` with the verdict and duration (once; ``with`` does it)."""
        try:
            self._end(_getframe(1))
        except Exception as exc:
            _trouble("flow", exc)

    def _end(self, frame: Any) -> None:
        if self._ended or self.instance is None:
            return
        self._ended = True
        if self._pid != self._rec.pid:
            return  # a forked child leaving the block: the flow is its parent's to end
        status = self.status
        severity = "error" if status == "failed" else "warn" if status == "unfinished" else "info"
        duration = round((_perf() - self._t0) * 1000.0, 3)
        site = self._site or _caller(frame)
        rec = self._rec
        rec.record(
            self, "flow_end", None, severity, None, site, _More(
                self._fail_class, self._fail_reason, status=status, duration_ms=duration,
                caused_by=self._fail_event, urgent=rec.flush_ends,
            ),
        )  # fmt: skip

    def _escaped(self, exc: Exception, tb: TracebackType | None) -> None:
        eid = getattr(exc, _EXC_ATTR, None)
        if eid is None:
            eid = self._rec.record_exception(self, exc, tb, None, "error", None, None)
        self._failed(SYSTEM, f"{_exc_type_name(exc)}: {_exc_message(exc)}", eid)

    def _failed(self, error_class: str, reason: str | None, eid: str | None) -> None:
        if self._fail_class is None:
            self._fail_class = error_class
            self._fail_event = eid
            self._fail_reason = self._rec.clean_text(reason) if reason else None

    # -- markers ---------------------------------------------------------------------

    def checkpoint(
        self, step: str, *, severity: str = "info", caused_by: Any = None, **evidence: Any
    ) -> str | None:
        """Record that ``step`` was reached; keyword arguments are evidence."""
        rec = self._rec
        if rec.is_muted(severity):
            return None
        frame = _getframe(1)
        info = _code_infos.get(frame.f_code)  # the caller's code, resolved before
        site = (info, frame.f_lineno) if info is not None else _caller(frame)
        return rec.record(
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
        rec = self._rec
        if rec.is_muted(severity):
            return None
        frame = _getframe(1)
        info = _code_infos.get(frame.f_code)
        site = (info, frame.f_lineno) if info is not None else _caller(frame)
        return rec.record(
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
        rec = self._rec
        eid = None
        try:
            error_class = rec.clean_name(error_class)
            if not rec.is_muted(severity):
                frame = _getframe(1)
                info = _code_infos.get(frame.f_code)
                site = (info, frame.f_lineno) if info is not None else _caller(frame)
                more = _More(error_class, reason, urgent=True) if caused_by is None \
                    else _More(error_class, reason, caused_by=_id_of(caused_by), urgent=True)
                eid = rec.record(self, "failure", step, severity, evidence, site, more)
            self._failed(error_class, reason, eid)
        except Exception as exc:
            _trouble("record", exc)
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
        rec = self._rec
        if rec.is_muted(severity):
            return None
        return rec.record(
            self, "metric", "None" if name is None else name, severity, evidence,
            _caller(_getframe(1)), _More(
                value=_float_or_none(value), unit=None if unit is None else rec.clean_name(unit),
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
            eid = self._rec.record_exception(
                self, exc, exc.__traceback__, step, severity, _id_of(caused_by), evidence,
                fallback_site=_caller(_getframe(1)),
            )  # fmt: skip
            self._failed(SYSTEM, f"{_exc_type_name(exc)}: {_exc_message(exc)}", eid)
            return eid
        except Exception as err:
            _trouble("record", err)
            return None

    def add_event(self, event: Event) -> str | None:
        """Record an :class:`Event` (the original quickstart's API) in this flow."""
        try:
            return self._add_event(event, _caller(_getframe(1)))
        except Exception as exc:
            _trouble("record", exc)
            return None

    def _add_event(self, ev: Event, site: _callsite.Site) -> str | None:
        etype = ev.event_type
        rec = self._rec
        if etype not in MARKER_TYPES:
            warn_once(
                f"event-type:{etype}",
                f"add_event: {etype!r} is not a marker type "
                f"({', '.join(sorted(MARKER_TYPES))}); the event is dropped",
            )
            return None
        severity = ev.severity or ("error" if etype in ("failure", "exception") else "info")
        error_class = None if ev.error_class is None else rec.clean_name(ev.error_class)
        unit = None if ev.unit is None else rec.clean_name(ev.unit)
        tags = [rec.clean_name(t) for t in _merge_tags(ev.tags)] if ev.tags else None
        if etype == "success":
            self._passed = True
        elif etype in ("failure", "exception"):
            error_class = error_class or default_error_class(etype)
        eid = None
        if not rec.is_muted(severity):
            exc_info: dict[str, Any] | None = None
            if etype == "exception":
                # the reason as recorded (redacted), never the raw text a second time
                message = "" if ev.reason is None else rec.clean_text(ev.reason)
                exc_info = {"type": error_class, "message": message, "frames": []}
            eid = rec.record(
                self, etype, ev.step, severity, dict(ev.evidence) if ev.evidence else None, site,
                _More(
                    error_class, ev.reason,
                    value=_float_or_none(ev.value) if etype == "metric" else None,
                    unit=unit, caused_by=_id_of(ev.caused_by),
                    urgent=etype in ("failure", "exception"), tags=tags, exception=exc_info,
                ),
            )  # fmt: skip
        if error_class is not None and etype in ("failure", "exception"):
            self._failed(error_class, ev.reason, eid)
        ev.id = eid
        return eid
