"""Navigation between code and catalog.

* ``textDocument/definition``: from a flow id in code (or a ``parent:`` in flows.yaml) to
  its flows.yaml entry.
* ``textDocument/references``: from a flow id (in flows.yaml or code) to every marker.
* ``textDocument/completion``: flow ids inside a marker call's string, and after
  ``parent:`` in flows.yaml.
* ``textDocument/documentSymbol`` for flows.yaml: one symbol per flow.
* ``workspace/symbol``: flows across every folder's catalog (and flows only code names).

It also answers, for the other features, "which flow id is under the cursor" and "where
do markers name this flow".
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from lsprotocol import types as lsp

from flowscribe.catalog import FlowSpec

from ..documents import char_index, range_of
from ..markers import Marker, completion_prefix, string_at
from ..paths import path_to_uri, uri_to_path

if TYPE_CHECKING:
    from ..index import Project
    from ..server import FlowscribeServer

__all__ = ["FlowRef", "Navigation"]

_YAML_TOKEN = re.compile(r"""[^\s"'\[\],{}#:]+(?::[^\s"'\[\],{}#:]+)*""")
_PARENT_PREFIX = re.compile(r"""^\s*(?:-\s*)?parent\s*:\s*["']?(?P<typed>[^"'\s#]*)$""")
MAX_SYMBOLS = 500


@dataclass(frozen=True)
class FlowRef:
    """A flow id found at a position."""

    project: Project
    flow_id: str
    path: Path
    line: int
    start: int  # code points
    end: int
    #: "marker" (a marker call in code), "string" (another literal in code), "catalog".
    kind: str


class Navigation:
    """Definition, references, completion and symbols; and flow-id lookups for others."""

    def __init__(self, server: FlowscribeServer) -> None:
        self.server = server
        server.handle(lsp.TEXT_DOCUMENT_DEFINITION)(self.definition)
        server.handle(lsp.TEXT_DOCUMENT_REFERENCES)(self.references)
        server.handle(
            lsp.TEXT_DOCUMENT_COMPLETION,
            lsp.CompletionOptions(trigger_characters=['"', "'", "/"]),
        )(self.completion)
        server.handle(lsp.TEXT_DOCUMENT_DOCUMENT_SYMBOL)(self.document_symbols)
        server.handle(lsp.WORKSPACE_SYMBOL)(self.workspace_symbols)

    # -- lookups ------------------------------------------------------------------------
    def known_ids(self, project: Project) -> set[str]:
        ids = set(project.catalog.flows)
        if project.run.outcomes:
            ids.update(project.run.outcomes)
        return ids

    def flow_at(self, uri: str, pos: lsp.Position) -> FlowRef | None:
        """The flow id under the cursor, in Python code or in a flows.yaml."""
        path = uri_to_path(uri)
        if path is None:
            return None
        docs = self.server.documents
        lines = docs.lines(uri)
        if lines is None or not 0 <= pos.line < len(lines):
            return None
        col = char_index(lines, pos, docs.utf16)
        catalog_of = self.server.index.project_of_file(path)
        if catalog_of is not None and path == catalog_of.flows_yaml:
            for m in _YAML_TOKEN.finditer(lines[pos.line]):
                if m.start() <= col <= m.end():
                    fid = m.group(0)
                    if fid in self.known_ids(catalog_of):
                        return FlowRef(catalog_of, fid, path, pos.line, m.start(), m.end(),
                                       "catalog")
            return None
        if path.suffix != ".py":
            return None
        project = self.server.index.project_for(path)
        if project is None:
            return None
        markers = self.server.catalog_checks.markers_for(path)
        marker = next((m for m in markers if m.contains(pos.line, col)), None)
        if marker is not None:
            return FlowRef(project, marker.flow_id, path, marker.line, marker.value_start,
                           marker.value_end, "marker")
        hit = string_at(lines[pos.line], col)
        if hit is not None and hit[0] in self.known_ids(project):
            return FlowRef(project, hit[0], path, pos.line, hit[1] + 1, hit[2] - 1, "string")
        return None

    def markers_in(self, project: Project) -> Iterator[tuple[Path, Marker]]:
        """Every marker in the project's Python files (open buffers win over disk)."""
        folder = project.folder
        nested = [p.root for p in folder.projects
                  if p is not project and project.root in p.root.parents]
        docs = self.server.documents
        open_paths = set()
        for uri in docs.open_uris():
            path = uri_to_path(uri)
            if path is None or path.suffix != ".py" or not _owns(project, nested, path):
                continue
            scan = docs.markers(path_to_uri(path))
            if scan is None:
                continue
            open_paths.add(path)
            for m in scan.markers:
                yield path, m
        for path, markers in folder.code.items():
            if path in open_paths or not _owns(project, nested, path):
                continue
            for m in markers:
                yield path, m

    def marker_locations(self, project: Project, flow_id: str) -> list[lsp.Location]:
        out = []
        for path, m in self.markers_in(project):
            if m.flow_id == flow_id:
                lines = self.server.documents.text_lines(path) or []
                out.append(lsp.Location(
                    uri=path_to_uri(path),
                    range=range_of(lines, m.line, m.value_start, m.value_end,
                                   self.server.documents.utf16)))
        out.sort(key=lambda loc: (loc.uri, loc.range.start.line))
        return out

    def catalog_location(self, project: Project, spec: FlowSpec) -> lsp.Location | None:
        if not project.has_catalog or not spec.id_line:
            return None
        path = project.flows_yaml
        lines = self.server.documents.text_lines(path) or []
        ln = spec.id_line - 1
        start = max(spec.id_column - 1, 0)
        text = lines[ln] if ln < len(lines) else ""
        if text[start:start + 1] in ("'", '"'):
            start += 1
        return lsp.Location(uri=path_to_uri(path),
                            range=range_of(lines, ln, start, start + len(spec.id),
                                           self.server.documents.utf16))

    # -- handlers -----------------------------------------------------------------------
    def definition(self, params: lsp.DefinitionParams) -> list[lsp.Location] | None:
        ref = self.server.guard("definition", self.flow_at, params.text_document.uri,
                                params.position, default=None)
        if ref is None:
            return None
        spec = ref.project.catalog.get(ref.flow_id)
        loc = self.catalog_location(ref.project, spec) if spec is not None else None
        return [loc] if loc is not None else None

    def references(self, params: lsp.ReferenceParams) -> list[lsp.Location] | None:
        ref = self.server.guard("references", self.flow_at, params.text_document.uri,
                                params.position, default=None)
        if ref is None:
            return None
        locs = self.marker_locations(ref.project, ref.flow_id)
        spec = ref.project.catalog.get(ref.flow_id)
        if params.context.include_declaration and spec is not None:
            decl = self.catalog_location(ref.project, spec)
            if decl is not None:
                locs.insert(0, decl)
        return locs

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
        col = char_index(lines, params.position, docs.utf16)
        catalog_of = self.server.index.project_of_file(path)
        project = catalog_of if catalog_of is not None else self.server.index.project_for(path)
        if project is None:
            return None
        if catalog_of is not None and path == catalog_of.flows_yaml:
            m = _PARENT_PREFIX.match(text[:col])
            if m is None:
                return None
            start = m.start("typed")
        elif path.suffix == ".py":
            hit = completion_prefix(text, col, self.server.settings.markers)
            if hit is None:
                return None
            start = hit[0]
        else:
            return None
        rng = range_of(lines, params.position.line, start, col, docs.utf16)
        items = []
        catalog = project.good_catalog
        for fid in sorted(self.known_ids(project) | set(catalog.flows)):
            spec = catalog.get(fid)
            detail = spec.description if spec is not None else "not in flows.yaml"
            if spec is not None and not spec.enabled:
                detail = f"(disabled) {detail}"
            items.append(lsp.CompletionItem(
                label=fid, kind=lsp.CompletionItemKind.Value, detail=detail[:200],
                text_edit=lsp.TextEdit(range=rng, new_text=fid)))
        return lsp.CompletionList(is_incomplete=False, items=items)

    def document_symbols(self, params: lsp.DocumentSymbolParams) -> list[lsp.DocumentSymbol] | None:
        path = uri_to_path(params.text_document.uri)
        project = self.server.index.project_of_file(path) if path is not None else None
        if project is None or path != project.flows_yaml:
            return None
        lines = self.server.documents.lines(params.text_document.uri) or []
        utf16 = self.server.documents.utf16
        out = []
        for spec in project.catalog:
            if not spec.id_line:
                continue
            sel = self.catalog_location(project, spec)
            first = max(min(spec.line or spec.id_line, spec.id_line) - 1, 0)
            last = spec.end_line - 1 if spec.end_column > 1 else spec.end_line - 2
            last = min(max(last, spec.id_line - 1), max(len(lines) - 1, 0))
            end_col = len(lines[last]) if last < len(lines) else 0
            full = lsp.Range(start=lsp.Position(line=first, character=0),
                             end=range_of(lines, last, 0, end_col, utf16).end)
            out.append(lsp.DocumentSymbol(
                name=spec.id, kind=lsp.SymbolKind.Event,
                detail=(spec.description or "")[:200] or None,
                range=full, selection_range=sel.range if sel is not None else full))
        return out

    def workspace_symbols(self, params: lsp.WorkspaceSymbolParams
                          ) -> list[lsp.SymbolInformation]:
        query = params.query.lower()
        out: list[lsp.SymbolInformation] = []
        for project in self.server.index.projects():
            seen = set()
            for spec in project.catalog:
                if not _fuzzy(query, spec.id.lower()):
                    continue
                loc = self.catalog_location(project, spec)
                if loc is not None:
                    seen.add(spec.id)
                    out.append(lsp.SymbolInformation(
                        name=spec.id, kind=lsp.SymbolKind.Event, location=loc,
                        container_name=spec.parent or "flows.yaml"))
            for path, m in self.markers_in(project):
                if m.flow_id in seen or not _fuzzy(query, m.flow_id.lower()):
                    continue
                seen.add(m.flow_id)
                lines = self.server.documents.text_lines(path) or []
                out.append(lsp.SymbolInformation(
                    name=m.flow_id, kind=lsp.SymbolKind.Event,
                    location=lsp.Location(uri=path_to_uri(path), range=range_of(
                        lines, m.line, m.value_start, m.value_end, self.server.documents.utf16)),
                    container_name="not in flows.yaml"))
            if len(out) >= MAX_SYMBOLS:
                break
        return out[:MAX_SYMBOLS]


def _owns(project: Project, nested: list[Path], path: Path) -> bool:
    if project.root not in path.parents:
        return False
    return not any(n in path.parents for n in nested)


def _fuzzy(query: str, text: str) -> bool:
    """True if the characters of ``query`` appear in ``text`` in order."""
    it = iter(text)
    return all(ch in it for ch in query)
