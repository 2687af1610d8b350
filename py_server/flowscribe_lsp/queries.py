"""What several features ask of the workspace, answered in one place.

"Which flow id is under the cursor", "where do markers name this flow", "where is its
flows.yaml entry", "which trace holds this run", "what URI may the client open for this
recorded file": hover, navigation, lenses, the catalog checks and the custom requests all
ask these, so they live here rather than in one feature the others import. Features
depend on this module and on the index, never on each other.

Everything here reads snapshots (:mod:`.index`, :class:`~.documents.Documents`) on the
event loop and is cheap; nothing reads a trace.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lsprotocol import types as lsp

from flowscribe.runs import RunLayout

from .documents import char_index, range_of
from .markers import Marker, string_at
from .paths import path_to_uri, uri_to_path

if TYPE_CHECKING:
    from flowscribe.catalog import FlowSpec

    from .documents import Documents
    from .index import Project, WorkspaceIndex

__all__ = ["FlowRef", "Queries"]

_YAML_TOKEN = re.compile(r"""[^\s"'\[\],{}#:]+(?::[^\s"'\[\],{}#:]+)*""")


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


class Queries:
    """Lookups over the index and the documents, shared by the features."""

    def __init__(self, index: WorkspaceIndex, documents: Documents) -> None:
        self.index = index
        self.documents = documents

    # -- flow ids -----------------------------------------------------------------------
    @staticmethod
    def known_ids(project: Project) -> set[str]:
        """Flow ids the catalog declares or the latest run recorded."""
        ids = set(project.catalog.flows)
        if project.run.outcomes:
            ids.update(project.run.outcomes)
        return ids

    def flow_at(self, uri: str, pos: lsp.Position) -> FlowRef | None:
        """The flow id under the cursor, in Python code or in a flows.yaml."""
        path = uri_to_path(uri)
        if path is None:
            return None
        docs = self.documents
        lines = docs.lines(uri)
        if lines is None or not 0 <= pos.line < len(lines):
            return None
        col = char_index(lines, pos, docs.codec)
        catalog_of = self.index.project_of_file(path)
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
        project = self.index.project_for(path)
        if project is None:
            return None
        marker = next((m for m in self.markers_for(path) if m.contains(pos.line, col)), None)
        if marker is not None:
            return FlowRef(project, marker.flow_id, path, marker.line, marker.value_start,
                           marker.value_end, "marker")
        hit = string_at(lines[pos.line], col)
        if hit is not None and hit[0] in self.known_ids(project):
            return FlowRef(project, hit[0], path, pos.line, hit[1] + 1, hit[2] - 1, "string")
        return None

    # -- markers ------------------------------------------------------------------------
    def markers_for(self, path: Path) -> tuple[Marker, ...]:
        """The markers of a Python file: its open buffer's, else the indexed file's."""
        scan = self.documents.markers(path_to_uri(path))
        if scan is not None:
            return scan.markers
        folder = self.index.folder_for(path)
        return folder.code.get(path, ()) if folder is not None else ()

    def markers_in(self, project: Project) -> Iterator[tuple[Path, Marker]]:
        """Every marker in the project's Python files (open buffers win over disk); files
        of a project nested inside it belong to that one."""
        folder = project.folder
        nested = [p.root for p in folder.projects
                  if p is not project and project.root in p.root.parents]
        docs = self.documents
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

    def used_flow_ids(self, project: Project) -> set[str]:
        """Flow ids named by markers in the project's Python files."""
        return {m.flow_id for _, m in self.markers_in(project)}

    def marker_location(self, path: Path, m: Marker) -> lsp.Location:
        """The client location of a marker's flow-id string."""
        lines = self.documents.text_lines(path) or []
        return lsp.Location(uri=path_to_uri(path), range=range_of(
            lines, m.line, m.value_start, m.value_end, self.documents.codec))

    def marker_locations(self, project: Project, flow_id: str) -> list[lsp.Location]:
        """Every marker naming ``flow_id``, sorted by file and line."""
        out = [self.marker_location(path, m) for path, m in self.markers_in(project)
               if m.flow_id == flow_id]
        out.sort(key=lambda loc: (loc.uri, loc.range.start.line))
        return out

    # -- the catalog --------------------------------------------------------------------
    def catalog_location(self, project: Project, spec: FlowSpec) -> lsp.Location | None:
        """Where flows.yaml declares ``spec``'s id (the id itself, without quotes)."""
        if not project.has_catalog or not spec.id_line:
            return None
        path = project.flows_yaml
        lines = self.documents.text_lines(path) or []
        ln = spec.id_line - 1
        start = max(spec.id_column - 1, 0)
        text = lines[ln] if ln < len(lines) else ""
        if text[start:start + 1] in ("'", '"'):
            start += 1
        return lsp.Location(uri=path_to_uri(path),
                            range=range_of(lines, ln, start, start + len(spec.id),
                                           self.documents.codec))

    # -- runs and recorded files --------------------------------------------------------
    @staticmethod
    def trace_of(project: Project, run_id: str | None) -> tuple[Path | None, str | None]:
        """The trace holding ``run_id`` (default: the latest run) and the id to filter by."""
        if run_id is None or run_id == project.run.run_id:
            return project.run.trace, project.run.run_id
        layout = RunLayout(project.autodev)
        try:
            per_run = layout.run_dir(run_id) / "trace.jsonl"
        except ValueError:
            return None, run_id
        if per_run.is_file():
            return per_run, run_id
        return (layout.trace_path if layout.trace_path.is_file() else None), run_id

    def recorded_path(self, project: Project, file: object) -> Path | None:
        """The workspace file a recorded ``file`` field names; None for anything outside
        the workspace folders (a trace is untrusted: it may name any path)."""
        if not isinstance(file, str) or not file:
            return None
        target = project.resolve(file)
        if target is None or not self.index.in_workspace(target):
            return None
        return target

    def recorded_uri(self, project: Project, file: object) -> str | None:
        """:meth:`recorded_path` as a URI the client may open."""
        target = self.recorded_path(project, file)
        return path_to_uri(target) if target is not None else None

    def recorded_uris(self, project: Project) -> Callable[[str | None], str | None]:
        """:meth:`recorded_uri`, memoised: for answers that name many events' files."""
        memo: dict[str | None, str | None] = {}

        def uri(file: str | None) -> str | None:
            if file not in memo:
                memo[file] = self.recorded_uri(project, file)
            return memo[file]

        return uri

    def projects_for(self, params: Mapping[str, Any]) -> list[Project]:
        """The projects a request about ``runId`` in ``workspaceFolder`` (default any) may
        mean: the one whose latest run it is first, then those that may hold the run."""
        folder = params.get("workspaceFolder")
        run_id = params.get("runId")
        projects = [pr for pr in self.index.projects()
                    if not isinstance(folder, str) or pr.folder.uri == folder]
        if isinstance(run_id, str) and run_id:
            projects.sort(key=lambda pr: pr.run.run_id != run_id)
        return projects

    def locate_run(self, params: Mapping[str, Any]) -> tuple[Project, Path, str | None] | None:
        """The project, trace file and run id a request is about: ``runId`` (default the
        latest run) in ``workspaceFolder`` (default any)."""
        run_id = params.get("runId")
        run_id = run_id if isinstance(run_id, str) and run_id else None
        for project in self.projects_for(params):
            trace, rid = self.trace_of(project, run_id)
            if trace is not None and trace.is_file():
                return project, trace, rid
        return None


def _owns(project: Project, nested: list[Path], path: Path) -> bool:
    if project.root not in path.parents:
        return False
    return not any(n in path.parents for n in nested)
