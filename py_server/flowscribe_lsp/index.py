"""The server's model of the workspace: folders, the projects in them, and what each knows.

A *folder* is a workspace folder the client opened (multi-root: several). A *project* is
a directory holding an artifacts folder (``.autodev`` by default): the folder itself,
and any project nested a few levels below it (an app in a subdirectory of the repo the
user opened). Each project has its catalog (``flows.yaml``), its config problems
(``ra.yaml``) and its latest run (:class:`~flowscribe_lsp.trace_index.TraceIndex`); each
folder has the markers of its Python code (:class:`~flowscribe_lsp.code_index.CodeIndex`).

Threading: ``TraceIndex`` and ``CodeIndex`` objects are only touched by the index worker
thread; everything else here (``run``, ``code``, ``catalog`` ...) is replaced, never
mutated, on the server's event loop, so request handlers read consistent snapshots.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from flowscribe.catalog import Catalog, load_catalog, parse_catalog, sla_target
from flowscribe.config import Config, Problem, load_config, parse_config

from .code_index import IGNORED_DIRS, CodeIndex
from .markers import Marker
from .paths import inside, real, regular_file
from .settings import Settings
from .trace_index import RunSnapshot, TraceIndex

__all__ = ["Folder", "Project", "ProjectFiles", "WorkspaceIndex", "read_project_files"]

#: How deep below a workspace folder nested projects are looked for.
PROJECT_DEPTH = 3


@dataclass
class Project:
    """One artifacts folder and the project root that holds it."""

    folder: Folder
    root: Path
    autodev: Path
    trace: TraceIndex
    run: RunSnapshot = field(default_factory=RunSnapshot)
    catalog: Catalog = field(default_factory=Catalog)
    #: The last catalog that declared flows: completion keeps offering ids while the
    #: flows.yaml buffer is mid-edit and does not parse.
    good_catalog: Catalog = field(default_factory=Catalog)
    config: Config | None = None
    config_problems: tuple[Problem, ...] = ()
    #: (mtime_ns, size) or an open buffer's version, per file, to reload on change only.
    seen: Mapping[str, object] = field(default_factory=lambda: MappingProxyType({}))

    def apply_files(self, files: ProjectFiles) -> None:
        """Swap in what :func:`read_project_files` read (on the event loop)."""
        self.catalog, self.good_catalog = files.catalog, files.good_catalog
        self.config, self.config_problems = files.config, files.config_problems
        self.seen = files.seen

    @property
    def flows_yaml(self) -> Path:
        return self.autodev / "flows.yaml"

    @property
    def ra_yaml(self) -> Path:
        return self.autodev / "ra.yaml"

    @property
    def has_catalog(self) -> bool:
        """True if flows.yaml exists and could be read: a file that cannot be read or
        parsed declares nothing, and checking code against it would flag every id."""
        return _usable(self.catalog)

    def sla_ms(self, flow_id: str) -> float | None:
        """The p95 target: ra.yaml's override wins over the catalog's ``sla``."""
        return sla_target(flow_id, self.catalog, self.config)

    def resolve(self, file: object) -> Path | None:
        """The local file a trace's ``file`` field names, if it exists (None for a field
        that is not a non-empty string: traces are untrusted).

        Relative names are relative to the project root (as the client names it, so URIs
        match the client's even when the workspace was opened through a symlink); when
        the run recorded another root (``run_start.evidence.root``), that is tried too.
        """
        if not isinstance(file, str) or not file or "\x00" in file:
            return None
        p = Path(file)
        candidates = [p] if p.is_absolute() else [self.root / p]
        if not p.is_absolute() and self.run.root:
            candidates.append(Path(self.run.root) / p)
        for c in candidates:
            try:
                if c.is_file():
                    return c
            except (OSError, ValueError):
                continue
        return None


@dataclass
class Folder:
    """A workspace folder."""

    uri: str
    path: Path
    code_index: CodeIndex
    #: This folder's settings (a client may scope them per folder; see server.md).
    settings: Settings = field(default_factory=Settings)
    #: Replaced (never appended to) when projects appear, like every snapshot here.
    projects: tuple[Project, ...] = ()
    #: Markers of the folder's files on disk (open documents are layered on by the server).
    code: Mapping[Path, tuple[Marker, ...]] = field(
        default_factory=lambda: MappingProxyType({}))
    code_ready: bool = False


class WorkspaceIndex:
    """Every folder and project; the server's shared index."""

    def __init__(self) -> None:
        self.folders: dict[str, Folder] = {}
        self._roots: tuple[Path, ...] = ()

    # -- shape --------------------------------------------------------------------------
    def build(self, folders: list[tuple[str, Path, Settings]]) -> None:
        """(Re)create folders, each with its settings, and discover their projects (file
        system walk: worker)."""
        built: dict[str, Folder] = {}
        for uri, path, settings in folders:
            adirs = discover(path, settings.artifacts_dir)
            folder = Folder(uri, path, CodeIndex(path, settings.markers, skip=adirs), settings)
            folder.projects = tuple(self._project(folder, adir) for adir in adirs)
            built[uri] = folder
        self.folders = built
        self._roots = tuple(real(f.path) for f in built.values())

    @staticmethod
    def _project(folder: Folder, autodev: Path) -> Project:
        return Project(folder=folder, root=autodev.parent, autodev=autodev,
                       trace=TraceIndex(autodev))

    def add_projects(self, folder: Folder) -> list[Project]:
        """Projects that appeared in ``folder`` since it was built (worker)."""
        known = {p.autodev for p in folder.projects}
        found = discover(folder.path, folder.settings.artifacts_dir)
        return [self._project(folder, a) for a in found if a not in known and a.is_dir()]

    def projects(self) -> Iterator[Project]:
        for folder in self.folders.values():
            yield from folder.projects

    def folder_for(self, path: Path) -> Folder | None:
        best = None
        for folder in self.folders.values():
            if inside(path, (folder.path,)) and (
                    best is None or len(folder.path.parts) > len(best.path.parts)):
                best = folder
        return best

    def project_for(self, path: Path) -> Project | None:
        """The project whose root is the deepest one holding ``path``."""
        best = None
        for project in self.projects():
            if inside(path, (project.root,)) and (
                    best is None or len(project.root.parts) > len(best.root.parts)):
                best = project
        return best

    def project_of_file(self, path: Path) -> Project | None:
        """The project whose flows.yaml or ra.yaml is ``path``."""
        for project in self.projects():
            if path in (project.flows_yaml, project.ra_yaml):
                return project
        return None

    def in_workspace(self, path: Path) -> bool:
        """True if ``path``, symlinks resolved, is inside a workspace folder."""
        return inside(real(path), self._roots)


def discover(folder: Path, artifacts_dir: str) -> list[Path]:
    """Artifacts folders of ``folder``: its own (always, even before it exists: a first
    run creates it) and those of projects nested up to :data:`PROJECT_DEPTH` levels."""
    adir = Path(artifacts_dir)
    if adir.is_absolute():
        return [adir]
    own = folder / adir
    found = [own]
    if len(adir.parts) != 1:
        return found
    name = adir.name

    def walk(d: Path, depth: int) -> None:
        if depth > PROJECT_DEPTH:
            return
        try:
            entries = sorted(os.scandir(d), key=lambda e: e.name)
        except OSError:
            return
        for e in entries:
            if not e.is_dir(follow_symlinks=False):
                continue
            if e.name == name:
                if Path(e.path) != own:
                    found.append(Path(e.path))
                continue
            if e.name in IGNORED_DIRS or e.name.startswith("."):
                continue
            walk(Path(e.path), depth + 1)

    walk(folder, 1)
    return found


#: Largest flows.yaml or ra.yaml (file or open buffer) the server parses. Position-keeping
#: YAML parsing costs about 2 s per MB, and catalogs are read while requests wait for the
#: index's shape; a real catalog is a few KB.
MAX_PROJECT_FILE_CHARS = 1 << 20


@dataclass(frozen=True)
class ProjectFiles:
    """What :func:`read_project_files` read, for :meth:`Project.apply_files`."""

    catalog: Catalog
    good_catalog: Catalog
    config: Config | None
    config_problems: tuple[Problem, ...]
    seen: Mapping[str, object]


def read_project_files(project: Project, open_text: Mapping[Path, tuple[int, str]]
                       ) -> ProjectFiles | None:
    """flows.yaml and ra.yaml read again if they changed on disk or in an open buffer;
    None if neither did. Parsing can take long: this runs on the index worker and only
    reads ``project`` (the event loop applies the result, so requests never see a
    half-updated project).

    ``open_text`` maps open documents' paths to (version, text).
    """
    seen = dict(project.seen)
    catalog, good = project.catalog, project.good_catalog
    config, config_problems = project.config, project.config_problems
    cat_sig = _signature(project.flows_yaml, open_text)
    cfg_sig = _signature(project.ra_yaml, open_text)
    if seen.get("catalog") == cat_sig and seen.get("config") == cfg_sig:
        return None
    if seen.get("catalog") != cat_sig:
        seen["catalog"] = cat_sig
        buf = open_text.get(project.flows_yaml)
        refusal = _refusal(project.flows_yaml, buf)
        if refusal is not None:
            catalog = Catalog(path=project.flows_yaml, root=project.root, problems=[
                Problem("flows.yaml", 0, 0, "", refusal)])
        elif buf is not None:
            catalog = parse_catalog(buf[1], project.flows_yaml, project.root)
        else:
            catalog = load_catalog(project.flows_yaml, project.root)
        if _usable(catalog) or catalog.path is None:
            good = catalog
        elif buf is not None and not good.flows and _refusal(project.flows_yaml, None) is None:
            good = load_catalog(project.flows_yaml, project.root)
    if seen.get("config") != cfg_sig:
        seen["config"] = cfg_sig
        buf = open_text.get(project.ra_yaml)
        refusal = _refusal(project.ra_yaml, buf)
        if refusal is not None:
            config, problems = parse_config("", project.ra_yaml, project.root, {},
                                            project.autodev)
            problems = [Problem("ra.yaml", 0, 0, "", refusal)]
        elif buf is not None:
            config, problems = parse_config(buf[1], project.ra_yaml, project.root, {},
                                            project.autodev)
        else:
            config, problems = load_config(project.root, {}, project.autodev)
        config_problems = tuple(problems)
    return ProjectFiles(catalog, good, config, config_problems, MappingProxyType(seen))


def _refusal(path: Path, buf: tuple[int, str] | None) -> str | None:
    """Why ``path`` (or its open buffer) is not parsed, or None."""
    if buf is not None:
        size = len(buf[1])
    elif _irregular(path):
        return "cannot read (not a regular file)"
    else:
        try:
            size = path.stat().st_size
        except OSError:
            return None  # missing: the loaders report it (or nothing, for a missing catalog)
    if size > MAX_PROJECT_FILE_CHARS:
        return (f"not read: {size} bytes is over the language server's limit of "
                f"{MAX_PROJECT_FILE_CHARS} (a catalog or config is a few KB)")
    return None


def _irregular(path: Path) -> bool:
    """True if ``path`` exists but is not a regular file (a FIFO would block a read)."""
    return path.exists() and regular_file(path) is None and not path.is_dir()


def _usable(catalog: Catalog) -> bool:
    return catalog.path is not None and (
        bool(catalog.flows) or not any(p.severity == "error" for p in catalog.problems))


def _signature(path: Path, open_text: Mapping[Path, tuple[int, str]]) -> object:
    buf = open_text.get(path)
    if buf is not None:
        return ("open", buf[0], len(buf[1]))
    try:
        st = path.stat()
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size)

