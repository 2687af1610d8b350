"""Fixtures of the real-editor tests (the workspace: see _editor_workspace.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from _editor_workspace import FAILURE, FAILURE_NOW, MARKER, MARKER_NOW
from _lsp_workspaces import EXAMPLE, copy_app, run_app


@pytest.fixture(scope="session")
def editors_ws(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example app, non-ASCII text added before the flow id and the failure, run."""
    ws = copy_app(EXAMPLE, tmp_path_factory.mktemp("editors") / "trading_app")
    broker = ws / "trading" / "broker.py"
    source = broker.read_text(encoding="utf-8")
    assert MARKER in source and FAILURE in source, "examples/trading_app/trading/broker.py changed"
    broker.write_text(source.replace(MARKER, MARKER_NOW).replace(FAILURE, FAILURE_NOW),
                      encoding="utf-8")
    proc = run_app(ws)
    assert (ws / ".autodev" / "latest").exists(), proc.stdout + proc.stderr
    return ws
