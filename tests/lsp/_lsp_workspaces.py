"""Workspaces for the server tests: the example app and our own apps, run for real."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "trading_app"
SHOP_EXAMPLE = REPO / "examples" / "shop"
FIXTURES = Path(__file__).resolve().parent / "fixtures"
_GENERATED = {"runs", "latest", "summary.md", "ask.md", "__pycache__"}
#: The interpreter that runs the server: set it to check another Python version (the
#: server must run on 3.9+; the tests themselves need pytest-lsp, i.e. 3.10+).
SERVER_PYTHON = os.environ.get("FLOWSCRIBE_TEST_SERVER_PYTHON", sys.executable)


def copy_app(src: Path, dst: Path) -> Path:
    """Copy an app's sources and its tracked .autodev files (not earlier runs)."""

    def ignore(directory: str, names: list[str]) -> set[str]:
        return {n for n in names if n in _GENERATED or n.startswith(("trace.jsonl", "trace.db"))}

    shutil.copytree(src, dst, ignore=ignore, symlinks=True)
    return dst


def run_app(workspace: Path, *args: str, script: str = "app.py",
            env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run an instrumented app for real, in its folder (it writes .autodev artifacts)."""
    return subprocess.run([sys.executable, script, *args], cwd=workspace, capture_output=True,
                          text=True, timeout=120, check=False, env=env)
