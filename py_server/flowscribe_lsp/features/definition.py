"""``textDocument/definition`` and ``textDocument/references`` for flow ids.

* definition: from a flow id in code (or a ``parent:`` in flows.yaml) to its flows.yaml
  entry;
* references: from a flow id (in flows.yaml or code) to every marker naming it, plus the
  catalog entry when the client asks for the declaration.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lsprotocol import types as lsp

from . import Feature

if TYPE_CHECKING:
    from ..server import FlowscribeServer

__all__ = ["Definitions"]


class Definitions(Feature):
    """Go to a flow's catalog entry; find every marker naming it."""

    def __init__(self, server: FlowscribeServer) -> None:
        super().__init__(server)
        server.handle(lsp.TEXT_DOCUMENT_DEFINITION)(self.definition)
        server.handle(lsp.TEXT_DOCUMENT_REFERENCES)(self.references)

    def definition(self, params: lsp.DefinitionParams) -> list[lsp.Location] | None:
        q = self.server.queries
        ref = self.server.guard("definition", q.flow_at, params.text_document.uri,
                                params.position, default=None)
        if ref is None:
            return None
        spec = ref.project.catalog.get(ref.flow_id)
        loc = q.catalog_location(ref.project, spec) if spec is not None else None
        return [loc] if loc is not None else None

    def references(self, params: lsp.ReferenceParams) -> list[lsp.Location] | None:
        q = self.server.queries
        ref = self.server.guard("references", q.flow_at, params.text_document.uri,
                                params.position, default=None)
        if ref is None:
            return None
        locs = q.marker_locations(ref.project, ref.flow_id)
        spec = ref.project.catalog.get(ref.flow_id)
        if params.context.include_declaration and spec is not None:
            decl = q.catalog_location(ref.project, spec)
            if decl is not None:
                locs.insert(0, decl)
        return locs
