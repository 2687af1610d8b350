"""Markdown building blocks that stay inert whatever the trace put in them.

Reasons, evidence, flow ids and file names come from a trace, and a trace is untrusted:
a value may hold backticks, brackets, HTML or newlines meant to break out of where it is
shown. Prose is backslash-escaped; code spans and fences are made one backtick longer than
any backtick run in their content, so no content can close them.
"""

from __future__ import annotations

import json
import re
import time
from typing import Any

__all__ = ["clip", "code", "escape", "fence", "fmt_ms", "fmt_time", "json_compact"]

# What could start markup that matters: HTML, links and images, code spans, table cells,
# emphasis. Newlines (new blocks) are replaced before escaping.
_SPECIAL = re.compile(r"([\\`*\[\]<>!|])")
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]+")
_TICKS = re.compile(r"`+")
TRUNCATED = "… (truncated)"


def clip(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters, marked when cut."""
    if len(text) <= limit:
        return text
    return text[: max(0, limit - len(TRUNCATED))] + TRUNCATED


def _one_line(text: str) -> str:
    return _CONTROL.sub(" ", text)


def escape(text: Any, limit: int = 500) -> str:
    """``text`` as inline Markdown prose: one line, every special character escaped."""
    return _SPECIAL.sub(r"\\\1", clip(_one_line(str(text)), limit))


def _longest_ticks(text: str) -> int:
    return max((len(m) for m in _TICKS.findall(text)), default=0)


def code(text: Any, limit: int = 300) -> str:
    """``text`` as an inline code span that its content cannot close."""
    body = clip(_one_line(str(text)), limit)
    ticks = "`" * (_longest_ticks(body) + 1)
    pad = " " if body.startswith("`") or body.endswith("`") or not body.strip() else ""
    return f"{ticks}{pad}{body}{pad}{ticks}"


def fence(text: str, info: str = "") -> str:
    """``text`` as a fenced block its content cannot close (the fence is longer than any
    backtick run inside). Ends with a newline."""
    ticks = "`" * max(3, _longest_ticks(text) + 1)
    body = text if text.endswith("\n") else text + "\n"
    return f"{ticks}{info}\n{body}{ticks}\n"


def json_compact(value: Any, limit: int = 400) -> str:
    """Compact, ASCII-only JSON of ``value`` (never raises), cut to ``limit``."""
    try:
        text = json.dumps(value, ensure_ascii=True, separators=(",", ":"), default=repr)
    except (TypeError, ValueError, RecursionError):
        text = json.dumps(repr(value)[:limit])
    return clip(text, limit)


def fmt_ms(ms: float | None) -> str:
    """A duration for people: ``0.42 ms``, ``12 ms``, ``3.4 s``; ``-`` for None."""
    if ms is None:
        return "-"
    if ms < 10:
        return f"{ms:.2f} ms"
    if ms < 10_000:
        return f"{ms:.0f} ms"
    return f"{ms / 1000:.1f} s"


def fmt_time(ts: float | None) -> str:
    """A Unix time as ``2026-11-25 14:05:12 UTC``; ``-`` for None."""
    if ts is None:
        return "-"
    try:
        return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(ts))
    except (OverflowError, OSError, ValueError):
        return "-"
