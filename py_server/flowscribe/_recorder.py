"""Recording: the one owner of turning a marker into a queued trace line (the hot path).

A :class:`Recorder` holds what every event of a process shares (the run's event template,
the id prefix and sequence, the pid), what cleans an app's values (the redactor, the
cache of cleaned names), the severities the config mutes, and the writer's queue. Flows
use it through a small interface: :meth:`Recorder.next_id`, :meth:`Recorder.record`,
:meth:`Recorder.record_exception`, the ``clean_*`` methods, :meth:`Recorder.is_muted` and
:meth:`Recorder.scope` (an instance's event template). The session (``core.py``) sets it
up when a run starts (:meth:`Recorder.start`), hands it the writer, and switches it off
when the run ends; the run's lifecycle itself (config, sinks, artifacts) is not here.

An event is built once, as a dict with the keys of ``docs/trace-format.md`` in order
(``_event.EVENT_KEYS``), and encoded once: by orjson when importable (from the start, or
once the process has recorded enough events to pay for its import: ``_encode.json_choice``),
else from the constant JSON fragments of ``_encode.py``. Nothing here raises into the
application.
"""

from __future__ import annotations

import itertools
import os
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from types import TracebackType

from . import _callsite, _encode
from ._encode import (
    _NO_FLOW,
    _PLAIN_END,
    _PLAIN_MIDDLE,
    _SEVERITY_JSON,
    MORE_AFTER,
    MORE_BEFORE,
    _js,
    _no_json,
    _sanitize,
)
from ._event import (
    _EXC_ATTR,
    EVENT_KEYS,
    SCHEMA_VERSION,
    _exc_message,
    _exc_type_name,
    _merge_tags,
    _More,
    _severity,
    _text,
)
from ._warn import warn_once
from .vocabulary import SYSTEM

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (import cost)
if TYPE_CHECKING:
    from typing import Any, Callable

    from ._flow import Flow
    from ._writer import Item, Writer
    from .redact import Redactor

_now = time.time

_current_thread = threading.current_thread
_get_ident = threading.get_ident
#: threading's registry of live threads (what current_thread() looks in), read directly:
#: the hot path cannot afford current_thread() and the .name property.
_threads: dict[int, threading.Thread] = getattr(threading, "_active", {})
_NO_SITE = _callsite.NO_SITE
#: Queued events are written once this many wait (else by the flusher, within 100 ms).
#: Small on purpose: queued events are garbage-collected objects, and those still queued
#: when a young collection runs are promoted to the old generation, which brings on the
#: app's next full collection (a walk of its whole heap). In benchmarks/bench_runtime.py
#: that costs 0.4 µs an event at 512, nothing measurable at 128; a write per 128 events
#: costs far less.
BATCH = 128

#: The JSON encoders (``_encode.py``), bound here as globals once loaded: the hot path
#: reads them on every event, and a module global is the cheapest lookup.
_esc: Callable[[str], str] = _no_json
_enc_value: Callable[[Any], str] = _no_json
_chunks: Callable[[Any, int], Any] = _encode._chunks
_ORJSON_NEWLINE = _encode.ORJSON_NEWLINE


def load_encoders() -> None:
    """Load the JSON encoders (``json`` is imported then, not by ``import flowscribe``)."""
    global _esc, _enc_value, _chunks
    if _esc is not _no_json:
        return
    _encode._load_encoders()
    _esc, _enc_value, _chunks = _encode._esc, _encode._enc_value, _encode._chunks


def trouble(what: str, exc: BaseException) -> None:
    """Report a failure to record, once per kind, on stderr; the app runs on."""
    warn_once(
        f"{what}:{type(exc).__name__}",
        f"could not record an event ({type(exc).__name__}: {exc}); the app runs on",
    )


def _process_prefix() -> str:
    """A fresh prefix for one process's event ids: random, so that ids never repeat
    across the processes of a run (``flowscribe.testing.reproducible`` fixes it)."""
    return os.urandom(4).hex() + "-"


