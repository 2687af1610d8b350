"""``textDocument/codeAction``: quick fixes for a flow id flows.yaml lacks.

* **Use the suggestion**: replace the id with the closest catalog id ("did you mean").
* **Add a stub entry to flows.yaml**: a ``WorkspaceEdit`` appending
  ``- id: "<id>"`` (with ``enabled`` and a description to fill in) to the catalog's flows
  list, indented like the entries around it.

Actions are computed from the markers in the requested range, so they work whether or
not the client sends the diagnostics back in the request's context.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from lsprotocol import types as lsp

from flowscribe.config import did_you_mean

from ..documents import char_index, range_of
from ..paths import path_to_uri, uri_to_path
from ..publishing import SOURCE_CATALOG
from . import Feature

if TYPE_CHECKING:
    from ..index import Project
    from ..markers import Marker
    from ..server import FlowscribeServer

__all__ = ["CodeActions", "stub_edit"]

_FLOWS_KEY = re.compile(r"^flows\s*:\s*(?P<rest>.*)$")


def stub_edit(project: Project, flow_id: str, lines: Sequence[str]) -> lsp.TextEdit:
    """The edit that adds a stub entry for ``flow_id`` to the project's flows.yaml."""
    quoted = json.dumps(flow_id)  # a JSON string is a valid YAML double-quoted scalar
    specs = sorted(project.catalog, key=lambda s: s.line)
    if specs and specs[-1].line:
        last = specs[-1]
        item = last.line - 1
        indent = max(last.column - 1, 0)
        end = item
        for n in range(item + 1, len(lines)):
            text = lines[n]
            if not text.strip() or text.lstrip().startswith("#"):
                continue
            if len(text) - len(text.lstrip()) <= indent:
                break
            end = n
        pad = " " * indent
        body = (f"{pad}- id: {quoted}\n{pad}  enabled: true\n"
                f"{pad}  description: \"TODO: what {flow_id} does\"\n")
        at = end + 1
        if at >= len(lines):
            tail = "\n" if lines and lines[-1] != "" else ""
            pos = lsp.Position(line=max(len(lines) - 1, 0),
                               character=len(lines[-1]) if lines else 0)
            return lsp.TextEdit(range=lsp.Range(start=pos, end=pos), new_text=tail + body)
        pos = lsp.Position(line=at, character=0)
        return lsp.TextEdit(range=lsp.Range(start=pos, end=pos), new_text=body)
    body = (f"  - id: {quoted}\n    enabled: true\n"
            f"    description: \"TODO: what {flow_id} does\"\n")
    for n, text in enumerate(lines):
        m = _FLOWS_KEY.match(text)
        if m is None:
            continue
        rest = m.group("rest").split("#", 1)[0].strip()
        rng = lsp.Range(start=lsp.Position(line=n, character=0),
                        end=lsp.Position(line=n, character=len(text)))
        if rest in ("", "[]", "null", "~"):
            return lsp.TextEdit(range=rng, new_text="flows:\n" + body.rstrip("\n"))
    pos = lsp.Position(line=len(lines), character=0)
    prefix = "" if not lines or lines[-1] == "" else "\n"
    return lsp.TextEdit(range=lsp.Range(start=pos, end=pos), new_text=f"{prefix}flows:\n{body}")


class CodeActions(Feature):
    """Quick fixes for unknown flow ids."""

    def __init__(self, server: FlowscribeServer) -> None:
        super().__init__(server)
        server.handle(
            lsp.TEXT_DOCUMENT_CODE_ACTION,
            lsp.CodeActionOptions(code_action_kinds=[lsp.CodeActionKind.QuickFix]),
        )(self.code_actions)

    def code_actions(self, params: lsp.CodeActionParams) -> list[lsp.CodeAction] | None:
        return self.server.guard("code actions", self._actions, params, default=None)

    def _actions(self, params: lsp.CodeActionParams) -> list[lsp.CodeAction] | None:
        uri = params.text_document.uri
        path = uri_to_path(uri)
        if path is None or path.suffix != ".py":
            return None
        project = self.server.index.project_for(path)
        scan = self.server.documents.markers(uri)
        if project is None or not project.has_catalog or scan is None:
            return None
        lines = self.server.documents.lines(uri) or []
        codec = self.server.documents.codec
        r = params.range
        first, last = r.start.line, r.end.line
        lo = char_index(lines, r.start, codec)
        hi = char_index(lines, r.end, codec)
        actions: list[lsp.CodeAction] = []
        for m in scan.markers:
            if m.flow_id in project.catalog or not first <= m.line <= last:
                continue
            if (m.line == first and m.value_end < lo) or (m.line == last and m.value_start > hi):
                continue
            actions += self._fixes(project, uri, m, lines, params.context.diagnostics)
        return actions or None

    def _fixes(self, project: Project, uri: str, m: Marker, lines: list[str],
               context: Sequence[lsp.Diagnostic]) -> list[lsp.CodeAction]:
        rng = range_of(lines, m.line, m.value_start, m.value_end, self.server.documents.codec)
        diags = [d for d in context if d.source == SOURCE_CATALOG and d.code == "unknown-flow"
                 and d.range.start.line == m.line] or None
        out = []
        hint = did_you_mean(m.flow_id, list(project.catalog.flows))
        if hint is not None:
            new = hint if (m.value_start, m.value_end) != (m.start, m.end) else json.dumps(hint)
            out.append(lsp.CodeAction(
                title=f"Use '{hint}'", kind=lsp.CodeActionKind.QuickFix, diagnostics=diags,
                is_preferred=True,
                edit=lsp.WorkspaceEdit(changes={uri: [lsp.TextEdit(range=rng, new_text=new)]})))
        catalog_lines = self.server.documents.text_lines(project.flows_yaml) or []
        edit = stub_edit(project, m.flow_id, catalog_lines)
        out.append(lsp.CodeAction(
            title=f"Add '{m.flow_id}' to flows.yaml", kind=lsp.CodeActionKind.QuickFix,
            diagnostics=diags,
            edit=lsp.WorkspaceEdit(changes={path_to_uri(project.flows_yaml): [edit]})))
        return out
