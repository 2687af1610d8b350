"""Trace and span ids derived from flowscribe's own ids, and W3C ``traceparent`` headers.

Ids are hashes, not random: a span's id is a hash of its run and its flow instance (the
id of its ``flow_start``), a trace's id a hash of the run and its root flow instance, so
the live export and a later ``flowscribe export --format otlp-json`` of the same run
agree, and ``flowscribe.traceparent()`` can name the current flow's span before any
exporter has seen it.
"""

from __future__ import annotations

import hashlib

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (import cost)
if TYPE_CHECKING:
    from .._flow import Flow, NullFlow

__all__ = [
    "TRACEPARENT_KEY",
    "flow_traceparent",
    "format_traceparent",
    "parse_traceparent",
    "span_id",
    "trace_id",
]

#: The correlation key an incoming W3C traceparent is recorded under (on flow_start; child
#: flows inherit it with the rest of their parent's correlation).
TRACEPARENT_KEY = "traceparent"

_HEX = frozenset("0123456789abcdef")


def _digest(run_id: str, key: str, size: int) -> bytes:
    raw = hashlib.blake2b(f"{run_id}/{key}".encode(), digest_size=size).digest()
    # An all-zero id is invalid in OTLP and W3C; a hash gives one with odds of 2**-64,
    # but the rule costs nothing to keep.
    return raw if any(raw) else b"\x00" * (size - 1) + b"\x01"


def span_id(run_id: str, instance: str) -> bytes:
    """The 8-byte span id of the flow instance ``instance`` of run ``run_id``."""
    return _digest(run_id, instance, 8)


def trace_id(run_id: str, root: str) -> bytes:
    """The 16-byte trace id of the tree of flows rooted at instance ``root``."""
    return _digest(run_id, "trace:" + root, 16)


def parse_traceparent(value: object) -> tuple[bytes, bytes, bool] | None:
    """``(trace id, parent span id, sampled)`` of a W3C traceparent header, or None when
    ``value`` is not a valid one (wrong shape, all-zero ids, version ``ff``)."""
    if not isinstance(value, str):
        return None
    parts = value.strip().lower().split("-")
    if len(parts) < 4:
        return None
    version, tid, sid, flags = parts[0], parts[1], parts[2], parts[3]
    if (len(version) != 2 or version == "ff" or len(tid) != 32 or len(sid) != 16
            or len(flags) != 2 or (version == "00" and len(parts) != 4)):
        return None
    if not _HEX.issuperset(version + tid + sid + flags):
        return None
    if tid == "0" * 32 or sid == "0" * 16:
        return None
    return bytes.fromhex(tid), bytes.fromhex(sid), bool(int(flags, 16) & 1)


def format_traceparent(trace: bytes, span: bytes, sampled: bool = True) -> str:
    """A version-00 W3C traceparent header for ``trace``/``span``."""
    return f"00-{trace.hex()}-{span.hex()}-{'01' if sampled else '00'}"


def flow_traceparent(flow: Flow | NullFlow | None) -> str | None:
    """The W3C traceparent naming ``flow``'s span exactly as the otlp sink and the
    otlp-json export name it (their ids are derived, so it is known before any export);
    None for no flow, a switched-off one, or one that never started.

    Its trace is the caller's when the flow (or the flow it descends from) carries an
    incoming ``traceparent``; else the trace of its tree in this run, named by the top
    instance this process knows (:attr:`Flow.root`).
    """
    instance = flow.instance if flow is not None else None
    run_id = getattr(getattr(flow, "session", None), "run_id", None)
    if flow is None or not instance or not isinstance(run_id, str):
        return None
    remote = parse_traceparent(flow.correlation.get(TRACEPARENT_KEY))
    trace = remote[0] if remote is not None else trace_id(run_id, flow.root or instance)
    return format_traceparent(trace, span_id(run_id, instance))
