"""The console sink: one short line per verdict, for the person watching the terminal.

By default (``level: verdicts``) it prints what a person must not miss: failures,
exceptions, flows that ended failed, and the run's start and end; ``level: flows`` adds
every flow's end and success, ``level: all`` every event (``sinks: [{type: console,
level: all}]`` in ra.yaml). Events of other levels are dropped before anything is
formatted. Lines go to stderr (the app's stdout stays its own) and are coloured only when
stderr is a terminal and ``NO_COLOR`` is unset. ``flow_start`` is never printed: the flow's
first marker or its end says the same.

``sinks: [{type: logging}]`` sends the same lines (same levels, no colour, no time stamp:
logging adds its own) through stdlib logging instead, to the logger ``flowscribe``, at
ERROR for failures, exceptions and failed flows and INFO otherwise, each record with the
event's ``flow_id`` and ``flow_instance`` as attributes: for apps that route all their
output through logging.

Recorded text never reaches the terminal as control: escape sequences (window titles,
clearing the screen), BEL and every other control character are shown escaped (``\x1b``).
"""

from __future__ import annotations

import os
import re
import sys
import time
from collections.abc import Sequence
from typing import Any, TextIO

from .._writer import Sink
from ..config import CONSOLE_LEVELS

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (import cost)
if TYPE_CHECKING:
    from .._writer import Item

__all__ = ["ConsoleSink", "LoggingSink", "format_event", "terminal_safe"]

#: The event types each level prints (flow_end of ``verdicts``: failed ones only).
_LEVEL_TYPES = {
    "verdicts": frozenset({"failure", "exception", "flow_end", "run_start", "summary"}),
    "flows": frozenset({"failure", "exception", "flow_end", "success", "run_start", "summary"}),
    "all": frozenset({"failure", "exception", "flow_end", "success", "run_start", "summary",
                      "checkpoint", "metric"}),
}
# C0 controls (tab and newline included: a line stays one line), DEL, C1 controls, and the
# Unicode line/paragraph separators and bidi overrides a terminal may act on.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def terminal_safe(text: str) -> str:
    """``text`` with every control character shown escaped, never acted on."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group(0)):02x}" if ord(m.group(0)) < 0x100
                        else f"\\u{ord(m.group(0)):04x}", text)

_RESET = "\033[0m"
_COLORS = {"ok": "\033[32m", "bad": "\033[31m", "warn": "\033[33m", "dim": "\033[2m"}
_VALUE_CHARS = 60
_LINE_CHARS = 240


def _short(value: Any) -> str:
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= _VALUE_CHARS else text[: _VALUE_CHARS - 1] + "…"


def _pairs(data: Any) -> str:
    if not isinstance(data, dict) or not data:
        return ""
    return " ".join(f"{k}={_short(v)}" for k, v in data.items())


def format_event(ev: dict[str, Any], color: bool = False, stamp: bool = True) -> str | None:
    """The console line of one event, or None for events the console leaves out;
    ``stamp``: led by the event's local time."""
    kind = ev.get("event_type")
    if kind == "flow_start":
        return None

    def paint(text: str, tone: str) -> str:
        return f"{_COLORS[tone]}{text}{_RESET}" if color and text else text

    flow = str(ev.get("flow_id") or "")
    corr = _pairs(ev.get("correlation"))
    if corr:
        flow = f"{flow}[{corr}]"
    evidence = _pairs(ev.get("evidence"))
    reason = ev.get("reason") or ""
    if kind == "run_start":
        facts = ev.get("evidence") or {}
        label, tone = "RUN", "dim"
        body = f"{ev.get('run_id')} {facts.get('app', '')} ({facts.get('mode', '')})"
        evidence = ""
    elif kind == "summary":
        facts = ev.get("evidence") or {}
        label, tone = "END", "bad" if facts.get("failed") else "ok"
        body = (
            f"{facts.get('flows', 0)} flows: {facts.get('passed', 0)} passed, "
            f"{facts.get('failed', 0)} failed, {facts.get('unfinished', 0)} unfinished, "
            f"{facts.get('orphaned', 0)} orphaned"
        )
        evidence = ""
    elif kind == "checkpoint":
        label, tone, body = "..", "dim", f"{flow} {ev.get('step') or ''}"
    elif kind == "success":
        label, tone, body = "OK", "ok", f"{flow} {reason}"
    elif kind == "failure":
        label, tone, body = "FAIL", "bad", f"{flow} {ev.get('error_class') or ''} {reason}"
    elif kind == "exception":
        label, tone, body = "EXC", "bad", f"{flow} {reason}"
    elif kind == "metric":
        unit = f" {ev['unit']}" if ev.get("unit") else ""
        label, tone, body = "METRIC", "dim", f"{flow} {ev.get('step')}={ev.get('value')}{unit}"
    elif kind == "flow_end":
        status = str(ev.get("status") or "")
        tone = {"passed": "ok", "failed": "bad"}.get(status, "warn")
        duration = ev.get("duration_ms")
        took = f" {duration:.1f} ms" if isinstance(duration, (int, float)) else ""
        label, body = "END", f"{flow} {status}{took}"
        if status == "failed" and ev.get("error_class"):
            body += f" {ev['error_class']}"
    else:
        label, tone, body = str(kind), "dim", flow
    text = terminal_safe(" ".join(part for part in (body.strip(), evidence) if part))
    if len(text) > _LINE_CHARS:
        text = text[: _LINE_CHARS - 1] + "…"
    where = terminal_safe(f"{ev['file']}:{ev['line']}") if ev.get("file") and ev.get("line") \
        else ""
    line = f"{paint(f'{label:<6}', tone)} {text}  {paint(where, 'dim')}"
    if stamp:
        line = f"{paint(_clock(ev.get('ts')), 'dim')} {line}"
    return line.rstrip()


