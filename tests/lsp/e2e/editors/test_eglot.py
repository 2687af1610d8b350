"""Issue 13, 'Every editor': the server in a real Emacs through eglot, in batch mode.

Debian's Emacs 28 (``apt-get install emacs-nox elpa-eglot``; eglot is built in from Emacs
29) runs ``eglot_client.el`` on the same workspace as the Neovim test. eglot 1.9 offers no
position encoding, so positions are UTF-16 (the 🎉 before the flow id is 2 units), and
without markdown-mode it asks for plain-text hovers.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from _editor_workspace import FAILURE_NOW, FLOW, find, lines_of
from _lsp_workspaces import SERVER_PYTHON

pytestmark = pytest.mark.slow

HERE = Path(__file__).resolve().parent
EMACS = shutil.which("emacs")


def units(text: str) -> int:
    """UTF-16 code units: what eglot counts."""
    return len(text.encode("utf-16-le")) // 2


def _has_eglot(emacs: str) -> bool:
    probe = subprocess.run(
        [emacs, "--batch", "--eval",
         "(progn (require 'package) (package-initialize) (require 'eglot))"],
        capture_output=True, text=True, timeout=60, check=False)
    return probe.returncode == 0


@pytest.fixture(scope="module")
def eglot(editors_ws: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """What eglot received, as eglot_client.el wrote it."""
    if EMACS is None:
        pytest.skip("emacs not found (apt-get install emacs-nox elpa-eglot)")
    if not _has_eglot(EMACS):
        pytest.skip("this Emacs has no eglot (built in from Emacs 29; Debian 12: elpa-eglot)")
    out = tmp_path_factory.mktemp("eglot-out") / "result.json"
    home = out.parent / "home"  # no user init, no ~/.emacs.d writes
    home.mkdir()
    env = {**os.environ, "HOME": str(home), "FS_PYTHON": SERVER_PYTHON,
           "FS_WS": str(editors_ws), "FS_FILE": str(editors_ws / "trading" / "broker.py"),
           "FS_FLOW": FLOW, "FS_OUT": str(out)}
    proc = subprocess.run([EMACS, "--batch", "-l", str(HERE / "eglot_client.el")],
                          cwd=editors_ws, env=env, capture_output=True, text=True,
                          timeout=120, check=False)
    assert out.exists(), f"emacs wrote nothing (exit {proc.returncode}):\n{proc.stderr}"
    result: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    assert result["errors"] == [], (result["errors"], proc.stderr)
    return result


def test_eglot_gets_the_failure_on_its_line(eglot: dict[str, Any], editors_ws: Path) -> None:
    broker = editors_ws / "trading" / "broker.py"
    lines = lines_of(broker)
    ln = find(lines, FAILURE_NOW)
    text = lines[ln]
    published = [p for p in eglot["diagnostics"] if p["uri"] == broker.as_uri()]
    assert published, [p["uri"] for p in eglot["diagnostics"]]
    [diag] = [d for d in published[-1]["diagnostics"] if d["source"] == "flowscribe.trace"]
    assert diag["code"] == "EXTERNAL.TIMEOUT" and "no ack from the broker" in diag["message"]
    start = len(text) - len(text.lstrip())
    assert diag["range"] == {"start": {"line": ln, "character": start},
                             "end": {"line": ln, "character": units(text.rstrip())}}


def test_eglot_hovers_on_the_flow_id(eglot: dict[str, Any], editors_ws: Path) -> None:
    lines = lines_of(editors_ws / "trading" / "broker.py")
    ln = find(lines, f'"{FLOW}"')
    id_col = units(lines[ln][:lines[ln].index(FLOW)])
    assert "🎉" in lines[ln]
    # eglot itself put the position two characters into the id, in UTF-16 units.
    assert eglot["hover_position"] == {"line": ln, "character": id_col + 2}
    hover = eglot["hover"]
    assert hover is not None, "no hover on the flow id after non-ASCII text"
    assert hover["contents"]["kind"] == "plaintext"
    value = hover["contents"]["value"]
    assert value.startswith(f"{FLOW} — ") and "latest run" in value
    assert "last failure: EXTERNAL.TIMEOUT no ack from the broker at trading/broker.py:" in value
    assert "`" not in value and "\\" not in value and "**" not in value  # plain, not markdown
    assert hover["range"] == {"start": {"line": ln, "character": id_col},
                              "end": {"line": ln, "character": id_col + len(FLOW)}}
