"""Publishing diagnostics: one notification per file, every source in it.

LSP replaces a file's diagnostics with each ``publishDiagnostics``, so the sources (the
run's failures, :data:`SOURCE_TRACE`; the catalog checks, :data:`SOURCE_CATALOG`) cannot
publish on their own: the server's :class:`Publisher` asks each source for its part,
sends only files whose diagnostics changed, and never files outside the workspace.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from lsprotocol import types as lsp

from .paths import path_to_uri, uri_to_path

if TYPE_CHECKING:
    from .server import FlowscribeServer

__all__ = ["SOURCE_CATALOG", "SOURCE_TRACE", "DiagnosticSource", "Publisher"]

SOURCE_TRACE = "flowscribe.trace"
SOURCE_CATALOG = "flowscribe.catalog"


class DiagnosticSource(Protocol):
    """A feature that contributes diagnostics."""

    def targets(self) -> set[Path]:
        """Every file this source may have diagnostics for now."""

    def diagnostics_for(self, path: Path) -> list[lsp.Diagnostic]:
        """This source's diagnostics for ``path``."""


class Publisher:
    """Merges the sources' diagnostics per file and publishes what changed."""

    def __init__(self, server: FlowscribeServer) -> None:
        self.server = server
        self.sources: list[DiagnosticSource] = []
        self._published: dict[str, list[lsp.Diagnostic]] = {}

    def compute(self, path: Path) -> list[lsp.Diagnostic]:
        """Every source's diagnostics for ``path`` (none when switched off or outside)."""
        if not self.server.settings_for(path).diagnostics_enabled:
            return []
        if not self.server.index.in_workspace(path):
            return []
        out: list[lsp.Diagnostic] = []
        for source in self.sources:
            none: list[lsp.Diagnostic] = []
            out += self.server.guard(f"diagnostics for {path}", source.diagnostics_for, path,
                                     default=none)
        return out

    def publish(self, uris: Iterable[str] | None = None) -> None:
        """Publish what changed: for ``uris``, or for every file (``None``)."""
        if uris is None:
            paths: set[Path] = set()
            for source in self.sources:
                paths |= self.server.guard("diagnostic targets", source.targets,
                                           default=set())
            paths.update(p for u in self._published if (p := uri_to_path(u)) is not None)
        else:
            paths = {p for u in uris if (p := uri_to_path(u)) is not None}
        self.publish_paths(paths)

    def publish_paths(self, paths: Iterable[Path]) -> None:
        """Recompute and publish, for these files, what changed."""
        for path in paths:
            uri = path_to_uri(path)
            diags = self.compute(path)
            if diags == self._published.get(uri, []):
                continue
            if diags:
                self._published[uri] = diags
            else:
                self._published.pop(uri, None)
            self.server.text_document_publish_diagnostics(
                lsp.PublishDiagnosticsParams(uri=uri, diagnostics=diags))
