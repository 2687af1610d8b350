"""Where the workspace's Python code names flows: marker calls in every ``.py`` file.

References, "catalog flows no code uses", the sidebar's marker locations and catalog
checks on closed files all need every file's markers, not only the open ones. The scan
walks each workspace folder (skipping virtualenvs, caches, VCS and dependency folders),
reads only files that mention a marker name, and re-reads a file only when its size or
mtime changed. Open documents are layered on top by the server (their text wins).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import MappingProxyType

from .markers import Marker, scan_source
from .paths import regular_file

__all__ = ["IGNORED_DIRS", "CodeIndex"]

IGNORED_DIRS = frozenset({
    ".git", ".hg", ".svn", ".venv", "venv", "env", ".env", "node_modules", "__pycache__",
    ".tox", ".nox", ".mypy_cache", ".pytest_cache", ".ruff_cache", "site-packages",
    "build", "dist", ".eggs", ".idea", ".vscode",
})
MAX_FILES = 20_000
MAX_FILE_BYTES = 2 << 20


class CodeIndex:
    """Markers of the Python files under one folder. Used by one thread at a time."""

    def __init__(self, root: Path, names: Iterable[str], skip: Iterable[Path] = ()) -> None:
        self.root = root
        self.names = tuple(names)
        self.skip = frozenset(skip)
        self._files: dict[Path, tuple[tuple[int, int], tuple[Marker, ...]]] = {}
        self.truncated = False

    def wants(self, path: Path) -> bool:
        """True if ``path`` is a Python file the walk would index."""
        if path.suffix != ".py" or any(path == s or s in path.parents for s in self.skip):
            return False
        try:
            rel = path.relative_to(self.root)
        except ValueError:
            return False
        return not any(p in IGNORED_DIRS or p.startswith(".") for p in rel.parts[:-1])

    def rescan(self, only: Iterable[Path] | None = None) -> bool:
        """Bring the index up to date (all files, or just ``only``). True if it changed."""
        if only is not None:
            return any([self._update(p) for p in only if self.wants(p)])
        seen: set[Path] = set()
        changed = False
        for path in self._walk():
            seen.add(path)
            changed = self._update(path) or changed
        for gone in [p for p in self._files if p not in seen]:
            del self._files[gone]
            changed = True
        return changed

    def _walk(self) -> Iterable[Path]:
        count = 0
        self.truncated = False
        for dirpath, dirnames, filenames in os.walk(self.root):
            here = Path(dirpath)
            dirnames[:] = sorted(
                d for d in dirnames
                if d not in IGNORED_DIRS and not d.startswith(".") and here / d not in self.skip
            )
            for name in sorted(filenames):
                if name.endswith(".py"):
                    count += 1
                    if count > MAX_FILES:
                        self.truncated = True
                        return
                    yield here / name

    def _update(self, path: Path) -> bool:
        st = regular_file(path)
        if st is None:
            return self._files.pop(path, None) is not None
        sig = (st.st_mtime_ns, st.st_size)
        old = self._files.get(path)
        if old is not None and old[0] == sig:
            return False
        markers: tuple[Marker, ...] = ()
        if st.st_size <= MAX_FILE_BYTES:
            try:
                text = path.read_text(encoding="utf-8", errors="replace")
            except OSError:
                text = ""
            markers = scan_source(text, self.names).markers
        self._files[path] = (sig, markers)
        return old is None or old[1] != markers

    def snapshot(self) -> Mapping[Path, tuple[Marker, ...]]:
        """Files with at least one marker, frozen."""
        return MappingProxyType({p: m for p, (_, m) in self._files.items() if m})
