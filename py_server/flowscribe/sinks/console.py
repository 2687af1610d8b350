"""The console sink: one short line per event, for the person watching the terminal.

Lines go to stderr (the app's stdout stays its own) and are coloured only when stderr is
a terminal and ``NO_COLOR`` is unset. ``flow_start`` is left out: the flow's first marker
or its end says the same, and the console is for reading, not for completeness.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Sequence
from typing import Any, TextIO

from .._writer import Sink

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (import cost)
if TYPE_CHECKING:
    from .._writer import Item

__all__ = ["ConsoleSink", "format_event"]

_RESET = "\033[0m"
_COLORS = {"ok": "\033[32m", "bad": "\033[31m", "warn": "\033[33m", "dim": "\033[2m"}
_VALUE_CHARS = 60
_LINE_CHARS = 240


def _short(value: Any) -> str:
    text = value if isinstance(value, str) else repr(value)
    text = text.replace("\n", "\\n")
    return text if len(text) <= _VALUE_CHARS else text[: _VALUE_CHARS - 1] + "…"


def _pairs(data: Any) -> str:
    if not isinstance(data, dict) or not data:
        return ""
    return " ".join(f"{k}={_short(v)}" for k, v in data.items())


def format_event(ev: dict[str, Any], color: bool = False) -> str | None:
    """The console line of one event, or None for events the console leaves out."""
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
    text = " ".join(part for part in (body.strip(), evidence) if part)
    if len(text) > _LINE_CHARS:
        text = text[: _LINE_CHARS - 1] + "…"
    where = f"{ev['file']}:{ev['line']}" if ev.get("file") and ev.get("line") else ""
    stamp = time.strftime("%H:%M:%S", time.localtime(ev.get("ts") or 0))
    line = f"{paint(stamp, 'dim')} {paint(f'{label:<6}', tone)} {text}  {paint(where, 'dim')}"
    return line.rstrip()


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

    def __init__(self, stream: TextIO | None = None, color: bool | None = None) -> None:
        self._stream = stream
        self._color = color

    def write(self, batch: Sequence[Item]) -> None:
        stream = self._stream if self._stream is not None else sys.stderr
        if stream is None:
            return
        color = self._color if self._color is not None else _wants_color(stream)
        lines = [format_event(ev, color) for ev, _ in batch]
        text = "\n".join(line for line in lines if line)
        if text:
            try:
                stream.write(text + "\n")
            except UnicodeEncodeError:  # a terminal that cannot show "…"
                stream.write(text.encode("ascii", "replace").decode() + "\n")
            stream.flush()
