"""``workspace/executeCommand``: commands the server runs itself, so any client can use them.

A lens's command must be one the client can run. The VS Code extension implements
``flowscribe.revealFlow`` (the flow in its sidebar) and says so at ``initialize``
(``initializationOptions.clientCommands``, see :mod:`..settings`); every other client
(Neovim, Emacs, Helix ...) gets :data:`~flowscribe_lsp.protocol.SHOW_FLOW`, which the
server advertises in ``executeCommandProvider`` and carries out by asking the client to
open a location (``window/showDocument``): where the flow last failed in the latest run,
else its flows.yaml entry.

A location from a trace is untrusted: only an existing file inside the workspace is
opened, never as an external program (``external`` is never set).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lsprotocol import types as lsp

from ..documents import range_of
from ..paths import path_to_uri, uri_to_path
from ..protocol import SHOW_FLOW
from . import Feature

if TYPE_CHECKING:
    from ..index import Project
    from ..server import FlowscribeServer

__all__ = ["Commands"]


class Commands(Feature):
    """The server's own commands: :data:`SHOW_FLOW` (arguments ``[flowId, documentUri]``)."""

    def __init__(self, server: FlowscribeServer) -> None:
        super().__init__(server)

        # pygls sets attributes on command handlers, which a bound method cannot take,
        # and evaluates their annotations: Python 3.9 can evaluate no "X | None", and pygls
        # calls issubclass() on them, which 3.9's Any fails. A first parameter named `ls`
        # is where pygls puts the server, on every Python alike.
        @server.command(SHOW_FLOW)
        async def show_flow(ls: object, *args: object) -> object:
            return await self.show_flow(list(args))

    # -- flowscribe.showFlow ------------------------------------------------------------
    async def show_flow(self, args: list[Any]) -> lsp.Location | None:
        """Open where ``args[0]`` (a flow id) last failed, else its catalog entry; returns
        the location shown, or None with a message saying why."""
        location = self.server.guard("flowscribe.showFlow", self.location, args, default=None)
        if location is None:
            flow = args[0] if args and isinstance(args[0], str) else None
            self._tell(f"flowscribe: nothing to show for flow {flow!r}" if flow else
                       f"flowscribe: {SHOW_FLOW} expects [flowId, documentUri]")
            return None
        if not self._can_show_document():
            self._tell(f"flowscribe: {uri_to_path(location.uri)}:"
                       f"{location.range.start.line + 1}")
        else:
            try:
                await self.server.window_show_document_async(lsp.ShowDocumentParams(
                    uri=location.uri, take_focus=True, selection=location.range))
            except Exception as exc:  # the client refused or went away: say so, go on
                self.server.log(f"window/showDocument failed: {exc}", lsp.MessageType.Warning)
        return location

    def location(self, args: list[Any]) -> lsp.Location | None:
        """Where the flow named by ``args`` is best shown, or None."""
        if not args or not isinstance(args[0], str) or not args[0]:
            return None
        flow_id = args[0]
        project = self._project(args[1] if len(args) > 1 else None, flow_id)
        if project is None:
            return None
        return self._last_failure(project, flow_id) or self._catalog_entry(project, flow_id)

    def _project(self, uri: object, flow_id: str) -> Project | None:
        if uri is not None:
            # A document given must be a file: anything else is a bad argument, not "any
            # project" (which answered or not depending on how far the index had got).
            path = uri_to_path(uri) if isinstance(uri, str) else None
            return self.server.index.project_for(path) if path is not None else None
        # No document: the first project that knows the flow.
        for project in self.server.index.projects():
            outcomes = project.run.outcomes or {}
            if flow_id in outcomes or project.catalog.get(flow_id) is not None:
                return project
        return None

    def _last_failure(self, project: Project, flow_id: str) -> lsp.Location | None:
        outcomes = project.run.outcomes or {}
        outcome = outcomes.get(flow_id)
        last = outcome.last_failure if outcome is not None else None
        if last is None or not last.line or last.line < 1:
            return None
        path = self.server.queries.recorded_path(project, last.file)
        if path is None:
            return None
        lines = self.server.documents.text_lines(path) or []
        ln = last.line - 1
        if ln >= len(lines):
            return None
        text = lines[ln]
        start = len(text) - len(text.lstrip())
        # An empty selection at the statement: the cursor lands on it, nothing selected.
        return lsp.Location(uri=path_to_uri(path), range=range_of(
            lines, ln, start, start, self.server.documents.codec))

    def _catalog_entry(self, project: Project, flow_id: str) -> lsp.Location | None:
        spec = project.catalog.get(flow_id)
        if spec is None:
            return None
        return self.server.queries.catalog_location(project, spec)

    def _can_show_document(self) -> bool:
        try:
            window = self.server.client_capabilities.window
        except (AttributeError, RuntimeError):
            return False
        show = window.show_document if window is not None else None
        return bool(show and show.support)

    def _tell(self, message: str) -> None:
        try:
            self.server.window_show_message(
                lsp.ShowMessageParams(type=lsp.MessageType.Info, message=message))
        except Exception:  # no client to tell
            self.server.log(message)
