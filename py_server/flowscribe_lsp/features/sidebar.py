"""Custom requests for a client's flows/runs views (documented in docs/lsp-protocol.md).

* ``flowscribe/flows``: the flow tree (catalog flows, flows only the trace or the code
  know), each with status, counts, p95 vs SLA, marker and catalog locations, last failure.
* ``flowscribe/runs``: every run of every project, newest first, with verdicts and
  artifact URIs.
* ``flowscribe/flowEvents``: the events of one flow (or one flow instance) in a run.
* ``flowscribe/failurePrompt``: a focused, size-capped prompt about one failure.
* ``flowscribe/runsChanged`` (notification to the client): a run started, grew or ended.

Requests that read traces run on the index worker, never on the event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flowscribe.runs import RunInfo, RunLayout
from flowscribe.trace import field_marker, iter_events

from ..paths import path_to_uri
from .failure_prompt import render_failure_prompt

if TYPE_CHECKING:
    from lsprotocol import types as lsp

    from ..index import Project
    from ..server import FlowscribeServer

__all__ = ["Sidebar"]

RUNS_CHANGED = "flowscribe/runsChanged"
NOTIFY_EVERY_S = 1.0
DEFAULT_EVENTS = 200
MAX_EVENTS = 1000


class Sidebar:
    """The custom requests and the runs-changed notification."""

    def __init__(self, server: FlowscribeServer) -> None:
        self.server = server
        self._notify_due: dict[Path | None, asyncio.TimerHandle] = {}
        self._last_sent: dict[Path, tuple[str | None, int, int, float | None, int]] = {}
        server.handle("flowscribe/flows")(self.flows)
        server.handle("flowscribe/runs")(self.runs)
        server.handle("flowscribe/flowEvents")(self.flow_events)
        server.handle("flowscribe/failurePrompt")(self.failure_prompt)

    # -- notification -------------------------------------------------------------------
    def runs_changed(self, project: Project | None) -> None:
        """Tell the client a project's runs changed (coalesced to one per second)."""
        projects = [project] if project is not None else list(self.server.index.projects())
        for p in projects:
            run = p.run
            state = (run.run_id, run.failures + run.exceptions, run.generation, run.ended,
                     sum(run.verdicts.values()))
            if self._last_sent.get(p.autodev) == state and project is not None:
                continue
            self._last_sent[p.autodev] = state
            if p.autodev in self._notify_due:
                continue
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:
                return
            self._notify_due[p.autodev] = loop.call_later(
                NOTIFY_EVERY_S if project is not None else 0, self._notify, p)

    def _notify(self, project: Project) -> None:
        self._notify_due.pop(project.autodev, None)
        with contextlib.suppress(Exception):  # the client went away
            self.server.protocol.notify(RUNS_CHANGED, {
                "workspaceFolder": project.folder.uri,
                "projectRoot": path_to_uri(project.root),
                "runId": project.run.run_id,
            })

    # -- flows --------------------------------------------------------------------------
    def flows(self, params: Any) -> dict[str, Any]:
        none: list[dict[str, Any]] = []
        return {"flows": self.server.guard("flowscribe/flows", self._flows, default=none)}

    def _flows(self) -> list[dict[str, Any]]:
        nav = self.server.navigation
        nodes: list[dict[str, Any]] = []
        for project in self.server.index.projects():
            markers: dict[str, list[lsp.Location]] = {}
            for _, m in nav.markers_in(project):
                markers.setdefault(m.flow_id, [])
            for fid in markers:
                markers[fid] = nav.marker_locations(project, fid)
            ids = list(project.catalog.flows)
            outcomes = project.run.outcomes or {}
            ids += sorted(f for f in set(outcomes) | set(markers) if f not in project.catalog)
            for fid in ids:
                nodes.append(self._node(project, fid, markers.get(fid, [])))
        return nodes

    def _node(self, project: Project, fid: str, markers: list[lsp.Location]) -> dict[str, Any]:
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
        last = None
        if outcome is not None and outcome.last_failure is not None:
            lf = outcome.last_failure
            target = project.resolve(lf.file) if lf.file else None
            inside = target is not None and self.server.index.in_workspace(target)
            last = {
                "errorClass": lf.error_class,
                "exceptionType": lf.exception_type,
                "reason": lf.reason,
                "file": lf.file,
                "uri": path_to_uri(target) if inside and target is not None else None,
                "line": lf.line,  # 1-based, as recorded
                "runId": project.run.run_id,
                "eventId": lf.event_id,
            }
        catalog = self.server.navigation.catalog_location(project, spec) if spec else None
        parent = spec.parent if spec is not None else (outcome.parent_flow if outcome else None)
        return {
            "id": fid,
            "parent": parent,
            "description": spec.description if spec is not None else "",
            "status": status,
            "catalogued": spec is not None,
            "counts": {
                "passed": outcome.passed if outcome else 0,
                "failed": outcome.failed if outcome else 0,
                "unfinished": outcome.unfinished if outcome else 0,
                "orphaned": outcome.orphaned if outcome else 0,
            },
            "p95Ms": outcome.p95_ms if outcome else None,
            "slaP95Ms": project.sla_ms(fid),
            "markers": [_location(loc) for loc in markers],
            "catalog": _location(catalog) if catalog is not None else None,
            "lastFailure": last,
            "runId": project.run.run_id,
            "workspaceFolder": project.folder.uri,
            "projectRoot": path_to_uri(project.root),
        }

    # -- runs ---------------------------------------------------------------------------
    async def runs(self, params: Any) -> dict[str, Any]:
        out: list[dict[str, Any]] = []
        for project in list(self.server.index.projects()):
            layout = RunLayout(project.autodev)
            try:
                infos = await self.server.in_worker(layout.list_runs)
            except Exception as exc:  # an unreadable runs folder: list the others
                self.server.log(f"listing runs in {project.autodev} failed: {exc}")
                continue
            out += [_run_info(project, info) for info in infos]
        out.sort(key=lambda r: (r["started"] or 0.0, r["runId"]), reverse=True)
        return {"runs": out}

    # -- events -------------------------------------------------------------------------
    async def flow_events(self, params: Any) -> dict[str, Any]:
        p = _params(params)
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
        trace, rid = self.trace_of(project, run_id)
        if trace is None:
            return {"events": [], "runId": rid}

        # Only lines holding the flow's (or instance's) id as the runtime encodes it are
        # parsed; each candidate is checked below (the text may sit in another field).
        needle = (field_marker("instance", instance) if instance is not None
                  else field_marker("flow_id", flow_id))

        def read() -> tuple[list[dict[str, Any]], int]:
            kept: deque[dict[str, Any]] = deque(maxlen=limit)
            total = 0
            for ev in iter_events(trace, contains=(needle,)):
                if ev.get("flow_id") != flow_id or (rid and ev.get("run_id") != rid):
                    continue
                if instance is not None and ev.get("instance") != instance:
                    continue
                total += 1
                kept.append(ev)
            return list(kept), total

        events, total = await self.server.in_worker(read)
        for ev in events:
            ev["uri"] = self._uri(project, ev.get("file"))
        return {"events": events, "runId": rid, "total": total, "truncated": total > len(events)}

    async def failure_prompt(self, params: Any) -> dict[str, Any]:
        p = _params(params)
        run_id, event_id = p.get("runId"), p.get("eventId")
        if not isinstance(event_id, str) or not event_id:
            return {"prompt": "", "error": "eventId is required"}
        for project in list(self.server.index.projects()):
            trace, rid = self.trace_of(project, run_id if isinstance(run_id, str) else None)
            if trace is None:
                continue
            found = await self.server.in_worker(_find_failure, trace, rid, event_id)
            if found is None:
                continue
            event, instance_events = found
            lines = None
            target = project.resolve(event.get("file") or "")
            if target is not None and self.server.index.in_workspace(target):
                lines = self.server.documents.text_lines(target)
            prompt = render_failure_prompt(event, instance_events, project, lines)
            return {"prompt": prompt, "runId": rid, "eventId": event_id}
        return {"prompt": "", "error": f"event {event_id} not found"}

    # -- helpers ------------------------------------------------------------------------
    def _project_for(self, flow_id: str, folder: Any) -> Project | None:
        candidates = [p for p in self.server.index.projects()
                      if not isinstance(folder, str) or p.folder.uri == folder]
        for p in candidates:
            if flow_id in (p.run.outcomes or {}) or flow_id in p.catalog:
                return p
        return candidates[0] if candidates else None

    def trace_of(self, project: Project, run_id: str | None) -> tuple[Path | None, str | None]:
        """The trace holding ``run_id`` (default: the latest run) and the id to filter by."""
        if run_id is None or run_id == project.run.run_id:
            return project.run.trace, project.run.run_id
        layout = RunLayout(project.autodev)
        try:
            per_run = layout.run_dir(run_id) / "trace.jsonl"
        except ValueError:
            return None, run_id
        if per_run.is_file():
            return per_run, run_id
        return (layout.trace_path if layout.trace_path.is_file() else None), run_id

    def _uri(self, project: Project, file: Any) -> str | None:
        if not isinstance(file, str):
            return None
        target = project.resolve(file)
        if target is None or not self.server.index.in_workspace(target):
            return None
        return path_to_uri(target)


