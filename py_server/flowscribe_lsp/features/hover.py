"""``textDocument/hover`` on a flow id, in Python code or in flows.yaml.

Shows what the catalog says (description, parent chain, success criteria, failure
classes, SLA, code refs) and what the latest run did (counts, p95, the last failure with
file:line). Catalog text and trace text are both untrusted (a repository or a trace can
hold anything): every piece goes through :func:`~flowscribe_lsp.markdown.escape`, so the
hover has no links, no command links and no HTML.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from lsprotocol import types as lsp

from ..documents import range_of
from ..markdown import escape
from .lenses import fmt_ms, outcome_text

if TYPE_CHECKING:
    from ..index import Project
    from ..server import FlowscribeServer

__all__ = ["Hover", "hover_markdown"]

MAX_ITEMS = 12


def hover_markdown(project: Project, flow_id: str) -> str:
    """The hover text for ``flow_id`` in ``project``."""
    spec = project.catalog.get(flow_id)
    out = [f"**{escape(flow_id)}**"]
    if spec is None:
        out.append("*not declared in flows.yaml*" if project.has_catalog
                   else "*no flows.yaml in this project*")
    else:
        if not spec.enabled:
            out.append("*disabled in flows.yaml (enabled: false)*")
        if spec.description:
            out.append(escape(spec.description))
        chain = project.catalog.parent_chain(flow_id)
        if chain:
            path = " › ".join(escape(c) for c in reversed(chain))
            out.append(f"**parent chain:** {path} › {escape(flow_id)}")
        if spec.success_criteria:
            out.append("**success criteria:**\n" + "\n".join(
                f"- {escape(c)}" for c in spec.success_criteria[:MAX_ITEMS]))
        if spec.failure_classes:
            out.append("**failure classes:** " + ", ".join(
                escape(c) for c in spec.failure_classes[:MAX_ITEMS]))
        if spec.code_refs:
            out.append("**code refs:** " + ", ".join(
                escape(c) for c in spec.code_refs[:MAX_ITEMS]))
    sla = project.sla_ms(flow_id)
    if sla is not None:
        out.append(f"**SLA p95:** {fmt_ms(sla)} ms")
    run = project.run
    if run.run_id is not None:
        out.append(f"**latest run** {escape(run.run_id)}: {escape(outcome_text(project, flow_id))}")
        outcome = run.outcomes.get(flow_id) if run.outcomes else None
        last = outcome.last_failure if outcome is not None else None
        if last is not None:
            where = f" at {escape(last.file)}:{last.line}" if last.file and last.line else ""
            reason = f" — {escape(last.reason)}" if last.reason else ""
            out.append(f"**last failure:** {escape(last.error_class)}{reason}{where}")
    else:
        out.append("no runs yet")
    return "\n\n".join(out)


def plain(markdown: str) -> str:
    """The hover for a client that renders no Markdown: escapes and emphasis removed."""
    text = re.sub(r"(?<!\\)\*", "", markdown)  # emphasis marks, not escaped stars
    text = re.sub(r"\\(.)", r"\1", text)
    return text.replace("&lt;", "<").replace("&gt;", ">")


class Hover:
    """Hovers on flow ids."""

    def __init__(self, server: FlowscribeServer) -> None:
        self.server = server
        server.handle(lsp.TEXT_DOCUMENT_HOVER)(self.hover)

    def _markdown_ok(self) -> bool:
        try:
            td = self.server.client_capabilities.text_document
        except (AttributeError, RuntimeError):
            return True
        formats = td.hover.content_format if td is not None and td.hover is not None else None
        return formats is None or lsp.MarkupKind.Markdown in formats

    def hover(self, params: lsp.HoverParams) -> lsp.Hover | None:
        return self.server.guard("hover", self._hover, params, default=None)

    def _hover(self, params: lsp.HoverParams) -> lsp.Hover | None:
        ref = self.server.navigation.flow_at(params.text_document.uri, params.position)
        if ref is None:
            return None
        lines = self.server.documents.lines(params.text_document.uri) or []
        text = hover_markdown(ref.project, ref.flow_id)
        kind = lsp.MarkupKind.Markdown
        if not self._markdown_ok():
            kind, text = lsp.MarkupKind.PlainText, plain(text)
        return lsp.Hover(
            contents=lsp.MarkupContent(kind=kind, value=text),
            range=range_of(lines, ref.line, ref.start, ref.end, self.server.documents.utf16))
