"""Captured events as flow instances: lookups, flow assertions, a stable text tree.

:class:`Flows` is what the ``flows`` fixture returns (and ``Recording.flows()``): the
instances of one test's flows, each with its verdict, class, reason, events and child
instances. :meth:`Flows.tree` renders them for snapshot tests: instance ids become ``#1``,
``#2`` in order of start; times, durations, pids and threads are left out; absolute paths
become placeholders. Recorded text is shown escaped (JSON strings, control characters
visible), never acted on.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..patterns import matches
from ..sinks.console import terminal_safe

__all__ = ["FlowInstance", "Flows"]

#: Correlation keys the plugin adds to every flow of a test; the tree leaves them out.
_PLUGIN_KEYS = ("test",)
_ADDRESS = re.compile(r"\b0x[0-9a-fA-F]{6,}\b")
_FAILS = ("failure", "exception")


@dataclass(eq=False)
class FlowInstance:
    """One instance of a flow, as recorded."""

    flow_id: str
    instance: str
    parent: str | None
    correlation: dict[str, Any]
    file: str | None
    line: int | None
    #: ``passed``, ``failed``, ``unfinished``; ``open`` while it has not ended.
    verdict: str = "open"
    #: the failure class it ended with (``DATA.EMPTY``, ``SYSTEM`` for an exception).
    error_class: str | None = None
    reason: str | None = None
    duration_ms: float | None = None
    #: its own events, ``flow_start`` to ``flow_end``, in recording order.
    events: list[dict[str, Any]] = field(default_factory=list)
    children: list[FlowInstance] = field(default_factory=list)

    @property
    def failures(self) -> list[dict[str, Any]]:
        """Its ``failure`` and ``exception`` events."""
        return [ev for ev in self.events if ev.get("event_type") in _FAILS]

    @property
    def expected(self) -> bool:
        """True if it ran inside ``pytest.raises`` or an expected-failure test."""
        return self.correlation.get("expected") is True

    def __repr__(self) -> str:
        cls = f" {self.error_class}" if self.error_class else ""
        return f"<FlowInstance {self.flow_id} {self.verdict}{cls}>"


class Flows:
    """The flows of one test (or one ``capture()`` block), read-only."""

    def __init__(
        self,
        events: list[dict[str, Any]],
        *,
        paths: Mapping[str, str] | None = None,
        dropped: int = 0,
    ) -> None:
        #: every captured event, oldest first (run-level ones included).
        self.events = events
        self.dropped = dropped
        self._paths = sorted((paths or {}).items(), key=lambda kv: -len(kv[0]))
        self._all: list[FlowInstance] = []
        by_id: dict[str, FlowInstance] = {}
        for ev in events:
            inst = ev.get("instance")
            if not isinstance(inst, str):
                continue
            etype = ev.get("event_type")
            f = by_id.get(inst)
            if f is None:
                if etype != "flow_start":
                    continue  # its start was before the capture
                f = by_id[inst] = FlowInstance(
                    str(ev.get("flow_id")), inst, ev.get("parent"),
                    dict(ev.get("correlation") or {}), ev.get("file"), ev.get("line"),
                )
                self._all.append(f)
            f.events.append(ev)
            if etype in _FAILS and f.error_class is None:
                f.error_class, f.reason = ev.get("error_class"), ev.get("reason")
            elif etype == "flow_end":
                f.verdict = str(ev.get("status") or "unfinished")
                f.error_class = ev.get("error_class") or f.error_class
                f.reason = ev.get("reason") if ev.get("error_class") else f.reason
                f.duration_ms = ev.get("duration_ms")
        self._roots: list[FlowInstance] = []
        for f in self._all:
            parent = by_id.get(f.parent) if f.parent else None
            (parent.children if parent is not None else self._roots).append(f)

    # -- lookups -----------------------------------------------------------------------
    def instances(self, flow_id: str | None = None, **correlation: Any) -> list[FlowInstance]:
        """Instances of ``flow_id`` (a glob: ``orders/*``; None: all), in order of start,
        optionally those whose correlation has these values."""
        return [
            f for f in self._all
            if (flow_id is None or f.flow_id == flow_id or matches(flow_id, f.flow_id))
            and all(f.correlation.get(k) == v for k, v in correlation.items())
        ]

    def failures(self) -> list[dict[str, Any]]:
        """Every ``failure`` and ``exception`` event, in recording order."""
        return [ev for ev in self.events if ev.get("event_type") in _FAILS]

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
        """The first instance of ``flow_id`` with this verdict, class, reason (a
        substring) and correlation; ``count`` asks for exactly that many. Raises
        AssertionError naming what did happen otherwise."""
        __tracebackhide__ = True  # pytest shows the test's line, not this one
        found = [
            f for f in self.instances(flow_id, **correlation)
            if (verdict is None or f.verdict == verdict)
            and (error_class is None or f.error_class == error_class)
            and (reason is None or reason in (f.reason or ""))
        ]
        if found and (count is None or len(found) == count):
            return found[0]
        wanted = ", ".join(
            f"{k}={v!r}" for k, v in (("verdict", verdict), ("error_class", error_class),
                                      ("reason", reason), *correlation.items())
            if v is not None)
        what = f"{flow_id!r}" + (f" with {wanted}" if wanted else "")
        head = (f"expected {count} instance(s) of {what}, found {len(found)}" if found
                else f"no instance of {what}")
        raise AssertionError(f"{head}; {self._happened()}")

    def _happened(self) -> str:
        if not self._all:
            hint = "" if self.events else (
                " (nothing was recorded: is tracing on? RA_ENABLED, ra.yaml's enabled, "
                "profile and filters decide)")
            return f"this test ran no flows{hint}"
        return "what this test ran:\n" + self.tree()

    # -- the tree ----------------------------------------------------------------------
    def tree(self) -> str:
        """A text snapshot of the flows and their events, stable across runs."""
        numbers = {f.instance: f"#{n}" for n, f in enumerate(self._all, 1)}
        lines: list[str] = []

        def walk(f: FlowInstance, depth: int) -> None:
            pad = "  " * depth
            lines.append(pad + self._flow_line(f, numbers))
            for ev in f.events:
                if ev.get("event_type") not in ("flow_start", "flow_end"):
                    lines.append(pad + "  " + self._event_line(ev))
            # Child flows after the parent's own events, in order of start: a child's
            # events are under it, not interleaved by thread timing.
            for child in f.children:
                walk(child, depth + 1)

        for root in self._roots:
            walk(root, 0)
        if self.dropped:
            lines.append(f"({self.dropped} more events not kept)")
        return "\n".join(lines) + ("\n" if lines else "")

    def _flow_line(self, f: FlowInstance, numbers: Mapping[str, str]) -> str:
        parts = [f.flow_id, numbers.get(f.instance, "#?"), f.verdict]
        if f.error_class:
            parts.append(self._text(f.error_class))
        if f.reason:
            parts.append(self._value(f.reason))
        corr = {k: v for k, v in f.correlation.items() if k not in _PLUGIN_KEYS}
        if corr:
            parts.append(self._value(corr))
        return " ".join(parts) + self._where(f.file, f.line)

    def _event_line(self, ev: Mapping[str, Any]) -> str:
        etype = str(ev.get("event_type"))
        parts = [etype]
        if etype == "metric":
            parts += [self._text(str(ev.get("step"))), self._value(ev.get("value"))]
            if ev.get("unit"):
                parts.append(self._text(str(ev.get("unit"))))
        else:
            if ev.get("step") is not None:
                parts.append(self._text(str(ev.get("step"))))
            if ev.get("error_class"):
                parts.append(self._text(str(ev.get("error_class"))))
            if ev.get("reason"):
                parts.append(self._value(ev.get("reason")))
        if ev.get("evidence"):
            parts.append(self._value(ev.get("evidence")))
        return " ".join(parts) + self._where(ev.get("file"), ev.get("line"))

    def _where(self, file: Any, line: Any) -> str:
        if not file:
            return ""
        return f"  ({self._text(str(file))}:{line})" if line else f"  ({self._text(str(file))})"

    def _text(self, text: str) -> str:
        for path, label in self._paths:
            if path:
                text = text.replace(path, label)
        return terminal_safe(_ADDRESS.sub("0x…", text))

    def _value(self, value: Any) -> str:
        try:
            text = json.dumps(value, ensure_ascii=False, default=str)
        except (TypeError, ValueError):
            text = repr(value)
        return self._text(text)
