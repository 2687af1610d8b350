"""Workspaces for the server tests: the example app and our own apps, run for real."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "trading_app"
SHOP_EXAMPLE = REPO / "examples" / "shop"
FIXTURES = Path(__file__).resolve().parent / "fixtures"
_GENERATED = {"runs", "latest", "summary.md", "ask.md", "__pycache__"}


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
