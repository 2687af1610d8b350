"""In-memory capture of recorded events: what the ``flows`` fixture and the plugin read.

One tap (a :class:`~flowscribe._writer.Sink`) is added to every session's writer once a
capture is first asked for: the sessions started from then on get it through
``_lifecycle.taps``, the ones already open have it appended. It costs nothing while no
:class:`Recording` is open, and an event is kept only by the recordings open when its
batch reaches the sinks, so :func:`flush_all` is called at both ends of a recording (and
before it is read): the events recorded while it was open are then exactly what it holds.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from .. import _lifecycle, _writer
from ._flows import FlowInstance, Flows

__all__ = ["MAX_EVENTS", "Recording", "capture", "flush_all", "start", "stop"]

#: A recording keeps at most this many events (the rest are counted in ``dropped``).
MAX_EVENTS = 50_000


class Recording:
    """The events recorded while it is open, oldest first.

    With a ``test`` (a pytest node id), an event that names another test in its
    ``test`` correlation key is left out: a thread of an earlier test still running
    does not leak into this one.
    """

    def __init__(self, test: str | None = None, paths: Mapping[str, str] | None = None) -> None:
        self.test = test
        #: absolute path -> placeholder, for :meth:`Flows.tree`.
        self.paths = dict(paths or {})
        self._events: list[dict[str, Any]] = []
        self.dropped = 0

    def _add(self, batch: Sequence[_writer.Item]) -> None:
        test = self.test
        for ev, _ in batch:
            if test is not None:
                corr = ev.get("correlation")
                other = corr.get("test") if isinstance(corr, dict) else None
                if other is not None and other != test:
                    continue
            if len(self._events) < MAX_EVENTS:
                self._events.append(ev)
            else:
                self.dropped += 1

    def flows(self) -> Flows:
        """What was recorded so far, as flow instances (queued events flushed first)."""
        flush_all()
        return Flows(list(self._events), paths=self.paths, dropped=self.dropped)

    # What the ``flows`` fixture offers: :class:`Flows`' methods, on what was recorded
    # up to the call.
    @property
    def events(self) -> list[dict[str, Any]]:
        """Every event recorded so far, oldest first (run-level ones included)."""
        return self.flows().events

    def instances(self, flow_id: str | None = None, **correlation: Any) -> list[FlowInstance]:
        """See :meth:`Flows.instances`."""
        return self.flows().instances(flow_id, **correlation)

    def failures(self) -> list[dict[str, Any]]:
        """See :meth:`Flows.failures`."""
        return self.flows().failures()

    def assert_flow(
        self,
        flow_id: str,
        verdict: str | None = None,
        error_class: str | None = None,
        *,
        reason: str | None = None,
        count: int | None = None,
        **correlation: Any,
    ) -> FlowInstance:
        """See :meth:`Flows.assert_flow`."""
        __tracebackhide__ = True  # pytest shows the test's line, not this one
        return self.flows().assert_flow(
            flow_id, verdict, error_class, reason=reason, count=count, **correlation)

    def tree(self) -> str:
        """See :meth:`Flows.tree`."""
        return self.flows().tree()


class _Tap(_writer.Sink):
    """The sink every session's writer feeds: hands each batch to the open recordings."""

    name = "testing"

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.open: list[Recording] = []

    def write(self, batch: Sequence[_writer.Item]) -> None:
        if not self.open:  # the common case, even under pytest: nothing to do
            return
        with self._lock:
            for rec in self.open:
                rec._add(batch)

    def after_fork_child(self) -> None:
        # A forked child's events stay in its memory: no recording of the parent's.
        self._lock = threading.Lock()
        self.open = []


_TAP = _Tap()


def _install() -> None:
    if _TAP not in _lifecycle.taps:
        _lifecycle.taps.append(_TAP)
    for writer in list(_writer._live):
        with writer.lock:
            if _TAP not in writer.sinks:
                writer.sinks.append(_TAP)


def flush_all() -> None:
    """Hand every session's queued events to its sinks now (the tap among them)."""
    for writer in list(_writer._live):
        try:  # noqa: SIM105 - one writer's trouble must not stop the others
            writer.flush()
        except Exception:
            pass


def start(test: str | None = None, paths: Mapping[str, str] | None = None) -> Recording:
    """Open a recording: from now on it keeps what every session records."""
    _install()
    flush_all()  # what was queued before belongs to no recording
    rec = Recording(test, paths)
    with _TAP._lock:
        _TAP.open = [*_TAP.open, rec]
    return rec


def stop(rec: Recording) -> Recording:
    """Close ``rec`` (what is still queued reaches it first); returns it."""
    flush_all()
    with _TAP._lock:
        _TAP.open = [r for r in _TAP.open if r is not rec]
    return rec


@contextmanager
def capture(paths: Mapping[str, str] | None = None) -> Iterator[Recording]:
    """``with flowscribe.testing.capture() as rec: ...; rec.flows().assert_flow(...)``:
    the events of every session recorded inside the block, outside pytest too."""
    rec = start(None, paths)
    try:
        yield rec
    finally:
        stop(rec)
