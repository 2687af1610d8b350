"""``textDocument/completion``: flow ids inside a marker call's string, and after
``parent:`` in flows.yaml (trigger characters ``"`` ``'`` ``/``)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from lsprotocol import types as lsp

from ..documents import char_index, range_of
from ..markers import completion_prefix
from ..paths import uri_to_path
from . import Feature

if TYPE_CHECKING:
    from ..server import FlowscribeServer

__all__ = ["Completion"]

_PARENT_PREFIX = re.compile(r"""^\s*(?:-\s*)?parent\s*:\s*["']?(?P<typed>[^"'\s#]*)$""")
#: Characters of a description shown beside an id.
MAX_DETAIL = 200


class Completion(Feature):
    """Flow-id completion in code and in flows.yaml."""

    def __init__(self, server: FlowscribeServer) -> None:
        super().__init__(server)
        server.handle(
            lsp.TEXT_DOCUMENT_COMPLETION,
            lsp.CompletionOptions(trigger_characters=['"', "'", "/"]),
        )(self.completion)

    def completion(self, params: lsp.CompletionParams) -> lsp.CompletionList | None:
        return self.server.guard("completion", self._completion, params, default=None)

    def _completion(self, params: lsp.CompletionParams) -> lsp.CompletionList | None:
        uri = params.text_document.uri
        path = uri_to_path(uri)
        docs = self.server.documents
        lines = docs.lines(uri) if path is not None else None
        if path is None or lines is None or not 0 <= params.position.line < len(lines):
            return None
        text = lines[params.position.line]
        col = char_index(lines, params.position, docs.codec)
        index = self.server.index
        catalog_of = index.project_of_file(path)
        project = catalog_of if catalog_of is not None else index.project_for(path)
        if project is None:
            return None
        if catalog_of is not None and path == catalog_of.flows_yaml:
            m = _PARENT_PREFIX.match(text[:col])
            if m is None:
                return None
            start = m.start("typed")
        elif path.suffix == ".py":
            hit = completion_prefix(text, col, self.server.settings_for(path).markers)
            if hit is None:
                return None
            start = hit[0]
        else:
            return None
        rng = range_of(lines, params.position.line, start, col, docs.codec)
        items = []
        # The last catalog that parsed: ids stay on offer while flows.yaml is mid-edit.
        catalog = project.good_catalog
        for fid in sorted(self.server.queries.known_ids(project) | set(catalog.flows)):
            spec = catalog.get(fid)
            detail = spec.description if spec is not None else "not in flows.yaml"
            if spec is not None and not spec.enabled:
                detail = f"(disabled) {detail}"
            items.append(lsp.CompletionItem(
                label=fid, kind=lsp.CompletionItemKind.Value, detail=detail[:MAX_DETAIL],
                text_edit=lsp.TextEdit(range=rng, new_text=fid)))
        return lsp.CompletionList(is_incomplete=False, items=items)
