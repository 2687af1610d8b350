"""The OTLP sink: a run's flows as spans (and a duration histogram) to an OpenTelemetry
backend, over OTLP/HTTP protobuf through the official SDK's exporters.

The app never waits on the backend: :meth:`OtlpSink.write` (called by the writer, at
times from the app's own thread) only appends the events to a bounded queue; a daemon
thread maps them into spans (``otlp/mapping.py``) and exports them. Events that find the
queue full, or whose spans the backend did not take, are counted and reported in
``summary.md`` ("N events not written"); the first failure is warned about once. At the
end of the run the sink waits a bounded time (:data:`CLOSE_WAIT_S`) for the last export,
then gives up on it.

The SDK is imported by that thread, never by ``import flowscribe``; without it installed
the sink is refused with one warning naming the install command.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import threading
import time
from collections import deque
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

from .._warn import warn_once
from .._writer import Sink
from ..config import OtlpOptions
from ..otlp.mapping import DURATION_BUCKETS_S, SpanData, SpanMapper

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (import cost)
if TYPE_CHECKING:
    from .._writer import Item

__all__ = ["CLOSE_WAIT_S", "INSTALL_HINT", "OtlpSink", "resolve_endpoint"]

INSTALL_HINT = "pip install 'flowscribe[otlp]'"
#: How long the end of a run waits for the last export (a backend that is down must not
#: hold the app's exit for the exporter's whole retry budget).
CLOSE_WAIT_S = 2.0
#: The exporter thread wakes this often when no one pushes it.
_INTERVAL_S = 0.5
#: Spans per export request (the SDK batch processor's default).
_BATCH_SPANS = 512
#: After an export fails, the events that come are counted as dropped at the door
#: (:meth:`OtlpSink.write`: not queued, mapped, encoded or sent) for this long, and the rest
#: of their flow instances with them, doubling up to _BACKOFF_MAX_S while it keeps failing:
#: a backend that is down costs the app (whose thread shares the interpreter with ours) a
#: clock read and an addition per batch.
_BACKOFF_FIRST_S = 1.0
_BACKOFF_MAX_S = 30.0
#: The histogram is exported this often (and at the end of the run).
_METRICS_EVERY_S = 60.0
_THREAD = "flowscribe-otlp"
_DEFAULT_ENDPOINT = "http://localhost:4318"
#: The SDK's loggers that report export failures: records from our own thread are ours
#: to report (once, via warn_once), not lines on the app's stderr for every retry.
_SDK_LOGGERS = (
    "opentelemetry.exporter.otlp.proto.http.trace_exporter",
    "opentelemetry.exporter.otlp.proto.http.metric_exporter",
    "opentelemetry.exporter.otlp.common.http",
    "opentelemetry.sdk.metrics._internal.export",
    "opentelemetry.sdk.metrics._internal",
)


def _sdk_installed() -> bool:
    try:
        return all(importlib.util.find_spec(name) is not None for name in (
            "opentelemetry.sdk", "opentelemetry.exporter.otlp.proto.http"))
    except (ImportError, ValueError):
        return False


def _parse_headers(text: str) -> dict[str, str]:
    """``OTEL_EXPORTER_OTLP_HEADERS``: ``name=value`` pairs, comma-separated, URL-encoded."""
    out: dict[str, str] = {}
    for item in text.split(","):
        name, sep, value = item.partition("=")
        if sep and name.strip():
            out[unquote(name.strip()).lower()] = unquote(value.strip())
    return out


def resolve_endpoint(opts: OtlpOptions, env: Mapping[str, str], signal: str
                     ) -> tuple[str, dict[str, str], float | None]:
    """(URL, headers, timeout in s or None) for ``signal`` (``traces`` or ``metrics``).

    The standard variables win over ra.yaml, as the ``RA_*`` ones do (a deployment
    points at its collector without editing a checked-in file):
    ``OTEL_EXPORTER_OTLP_<SIGNAL>_ENDPOINT`` (used as is), else
    ``OTEL_EXPORTER_OTLP_ENDPOINT`` or ra.yaml's ``endpoint`` (``/v1/<signal>`` appended),
    else ``http://localhost:4318``; headers from ra.yaml, then ``OTEL_EXPORTER_OTLP_HEADERS``
    and ``..._<SIGNAL>_HEADERS``; the timeout from ``..._<SIGNAL>_TIMEOUT`` or
    ``OTEL_EXPORTER_OTLP_TIMEOUT`` (seconds, as the Python SDK reads them), else ra.yaml's
    ``timeout_s``, else the exporter's default (10 s).
    """
    up = signal.upper()
    url = env.get(f"OTEL_EXPORTER_OTLP_{up}_ENDPOINT", "").strip()
    if not url:
        base = env.get("OTEL_EXPORTER_OTLP_ENDPOINT", "").strip() or opts.endpoint \
            or _DEFAULT_ENDPOINT
        url = f"{base.rstrip('/')}/v1/{signal}"
    headers = {name.lower(): value for name, value in opts.headers}
    headers.update(_parse_headers(env.get("OTEL_EXPORTER_OTLP_HEADERS", "")))
    headers.update(_parse_headers(env.get(f"OTEL_EXPORTER_OTLP_{up}_HEADERS", "")))
    timeout: float | None = opts.timeout_s
    raw = env.get(f"OTEL_EXPORTER_OTLP_{up}_TIMEOUT") or env.get("OTEL_EXPORTER_OTLP_TIMEOUT")
    if raw:
        try:
            value = float(raw)
        except ValueError:
            value = 0.0
        if value > 0:
            timeout = value
    return url, headers, timeout


def shown_url(url: str) -> str:
    """``url`` fit for a message: no user:password, query or fragment (credentials)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "(an invalid URL)"
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


