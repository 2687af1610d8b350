"""One event as one compact line: ``id file:line type flow[corr] step key=value …``.

The form a story quotes events in: what an assistant needs to follow a run (where, what,
which instance, the evidence), without the fields every line repeats (schema, run id,
sequence, pid, tags). The event id stays, so each line can be traced back to the trace.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

__all__ = ["event_line", "kv"]

_TYPE = {"flow_start": "start", "flow_end": "end", "checkpoint": "step", "success": "success",
         "failure": "FAILURE", "exception": "EXCEPTION", "metric": "metric"}
_VALUE_CHARS = 80
_LINE_CHARS = 400


def _text(value: Any, limit: int = _VALUE_CHARS) -> str:
    if isinstance(value, str):
        text = value if value and " " not in value and "=" not in value else json.dumps(value)
    else:
        try:
            text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=repr,
                              sort_keys=True)
        except (TypeError, ValueError, RecursionError):
            text = repr(value)
    text = " ".join(text.split())  # one line, whatever it held
    return text if len(text) <= limit else text[: limit - 1] + "…"


def kv(mapping: Any, limit: int = 12) -> str:
    """``key=value`` pairs of a mapping, compact."""
    if not isinstance(mapping, Mapping):
        return ""
    return " ".join(f"{k}={_text(v)}" for k, v in list(mapping.items())[:limit])


def event_line(ev: Mapping[str, Any], mark: str = "") -> str:
    """The compact line of one event (``mark`` prefixes it, e.g. ``>>`` for the failure)."""
    parts = [str(ev.get("id") or "?")]
    if ev.get("file"):
        parts.append(f"{ev.get('file')}:{ev.get('line') or '?'}")
    kind = str(ev.get("event_type") or "?")
    parts.append(_TYPE.get(kind, kind))
    flow = str(ev.get("flow_id") or "")
    corr = kv(ev.get("correlation"), 4)
    if flow:
        parts.append(f"{flow}[{corr}]" if corr else flow)
    if ev.get("step"):
        parts.append(_text(ev.get("step")))
    if kind == "flow_end":
        parts.append(str(ev.get("status") or "?"))
        if isinstance(ev.get("duration_ms"), (int, float)):
            parts.append(f"{ev['duration_ms']:.1f}ms")
    if ev.get("error_class"):
        parts.append(str(ev.get("error_class")))
    if ev.get("reason") and kind != "flow_end":
        parts.append(_text(str(ev.get("reason")), 200))
    if kind == "metric" and ev.get("value") is not None:
        unit = f" {ev.get('unit')}" if ev.get("unit") else ""
        parts.append(f"value={_text(ev.get('value'))}{unit}")
    evidence = kv(ev.get("evidence"))
    if evidence:
        parts.append(evidence)
    if ev.get("caused_by") and kind != "flow_end":
        parts.append(f"caused_by={ev.get('caused_by')}")
    # One line, whatever the fields held: a newline in a class or a file name must not
    # start a line of its own (a heading, a fence) in the quoted slice.
    line = " ".join(" ".join(parts).split())
    if len(line) > _LINE_CHARS:
        line = line[: _LINE_CHARS - 1] + "…"
    return f"{mark}{line}" if mark else line
