"""``flowscribe/runs`` and the ``flowscribe/runsChanged`` notification.

Every run of every project, newest first, with verdicts and artifact URIs (see
:class:`~flowscribe_lsp.protocol.RunInfo`); the notification tells the client a run
started, grew or ended, at most once a second per project.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flowscribe.runs import RunInfo as RunEntry
from flowscribe.runs import RunLayout

from ..paths import path_to_uri
from ..protocol import RUNS, RUNS_CHANGED, RunInfo, RunsChangedParams, RunsResult
from . import Feature

if TYPE_CHECKING:
    from ..index import Project
    from ..server import FlowscribeServer
    from ..trace_index import RunSnapshot

__all__ = ["RunsView"]

NOTIFY_EVERY_S = 1.0


class RunsView(Feature):
    """Answers ``flowscribe/runs``; sends ``flowscribe/runsChanged``."""

    def __init__(self, server: FlowscribeServer) -> None:
        super().__init__(server)
        self._notify_due: dict[Path, asyncio.TimerHandle] = {}
        self._last_sent: dict[Path, tuple[str | None, int, int, float | None, int]] = {}
        self._folders: dict[Path, frozenset[tuple[str, int]]] = {}
        server.handle(RUNS)(self.runs)

    # -- hooks --------------------------------------------------------------------------
    def run_changed(self, project: Project, old: RunSnapshot, new: RunSnapshot) -> None:
        self._changed([project], coalesce=True)

    def workspace_changed(self) -> None:
        self._changed(list(self.server.index.projects()), coalesce=False)

    def refreshed(self) -> None:
        # A run that never becomes the latest (a pytest session's) changes no snapshot:
        # its folder appearing, or gaining its artifacts, is what says the list changed.
        for project in list(self.server.index.projects()):
            folders = _run_folders(project.autodev / "runs")
            if self._folders.get(project.autodev, folders) != folders:
                self._last_sent.pop(project.autodev, None)
                self._changed([project], coalesce=True)
            self._folders[project.autodev] = folders

    # -- the notification ---------------------------------------------------------------
    def _changed(self, projects: list[Project], coalesce: bool) -> None:
        for p in projects:
            run = p.run
            state = (run.run_id, run.failures + run.exceptions, run.generation, run.ended,
                     sum(run.verdicts.values()))
            if coalesce and self._last_sent.get(p.autodev) == state:
                continue
            self._last_sent[p.autodev] = state
            if p.autodev in self._notify_due:
                continue
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:
                return
            self._notify_due[p.autodev] = loop.call_later(
                NOTIFY_EVERY_S if coalesce else 0, self._notify, p)

    def _notify(self, project: Project) -> None:
        self._notify_due.pop(project.autodev, None)
        params: RunsChangedParams = {
            "workspaceFolder": project.folder.uri,
            "projectRoot": path_to_uri(project.root),
            "runId": project.run.run_id,
        }
        with contextlib.suppress(Exception):  # the client went away
            self.server.protocol.notify(RUNS_CHANGED, params)

    # -- the request --------------------------------------------------------------------
    async def runs(self, params: Any) -> RunsResult:
        out: list[RunInfo] = []
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


def _run_info(project: Project, info: RunEntry) -> RunInfo:
    def uri(p: Path | None) -> str | None:
        return path_to_uri(p) if p is not None else None

    verdicts = dict(info.verdicts)
    snapshot = project.run
    if snapshot.run_id == info.run_id and snapshot.verdicts:
        # The run the index has aggregated: its counts, orphans included, are those of
        # summary.md and of the Flows view (one fold, the runtime's RunAggregate).
        verdicts = dict(snapshot.verdicts)
    arts = info.artifacts
    return {
        "runId": info.run_id,
        "started": info.started,
        "ended": info.ended,
        "app": info.app,
        "mode": info.mode,
        "verdicts": verdicts,
        "artifacts": {"summary": uri(arts.get("summary")), "ask": uri(arts.get("ask")),
                      "trace": uri(arts.get("trace"))},
        "isLatest": info.is_latest,
        "testRun": info.test_run,
        "workspaceFolder": project.folder.uri,
        "projectRoot": path_to_uri(project.root),
    }


def _run_folders(runs: Path) -> frozenset[tuple[str, int]]:
    """Each run folder's name and mtime (a file created in it changes it); empty when
    there is no readable runs folder."""
    try:
        with os.scandir(runs) as entries:
            return frozenset((e.name, e.stat(follow_symlinks=False).st_mtime_ns)
                             for e in entries if e.is_dir(follow_symlinks=False))
    except OSError:
        return frozenset()
