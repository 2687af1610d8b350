"""How the editor words a flow's latest outcome (a lens's text, a hover's run line).

Durations are worded by the runtime's :func:`flowscribe.artifacts.fmt_ms`, as in
summary.md, so a p95 reads the same in the editor and in the artifacts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from flowscribe.artifacts import fmt_ms

if TYPE_CHECKING:
    from .index import Project

__all__ = ["fmt_ms", "outcome_text"]


def outcome_text(project: Project | None, flow_id: str) -> str:
    """Counts, p95 vs SLA and the last failure's class (an exception's type:
    ``last: TimeoutError``): ``✓ 12  ✗ 2  p95 840 ms (SLA 1000 ms)  last: DATA.EMPTY``."""
    if project is None or project.run.run_id is None:
        return "no runs yet"
    outcomes = project.run.outcomes
    if outcomes is None:
        return "reading trace…"
    out = outcomes.get(flow_id)
    if out is None:
        return "not in the latest run"
    parts = [f"✓ {out.passed}", f"✗ {out.failed}"]
    if out.unfinished:
        parts.append(f"{out.unfinished} unfinished")
    if out.orphaned:
        parts.append(f"{out.orphaned} orphaned")
    sla = project.sla_ms(flow_id)
    if out.p95_ms is not None:
        p95 = f"p95 {fmt_ms(out.p95_ms)}"
        if sla is not None:
            p95 += f" (SLA {fmt_ms(sla)})"
        parts.append(p95)
    last = out.last_failure
    if last is not None:
        # An exception's type says more than its class (always SYSTEM unless given).
        parts.append(f"last: {last.exception_type or last.error_class}")
    return "  ".join(parts)
