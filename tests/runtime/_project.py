"""Helpers for runtime tests: write a project's config and catalog, read its trace."""

from __future__ import annotations

import json
import os
import sys
import textwrap
from pathlib import Path
from typing import Any

#: The runtime's console sink is off in most tests: stderr then only holds warnings.
QUIET_CONFIG = """\
version: 1
profile: all
sinks:
  - type: jsonl
    path: .autodev/trace.jsonl
"""


def clean_env(**extra: str) -> dict[str, str]:
    """The test's environment without flowscribe's variables (as a user's shell has),
    plus ``extra``: what an app the test starts runs with."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FLOWSCRIBE_", "RA_"))}
    env.update(extra)
    return env


def write_config(root: Path, text: str) -> Path:
    path = root / ".autodev" / "ra.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def write_catalog(root: Path, text: str) -> Path:
    path = root / ".autodev" / "flows.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def read_lines(path: Path) -> list[dict[str, Any]]:
    """Every line of a trace, parsed strictly: a bad line fails the test."""
    events = []
    with path.open("rb") as fh:
        for raw in fh:
            assert raw.endswith(b"\n"), f"unterminated line: {raw[:80]!r}"
            events.append(json.loads(raw))
    return events


def trace(root: Path) -> list[dict[str, Any]]:
    """The events of ``.autodev/trace.jsonl``."""
    return read_lines(root / ".autodev" / "trace.jsonl")


def of_type(events: list[dict[str, Any]], *types: str) -> list[dict[str, Any]]:
    return [e for e in events if e["event_type"] in types]


def line_of(marker: str, path: str | None = None) -> int:
    """The line of a source file (default: the caller's) that carries ``# L:<marker>``."""
    if path is None:
        path = sys._getframe(1).f_code.co_filename
    tag = f"# L:{marker}"
    for n, text in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if text.rstrip().endswith(tag):
            return n
    raise AssertionError(f"no line tagged {tag} in {path}")


def run_python(code: str, cwd: Path, *, env: dict[str, str] | None = None,
               timeout: float = 60) -> Any:
    """Run ``code`` as ``app.py`` in ``cwd`` with this interpreter; returns the result."""
    import subprocess

    script = cwd / "app.py"
    script.write_text(textwrap.dedent(code), encoding="utf-8")
    return subprocess.run(
        [sys.executable, "app.py"], cwd=cwd, env=dict(os.environ if env is None else env),
        capture_output=True, text=True, timeout=timeout, check=False,
    )