class Recorder:
    """Builds, encodes and queues a process's events; see the module docstring."""

    __slots__ = (
        "_buf",
        "_dumps",
        "_frag_pid",
        "_frag_run",
        "_names",
        "_orjson_after",
        "_redact_evidence",
        "_redactor",
        "_seq",
        "_thread_frags",
        "_writer",
        "env_parent",
        "flush_ends",
        "id_prefix",
        "muted",
        "on",
        "pid",
        "redacted",
        "run_template",
    )

    def __init__(self) -> None:
        #: Recording is on: the run is active and not closed (the session switches it).
        self.on = False
        self.pid = os.getpid()
        self.id_prefix = ""
        self._seq: Iterator[int] = itertools.count(1)
        self._frag_run = '"run_id":null,'
        self._frag_pid = ""
        #: An event of this run with what all its events share filled in (see record).
        self.run_template: dict[str, Any] = {}
        #: orjson's encoder when importable (``_encode.orjson_dumps``): a line is then the
        #: event dict in one call; None: the fragments.
        self._dumps: Callable[[Any, Any, int], bytes] | None = None
        #: Past this event of the process, take orjson (``_encode.json_choice``); 0: not.
        self._orjson_after = 0
        #: Severities (and their aliases, either case) the config filters out.
        self.muted: frozenset[Any] = frozenset()
        #: Names as recorded (steps, flow ids, tags, classes, units), by the app's text.
        self._names: dict[str, str] = {}
        #: Thread names as recorded, and their line fragment, by the thread's own name.
        self._thread_frags: dict[str, tuple[str, str]] = {}
        self._redactor: Redactor | None = None
        self._redact_evidence: Callable[[Any], tuple[dict[str, Any], int]] | None = None
        #: Values redacted so far (the summary reports it).
        self.redacted = 0
        self._writer: Writer | None = None
        self._buf: list[Item] = []  # the writer's queue, once there is a writer
        #: The flow this process's top-level flows descend from (a traced parent process's).
        self.env_parent: tuple[str, str] | None = None
        #: Each flow_end is written before the marker returns (a multiprocessing child,
        #: which may be killed right after its task returns: _children.in_mp_child).
        self.flush_ends = False

    # -- set-up (the session's) --------------------------------------------------------

    def start(self, run_id: str, redactor: Redactor | None, muted: frozenset[Any]) -> None:
        """Set up for ``run_id``: encoders, redactor, muted severities, process ids."""
        load_encoders()
        after = _encode.json_choice()
        self._dumps = _encode.orjson_dumps() if after == 0 else None
        self._orjson_after = max(after, 0)
        self._redactor = redactor
        self._redact_evidence = redactor.evidence if redactor is not None else None
        self.muted = muted
        self._frag_run = f'"run_id":{_esc(run_id)},'
        template = dict.fromkeys(EVENT_KEYS)
        template.update(schema=SCHEMA_VERSION, run_id=run_id, correlation={}, tags=[])
        self.run_template = template
        self.new_process()

    def new_process(self) -> None:
        """Fresh ids for this process (at start, and in a forked child)."""
        self.pid = os.getpid()
        self._frag_pid = f'"pid":{self.pid},'
        self.id_prefix = _process_prefix()
        self._seq = itertools.count(1)

    def attach(self, writer: Writer | None) -> None:
        """Queue events on ``writer`` (None: drop them); after a fork, its fresh queue."""
        self._writer = writer
        self._buf = writer.pending if writer is not None else []

    @property
    def uses_orjson(self) -> bool:
        """Lines are encoded by orjson (else by the fragments)."""
        return self._dumps is not None

    # -- what flows use ----------------------------------------------------------------

    def next_id(self) -> tuple[int, str]:
        """A (seq, event id) of this process, taken now (a flow start's is its instance)."""
        seq = next(self._seq)
        return seq, self.id_prefix + str(seq)

    def is_muted(self, severity: Any) -> bool:
        """True if ``severity`` is filtered out by the config. Whatever the app passed
        (even an unhashable value) is answered, never raised: an odd severity is kept."""
        try:
            return severity in self.muted
        except Exception:  # unhashable, or a __hash__/__eq__ of the app's that raises
            return False

    def clean_evidence(self, data: Mapping[str, Any]) -> dict[str, Any]:
        """``data`` redacted (a copy)."""
        red = self._redact_evidence
        if red is None:
            return dict(data)
        clean, n = red(data)
        if n:
            self.redacted += n
        return clean

    def clean_text(self, text: Any) -> str:
        """``text`` as recorded: text any file can hold, secret shapes scrubbed."""
        red = self._redactor
        if red is None:
            return _text(text)
        clean, n = red.text(text)
        if n:
            self.redacted += n
        return clean

    def clean_name(self, name: Any) -> str:
        """A name as recorded (a step, flow id, tag, class, unit): cleaned once, cached,
        as names repeat (a step is reached a million times)."""
        if type(name) is str:
            known = self._names.get(name)
            if known is not None:
                return known
        text = _text(name)
        clean = text if self._redactor is None else self.clean_text(text)
        names = self._names
        if len(names) >= 4096:
            names.clear()
        if type(name) is str:
            names[name] = clean
        return clean

    def scope(self, flow: Flow) -> dict[str, Any]:
        """Build what every event of ``flow``'s instance shares, once: its event with
        the flow and context fields filled in (each event is a copy), kept on the flow.
        A flow never started (markers with no ``with``) gets one too: its events carry
        the flow id, no instance."""
        corr = flow.correlation
        if flow.instance is None and corr:
            corr = self.clean_evidence(corr)  # cleaned by Flow.start, which did not run
        template = self.run_template.copy()
        template["flow_id"] = flow.flow_id
        template["instance"] = flow.instance
        template["parent"] = flow.parent
        template["parent_flow"] = flow.parent_flow
        template["correlation"] = corr
        template["tags"] = flow.tags
        flow.event_template = template
        flow.event_fragments = None
        return template

    def record(
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

        The event is built once, as a dict (what sinks and the aggregate read), and its
        line is that dict through orjson when there is orjson, else the fragments
        (:meth:`_fragments`). A plain marker (a checkpoint, a success without a reason)
        in a flow passes no ``more``: its fields past the evidence are null, so that part
        of its line is a constant. Everything else says what it has in a :class:`_More`.
        """
        if not self.on:
            return None
        try:
            # A plain marker's fields past the evidence are the template's nulls: those of
            # ``more`` are stored in the event below only when there is one.
            if more is None:
                tags: Sequence[str] | None = None
                trusted = False
            else:
                tags, trusted = more.tags, more.trusted
                reason = more.fields.get("reason")
                if reason is not None:
                    reason = self.clean_text(reason)
            if evidence:
                if not trusted:
                    red = self._redact_evidence
                    if red is not None:
                        evidence, n = red(evidence)
                        if n:
                            self.redacted += n
                    else:
                        evidence = _sanitize(evidence, 0)
            else:
                evidence = {}
            if step is not None:
                clean = self._names.get(step) if type(step) is str else None
                step = clean if clean is not None else self.clean_name(step)
            try:
                known = severity in _SEVERITY_JSON  # None: the event has no severity
            except Exception:  # unhashable, or an app's __hash__/__eq__ that raises
                known = False
            if not known:
                severity = _severity(severity)
            if more is None or more.ident is None:
                seq = next(self._seq)
                eid = self.id_prefix + str(seq)
            else:
                seq, eid = more.ident
            template: dict[str, Any] | None
            ftags: Sequence[str] = ()
            if flow is None:
                template = self.run_template
                ftags = _merge_tags(tags)
            else:
                template = flow.event_template
                if template is None:
                    template = self.scope(flow)
                if tags:
                    ftags = _merge_tags(flow.tags, tags)
            info, line = site
            current = _threads.get(_get_ident())
            thread_info = self._thread_frags.get(
                current._name  # type: ignore[attr-defined]  # the property, without its cost
                if current is not None else _current_thread().name
            ) or self._thread(_current_thread().name)
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
            ev["thread"] = thread_info[0]
            ev["pid"] = self.pid
            ev["severity"] = severity
            ev["evidence"] = evidence
            if more is not None:
                if ftags:
                    ev["tags"] = ftags
                ev.update(more.fields)
                if reason is not None:
                    ev["reason"] = reason
            text: str | None = None
            dumps = self._dumps
            if dumps is not None:
                try:
                    # Decoded at once: orjson's bytes, kept in the queue, would each hold
                    # on to its large output buffer (7 µs an event in allocator work).
                    text = dumps(ev, None, _ORJSON_NEWLINE).decode()
                except Exception:  # an int past 64 bits, a non-str key: the fragments
                    text = None
                else:
                    if not text.isascii():  # the trace is ASCII: the fragments escape it
                        text = None
            if text is None:
                text = self._fragments(ev, flow, info, thread_info[1], more, ftags)
            buf = self._buf
            buf.append((ev, text))
            if more is not None and more.urgent:
                writer = self._writer
                if writer is not None:
                    writer.flush_urgent()  # on disk now; the run's tally takes it later
            elif len(buf) >= BATCH:
                writer = self._writer
                if writer is not None:
                    writer.flush()
                if self._orjson_after and seq >= self._orjson_after:
                    self._take_orjson()  # checked once a batch: off the per-event path
            return eid
        except Exception as exc:
            trouble("record", exc)
            return None

    def record_exception(
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
        """Record ``exc`` (its frames from ``tb``) and mark it recorded; its event id."""
        frames, site = _callsite.traceback_frames(tb)
        if site is _NO_SITE:
            site = fallback_site
        type_name = _exc_type_name(exc)
        message = self.clean_text(_exc_message(exc))
        info = {"type": type_name, "message": message, "frames": frames}
        eid = self.record(
            flow, "exception", step, severity, evidence, site, _More(
                SYSTEM, f"{type_name}: {message}", urgent=True, caused_by=caused_by,
                exception=info,
            ),
        )  # fmt: skip
        if eid is not None:
            try:  # noqa: SIM105 - contextlib costs import time
                setattr(exc, _EXC_ATTR, eid)
            except Exception:
                pass
        return eid

    def _take_orjson(self) -> None:
        """Encode with orjson from now on, if it is importable (this process has recorded
        enough events for its import to pay; ``_encode.json_choice``)."""
        self._orjson_after = 0
        self._dumps = _encode.orjson_dumps()

    # -- the line ----------------------------------------------------------------------

    def _thread(self, name: str) -> tuple[str, str]:
        """A thread's name as recorded, and its line fragment (cached, like names)."""
        clean = self.clean_name(name)
        info = (clean, f'"thread":{_esc(clean)},')
        if len(self._thread_frags) >= 1024:
            self._thread_frags.clear()
        self._thread_frags[name] = info
        return info

    def _flow_fragments(self, flow: Flow) -> tuple[str, str]:
        """The JSON of an instance's flow fields and of its context (correlation, tags),
        made on first use (a recorder encoding with orjson never needs them)."""
        frags = flow.event_fragments
        if frags is None:
            template = flow.event_template
            if template is None:
                template = self.scope(flow)
            frags = flow.event_fragments = (
                f'"flow_id":{_esc(flow.flow_id)},"instance":{_js(flow.instance)},'
                f'"parent":{_js(flow.parent)},"parent_flow":{_js(flow.parent_flow)},',
                f'"correlation":{_enc_value(template["correlation"])},'
                f'"tags":{_enc_value(flow.tags)},',
            )
        return frags

    def _fragments(
        self,
        ev: dict[str, Any],
        flow: Flow | None,
        info: _callsite.CodeInfo,
        frag_thread: str,
        more: _More | None,
        ftags: Sequence[str],
    ) -> str:
        """``ev``'s line (``\\n`` included) from the recorder's, the flow's and the call
        site's constant JSON fragments: the stdlib encoder's fast way, and the way for
        what orjson cannot write as ASCII. Evidence that cannot be encoded is sanitised
        in ``ev`` too, so the event's dict holds what its line holds (artifacts read it)."""
        if more is None:
            middle, end = _PLAIN_MIDDLE, _PLAIN_END
        else:
            enc = _enc_value
            middle = "".join([
                f"{prefix}{'null' if ev[key] is None else enc(ev[key])},"
                for key, prefix in MORE_BEFORE
            ])
            end = "".join([
                f"{prefix}{'null' if ev[key] is None else enc(ev[key])}"
                for key, prefix in MORE_AFTER
            ]) + "}"
        evidence = ev["evidence"]
        if evidence:
            try:
                evidence_json = "".join(_chunks(evidence, 0))
            except (ValueError, TypeError, RecursionError):
                evidence = ev["evidence"] = _sanitize(evidence, 0)
                evidence_json = _enc_value(evidence)
        else:
            evidence_json = "{}"
        if flow is None:
            frag_flow = _NO_FLOW
            frag_ctx = f'"correlation":{{}},"tags":{_enc_value(ftags)},'
        else:
            frag_flow, frag_ctx = self._flow_fragments(flow)
            if ftags:
                frag_ctx = (
                    f'"correlation":{_enc_value(ev["correlation"])},'
                    f'"tags":{_enc_value(ftags)},'
                )
        step, line = ev["step"], ev["line"]
        return (
            f'{{"schema":1,"id":"{ev["id"]}",{self._frag_run}"seq":{ev["seq"]},'
            f'"ts":{ev["ts"]!r},"event_type":"{ev["event_type"]}",{frag_flow}'
            f'"step":{"null" if step is None else _esc(step)},{frag_ctx}'
            f'{info[2]}{"null" if line is None else line}{info[3]}'
            f"{frag_thread}{self._frag_pid}"
            f"{_SEVERITY_JSON[ev['severity']]}{middle}"
            f'"evidence":{evidence_json}{end}\n'
        )
