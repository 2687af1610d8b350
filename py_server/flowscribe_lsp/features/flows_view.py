"""``flowscribe/flows``: the flow tree a client's Flows view shows.

Catalog flows first (in catalog order), then flows only the run or the code knows; each
with its status, counts as summary.md counts them, p95 against the SLA, marker and
catalog locations and the last failure (see :class:`~flowscribe_lsp.protocol.FlowNode`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..paths import path_to_uri
from ..protocol import FLOWS, FlowNode, FlowsResult, LastFailure, location
from . import Feature

if TYPE_CHECKING:
    from lsprotocol import types as lsp

    from ..index import Project
    from ..server import FlowscribeServer

__all__ = ["FlowsView"]


class FlowsView(Feature):
    """Answers ``flowscribe/flows``."""

    def __init__(self, server: FlowscribeServer) -> None:
        super().__init__(server)
        server.handle(FLOWS)(self.flows)

    def flows(self, params: Any) -> FlowsResult:
        none: list[FlowNode] = []
        return {"flows": self.server.guard(FLOWS, self._flows, default=none)}

    def _flows(self) -> list[FlowNode]:
        q = self.server.queries
        nodes: list[FlowNode] = []
        for project in self.server.index.projects():
            markers: dict[str, list[lsp.Location]] = {}
            for path, m in q.markers_in(project):
                markers.setdefault(m.flow_id, []).append(q.marker_location(path, m))
            for locs in markers.values():
                locs.sort(key=lambda loc: (loc.uri, loc.range.start.line))
            ids = list(project.catalog.flows)
            outcomes = project.run.outcomes or {}
            ids += sorted(f for f in set(outcomes) | set(markers) if f not in project.catalog)
            nodes += [self._node(project, fid, markers.get(fid, [])) for fid in ids]
        return nodes

    def _node(self, project: Project, fid: str, markers: list[lsp.Location]) -> FlowNode:
        spec = project.catalog.get(fid)
        outcome = (project.run.outcomes or {}).get(fid)
        if spec is not None and not spec.enabled:
            status = "disabled"
        elif outcome is not None:
            status = outcome.status
        elif spec is None and project.has_catalog:
            status = "uncatalogued"
        else:
            status = "never_run"
        last: LastFailure | None = None
        if outcome is not None and outcome.last_failure is not None:
            lf = outcome.last_failure
            last = {
                "errorClass": lf.error_class,
                "exceptionType": lf.exception_type,
                "reason": lf.reason,
                "file": lf.file,
                "uri": self.server.queries.recorded_uri(project, lf.file),
                "line": lf.line,  # 1-based, as recorded
                "runId": project.run.run_id,
                "eventId": lf.event_id,
            }
        catalog = self.server.queries.catalog_location(project, spec) if spec else None
        parent = spec.parent if spec is not None else (outcome.parent_flow if outcome else None)
        return {
            "id": fid,
            "parent": parent,
            "description": spec.description if spec is not None else "",
            "status": status,  # type: ignore[typeddict-item]  # an outcome's status is one
            "catalogued": spec is not None,
            "counts": {
                "passed": outcome.passed if outcome else 0,
                "failed": outcome.failed if outcome else 0,
                "unfinished": outcome.unfinished if outcome else 0,
                "orphaned": outcome.orphaned if outcome else 0,
            },
            "p95Ms": outcome.p95_ms if outcome else None,
            "slaP95Ms": project.sla_ms(fid),
            "markers": [location(loc) for loc in markers],
            "catalog": location(catalog) if catalog is not None else None,
            "lastFailure": last,
            "runId": project.run.run_id,
            "workspaceFolder": project.folder.uri,
            "projectRoot": path_to_uri(project.root),
        }
