"""Trace events built the way the runtime writes them, for tests of what reads them."""

from __future__ import annotations

from typing import Any


class Events:
    """Builds trace events of one run the way the runtime writes them."""

    def __init__(self, run_id: str = "20261125T140512Z-3f9a1c") -> None:
        self.run_id = run_id
        self.seq = 0

    def __call__(self, event_type: str, flow_id: str | None = None, **extra: Any) -> dict:
        self.seq += 1
        ev: dict[str, Any] = {
            "schema": 1,
            "id": f"p1-{self.seq}",
            "run_id": self.run_id,
            "seq": self.seq,
            "ts": 1000.0 + self.seq,
            "event_type": event_type,
            "flow_id": flow_id,
            "instance": None,
            "parent": None,
            "parent_flow": None,
            "step": None,
            "correlation": {},
            "tags": [],
            "file": "app.py",
            "line": 10,
            "function": "main",
            "thread": "MainThread",
            "pid": 42,
            "severity": None,
            "error_class": None,
            "reason": None,
            "evidence": {},
            "value": None,
            "unit": None,
            "status": None,
            "duration_ms": None,
            "caused_by": None,
            "exception": None,
        }
        ev.update(extra)
        return ev

    def run_start(self, **evidence: Any) -> dict:
        base = {"app": "trading-app", "mode": "sim", "root": "/x", "git_sha": "abc123"}
        return self("run_start", evidence={**base, **evidence}, tags=["demo"])

    def instance(
        self, flow_id: str, instance: str, status: str, duration_ms: float, **failure: Any
    ) -> list[dict]:
        evs = [self("flow_start", flow_id, instance=instance)]
        if failure:
            evs.append(self("failure", flow_id, instance=instance, **failure))
        evs.append(
            self("flow_end", flow_id, instance=instance, status=status, duration_ms=duration_ms)
        )
        return evs
