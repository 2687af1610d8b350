"""Flows as symbols.

* ``textDocument/documentSymbol`` for flows.yaml: one symbol (kind ``Event``) per flow;
* ``workspace/symbol``: flows across every folder's catalog (fuzzy match), and flows only
  code names.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lsprotocol import types as lsp

from ..documents import range_of
from ..paths import uri_to_path
from . import Feature

if TYPE_CHECKING:
    from ..server import FlowscribeServer

__all__ = ["Symbols"]

#: Workspace symbols answered at most (a client asks on every keystroke).
MAX_SYMBOLS = 500
MAX_DETAIL = 200


class Symbols(Feature):
    """Document and workspace symbols for flows."""

    def __init__(self, server: FlowscribeServer) -> None:
        super().__init__(server)
        server.handle(lsp.TEXT_DOCUMENT_DOCUMENT_SYMBOL)(self.document_symbols)
        server.handle(lsp.WORKSPACE_SYMBOL)(self.workspace_symbols)

    def document_symbols(self, params: lsp.DocumentSymbolParams) -> list[lsp.DocumentSymbol] | None:
        path = uri_to_path(params.text_document.uri)
        project = self.server.index.project_of_file(path) if path is not None else None
        if project is None or path != project.flows_yaml:
            return None
        lines = self.server.documents.lines(params.text_document.uri) or []
        codec = self.server.documents.codec
        out = []
        for spec in project.catalog:
            if not spec.id_line:
                continue
            sel = self.server.queries.catalog_location(project, spec)
            first = max(min(spec.line or spec.id_line, spec.id_line) - 1, 0)
            last = spec.end_line - 1 if spec.end_column > 1 else spec.end_line - 2
            last = min(max(last, spec.id_line - 1), max(len(lines) - 1, 0))
            end_col = len(lines[last]) if last < len(lines) else 0
            full = lsp.Range(start=lsp.Position(line=first, character=0),
                             end=range_of(lines, last, 0, end_col, codec).end)
            out.append(lsp.DocumentSymbol(
                name=spec.id, kind=lsp.SymbolKind.Event,
                detail=(spec.description or "")[:MAX_DETAIL] or None,
                range=full, selection_range=sel.range if sel is not None else full))
        return out

    def workspace_symbols(self, params: lsp.WorkspaceSymbolParams
                          ) -> list[lsp.SymbolInformation]:
        q = self.server.queries
        query = params.query.lower()
        out: list[lsp.SymbolInformation] = []
        for project in self.server.index.projects():
            seen = set()
            for spec in project.catalog:
                if not _fuzzy(query, spec.id.lower()):
                    continue
                loc = q.catalog_location(project, spec)
                if loc is not None:
                    seen.add(spec.id)
                    out.append(lsp.SymbolInformation(
                        name=spec.id, kind=lsp.SymbolKind.Event, location=loc,
                        container_name=spec.parent or "flows.yaml"))
            for path, m in q.markers_in(project):
                if m.flow_id in seen or not _fuzzy(query, m.flow_id.lower()):
                    continue
                seen.add(m.flow_id)
                out.append(lsp.SymbolInformation(
                    name=m.flow_id, kind=lsp.SymbolKind.Event,
                    location=q.marker_location(path, m), container_name="not in flows.yaml"))
            if len(out) >= MAX_SYMBOLS:
                break
        return out[:MAX_SYMBOLS]


def _fuzzy(query: str, text: str) -> bool:
    """True if the characters of ``query`` appear in ``text`` in order."""
    it = iter(text)
    return all(ch in it for ch in query)
