"""Catalog checks (source ``flowscribe.catalog``): code and catalog disagreeing.

* A marker naming a flow flows.yaml lacks: Warning, with "did you mean" (code
  ``unknown-flow``; quick fixes in :mod:`.code_actions`).
* A marker naming a disabled flow: Hint (code ``disabled-flow``), faded.
* flows.yaml's own problems (invalid YAML, unknown keys, duplicate ids, unknown parents,
  parent cycles, code_refs to missing files) at their exact positions, as the runtime's
  catalog reader reports them; ra.yaml's likewise.
* An enabled catalog flow no marker in the project's code uses: Information
  (``unreferenced-flow``); a disabled one is switched off already, so it is not reported.

Checks on code only run when the project has a flows.yaml: without a catalog, every
flow id is fine.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from lsprotocol import types as lsp

from flowscribe.config import Problem, did_you_mean

from ..documents import range_of
from ..paths import path_to_uri, uri_to_path
from ..publishing import SOURCE_CATALOG
from . import Feature

if TYPE_CHECKING:
    from ..index import Project

__all__ = ["CatalogChecks", "problem_range"]

_PROBLEM_SEVERITY = {
    "error": lsp.DiagnosticSeverity.Error,
    "warning": lsp.DiagnosticSeverity.Warning,
    "info": lsp.DiagnosticSeverity.Information,
}


def problem_range(lines: Sequence[str], line: int, column: int) -> tuple[int, int, int]:
    """(line, start, end) in code points for a 1-based problem position: from the column
    to the end of the value there (before a trailing comment), or the whole line's text
    when the column is unknown."""
    ln = max(line - 1, 0)
    if ln >= len(lines):
        return (max(len(lines) - 1, 0), 0, 0) if lines else (0, 0, 0)
    text = lines[ln]
    body = text.split(" #", 1)[0].rstrip()
    if column <= 0:
        start = len(text) - len(text.lstrip())
        return ln, start, max(len(body), start)
    start = min(column - 1, len(text))
    end = len(body) if len(body) > start else len(text.rstrip())
    return ln, start, max(end, start)


class CatalogChecks(Feature):
    """The ``flowscribe.catalog`` diagnostics (a publishing source)."""

    def targets(self) -> set[Path]:
        """Every catalog, config and Python file of the workspace."""
        out: set[Path] = set()
        for project in self.server.index.projects():
            out.update((project.flows_yaml, project.ra_yaml))
        for folder in self.server.index.folders.values():
            out.update(folder.code)
        for uri in self.server.documents.open_uris():
            p = uri_to_path(uri)
            if p is not None and p.suffix == ".py":
                out.add(p)
        return out

    def diagnostics_for(self, path: Path) -> list[lsp.Diagnostic]:
        project = self.server.index.project_of_file(path)
        if project is not None:
            return (self.for_catalog(project) if path == project.flows_yaml
                    else self.for_config(project))
        if path.suffix == ".py":
            return self.for_python(path)
        return []

    def for_python(self, path: Path) -> list[lsp.Diagnostic]:
        project = self.server.index.project_for(path)
        if project is None or not project.has_catalog:
            return []
        markers = self.server.queries.markers_for(path)
        if not markers:
            return []
        lines = self.server.documents.text_lines(path) or []
        codec = self.server.documents.codec
        catalog = project.catalog
        out = []
        for m in markers:
            spec = catalog.get(m.flow_id)
            rng = range_of(lines, m.line, m.value_start, m.value_end, codec)
            if spec is None:
                hint = did_you_mean(m.flow_id, list(catalog.flows))
                tip = f"; did you mean '{hint}'?" if hint else ""
                out.append(lsp.Diagnostic(
                    range=rng, severity=lsp.DiagnosticSeverity.Warning, source=SOURCE_CATALOG,
                    code="unknown-flow",
                    message=f"unknown flow id '{m.flow_id}': not declared in "
                            f"{_rel(project, project.flows_yaml)}{tip}",
                    data={"flowId": m.flow_id, "suggestion": hint,
                          "catalog": path_to_uri(project.flows_yaml)}))
            elif not spec.enabled:
                out.append(lsp.Diagnostic(
                    range=rng, severity=lsp.DiagnosticSeverity.Hint, source=SOURCE_CATALOG,
                    code="disabled-flow", tags=[lsp.DiagnosticTag.Unnecessary],
                    message=f"flow '{m.flow_id}' is disabled in flows.yaml (enabled: false): "
                            "this marker records nothing",
                    data={"flowId": m.flow_id}))
        return out

    def for_catalog(self, project: Project) -> list[lsp.Diagnostic]:
        path = project.flows_yaml
        lines = self.server.documents.text_lines(path) or []
        out = self._problems(project.catalog.problems, lines)
        if project.has_catalog and project.folder.code_ready:
            used = self.server.queries.used_flow_ids(project)
            for spec in project.catalog:
                # A disabled flow is silenced on purpose: unused code is what it may be.
                if spec.id in used or not spec.enabled or not spec.id_line:
                    continue
                ln = spec.id_line - 1
                start = max(spec.id_column - 1, 0)
                text = lines[ln] if ln < len(lines) else ""
                end = len(text.split(" #", 1)[0].rstrip())
                out.append(lsp.Diagnostic(
                    range=range_of(lines, ln, start, max(end, start), self.server.documents.codec),
                    severity=lsp.DiagnosticSeverity.Information, source=SOURCE_CATALOG,
                    code="unreferenced-flow",
                    message=f"flow '{spec.id}' is not used by any marker in the code",
                    data={"flowId": spec.id}))
        return out

    def for_config(self, project: Project) -> list[lsp.Diagnostic]:
        lines = self.server.documents.text_lines(project.ra_yaml) or []
        return self._problems(project.config_problems, lines)

    def _problems(self, problems: Iterable[Problem], lines: Sequence[str]) -> list[lsp.Diagnostic]:
        out = []
        for p in problems:
            ln, start, end = problem_range(lines, p.line, p.column)
            out.append(lsp.Diagnostic(
                range=range_of(lines, ln, start, end, self.server.documents.codec),
                severity=_PROBLEM_SEVERITY.get(p.severity, lsp.DiagnosticSeverity.Error),
                source=SOURCE_CATALOG, code=p.key or None,
                message=f"{p.key}: {p.message}" if p.key else p.message))
        return out


def _rel(project: Project, path: Path) -> str:
    try:
        return path.relative_to(project.root).as_posix()
    except ValueError:
        return str(path)
