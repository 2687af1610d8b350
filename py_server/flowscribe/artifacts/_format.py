"""Numbers, times and JSON as the artifacts show them (Markdown itself is in
:mod:`flowscribe.markdown`)."""

from __future__ import annotations

import json
import time
from typing import Any

from flowscribe.markdown import clip

__all__ = ["fmt_ms", "fmt_time", "json_compact"]


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
