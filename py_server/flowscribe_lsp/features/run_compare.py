"""``flowscribe/compareRuns``: what changed between two runs ("Compare with previous run").

A run (``runId``, default the latest) against ``baseRunId`` (default the newest earlier run
that passed, else the one before it): the comparison ``flowscribe diff`` prints, from
:func:`flowscribe.story.compare_runs` (verdicts that changed, new and fixed failures, steps
that appeared or vanished, evidence values, timing against p95/SLA). Read on the worker.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flowscribe.catalog import sla_targets
from flowscribe.story import compare_runs

from ..protocol import COMPARE_RUNS, CompareRunsResult, RunChange, params_of
from . import Feature

if TYPE_CHECKING:
    from ..index import Project
    from ..server import FlowscribeServer

__all__ = ["RunCompare"]

#: Changes answered at most (the most telling first).
MAX_CHANGES = 200


class RunCompare(Feature):
    """Answers ``flowscribe/compareRuns``."""

    def __init__(self, server: FlowscribeServer) -> None:
        super().__init__(server)
        server.handle(COMPARE_RUNS)(self.compare)

    async def compare(self, params: Any) -> CompareRunsResult:
        p = params_of(params)
        run_id, base = (v if isinstance(v, str) and v else None
                        for v in (p.get("runId"), p.get("baseRunId")))
        why = "no project with runs in the workspace"
        for project in self.server.queries.projects_for(p):
            try:
                compared = await self.server.in_worker(_compare, project, run_id, base)
            except Exception as exc:  # an unreadable run: say so, try the other projects
                why = f"reading the runs of {project.autodev} failed: {type(exc).__name__}"
                self.server.log(f"{COMPARE_RUNS}: {why}: {exc}")
                continue
            if isinstance(compared, str):
                why = compared
                continue
            return {**compared, "workspaceFolder": project.folder.uri}
        return {"error": why}


def _compare(project: Project, run_id: str | None, base: str | None
             ) -> CompareRunsResult | str:
    sla = sla_targets(project.catalog.flows, project.catalog, project.config)
    compared = compare_runs(project.autodev, after=run_id, before=base, sla_ms=sla)
    if isinstance(compared, str):
        return compared
    before, after, diff = compared
    changes: list[RunChange] = [
        {"kind": c.kind, "flowId": c.flow_id, "text": c.text, "where": c.where}
        for c in diff.changes[:MAX_CHANGES]]
    return {"before": before.run_id, "after": after.run_id, "changes": changes}