class _OwnThreadFilter(logging.Filter):
    """Drops the SDK's log records made on the sink's thread."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.threadName != _THREAD


_FILTER = _OwnThreadFilter()


class OtlpSink(Sink):
    """Exports the run's flows as spans to an OTLP/HTTP receiver (see module doc)."""

    name = "otlp"

    def __init__(self, options: OtlpOptions | None = None,
                 env: Mapping[str, str] | None = None) -> None:
        if not _sdk_installed():
            raise ValueError(f"it needs the OpenTelemetry SDK and OTLP exporter, which are "
                             f"not installed ({INSTALL_HINT}); the app runs on without it")
        self.options = options or OtlpOptions()
        env = os.environ if env is None else env
        protocol = env.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL") or \
            env.get("OTEL_EXPORTER_OTLP_PROTOCOL")
        if protocol and protocol.strip() != "http/protobuf":
            warn_once("otlp-protocol", f"OTEL_EXPORTER_OTLP_PROTOCOL={protocol.strip()!r} is "
                      "not supported by the otlp sink; it uses http/protobuf")
        self._traces = resolve_endpoint(self.options, env, "traces")
        self._metrics = resolve_endpoint(self.options, env, "metrics")
        self._env = dict(env)  # OTEL_RESOURCE_ATTRIBUTES, read by the thread
        #: the URL named in messages: never its credentials
        self.endpoint = shown_url(self._traces[0])
        self._cond = threading.Condition(threading.Lock())
        self._queue: deque[dict[str, Any]] = deque()
        self._dropped = 0
        self._why = ""
        self._closing = False
        self._done = threading.Event()
        self._thread: threading.Thread | None = None
        self._mapper = SpanMapper(self.options.export_evidence)
        self._exporter: Any = None
        self._meters: Any = None
        self._histogram: Any = None
        #: events handed to the thread but not yet confirmed sent or dropped.
        self._in_flight = 0
        #: monotonic time until which spans are dropped unsent (the backend failed), and
        #: the length of the current backoff.
        self._down_until = 0.0
        self._backoff = 0.0

    # -- the writer's side (any thread; cheap) -------------------------------------------

    def write(self, batch: Sequence[Item]) -> None:
        with self._cond:
            if self._closing:
                return
            if self._down_until and time.monotonic() < self._down_until:
                # The backend is known down: drop here, before anything is built (the
                # mapper counts their instances' later events as lost too).
                self._drop(len(batch), f"the OTLP backend at {self.endpoint} did not "
                           "accept them")
                return
            room = self.options.max_queue_events - len(self._queue)
            if room < len(batch):
                self._drop(len(batch) - max(room, 0), "the export queue was full "
                           "(the OTLP backend is slow or down)")
                batch = batch[: max(room, 0)]
            self._queue.extend(ev for ev, _ in batch)
            if self._thread is None:
                self._start_thread()
            elif len(self._queue) * 2 >= self.options.max_queue_events:
                self._cond.notify()

    def idle(self) -> bool:
        """True when every event handed to the sink was exported or counted as dropped,
        except those of flows still open (what a benchmark waits for before it reads the
        process's CPU time)."""
        with self._cond:
            return not self._queue and self._in_flight == 0

    def not_written(self) -> tuple[int, str]:
        with self._cond:
            return self._dropped, self._why

    def close(self) -> None:
        with self._cond:
            if self._closing:
                return
            self._closing = True
            thread = self._thread
            self._cond.notify()
        if thread is None:
            return
        if not self._done.wait(CLOSE_WAIT_S):
            # Interrupt the exporter's retries (its shutdown ends a backoff wait), then
            # count what never went out.
            try:
                if self._exporter is not None:
                    self._exporter.shutdown()
            except Exception:
                pass
            self._done.wait(0.5)
            with self._cond:
                lost = len(self._queue) + self._in_flight + self._mapper.open_events()
                self._queue.clear()
                self._in_flight = 0
                if lost:
                    self._drop(lost, f"the OTLP backend at {self.endpoint} did not take "
                               "them before the run ended")

    def after_fork_child(self) -> None:
        # The parent exports what it queued and what was open; the child keeps the
        # traces known (its flows may be children of them) and starts its own thread
        # and exporter on its first write.
        self._cond = threading.Condition(threading.Lock())
        self._queue = deque()
        self._done = threading.Event()
        self._thread = None
        self._exporter = self._meters = self._histogram = None
        self._in_flight = 0
        self._down_until = self._backoff = 0.0  # the child tries the backend itself
        self._mapper.forget_open()

    # -- the exporter thread ---------------------------------------------------------

    def _drop(self, n: int, why: str) -> None:
        """Count ``n`` events as not exported (call with the lock held)."""
        self._dropped += n
        if not self._why:
            self._why = f"not exported over OTLP: {why}"
            warn_once(f"otlp-drop:{self.endpoint}",
                      f"the otlp sink is dropping events ({why}); they are counted in "
                      "summary.md, the app runs on")

    def _start_thread(self) -> None:
        from .._signals import start_quiet

        t = threading.Thread(target=self._run, name=_THREAD, daemon=True)
        self._thread = t
        # SIGTERM/SIGHUP/SIGINT must reach the app's threads, not ours (nor the SDK's
        # threads that ours starts: they inherit its mask), or the app would not stop.
        start_quiet(t)

    def _run(self) -> None:
        try:
            self._setup()
        except Exception as exc:
            with self._cond:
                self._drop(len(self._queue), f"the exporter could not start "
                           f"({type(exc).__name__}: {exc})")
                self._queue.clear()
            self._done.set()
            return
        next_metrics = time.monotonic() + _METRICS_EVERY_S
        while True:
            with self._cond:
                if not self._queue and not self._closing:
                    self._cond.wait(_INTERVAL_S)
                events = list(self._queue)
                self._queue.clear()
                closing = self._closing
                self._in_flight += len(events)
            try:
                self._export(events, closing)
                if closing or time.monotonic() >= next_metrics:
                    next_metrics = time.monotonic() + _METRICS_EVERY_S
                    self._flush_metrics(closing)
            except Exception as exc:  # a bug of ours must not kill the thread silently
                with self._cond:
                    self._drop(self._in_flight, f"{type(exc).__name__}: {exc}")
                    self._in_flight = 0
            if closing:
                self._done.set()
                return

    def _setup(self) -> None:
        for name in _SDK_LOGGERS:
            logger = logging.getLogger(name)
            if _FILTER not in logger.filters:
                logger.addFilter(_FILTER)
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        url, headers, timeout = self._traces
        self._exporter = OTLPSpanExporter(endpoint=url, headers=headers, timeout=timeout)

    def _export(self, events: list[dict[str, Any]], closing: bool) -> None:
        mapper = self._mapper
        if time.monotonic() < self._down_until:
            # The backend just failed: give these up without mapping them (nothing to
            # build, nothing to encode), and the instances they belong to with them.
            lost = sum(mapper.lose(ev) for ev in events)
            if closing:
                lost += mapper.open_events()
                mapper.forget_open()
            with self._cond:
                self._in_flight = max(0, self._in_flight - len(events))
                self._drop(lost, f"the OTLP backend at {self.endpoint} did not accept them")
            return
        spans: list[SpanData] = []
        mapped = 0
        for ev in events:
            done = mapper.add(ev)
            if done:
                spans.extend(done)
        if closing:
            spans.extend(mapper.finish())
        for span in spans:
            mapped += span.n_events
            self._record_duration(span)
        lost = mapper.take_lost()  # later events of instances given up on
        with self._cond:
            # Events that complete no span now are either carried by an open span (sent
            # with it later) or have no span at all (run_start, summary): not in flight.
            self._in_flight = max(0, self._in_flight - len(events))
            self._in_flight += mapped
            if lost:
                self._drop(lost, f"the OTLP backend at {self.endpoint} did not accept them")
        for start in range(0, len(spans), _BATCH_SPANS):
            chunk = spans[start:start + _BATCH_SPANS]
            n = sum(s.n_events for s in chunk)
            down = time.monotonic() < self._down_until
            ok = not down and self._send(chunk)
            went_down = 0
            if not down:
                self._backoff = 0.0 if ok else min(
                    _BACKOFF_MAX_S, max(_BACKOFF_FIRST_S, 2 * self._backoff))
                self._down_until = 0.0 if ok else time.monotonic() + self._backoff
                if not ok:  # the open instances would go out with holes: give them up
                    went_down = mapper.lose_open()
            with self._cond:
                self._in_flight = max(0, self._in_flight - n)
                if not ok:
                    self._drop(n + went_down,
                               f"the OTLP backend at {self.endpoint} did not accept them")

    def _send(self, spans: list[SpanData]) -> bool:
        from opentelemetry.sdk.trace.export import SpanExportResult

        from ._otlp_sdk import to_readable

        readable = [to_readable(s, self._resource(s.pid)) for s in spans]
        return bool(self._exporter.export(readable) == SpanExportResult.SUCCESS)

    def _resource(self, pid: int | None) -> Any:
        from ._otlp_sdk import resource

        return resource(self._mapper.resource(pid), self._env)

    def _record_duration(self, span: SpanData) -> None:
        if not span.flow_id:
            return
        if self._histogram is None:
            from ._otlp_sdk import meters

            url, headers, timeout = self._metrics
            self._meters, self._histogram = meters(
                self._resource(span.pid), url, headers, timeout, DURATION_BUCKETS_S)
        attrs: dict[str, str] = {"flowscribe.flow.id": span.flow_id,
                                 "flowscribe.flow.status": span.status}
        if span.error_type:
            attrs["error.type"] = span.error_type
        self._histogram.record(span.duration_s, attrs)

    def _flush_metrics(self, closing: bool) -> None:
        meters = self._meters
        if meters is None or time.monotonic() < self._down_until:
            return  # (a backend that refused spans is not sent metrics either, meanwhile)
        # The reader has no timer of its own (the interval is infinite), and its shutdown
        # only collects from that timer's thread: without this flush the histogram was
        # never sent at all. Collect and export first, then shut down.
        meters.force_flush(timeout_millis=(CLOSE_WAIT_S if closing else 10.0) * 1000)
        if closing:
            meters.shutdown(timeout_millis=CLOSE_WAIT_S * 1000)
