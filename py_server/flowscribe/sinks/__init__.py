"""Where events go: console (for people), JSONL (the trace), SQLite (for queries),
OTLP (an OpenTelemetry backend).

A sink receives batches of ``(event, line)`` from the writer's flusher thread. Sink
modules are imported only when a session's config asks for them, so ``import flowscribe``
pays for none of them.
"""

from __future__ import annotations

from .._writer import Sink
from ..vocabulary import SINK_TYPES

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (import cost)
if TYPE_CHECKING:
    from ..config import OtlpOptions

__all__ = ["SINK_TYPES", "Sink", "make_sink"]


def make_sink(kind: str, path: str | None = None, max_bytes: int = 0,
              level: str = "verdicts", backups: int = 1,
              otlp: OtlpOptions | None = None) -> Sink:
    """Build the sink of a config entry; ``path`` is absolute (resolved by the session).

    ``max_bytes`` > 0 rotates a JSONL file at that size, keeping ``backups`` rotated
    files; ``level`` is the console's (and the logging sink's), ``otlp`` the otlp sink's
    options.
    Raises ValueError for an unknown type or a missing path; the session reports it once
    and goes on without that sink.
    """
    if kind == "console":
        from .console import ConsoleSink

        return ConsoleSink(level=level)
    if kind == "logging":
        from .console import LoggingSink

        return LoggingSink(level=level)
    if kind in ("jsonl", "sqlite") and not path:
        raise ValueError(f"the {kind} sink needs a path")
    if kind == "jsonl":
        from .jsonl import JsonlSink

        return JsonlSink(str(path), max_bytes=max_bytes, backups=backups)
    if kind == "sqlite":
        from .sqlite import SqliteSink

        return SqliteSink(str(path))
    if kind == "otlp":
        from .otlp import OtlpSink

        return OtlpSink(otlp)
    raise ValueError(f"unknown sink type {kind!r} (expected one of {', '.join(SINK_TYPES)})")
