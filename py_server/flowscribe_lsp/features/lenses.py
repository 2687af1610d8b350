"""``textDocument/codeLens``: each flow marker shows that flow's latest outcome.

``orders/submit  ✓ 12  ✗ 2  p95 840 ms (SLA 1000)  last: EXTERNAL.TIMEOUT`` above
``with session.flow("orders/submit")``, or ``no runs yet``. Clicking a lens runs the
command the client can run: the VS Code extension's
``flowscribe.revealFlow`` (the flow in its sidebar), for any other the server's own
``flowscribe.showFlow``. A client that runs ``flowscribe.showTimeline`` gets a second lens
beside it, ``timeline``: the Run Timeline filtered to that flow. Lenses come from the
cached marker scan and the latest run's snapshot, so they cost a lookup; when a run
changes, the server asks the client to refresh them (``workspace/codeLens/refresh``), at
most twice a second.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING

from lsprotocol import types as lsp

from ..documents import range_of
from ..paths import uri_to_path
from ..protocol import REVEAL_FLOW, SHOW_FLOW, SHOW_TIMELINE
from ..wording import outcome_text
from . import Feature

if TYPE_CHECKING:
    from ..index import Project
    from ..server import FlowscribeServer
    from ..trace_index import RunSnapshot

__all__ = ["Lenses"]

REFRESH_EVERY_S = 0.5


class Lenses(Feature):
    """Code lenses over marker calls."""

    def __init__(self, server: FlowscribeServer) -> None:
        super().__init__(server)
        self._refresh_pending = False
        self._cache: dict[str, tuple[tuple[object, ...], list[lsp.CodeLens]]] = {}
        server.handle(lsp.TEXT_DOCUMENT_CODE_LENS, lsp.CodeLensOptions(resolve_provider=False))(
            self.code_lens)

    def code_lens(self, params: lsp.CodeLensParams) -> list[lsp.CodeLens]:
        return self.server.guard("code lenses", self._lenses, params.text_document.uri,
                                 default=[])

    def _lenses(self, uri: str) -> list[lsp.CodeLens]:
        path = uri_to_path(uri)
        if not self.server.settings_for(path).lenses_enabled:
            return []
        scan = self.server.documents.markers(uri)
        if path is None or scan is None or not scan.markers:
            return []
        project = self.server.index.project_for(path)
        # Same document version, same run snapshot and catalog: the same lenses. The key
        # holds the objects themselves, not their id()s: a freed snapshot's id can be reused.
        key = (scan, project.run, project.catalog, project.config) \
            if project is not None else (scan,)
        hit = self._cache.get(uri)
        if hit is not None and len(hit[0]) == len(key) and all(
                a is b for a, b in zip(hit[0], key)):
            return hit[1]
        lines = self.server.documents.lines(uri) or []
        codec = self.server.documents.codec
        texts: dict[str, str] = {}
        timeline = SHOW_TIMELINE in self.server.settings.client_commands
        folder = project.folder.uri if project is not None else None
        out = []
        for m in scan.markers:
            text = texts.get(m.flow_id)
            if text is None:
                text = texts[m.flow_id] = f"{m.flow_id}  {outcome_text(project, m.flow_id)}"
            where = range_of(lines, m.call_line, m.call_col, m.call_col, codec)
            out.append(lsp.CodeLens(range=where, command=self._command(text, m.flow_id, uri)))
            if timeline:
                out.append(lsp.CodeLens(range=where, command=lsp.Command(
                    title="$(graph-line) timeline", command=SHOW_TIMELINE,
                    arguments=[{"flow": m.flow_id, "workspaceFolder": folder}])))
        self._cache[uri] = (key, out)
        return out

    def _command(self, title: str, flow_id: str, uri: str) -> lsp.Command:
        if REVEAL_FLOW in self.server.settings.client_commands:
            return lsp.Command(title=title, command=REVEAL_FLOW, arguments=[flow_id])
        return lsp.Command(title=title, command=SHOW_FLOW, arguments=[flow_id, uri])

    # -- hooks --------------------------------------------------------------------------
    def run_changed(self, project: Project, old: RunSnapshot, new: RunSnapshot) -> None:
        new_run = old.run_id != new.run_id or old.generation != new.generation
        if new_run or old.outcomes != new.outcomes:
            self.refresh()

    def workspace_changed(self) -> None:
        self.refresh()

    def document_closed(self, uri: str) -> None:
        self._cache.pop(uri, None)

    def refresh(self) -> None:
        """Ask the client to re-request lenses (coalesced; only if it supports it)."""
        if self._refresh_pending or not self._supported():
            return
        self._refresh_pending = True
        try:
            asyncio.get_running_loop().call_later(REFRESH_EVERY_S, self._send)
        except RuntimeError:
            self._refresh_pending = False

    def _send(self) -> None:
        self._refresh_pending = False
        with contextlib.suppress(Exception):  # the client went away
            self.server.workspace_code_lens_refresh(None)

    def _supported(self) -> bool:
        try:
            ws = self.server.client_capabilities.workspace
        except (AttributeError, RuntimeError):
            return False
        cl = ws.code_lens if ws is not None else None
        return bool(cl and cl.refresh_support)
