"""Issue 13, 'Every editor': lens commands any client can run.

A client that does not implement ``flowscribe.revealFlow`` (Neovim, Emacs, Helix ...) gets
lenses running the server's ``flowscribe.showFlow`` (``workspace/executeCommand``), which
opens where the flow last failed, else its flows.yaml entry, with ``window/showDocument``.
The VS Code extension lists ``flowscribe.revealFlow`` in ``clientCommands`` and keeps it.
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

from _lsp_session import Session, find_line
from _lsp_workspaces import run_app
from lsprotocol import types as lsp

SHOW = "flowscribe.showFlow"


async def _lens(session: Session, path: Path, flow_id: str) -> lsp.CodeLens:
    for _ in range(400):
        lenses = [x for x in await session.lenses(path)
                  if x.command and x.command.arguments and x.command.arguments[0] == flow_id]
        if lenses and "✓" in lenses[0].command.title:  # type: ignore[union-attr]
            return lenses[0]
        await session.settle(0.05)
    raise AssertionError(f"no lens for {flow_id} on {path.name}")


async def _run(session: Session, command: lsp.Command) -> Any:
    return await session.client.workspace_execute_command_async(lsp.ExecuteCommandParams(
        command=command.command, arguments=command.arguments))


async def test_a_plain_clients_lens_opens_where_the_flow_last_failed(
        session: Session, trading_ws: Path) -> None:
    result = await session.start(trading_ws, capabilities="neovim")
    provider = result.capabilities.execute_command_provider
    assert provider is not None and SHOW in provider.commands
    broker = trading_ws / "trading" / "broker.py"
    session.open(broker)
    lens = await _lens(session, broker, "orders/submit")
    assert lens.command is not None
    assert lens.command.command == SHOW
    assert list(lens.command.arguments or []) == ["orders/submit", broker.as_uri()]

    location = await _run(session, lens.command)
    [shown] = session.client.shown_documents
    failure_ln = find_line(broker, 'f.failure("EXTERNAL.TIMEOUT"')
    indent = len(broker.read_text().splitlines()[failure_ln]) - len(
        broker.read_text().splitlines()[failure_ln].lstrip())
    at = lsp.Position(line=failure_ln, character=indent)
    assert shown.uri == broker.as_uri() and shown.take_focus
    assert shown.selection == lsp.Range(start=at, end=at)
    assert not shown.external  # a recorded location never opens a program
    assert location["uri"] == broker.as_uri()  # the command's result: the location shown


async def test_a_flow_that_never_failed_opens_its_catalog_entry(
        session: Session, trading_ws: Path) -> None:
    await session.start(trading_ws, capabilities="neovim")
    indicators = trading_ws / "trading" / "indicators.py"
    session.open(indicators)
    lens = await _lens(session, indicators, "indicators/ema/compute")
    assert lens.command is not None and lens.command.command == SHOW
    await _run(session, lens.command)
    [shown] = session.client.shown_documents
    flows = trading_ws / ".autodev" / "flows.yaml"
    assert shown.uri == flows.as_uri()
    assert shown.selection is not None
    assert shown.selection.start.line == find_line(flows, 'id: "indicators/ema/compute"')


async def test_the_vscode_extension_keeps_its_own_command(
        session: Session, trading_ws: Path) -> None:
    await session.start(trading_ws, options={"clientCommands": ["flowscribe.revealFlow"]})
    broker = trading_ws / "trading" / "broker.py"
    session.open(broker)
    lens = await _lens(session, broker, "orders/submit")
    assert lens.command is not None
    assert lens.command.command == "flowscribe.revealFlow"
    assert list(lens.command.arguments or []) == ["orders/submit"]


async def test_bad_arguments_get_a_message_and_the_server_goes_on(
        session: Session, trading_ws: Path) -> None:
    await session.start(trading_ws, capabilities="neovim")
    for args in ([], [42], ["no/such/flow"], [None, None], ["orders/submit", "http://x/y"],
                 ["orders/submit", {"uri": 1}]):
        assert await _run(session, lsp.Command(title="", command=SHOW, arguments=args)) is None
    assert session.client.shown_documents == []
    assert len(session.client.messages) == 6
    assert "no/such/flow" in session.client.messages[2].message
    # Still answering.
    broker = trading_ws / "trading" / "broker.py"
    session.open(broker)
    assert (await _lens(session, broker, "orders/submit")).command is not None


HELPER = textwrap.dedent('''\
    def check(flow):
        flow.failure("DATA.EMPTY", "nothing here")
    ''')
APP = textwrap.dedent('''\
    import sys

    sys.path.insert(0, sys.argv[1])
    import flowscribe
    from outside_helper import check

    flowscribe.init(app_name="outside", root=".")
    with flowscribe.flow("outside/flow") as f:
        check(f)
    flowscribe.end_session()
    ''')


async def test_a_failure_recorded_outside_the_workspace_is_never_opened(
        session: Session, tmp_path: Path) -> None:
    """The failure's file lies outside the workspace (a library's code): the lens opens
    the catalog entry instead."""
    lib = tmp_path / "lib"
    lib.mkdir()
    (lib / "outside_helper.py").write_text(HELPER)
    ws = tmp_path / "ws"
    (ws / ".autodev").mkdir(parents=True)
    (ws / ".autodev" / "flows.yaml").write_text(
        'version: 1\nflows:\n  - id: "outside/flow"\n    description: "x"\n')
    (ws / "app.py").write_text(APP)
    proc = run_app(ws, str(lib))
    assert (ws / ".autodev" / "latest").exists(), proc.stdout + proc.stderr
    assert str(lib / "outside_helper.py") in (ws / ".autodev" / "latest" / "trace.jsonl"
                                              ).read_text()

    await session.start(ws, capabilities="neovim")
    app = ws / "app.py"
    session.open(app)
    lens = await _lens(session, app, "outside/flow")
    assert lens.command is not None
    await _run(session, lens.command)
    [shown] = session.client.shown_documents
    assert shown.uri == (ws / ".autodev" / "flows.yaml").as_uri()
