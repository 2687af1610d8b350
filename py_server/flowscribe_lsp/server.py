"""The flowscribe language server: lifecycle, the index worker and the refresh loop.

Three kinds of work, kept apart so that cheap requests never wait on indexing:

* **Requests** (hover, lenses, completion ...) run on the event loop and read snapshots:
  ``Project.run``, ``Project.catalog``, ``Folder.code``, cached marker scans.
* **Indexing** (reading traces, walking the workspace) runs on one worker thread, in
  bounded steps, and hands back immutable snapshots.
* **The refresh loop** wakes on file-watch events from the client, on edits, or every
  :data:`POLL_S` seconds (the polling fallback), asks the worker for what changed, swaps
  the snapshots in, and publishes: diagnostics, lens refreshes, ``flowscribe/runsChanged``.

Bad input never stops the server: every step is guarded, and what was skipped is counted
in the log (``window/logMessage``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, BinaryIO, TypeVar

from lsprotocol import types as lsp
from pygls.io_ import StdoutWriter
from pygls.lsp.server import LanguageServer

from . import __version__
from .documents import Documents
from .features import Feature
from .features.agent_tools import AgentTools
from .features.catalog_checks import CatalogChecks
from .features.code_actions import CodeActions
from .features.commands import Commands
from .features.completion import Completion
from .features.definition import Definitions
from .features.diagnostics import Diagnostics
from .features.failure_prompt import FailurePrompt
from .features.flow_events import FlowEvents
from .features.flow_graph import FlowGraph
from .features.flows_view import FlowsView
from .features.hover import Hover
from .features.latency_fold import LatencyFolds
from .features.lenses import Lenses
from .features.run_compare import RunCompare
from .features.run_fold import RunFolds
from .features.runs_view import RunsView
from .features.symbols import Symbols
from .features.timeline import Timeline
from .index import Project, WorkspaceIndex, read_project_files
from .lifecycle import Lifecycle
from .paths import uri_to_path
from .publishing import Publisher
from .queries import Queries
from .rpc import FlowscribeProtocol, serve
from .settings import Settings, parse_settings
from .trace_index import RunSnapshot
from .watch import Watcher

__all__ = ["FlowscribeServer", "create_server", "run"]

log = logging.getLogger("flowscribe_lsp")
T = TypeVar("T")

#: The polling fallback: how often traces and catalogs are checked without a watch event.
POLL_S = 0.25
#: How long the outcome pass may hold the worker per step (lets the findings pass and
#: other projects in between on a very large trace).
OUTCOME_STEP_S = 0.25
#: How long a request waits for the index's shape after start-up at most.
READY_WAIT_S = 10.0
#: Up to this many bytes left for the outcome pass, it runs before publishing.
SMALL_BACKLOG = 1 << 20
#: How long the start waits for the client's per-folder settings at most.
SETTINGS_WAIT_S = 2.0
#: How often the workspace's Python files and nested projects are re-walked when the
#: client does not watch files for us.
RESCAN_S = 5.0


class FlowscribeServer(LanguageServer):
    """The server: shared state, the worker, the refresh loop, and the features."""

    def __init__(self) -> None:
        super().__init__(
            "flowscribe",
            __version__,
            text_document_sync_kind=lsp.TextDocumentSyncKind.Incremental,
            protocol_cls=FlowscribeProtocol,
        )
        self.settings = Settings()
        self.index = WorkspaceIndex()
        self.documents = Documents(self)
        self.worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="flowscribe-index")
        self.started = False
        self._wake: asyncio.Event | None = None
        self._ready: asyncio.Event | None = None
        self._loop_task: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Future[None]] = set()
        self._refresh_lock: asyncio.Lock | None = None
        self._last_rescan = 0.0
        self._pending_docs: dict[str, asyncio.TimerHandle] = {}
        self._dirty_code: set[Path] = set()
        self.folders: list[tuple[str, Path]] = []
        self.queries = Queries(self.index, self.documents)
        self.publisher = Publisher(self)
        self.watcher = Watcher(self)
        self.lifecycle = Lifecycle(self)

        diagnostics, catalog_checks = Diagnostics(self), CatalogChecks(self)
        self.publisher.sources = [diagnostics, catalog_checks]
        # The timeline and the flow picture share one fold of the run; the hover and the
        # timeline one fold of its flow durations.
        run_folds, latency_folds = RunFolds(), LatencyFolds()
        self.features: list[Feature] = [
            diagnostics, catalog_checks, CodeActions(self), Lenses(self),
            Hover(self, latency_folds), Definitions(self), Completion(self), Symbols(self),
            Commands(self), FlowsView(self),
            RunsView(self), RunCompare(self), FlowEvents(self), FailurePrompt(self),
            Timeline(self, run_folds, latency_folds), FlowGraph(self, run_folds),
            AgentTools(self),
        ]

    # -- plumbing ------------------------------------------------------------------------
    def start_io(self, stdin: BinaryIO | None = None, stdout: BinaryIO | None = None) -> None:
        """Serve over stdio until the client goes or sends ``exit``. The messages are read
        by :func:`rpc.serve` (framing limits, envelope checks), not pygls' loop."""
        self._stop_event = threading.Event()
        self.protocol.set_writer(StdoutWriter(stdout or sys.stdout.buffer))
        assert isinstance(self.protocol, FlowscribeProtocol)
        try:
            asyncio.run(serve(stdin or sys.stdin.buffer, self.protocol, self._stop_event))
        except BrokenPipeError:
            log.error("the client's pipe closed: stopping")
        except (KeyboardInterrupt, SystemExit):
            pass
        finally:
            self.shutdown()  # type: ignore[no-untyped-call]  # pygls: untyped

    def log(self, message: str, level: lsp.MessageType = lsp.MessageType.Info) -> None:
        """A line in the client's output (``window/logMessage``) and in stderr."""
        log.log(logging.WARNING if level <= lsp.MessageType.Warning else logging.INFO, message)
        with contextlib.suppress(Exception):  # no client to tell (shutting down)
            self.window_log_message(lsp.LogMessageParams(type=level, message=message))

    async def in_worker(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn`` on the index worker thread."""
        return await asyncio.get_running_loop().run_in_executor(self.worker, fn, *args)

    def handle(self, method: str, options: Any = None) -> Callable[[Callable[..., Any]], None]:
        """Register a bound method as the handler of ``method`` (pygls sets attributes on
        handlers, which bound methods cannot take, so it gets a plain function)."""

        def register(handler: Callable[..., Any]) -> None:
            is_async = asyncio.iscoroutinefunction(handler)

            async def run(params: Any) -> Any:
                # Requests right after `initialized` wait for the workspace's shape and
                # catalogs (fast), never for traces or the code scan.
                if self._ready is not None and not self._ready.is_set():
                    # Bounded: a client that never sends `initialized` still gets answers.
                    with contextlib.suppress(asyncio.TimeoutError):
                        await asyncio.wait_for(self._ready.wait(), READY_WAIT_S)
                return await handler(params) if is_async else handler(params)

            self.feature(method, options)(run)

        return register

    def each_feature(self, hook: str, *args: Any) -> None:
        """Call every feature's ``hook`` (a :class:`Feature` method); one that raises is
        logged and the others still run."""
        for feature in self.features:
            self.guard(f"{type(feature).__name__}.{hook}", getattr(feature, hook), *args,
                       default=None)

    def workspace_changed(self) -> None:
        """Catalogs, code or settings changed: republish everything, tell every feature."""
        self.publisher.publish()
        self.each_feature("workspace_changed")

    def wake(self) -> None:
        """Run the refresh loop now rather than at the next poll."""
        if self._wake is not None:
            self._wake.set()

    def guard(self, what: str, fn: Callable[..., T], *args: Any, default: T) -> T:
        """Call ``fn``; on any error log it and return ``default``: a feature's bug or a bad
        file must not take the server down."""
        try:
            return fn(*args)
        except Exception as exc:  # see docstring
            log.exception("%s failed", what)
            self.log(f"{what} failed: {type(exc).__name__}: {exc}", lsp.MessageType.Error)
            return default

    # -- the workspace ------------------------------------------------------------------
    def set_folders(self, folders: list[tuple[str, Path]]) -> None:
        self.folders = folders

    def expect_start(self) -> None:
        """After ``initialize``: requests wait for the index's shape until it has one (a
        second initialize is refused by the protocol, so this runs once)."""
        self._ready = asyncio.Event()

    async def rebuild(self) -> None:
        """(Re)discover projects and read everything: at start-up, when folders or the
        artifacts setting change."""
        assert self._refresh_lock is not None and self._ready is not None
        async with self._refresh_lock:
            self._ready.clear()
            try:
                per_folder = await self._folder_settings()
                await self.in_worker(self.index.build, [
                    (uri, path, per_folder[uri]) for uri, path in self.folders])
                # A round trip to the client, so it must not delay the first reads; and
                # again after a rebuild (a folder may name another artifacts folder).
                self._tasks.add(asyncio.ensure_future(self.watcher.register()))
                self.documents.reset()
                self.each_feature("reset")
                for project in list(self.index.projects()):
                    await self._load_files(project)
            finally:
                self._ready.set()
            for project in self.index.projects():
                await self._refresh_run(project)
            self.workspace_changed()  # the failures are out before the code walk
            for folder in self.index.folders.values():
                await self._scan_code(folder, None)
            self._last_rescan = time.monotonic()
            self.workspace_changed()  # the flows now have their markers

    async def _load_files(self, project: Project) -> bool:
        """Re-read the project's flows.yaml/ra.yaml if they changed: parsed on the worker
        (a big file must not hold up requests), swapped in here. True if anything did."""
        buffers = self.documents.open_buffers()
        try:
            files = await self.in_worker(read_project_files, project, buffers)
        except Exception as exc:  # a bad file must not stop the loop
            log.exception("reading flows.yaml/ra.yaml failed")
            self.log(f"reading flows.yaml/ra.yaml of {project.autodev} failed: "
                     f"{type(exc).__name__}: {exc}", lsp.MessageType.Error)
            return False
        if files is None:
            return False
        project.apply_files(files)
        return True

    async def _scan_code(self, folder: Any, only: set[Path] | None) -> None:
        code_index = folder.code_index

        def step() -> Any:
            changed = code_index.rescan(only)
            return changed, code_index.snapshot()

        try:
            changed, snap = await self.in_worker(step)
        except Exception as exc:  # a walk error must not stop the loop
            self.log(f"scanning {folder.path} failed: {exc}", lsp.MessageType.Warning)
            return
        if changed or not folder.code_ready:
            folder.code = snap
            folder.code_ready = True
            if code_index.truncated:
                self.log(f"{folder.path}: more Python files than the server indexes; "
                         "references may be incomplete", lsp.MessageType.Warning)

    async def _refresh_run(self, project: Project) -> None:
        trace = project.trace

        def findings() -> tuple[RunSnapshot | None, bool]:
            changed = trace.read_findings()
            # A little to aggregate (a small trace, a few appended events): do it now, so
            # one publish carries everything. A backlog waits for its own steps, after
            # the failures are out.
            if trace.outcomes_pending and trace.outcome_backlog <= SMALL_BACKLOG:
                changed = trace.read_outcomes(OUTCOME_STEP_S) or changed
            return (trace.snapshot() if changed else None), trace.outcomes_pending

        def outcomes() -> tuple[RunSnapshot | None, bool]:
            changed = trace.read_outcomes(OUTCOME_STEP_S)
            return (trace.snapshot() if changed else None), trace.outcomes_pending

        for step in (findings, outcomes):
            try:
                snap, pending = await self.in_worker(step)
            except Exception as exc:  # a bad trace must not stop the loop
                log.exception("reading the trace failed")
                self.log(f"reading {project.autodev} failed: {type(exc).__name__}: {exc}",
                         lsp.MessageType.Error)
                return
            if snap is not None:
                self._apply_run(project, snap)
            if not pending:
                return
        self.wake()

    def _apply_run(self, project: Project, snap: RunSnapshot) -> None:
        old = project.run
        project.run = snap
        self.each_feature("run_changed", project, old, snap)
        self._log_skipped(project, old, snap)

    def _log_skipped(self, project: Project, old: RunSnapshot, snap: RunSnapshot) -> None:
        before = sum(old.skipped.values()) if old.generation == snap.generation else 0
        now = sum(snap.skipped.values())
        if now > before:
            detail = ", ".join(f"{k} {v}" for k, v in sorted(snap.skipped.items()))
            self.log(f"{snap.trace or project.autodev}: skipped {now} bad trace line(s) "
                     f"({detail})", lsp.MessageType.Warning)
        if snap.sites_dropped and snap.sites_dropped != old.sites_dropped:
            self.log(f"{snap.trace}: {snap.sites_dropped} failure(s) at sites beyond the "
                     "first 5000 are counted but not shown", lsp.MessageType.Warning)

    async def refresh(self) -> None:
        """One pass of the refresh loop."""
        assert self._refresh_lock is not None
        async with self._refresh_lock:
            catalogs_changed = False
            for project in list(self.index.projects()):
                catalogs_changed = await self._load_files(project) or catalogs_changed
            for project in list(self.index.projects()):
                await self._refresh_run(project)
            now = time.monotonic()
            dirty, self._dirty_code = self._dirty_code, set()
            rescan = not self.watcher.watches_code and now - self._last_rescan > RESCAN_S
            if rescan:
                self._last_rescan = now
                await self._discover_projects()
            code_before = {u: f.code for u, f in self.index.folders.items()}
            for folder in self.index.folders.values():
                mine = {p for p in dirty if self.index.folder_for(p) is folder}
                if rescan:
                    await self._scan_code(folder, None)
                elif mine:
                    await self._scan_code(folder, mine)
            code_changed = any(f.code is not code_before.get(u)
                               for u, f in self.index.folders.items())
            if catalogs_changed or code_changed:
                self.workspace_changed()
            self.each_feature("refreshed")

    async def _discover_projects(self) -> None:
        for folder in self.index.folders.values():
            added = await self.in_worker(self.index.add_projects, folder)
            folder.projects = (*folder.projects, *added)
            for project in added:
                await self._load_files(project)
                self.log(f"found flowscribe artifacts in {project.autodev}")

    def code_changed(self, paths: set[Path]) -> None:
        """Python files changed on disk (watch events): re-read them soon."""
        self._dirty_code |= paths
        self.wake()

    async def _loop(self) -> None:
        assert self._wake is not None
        while True:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._wake.wait(), POLL_S)
            self._wake.clear()
            try:
                await self.refresh()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the loop must survive anything
                log.exception("refresh failed")
                self.log(f"refresh failed: {type(exc).__name__}: {exc}", lsp.MessageType.Error)

    async def start(self) -> None:
        """After ``initialized``: build the index, then keep it fresh."""
        self._wake = asyncio.Event()
        self._refresh_lock = asyncio.Lock()
        if self._ready is None:
            self._ready = asyncio.Event()
        self.started = True
        for problem in self.settings.problems:
            self.log(f"settings: {problem}", lsp.MessageType.Warning)
        await self.rebuild()
        self._loop_task = asyncio.ensure_future(self._loop())

    def stop(self) -> None:
        if self._loop_task is not None:
            self._loop_task.cancel()
        self.worker.shutdown(wait=False, cancel_futures=True)

    # -- settings -----------------------------------------------------------------------
    def settings_for(self, path: Path | None) -> Settings:
        """The settings of the workspace folder holding ``path`` (else the window's)."""
        folder = self.index.folder_for(path) if path is not None else None
        return folder.settings if folder is not None else self.settings

    async def _folder_settings(self) -> dict[str, Settings]:
        """Each folder's settings: the window's, overlaid with what the client answers for
        the folder (``workspace/configuration`` with its ``scopeUri``) when it can."""
        out = {uri: self.settings for uri, _ in self.folders}
        if not self.folders or not self.watcher.can_pull_configuration:
            return out
        items = [lsp.ConfigurationItem(scope_uri=uri, section="flowscribe")
                 for uri, _ in self.folders]
        try:
            pulled = await asyncio.wait_for(self.workspace_configuration_async(
                lsp.ConfigurationParams(items=items)), SETTINGS_WAIT_S)
        except Exception as exc:  # a client that cannot (or does not) answer
            self.log(f"workspace/configuration failed: {type(exc).__name__}: {exc}",
                     lsp.MessageType.Warning)
            return out
        for (uri, path), raw in zip(self.folders, pulled or []):
            settings = parse_settings(raw, self.settings)
            for problem in settings.problems:
                self.log(f"settings of {path.name}: {problem}", lsp.MessageType.Warning)
            out[uri] = settings
        return out

    async def apply_settings(self, settings: Settings) -> None:
        """New window settings (and each folder's, pulled again): re-index what they
        change the shape of, republish the rest."""
        self.settings = settings
        for problem in settings.problems:
            self.log(f"settings: {problem}", lsp.MessageType.Warning)
        if not self.started:
            return
        per_folder = await self._folder_settings()
        folders = self.index.folders
        if any(uri not in folders or _shape(folders[uri].settings) != _shape(s)
               for uri, s in per_folder.items()):
            await self.rebuild()
            return
        changed = False
        for uri, s in per_folder.items():
            if folders[uri].settings != s:
                folders[uri].settings = s
                changed = True
        if changed:
            self.workspace_changed()

    # -- documents ----------------------------------------------------------------------
    def document_changed(self, uri: str, delay: float = 0.15) -> None:
        """An open document changed: re-check it shortly (edits come in bursts)."""
        handle = self._pending_docs.pop(uri, None)
        if handle is not None:
            handle.cancel()
        loop = asyncio.get_running_loop()
        self._pending_docs[uri] = loop.call_later(delay, self._document_settled, uri)

    def _document_settled(self, uri: str) -> None:
        self._pending_docs.pop(uri, None)
        path = uri_to_path(uri)
        if path is not None and self.index.project_of_file(path) is not None:
            self.wake()  # flows.yaml / ra.yaml: the refresh loop reloads and republishes
            return
        self.guard("publishing diagnostics", self.publisher.publish, {uri}, default=None)


def _shape(settings: Settings) -> tuple[str, tuple[str, ...]]:
    """What settings change the index's shape with (the rest only what is shown)."""
    return settings.artifacts_dir, settings.markers


def create_server() -> FlowscribeServer:
    return FlowscribeServer()


def run() -> None:
    """Serve over stdio (``flowscribe lsp``, ``python -m flowscribe_lsp``)."""
    logging.basicConfig(stream=sys.stderr, level=logging.WARNING,
                        format="flowscribe-lsp %(levelname)s %(message)s")
    # The index worker thread competes with request handlers for the GIL; handing it
    # over every 1 ms (not 5) keeps requests quick while a large trace is read.
    sys.setswitchinterval(0.001)
    create_server().start_io()
