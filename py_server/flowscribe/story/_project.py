"""Facts about the project a story is told in: how to reproduce the run, where the tests
are and how they run. Read from the run's header and the project's own files, never
guessed beyond them."""

from __future__ import annotations

import os
import shlex
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["ProjectFacts", "project_facts"]

_MAX_CONFIG_BYTES = 200_000


@dataclass
class ProjectFacts:
    """The root, the command that reproduces the run, and the test command."""

    root: str | None
    reproduce: str | None
    tests: str | None
    test_command: str | None


def _python_name(argv0: str) -> str:
    return "python" if argv0.endswith(".py") or not argv0 else argv0


def reproduce_command(header: Mapping[str, Any], root: Path | None) -> str | None:
    """``cd <cwd relative to the root> && python <argv>`` from the run's header."""
    argv = header.get("argv")
    if not isinstance(argv, list) or not argv or not all(isinstance(a, str) for a in argv):
        return None
    first = argv[0]
    if first.endswith(".py") or first == "-m" or first == "-c":
        cmd = ["python", *argv]
    elif os.path.basename(first) in ("__main__.py",):
        cmd = ["python", "-m", "?", *argv[1:]]
    else:
        cmd = [os.path.basename(first), *argv[1:]]
    text = shlex.join(cmd)
    cwd = header.get("cwd")
    if isinstance(cwd, str) and root is not None:
        try:
            rel = Path(cwd).resolve().relative_to(root)
        except (OSError, ValueError, RuntimeError):
            rel = None
        if rel is not None and str(rel) not in ("", "."):
            text = f"cd {shlex.quote(rel.as_posix())} && {text}"
    return text


def _read_small(path: Path) -> str:
    try:
        if path.is_file() and path.stat().st_size <= _MAX_CONFIG_BYTES:
            return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        pass
    return ""


def _testpaths(root: Path) -> list[str] | None:
    """``testpaths`` from pyproject.toml, pytest.ini, tox.ini or setup.cfg, if set."""
    text = _read_small(root / "pyproject.toml")
    if text and sys.version_info >= (3, 11):
        import tomllib

        try:
            ini = tomllib.loads(text).get("tool", {}).get("pytest", {}).get("ini_options", {})
        except (tomllib.TOMLDecodeError, AttributeError):
            ini = {}
        paths = ini.get("testpaths") if isinstance(ini, dict) else None
        if isinstance(paths, list) and all(isinstance(p, str) for p in paths):
            return paths
        if isinstance(paths, str):
            return paths.split()
    for name, section in (("pytest.ini", "[pytest]"), ("tox.ini", "[pytest]"),
                          ("setup.cfg", "[tool:pytest]")):
        body = _read_small(root / name)
        if section not in body:
            continue
        part = body.split(section, 1)[1].split("\n[", 1)[0]
        for line in part.splitlines():
            key, _, value = line.partition("=")
            if key.strip() == "testpaths" and value.strip():
                return value.split()
    return None


def find_tests(root: Path | None) -> tuple[str | None, str | None]:
    """(where the tests are, the command that runs them), detected from the project."""
    if root is None:
        return None, None
    paths = _testpaths(root)
    if paths:
        return ", ".join(paths), "python -m pytest " + " ".join(shlex.quote(p) for p in paths)
    for name in ("tests", "test"):
        if (root / name).is_dir():
            return f"{name}/", f"python -m pytest {name}"
    found = sorted(p.name for p in root.glob("test_*.py"))[:3]
    if found:
        return ", ".join(found), "python -m pytest"
    return None, None


def project_facts(header: Mapping[str, Any], root: Path | str | None = None) -> ProjectFacts:
    """What a story says about the project of a run with this ``run_start`` header."""
    given = root if root is not None else header.get("root")
    base = None
    if isinstance(given, (str, Path)) and str(given):
        try:
            base = Path(given).resolve()
        except (OSError, RuntimeError):
            base = None
    tests, command = find_tests(base if base is not None and base.is_dir() else None)
    return ProjectFacts(root=str(base) if base is not None else None,
                        reproduce=reproduce_command(header, base), tests=tests,
                        test_command=command)
