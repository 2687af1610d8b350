"""``flowscribe/flowEvents``: the events of one flow, or one flow instance, in a run.

Read on the index worker, never on the event loop; only lines holding the flow's (or
instance's) id as the runtime encodes it are parsed, and for an instance that failed in
the latest run only the bytes from its start to its end (the trace index knows where).
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING, Any

from flowscribe.artifacts import Scrubber
from flowscribe.trace import field_marker, instance_span, iter_events

from ..protocol import FLOW_EVENTS, FlowEventsResult, params_of
from . import Feature

if TYPE_CHECKING:
    from ..index import Project
    from ..server import FlowscribeServer

__all__ = ["FlowEvents"]

DEFAULT_EVENTS = 200
MAX_EVENTS = 1000


class FlowEvents(Feature):
    """Answers ``flowscribe/flowEvents``."""

    def __init__(self, server: FlowscribeServer) -> None:
        super().__init__(server)
        server.handle(FLOW_EVENTS)(self.flow_events)

    async def flow_events(self, params: Any) -> FlowEventsResult:
        p = params_of(params)
        flow_id = p.get("flowId")
        if not isinstance(flow_id, str) or not flow_id:
            return {"events": [], "error": "flowId is required"}
        instance = p.get("instance") if isinstance(p.get("instance"), str) else None
        run_id = p.get("runId") if isinstance(p.get("runId"), str) else None
        limit = p.get("limit")
        limit = min(limit, MAX_EVENTS) if isinstance(limit, int) and limit > 0 else DEFAULT_EVENTS
        project = self._project_for(flow_id, p.get("workspaceFolder"))
        if project is None:
            return {"events": []}
        trace, rid = self.server.queries.trace_of(project, run_id)
        if trace is None:
            return {"events": [], "runId": rid}
        # Each candidate line is checked below: the text may sit in another field.
        needle = (field_marker("instance", instance) if instance is not None
                  else field_marker("flow_id", flow_id))

        def read() -> tuple[list[dict[str, Any]], int]:
            # One instance: only the bytes from its start to its end, not the whole
            # trace. The trace index knows where the latest run's failed ones are; any
            # other is found by its id (flowscribe.trace.find_event).
            span = None
            if instance is not None:
                if trace == project.run.trace and rid == project.run.run_id:
                    span = project.trace.instance_span(instance)
                if span is None:
                    span = instance_span(trace, instance)
            start, end = span if span is not None else (0, None)
            kept: deque[dict[str, Any]] = deque(maxlen=limit)
            total = 0
            for ev in iter_events(trace, contains=(needle,), start=start, limit=end):
                if ev.get("flow_id") != flow_id or (rid and ev.get("run_id") != rid):
                    continue
                if instance is not None and ev.get("instance") != instance:
                    continue
                total += 1
                kept.append(ev)
            return list(kept), total

        events, total = await self.server.in_worker(read)
        # Redacted again (the project's privacy settings), as the failure prompt is: a
        # trace the runtime did not write may hold secrets it would have hidden.
        scrub = Scrubber(project.config).event
        events = [scrub(ev) for ev in events]
        for ev in events:
            ev["uri"] = self.server.queries.recorded_uri(project, ev.get("file"))
        return {"events": events, "runId": rid, "total": total, "truncated": total > len(events)}

    def _project_for(self, flow_id: str, folder: Any) -> Project | None:
        candidates = [p for p in self.server.index.projects()
                      if not isinstance(folder, str) or p.folder.uri == folder]
        for p in candidates:
            if flow_id in (p.run.outcomes or {}) or flow_id in p.catalog:
                return p
        return candidates[0] if candidates else None
