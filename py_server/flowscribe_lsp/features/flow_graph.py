"""``flowscribe/flowGraph``: the picture of a run's flows.

* ``nodes``: the catalog's flows and those only the run knows, each with its parent and
  this run's counts (passed, failed, unfinished, orphaned) and marks;
* ``sequence``: one failing instance as a sequence of what happened in it and in its
  children, oldest first: starts and ends of each participant, its checkpoints, its
  failures (at most :data:`MAX_STEPS` items; the rest is counted).

Params (all optional): ``runId``, ``workspaceFolder``, ``eventId`` (the failure whose
instance to tell), ``flowId`` (the first failing instance of that flow). By default the
run's first failure inside a flow. Documented in docs/timeline.md.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..protocol import params_of
from . import Feature
from .run_fold import Instance, RunFold, RunFolds, verdict_of

if TYPE_CHECKING:
    from flowscribe.catalog import Catalog

    from ..server import FlowscribeServer

__all__ = ["FLOW_GRAPH", "FlowGraph", "build_flow_graph"]

FLOW_GRAPH = "flowscribe/flowGraph"
MAX_STEPS = 200
MAX_PARTICIPANTS = 40


def _nodes(fold: RunFold, catalog: Catalog) -> list[dict[str, Any]]:
    nodes: dict[str, dict[str, Any]] = {}

    def node(fid: str, parent: str | None) -> dict[str, Any]:
        if fid not in nodes:
            nodes[fid] = {"id": fid, "parent": parent, "catalogued": False, "enabled": True,
                          "description": "", "counts": {"passed": 0, "failed": 0,
                                                        "unfinished": 0, "orphaned": 0,
                                                        "running": 0},
                          "marks": 0}
        return nodes[fid]

    for spec in catalog.flows.values():
        n = node(spec.id, spec.parent)
        n.update(catalogued=True, enabled=spec.enabled, description=spec.description or "")
    flow_of = {i.instance: i.flow_id for i in fold.instances.values()}
    for inst in fold.instances.values():
        parent_flow = flow_of.get(inst.parent) if inst.parent else None
        n = node(inst.flow_id, parent_flow)
        if n["parent"] is None and parent_flow != inst.flow_id:
            n["parent"] = parent_flow
        n["counts"][verdict_of(fold, inst)] = n["counts"].get(verdict_of(fold, inst), 0) + 1
        n["marks"] += inst.marks
    for n in nodes.values():
        c = n["counts"]
        n["status"] = ("disabled" if not n["enabled"] else "failed" if c["failed"] else
                       "passed" if c["passed"] else "unfinished" if sum(c.values()) else
                       "never_run")
    return list(nodes.values())


def _root(fold: RunFold, event_id: str | None, flow_id: str | None
          ) -> tuple[str, str | None] | None:
    """The instance to tell and the failure that chose it."""
    for m in fold.marks:
        if m.instance is None or m.instance not in fold.instances:
            continue
        if event_id is not None and m.event_id != event_id:
            continue
        if flow_id is not None and m.flow_id != flow_id:
            continue
        return m.instance, m.event_id
    if flow_id is not None:  # failed with no mark of its own (a child's failure)
        for inst in fold.instances.values():
            if inst.flow_id == flow_id and inst.status == "failed":
                return inst.instance, None
    return None


def _sequence(fold: RunFold, root: str, event_id: str | None,
              uri: Callable[[str | None], str | None]) -> dict[str, Any]:
    children: dict[str, list[Instance]] = {}
    for inst in fold.instances.values():
        if inst.parent is not None:
            children.setdefault(inst.parent, []).append(inst)
    order = [fold.instances[root]]
    seen = {root}
    n = 0
    while n < len(order) and len(order) < MAX_PARTICIPANTS:
        for child in children.get(order[n].instance, ()):
            if child.instance not in seen and len(order) < MAX_PARTICIPANTS:
                seen.add(child.instance)
                order.append(child)
        n += 1
    index = {inst.instance: k for k, inst in enumerate(order)}
    t0 = fold.t0 or 0.0
    items: list[dict[str, Any]] = []
    for inst in order:
        who = index[inst.instance]
        parent = index.get(inst.parent) if inst.parent else None
        items.append({"t": round(inst.start - t0, 6), "kind": "start", "participant": who,
                      "from": parent, "label": "start", "file": inst.file,
                      "line": inst.line, "uri": uri(inst.file)})
        if inst.end is not None:
            items.append({"t": round(inst.end - t0, 6), "kind": "end", "participant": who,
                          "from": parent, "label": verdict_of(fold, inst),
                          "errorClass": inst.error_class, "file": None, "line": None,
                          "uri": None})
    for tick in fold.ticks:
        if tick.instance in index:
            items.append({"t": round(tick.t - t0, 6), "kind": tick.kind,
                          "participant": index[tick.instance], "label": tick.step or tick.kind,
                          "file": tick.file, "line": tick.line, "uri": uri(tick.file),
                          "eventId": tick.event_id, "evidence": tick.evidence})
    for m in fold.marks:
        if m.instance in index:
            items.append({"t": round(m.t - t0, 6), "kind": m.kind,
                          "participant": index[m.instance],
                          "label": m.exception_type or m.error_class or m.kind,
                          "reason": m.reason, "file": m.file, "line": m.line,
                          "uri": uri(m.file), "eventId": m.event_id, "evidence": m.evidence})
    items.sort(key=lambda it: it["t"])
    return {
        "instance": root,
        "eventId": event_id,
        "flowId": order[0].flow_id,
        "participants": [{"instance": i.instance, "flowId": i.flow_id,
                          "status": verdict_of(fold, i)} for i in order],
        "items": items[:MAX_STEPS],
        "more": max(0, len(items) - MAX_STEPS),
    }


def build_flow_graph(fold: RunFold, catalog: Catalog, *, event_id: str | None = None,
                     flow_id: str | None = None,
                     uri: Callable[[str | None], str | None] = lambda _: None
                     ) -> dict[str, Any]:
    """The graph of ``fold``'s flows over ``catalog``, and one failing instance's sequence."""
    root = _root(fold, event_id, flow_id)
    return {
        "runId": fold.run_id,
        "nodes": _nodes(fold, catalog),
        "sequence": _sequence(fold, root[0], root[1], uri) if root is not None else None,
    }


class FlowGraph(Feature):
    """The ``flowscribe/flowGraph`` request."""

    def __init__(self, server: FlowscribeServer, folds: RunFolds) -> None:
        super().__init__(server)
        self.folds = folds
        server.handle(FLOW_GRAPH)(self.flow_graph)

    async def flow_graph(self, params: Any) -> dict[str, Any]:
        p = params_of(params)
        found = self.server.queries.locate_run(p)
        if found is None:
            return {"runId": p.get("runId"), "nodes": [], "sequence": None,
                    "error": "no trace for this run"}
        project, trace, rid = found
        catalog = project.catalog
        uri = self.server.queries.recorded_uris(project)
        event_id = p.get("eventId") if isinstance(p.get("eventId"), str) else None
        flow_id = p.get("flowId") if isinstance(p.get("flowId"), str) else None

        def build() -> dict[str, Any]:
            return build_flow_graph(self.folds.fold(trace, rid), catalog, event_id=event_id,
                                    flow_id=flow_id, uri=uri)

        try:
            result = await self.server.in_worker(build)
        except Exception as exc:  # a bad trace must not take the server down
            self.server.log(f"{FLOW_GRAPH} failed: {type(exc).__name__}: {exc}")
            return {"runId": rid, "nodes": [], "sequence": None,
                    "error": "reading the run failed"}
        result["workspaceFolder"] = project.folder.uri
        return result
