"""``flowscribe mcp`` without the SDK, and ``import flowscribe`` never importing it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def test_import_flowscribe_does_not_import_mcp() -> None:
    code = ("import sys, flowscribe, flowscribe.cli, flowscribe.mcp.tools, "
            "flowscribe.mcp.verify; print('mcp' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=60)
    assert out.stdout.strip() == "False"


def test_without_the_sdk_one_line_naming_the_install_and_exit_2(tmp_path: Path) -> None:
    shadow = tmp_path / "shadow" / "mcp"
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text(
        "raise ModuleNotFoundError(\"No module named 'mcp'\", name='mcp')\n")
    src = str(Path(__file__).resolve().parents[3] / "py_server")
    env = {"PYTHONPATH": f"{shadow.parent}{':'}{src}", "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-m", "flowscribe", "mcp", "--workspace",
                          str(tmp_path)], capture_output=True, text=True, env=env, timeout=60)
    assert out.returncode == 2
    assert out.stderr.count("\n") == 1
    assert "pip install 'flowscribe[mcp]'" in out.stderr