def _find_failure(trace: Path, run_id: str | None, event_id: str
                  ) -> tuple[dict[str, Any], list[dict[str, Any]]] | None:
    """The failure/exception ``event_id`` and the last events of its flow instance."""
    target = None
    # Substring prefilters on the encoded ids: only candidate lines are parsed (a large
    # trace costs a scan, not a json.loads per line); the fields are checked after.
    wanted = (field_marker("id", event_id),)
    for ev in iter_events(trace, types=("failure", "exception"), contains=wanted):
        if ev.get("id") == event_id and (run_id is None or ev.get("run_id") == run_id):
            target = ev
            break
    if target is None:
        return None
    instance = target.get("instance")
    recent: deque[dict[str, Any]] = deque(maxlen=30)
    if isinstance(instance, str):
        for ev in iter_events(trace, contains=(field_marker("instance", instance),)):
            if ev.get("instance") == instance and ev.get("run_id") == target.get("run_id"):
                recent.append(ev)
    return target, list(recent)


def _params(params: Any) -> Mapping[str, Any]:
    if isinstance(params, Mapping):
        return params
    if params is not None and hasattr(params, "_asdict"):
        return dict(params._asdict())
    return {}


def _location(loc: lsp.Location) -> dict[str, Any]:
    r = loc.range
    return {"uri": loc.uri, "range": {
        "start": {"line": r.start.line, "character": r.start.character},
        "end": {"line": r.end.line, "character": r.end.character}}}


def _run_info(project: Project, info: RunInfo) -> dict[str, Any]:
    def uri(p: Path | None) -> str | None:
        return path_to_uri(p) if p is not None else None

    verdicts = dict(info.verdicts)
    snapshot = project.run
    if snapshot.run_id == info.run_id and snapshot.verdicts:
        # The run the index has aggregated: its counts, orphans included, are those of
        # summary.md and of the Flows view (one fold, the runtime's RunAggregate).
        verdicts = dict(snapshot.verdicts)
    return {
        "runId": info.run_id,
        "started": info.started,
        "ended": info.ended,
        "app": info.app,
        "mode": info.mode,
        "verdicts": verdicts,
        "artifacts": {k: uri(v) for k, v in info.artifacts.items()},
        "isLatest": info.is_latest,
        "testRun": info.test_run,
        "workspaceFolder": project.folder.uri,
        "projectRoot": path_to_uri(project.root),
    }

