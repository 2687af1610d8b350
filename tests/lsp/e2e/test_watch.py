"""Issue 3, point 3: live. New runs and events appended to a trace show up with no restart:
the client's file watching where it offers it, polling otherwise; the trace is read from
the last offset, ``latest`` is followed, and so is rotation."""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from _lsp_session import Session, find_line
from _lsp_workspaces import run_app
from lsprotocol import types as lsp

TRACE = "flowscribe.trace"

LIVE_APP = textwrap.dedent('''\
    import pathlib
    import time

    import flowscribe

    flowscribe.init(app_name="live", root=".")
    with flowscribe.flow("live/step") as f:
        f.failure("LIVE.ONE", "first")
        while not pathlib.Path("go").exists():
            time.sleep(0.02)
        f.failure("LIVE.TWO", "second")
    flowscribe.end_session()
    ''')


def _live_workspace(tmp_path: Path) -> Path:
    ws = tmp_path / "live"
    (ws / ".autodev").mkdir(parents=True)
    (ws / ".autodev" / "ra.yaml").write_text("version: 1\nprofile: all\nsinks:\n"
                                              "  - type: jsonl\n")
    (ws / "app.py").write_text(LIVE_APP)
    return ws


@pytest.mark.parametrize("client_spec", ["visual-studio-code", "neovim"])
async def test_events_of_a_running_app_appear_without_a_restart(
        session: Session, tmp_path: Path, client_spec: str) -> None:
    ws = _live_workspace(tmp_path)
    app = ws / "app.py"
    await session.start(ws, capabilities=client_spec)  # neovim: no dynamic file watching
    proc = subprocess.Popen([sys.executable, "app.py"], cwd=ws, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        [one] = await session.wait_diagnostics(app, bool, source=TRACE)
        assert one.code == "LIVE.ONE"
        assert one.range.start.line == find_line(app, 'f.failure("LIVE.ONE"')
        assert proc.poll() is None  # the run is still going: read while it writes
        (ws / "go").touch()
        diags = await session.wait_diagnostics(app, lambda d: len(d) == 2, source=TRACE)
        assert {d.code for d in diags} == {"LIVE.ONE", "LIVE.TWO"}
    finally:
        (ws / "go").touch()
        proc.wait(timeout=60)


async def test_the_server_registers_file_watchers_with_a_client_that_offers_them(
        session: Session, trading_ws: Path) -> None:
    await session.start(trading_ws)
    regs = await session.wait_until(lambda: session.client.registrations, "registration")  # type: ignore[attr-defined]
    [reg] = [r for r in regs if r.method == lsp.WORKSPACE_DID_CHANGE_WATCHED_FILES]
    globs = {w["globPattern"] for w in reg.register_options["watchers"]}  # type: ignore[index]
    assert {"**/.autodev/**", "**/flows.yaml", "**/*.py"} <= globs


async def test_a_watched_python_file_change_updates_the_code_index(
        session: Session, trading_ws: Path) -> None:
    flows = trading_ws / ".autodev" / "flows.yaml"
    flows.write_text(flows.read_text() + '\n  - id: "orders/cancel"\n'
                     '    description: "Cancel an order."\n')
    await session.start(trading_ws)  # a client that watches files: no periodic walk
    [unused] = await session.wait_diagnostics(
        flows, lambda d: any(x.code == "unreferenced-flow" for x in d),
        source="flowscribe.catalog")
    assert unused.data["flowId"] == "orders/cancel"
    mod = trading_ws / "trading" / "cancel.py"
    mod.write_text('import flowscribe\n\nwith flowscribe.flow("orders/cancel"):\n    pass\n')
    session.notify_watched((mod, lsp.FileChangeType.Created))
    await session.wait_diagnostics(flows, lambda d: not d, source="flowscribe.catalog",
                                   what="orders/cancel now used")


async def test_the_flat_trace_is_followed_across_rotation(
        session: Session, shop_ws: Path) -> None:
    ra = shop_ws / ".autodev" / "ra.yaml"
    ra.write_text("version: 1\nprofile: all\nsinks:\n  - type: jsonl\n"
                  "artifacts:\n  per_run_dirs: false\n"
                  "retention:\n  rotate_trace: true\n  max_trace_bytes: 8192\n")
    shutil.rmtree(shop_ws / ".autodev" / "runs")
    (shop_ws / ".autodev" / "latest").unlink()
    (shop_ws / ".autodev" / "trace.jsonl").unlink()
    await session.start(shop_ws)
    inventory = shop_ws / "shop" / "inventory.py"
    for n in range(3):  # each run is ~10 KB: every run rotates the trace
        run_app(shop_ws)
        assert (shop_ws / ".autodev" / "trace.jsonl.1").exists()
        [d] = await session.wait_diagnostics(
            inventory, lambda d, n=n: bool(d) and d[0].data["count"] == 3, source=TRACE)
    assert not (shop_ws / ".autodev" / "latest").exists()
    assert "(x3)" in d.message


async def test_a_deleted_trace_clears_its_diagnostics(session: Session, shop_ws: Path) -> None:
    await session.start(shop_ws)
    inventory = shop_ws / "shop" / "inventory.py"
    await session.wait_diagnostics(inventory, bool, source=TRACE)
    shutil.rmtree(shop_ws / ".autodev" / "runs")
    (shop_ws / ".autodev" / "trace.jsonl").unlink()
    await session.wait_diagnostics(inventory, lambda d: not d, source=TRACE, what="cleared")
    run_app(shop_ws)  # and the next run shows up again
    await session.wait_diagnostics(inventory, bool, source=TRACE)
