"""The server's features, and the hooks through which they hear what happened.

Each feature registers its own handlers when it is created and overrides the hooks of
:class:`Feature` it cares about; the server calls every feature's hook in turn (a hook
that raises is logged and the others still run). Features never call each other: what
several need is in :mod:`flowscribe_lsp.queries`, :mod:`flowscribe_lsp.protocol` and
:mod:`flowscribe_lsp.publishing`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lsprotocol import types as lsp

    from ..index import Project
    from ..server import FlowscribeServer
    from ..trace_index import RunSnapshot

__all__ = ["Feature"]


class Feature:
    """A language feature (the model is esbonio's ``LanguageFeature``)."""

    def __init__(self, server: FlowscribeServer) -> None:
        self.server = server

    def reset(self) -> None:
        """The workspace index was rebuilt: forget per-project state."""

    def run_changed(self, project: Project, old: RunSnapshot, new: RunSnapshot) -> None:
        """A project's latest run was replaced or grew."""

    def workspace_changed(self) -> None:
        """Catalogs, code, folders or settings changed: anything shown may be out of date."""

    def refreshed(self) -> None:
        """A pass of the refresh loop ended (every poll): for what no snapshot holds."""

    def document_edited(self, params: lsp.DidChangeTextDocumentParams) -> None:
        """An open document changed (before its diagnostics are recomputed)."""

    def document_closed(self, uri: str) -> None:
        """A document was closed."""
