"""Real apps for the process tests: written into the test's project, run with this
interpreter, stopped the way users stop them."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

#: Generous bounds for a shared 2-core machine; a healthy run takes a fraction of them.
TIMEOUT = 60.0


def clean_env(**extra: str) -> dict[str, str]:
    """The test's environment without flowscribe's variables (as a user's shell has)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FLOWSCRIBE_", "RA_"))}
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra)
    return env


def write_app(root: Path, code: str, name: str = "app.py") -> Path:
    path = root / name
    path.write_text(textwrap.dedent(code), encoding="utf-8")
    return path


def start_app(root: Path, *args: str, env: dict[str, str] | None = None,
              name: str = "app.py") -> subprocess.Popen[str]:
    """Start ``python app.py *args``; returns once it printed ``ready`` (fails if it
    exits first)."""
    proc = subprocess.Popen(
        [sys.executable, name, *args], cwd=root, env=env or clean_env(),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if line.strip() != "ready":
        _, err = proc.communicate(timeout=TIMEOUT)
        raise AssertionError(f"app exited {proc.returncode} before it was ready:\n{err}")
    return proc


def finish(proc: subprocess.Popen[str]) -> tuple[int, str]:
    """Wait for the app to exit: (status, stderr)."""
    try:
        _, err = proc.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise
    return proc.returncode, err