_last_clock: tuple[int, str] = (-1, "")


def _clock(ts: Any) -> str:
    """``HH:MM:SS`` of ``ts`` in local time; the last second's text is reused (strftime
    and localtime were a fifth of a failure's console line)."""
    global _last_clock
    try:
        second = int(ts or 0)
    except (TypeError, ValueError, OverflowError):
        second = 0
    last = _last_clock
    if last[0] == second:
        return last[1]
    try:
        text = time.strftime("%H:%M:%S", time.localtime(second))
    except (OverflowError, OSError, ValueError):
        text = "--:--:--"
    _last_clock = (second, text)
    return text


def _wants_color(stream: TextIO) -> bool:
    if os.environ.get("NO_COLOR"):
        return False
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


class ConsoleSink(Sink):
    """Writes :func:`format_event` lines to ``stream`` (default: stderr, looked up late)."""

    name = "console"

    def __init__(self, stream: TextIO | None = None, color: bool | None = None,
                 level: str = "verdicts") -> None:
        self._stream = stream
        self._color = color
        self._types = _LEVEL_TYPES[level if level in CONSOLE_LEVELS else "verdicts"]
        self._ends_failed_only = level == "verdicts"
        #: the stream colour was last decided for, and the decision (isatty is a syscall)
        self._color_for: tuple[Any, bool] = (None, False)

    def _shown(self, batch: Sequence[Item]) -> list[dict[str, Any]]:
        types, failed_only = self._types, self._ends_failed_only
        return [ev for ev, _ in batch if ev["event_type"] in types
                and not (failed_only and ev["event_type"] == "flow_end"
                         and ev["status"] != "failed")]

    def write(self, batch: Sequence[Item]) -> None:
        stream = self._stream if self._stream is not None else sys.stderr
        if stream is None:
            return
        shown = self._shown(batch)
        if not shown:
            return
        color = self._color
        if color is None:
            last = self._color_for
            if last[0] is stream:
                color = last[1]
            else:
                color = _wants_color(stream)
                self._color_for = (stream, color)
        lines = [format_event(ev, color) for ev in shown]
        text = "\n".join(line for line in lines if line)
        if text:
            try:
                stream.write(text + "\n")
            except UnicodeEncodeError:  # a terminal that cannot show "…"
                stream.write(text.encode("ascii", "replace").decode() + "\n")
            stream.flush()


def _log_level(ev: dict[str, Any]) -> int:
    kind = ev["event_type"]
    if kind in ("failure", "exception") or (kind == "flow_end" and ev.get("status") == "failed"):
        return 50 if ev.get("severity") == "critical" else 30 if ev.get("severity") == "warn" \
            else 40  # logging.CRITICAL, WARNING, ERROR (logging imported only when used)
    return 20  # logging.INFO


class LoggingSink(ConsoleSink):
    """The console's lines as records of the ``flowscribe`` logger (``type: logging``)."""

    name = "logging"

    def __init__(self, level: str = "verdicts") -> None:
        super().__init__(level=level)
        import logging

        self._logger = logging.getLogger("flowscribe")

    def write(self, batch: Sequence[Item]) -> None:
        logger = self._logger
        for ev in self._shown(batch):
            level = _log_level(ev)
            if not logger.isEnabledFor(level):
                continue
            line = format_event(ev, color=False, stamp=False)
            if line:
                logger.log(level, "%s", line, extra={
                    "flow_id": ev.get("flow_id"), "flow_instance": ev.get("instance"),
                })
