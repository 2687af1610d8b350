"""``textDocument/hover`` on a flow id, in Python code or in flows.yaml.

A few short lines, most important first, so the popup does not cover the code around it:

1. the id (a code span) and the catalog's description (or why there is none);
2. the latest run, by its start time: the lens's outcome text, or the SLA with no run;
3. the last failure: class, reason, file:line;
4. the parent chain; 5. the first success criterion and the failure classes;
6. the latest run's latency: p50/p95/p99 against the SLA, and a small text histogram over
   ``ra.yaml``'s latency buckets (:mod:`flowscribe.artifacts.latency`), fenced as a block.

Catalog and trace text are untrusted (a repository or a trace can hold anything), and
must stay inert. The rule is :mod:`flowscribe.markdown`'s, the one every artifact uses:
ids, classes and paths go in code spans (nothing renders inside one); free text escapes
only what would make markup where it stands, so editors that show markdown source
(Neovim) show few backslashes, and nothing is a link, a ``command:`` link or HTML. A
client without markdown gets the same lines as plain text.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from lsprotocol import types as lsp

from flowscribe.artifacts.latency import Latency, bar_lines, percentile_line
from flowscribe.config import Performance

from ..documents import range_of
from ..markdown import code, escape, fence, one_line
from ..wording import fmt_ms, outcome_text
from . import Feature
from .latency_fold import LatencyFolds

if TYPE_CHECKING:
    from ..index import Project
    from ..queries import FlowRef
    from ..server import FlowscribeServer

__all__ = ["Hover", "hover_lines", "hover_markdown", "hover_plain", "latest_latency"]

#: Failure classes shown; more are counted.
MAX_CLASSES = 3
#: Code points of free text (a description, a reason) or an id before it is clipped.
MAX_TEXT = 160

#: A segment of a hover line: ("id" | "code" | "text" | "label", content). Labels are
#: our own words, shown as they are.
Segment = tuple[str, str]


def _when(ts: float) -> str:
    """A run's start: its time today, else its date and time (local, as the runtime's
    console shows it)."""
    at = time.localtime(ts)
    same_day = time.strftime("%Y-%m-%d", at) == time.strftime("%Y-%m-%d")
    return time.strftime("%H:%M:%S" if same_day else "%Y-%m-%d %H:%M", at)


def hover_lines(project: Project, flow_id: str) -> list[list[Segment]]:
    """The hover for ``flow_id`` as lines of segments (rendered by :func:`hover_markdown`
    and :func:`hover_plain`)."""
    spec = project.catalog.get(flow_id)
    head: list[Segment] = [("id", flow_id)]
    if spec is None:
        head.append(("label", " — not declared in flows.yaml" if project.has_catalog
                     else " — no flows.yaml in this project"))
    else:
        if spec.description:
            head += [("label", " — "), ("text", spec.description)]
        if not spec.enabled:
            head.append(("label", " · disabled in flows.yaml" if spec.description
                         else " — disabled in flows.yaml"))
    lines = [head]

    run = project.run
    sla = project.sla_ms(flow_id)
    if run.run_id is None:
        lines.append([("label", "no runs yet" + (f" · SLA p95 {fmt_ms(sla)}"
                                                 if sla is not None else ""))])
    else:
        when = _when(run.started) if run.started is not None else "latest"
        lines.append([("label", f"latest run {when} · "),
                      ("text", outcome_text(project, flow_id))])
        outcome = run.outcomes.get(flow_id) if run.outcomes else None
        last = outcome.last_failure if outcome is not None else None
        if last is not None:
            line: list[Segment] = [("label", "last failure: "), ("code", last.error_class)]
            if last.reason:
                line += [("label", " "), ("text", last.reason)]
            if last.file and last.line:
                line += [("label", " at "), ("code", f"{last.file}:{last.line}")]
            # As the diagnostic says it: this flow did not fail this way in the run before.
            new_since = next((f.new_since for f in run.findings
                              if f.flow_id == flow_id and f.new_since), None)
            if new_since is not None:
                line += [("label", " · new since run "), ("code", new_since)]
            lines.append(line)

    if spec is not None:
        chain = project.catalog.parent_chain(flow_id)
        if chain:
            line = [("label", "parent: ")]
            for n, parent in enumerate(reversed(chain)):
                line += [("label", " › ")] if n else []
                line.append(("code", parent))
            lines.append(line)
        line = []
        if spec.success_criteria:
            more = len(spec.success_criteria) - 1
            line += [("label", "success: "), ("text", spec.success_criteria[0])]
            line += [("label", f" (+{more} more)")] if more else []
        if spec.failure_classes:
            line += [("label", " · " if line else ""), ("label", "fails as: ")]
            for n, cls in enumerate(spec.failure_classes[:MAX_CLASSES]):
                line += [("label", ", ")] if n else []
                line.append(("code", cls))
            extra = len(spec.failure_classes) - MAX_CLASSES
            line += [("label", f" +{extra}")] if extra > 0 else []
        if line:
            lines.append(line)
    return lines


def hover_markdown(project: Project, flow_id: str, latency: Latency | None = None) -> str:
    """The hover text for ``flow_id`` in ``project``, as markdown (hard line breaks),
    with ``latency``'s percentiles and histogram last (a fenced block: bars line up in a
    monospace font, and nothing in it renders)."""
    text = "  \n".join("".join(_markdown(seg) for seg in line)
                       for line in hover_lines(project, flow_id))
    if latency is None:
        return text
    # A fence may interrupt a paragraph: no blank line, so the popup stays compact.
    return (f"{text}  \nlatency: {percentile_line(latency)}\n"
            + fence("\n".join(bar_lines(latency)), "text").rstrip("\n"))


def _markdown(segment: Segment) -> str:
    kind, s = segment
    if kind == "id":
        return f"**{code(s, MAX_TEXT)}**"
    if kind == "code":
        return code(s, MAX_TEXT)
    # Free text always follows a label or a code span on its line: no block starts there.
    return escape(s, MAX_TEXT, mid_line=True) if kind == "text" else s


def hover_plain(project: Project, flow_id: str, latency: Latency | None = None) -> str:
    """The same hover for a client that renders no markdown."""
    lines = ["".join(s if kind == "label" else one_line(s, MAX_TEXT).strip()
                     for kind, s in line)
             for line in hover_lines(project, flow_id)]
    if latency is not None:
        lines += [f"latency: {percentile_line(latency)}", *bar_lines(latency)]
    return "\n".join(lines)


def latest_latency(folds: LatencyFolds, project: Project, flow_id: str) -> Latency | None:
    """``flow_id``'s latency in ``project``'s latest run (None without a run or an ended
    instance). Reads the trace: call it on the index worker."""
    run = project.run
    if run.trace is None or run.run_id is None:
        return None
    perf = project.config.performance if project.config is not None else Performance()
    return folds.latencies(run.trace, run.run_id, perf.latency_buckets_ms, project.sla_ms,
                           flows=[flow_id]).get(flow_id)


class Hover(Feature):
    """Hovers on flow ids."""

    def __init__(self, server: FlowscribeServer, latency: LatencyFolds) -> None:
        super().__init__(server)
        self.latency = latency
        server.handle(lsp.TEXT_DOCUMENT_HOVER)(self.hover)

    def _markdown_ok(self) -> bool:
        try:
            td = self.server.client_capabilities.text_document
        except (AttributeError, RuntimeError):
            return True
        formats = td.hover.content_format if td is not None and td.hover is not None else None
        return formats is None or lsp.MarkupKind.Markdown in formats

    async def hover(self, params: lsp.HoverParams) -> lsp.Hover | None:
        ref = self.server.guard("hover", self.server.queries.flow_at,
                                params.text_document.uri, params.position, default=None)
        if ref is None:
            return None
        try:  # the durations are read from the trace off the event loop
            latency = await self.server.in_worker(
                latest_latency, self.latency, ref.project, ref.flow_id)
        except Exception as exc:  # a bad trace costs the histogram, never the hover
            self.server.log(f"hover latency failed: {type(exc).__name__}: {exc}")
            latency = None
        return self.server.guard("hover", self._hover, params, ref, latency, default=None)

    def _hover(self, params: lsp.HoverParams, ref: FlowRef,
               latency: Latency | None) -> lsp.Hover | None:
        lines = self.server.documents.lines(params.text_document.uri) or []
        if self._markdown_ok():
            kind = lsp.MarkupKind.Markdown
            text = hover_markdown(ref.project, ref.flow_id, latency)
        else:
            kind = lsp.MarkupKind.PlainText
            text = hover_plain(ref.project, ref.flow_id, latency)
        return lsp.Hover(
            contents=lsp.MarkupContent(kind=kind, value=text),
            range=range_of(lines, ref.line, ref.start, ref.end, self.server.documents.codec))
