"""flowscribe's shared vocabulary: the words the runtime writes and every reader reads.

Severities (and the aliases an app may use for them), the error classes given when an app
gives none, the sink types ``ra.yaml`` knows, and the markers that stand in for what
redaction and truncation removed. The runtime, the language server, the exports and the
assistant tools import them from here, so a new severity or class is added once.
"""

from __future__ import annotations

__all__ = [
    "MORE_KEY",
    "REDACTED",
    "SEVERITIES",
    "SEVERITY_ALIASES",
    "SINK_TYPES",
    "SYSTEM",
    "TRUNCATED",
    "UNCLASSIFIED",
    "default_error_class",
    "severity_rank",
]

#: Failure severities, lowest first.
SEVERITIES = ("debug", "info", "warn", "error", "critical")
#: Other spellings an app may pass (they are recorded as the severity they name).
SEVERITY_ALIASES = {"warning": "warn", "fatal": "critical", "err": "error"}
_RANK = {s: i for i, s in enumerate(SEVERITIES)}

#: The error class of exceptions, and of flows an exception escaped.
SYSTEM = "SYSTEM"
#: The error class of a failure recorded without one.
UNCLASSIFIED = "UNCLASSIFIED"

#: The sink types of ``ra.yaml``'s ``sinks:``.
SINK_TYPES = ("console", "jsonl", "sqlite", "logging", "otlp")

#: Replaces a secret. It never carries any part of what it hides.
REDACTED = "[REDACTED]"
#: Ends a value that was cut to fit.
TRUNCATED = "… (truncated)"
#: Key used in a truncated mapping to say entries were dropped.
MORE_KEY = "…"


def severity_rank(severity: object, unknown: int = _RANK["error"]) -> int:
    """The rank of a severity (aliases too), ``unknown`` for anything else: a severity a
    trace names that we do not know is shown as an error would be."""
    if not isinstance(severity, str):
        return unknown
    rank = _RANK.get(severity)
    if rank is None:
        low = severity.lower()
        rank = _RANK.get(SEVERITY_ALIASES.get(low, low), unknown)
    return rank


def default_error_class(event_type: object) -> str:
    """The class of a failure or exception recorded without one."""
    return SYSTEM if event_type == "exception" else UNCLASSIFIED
