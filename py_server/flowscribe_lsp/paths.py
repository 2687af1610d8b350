"""Paths and URIs: converting between them, and deciding what lies inside the workspace.

Trace files name source files relative to the project root (or absolutely, outside it).
Whatever they say, the server only ever publishes for files inside a workspace folder
(symlinks resolved), so a trace cannot make an editor show diagnostics on, say,
``/etc/passwd``.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from pathlib import Path

from pygls.uris import from_fs_path, to_fs_path

__all__ = ["inside", "path_to_uri", "real", "regular_file", "uri_to_path"]


def uri_to_path(uri: str) -> Path | None:
    """The local path of a ``file:`` URI, or None for other schemes."""
    if not uri.startswith("file:"):
        return None
    fs = to_fs_path(uri)
    return Path(fs) if fs else None


def path_to_uri(path: Path | str) -> str:
    """The ``file:`` URI of a local path."""
    uri = from_fs_path(str(path))
    return uri if uri is not None else Path(path).as_uri()


def real(path: Path) -> Path:
    """``path`` with symlinks resolved (as far as they exist); never raises."""
    try:
        return Path(os.path.realpath(path))
    except (OSError, ValueError):
        return path


def inside(path: Path, roots: Iterable[Path]) -> bool:
    """True if ``path`` (already resolved) is one of ``roots`` or below one of them."""
    return any(path == root or root in path.parents for root in roots)


def regular_file(path: Path) -> os.stat_result | None:
    """``path``'s stat if it is a regular file (following links), else None. Reading a
    FIFO or a device in a workspace would block or never end: never open one."""
    try:
        st = path.stat()
    except (OSError, ValueError):
        return None
    return st if stat.S_ISREG(st.st_mode) else None
