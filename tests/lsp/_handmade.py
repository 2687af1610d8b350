"""Hand-written trace events, exactly as docs/trace-format.md describes them.

Only for what the real runtime would never write (paths outside the project, broken
lines, unknown schemas ...); everything else in these tests comes from real runs.
"""

from __future__ import annotations

import json
from pathlib import Path


def event(seq: int, etype: str, flow: str | None, **extra: object) -> dict[str, object]:
    ev: dict[str, object] = {
        "schema": 1, "id": f"p-{seq}", "run_id": "run-1", "seq": seq, "ts": 1000.0 + seq,
        "event_type": etype, "flow_id": flow, "instance": "i-1" if flow else None,
        "parent": None, "parent_flow": None, "step": None, "correlation": {}, "tags": [],
        "file": None, "line": None, "function": None, "thread": "MainThread", "pid": 1,
        "severity": "error" if etype in ("failure", "exception") else None,
        "error_class": "X.Y" if etype == "failure" else None, "reason": "boom",
        "evidence": {}, "value": None, "unit": None, "status": None, "duration_ms": None,
        "caused_by": None, "exception": None,
    }
    ev.update(extra)
    return ev


def line(ev: dict[str, object]) -> bytes:
    return json.dumps(ev, separators=(",", ":")).encode() + b"\n"


def write_trace(ws: Path, events: list[dict[str, object]], extra: bytes = b"") -> Path:
    """``ws/.autodev/trace.jsonl`` holding ``events`` (then ``extra`` raw bytes)."""
    adir = ws / ".autodev"
    adir.mkdir(parents=True, exist_ok=True)
    trace = adir / "trace.jsonl"
    trace.write_bytes(b"".join(line(e) for e in events) + extra)
    return trace
