"""Issue 3, point 9: multi-root workspaces, nested projects, and the artifacts folder and
marker names configurable through initialization options and didChangeConfiguration."""

from __future__ import annotations

import shutil
from pathlib import Path

from _lsp_session import Session, uri
from lsprotocol import types as lsp

TRACE = "flowscribe.trace"


async def test_two_workspace_folders_each_with_their_runs(
        session: Session, trading_ws: Path, shop_ws: Path) -> None:
    await session.start(trading_ws, shop_ws)
    broker = trading_ws / "trading" / "broker.py"
    inventory = shop_ws / "shop" / "inventory.py"
    await session.wait_diagnostics(broker, bool, source=TRACE)
    await session.wait_diagnostics(inventory, bool, source=TRACE)
    flows = {}
    for _ in range(200):
        nodes = (await session.request("flowscribe/flows", {}))["flows"]
        flows = {(n["workspaceFolder"], n["id"]): n for n in nodes}
        if all(n["runId"] for n in nodes):
            break
        await session.settle(0.05)
    assert (uri(trading_ws), "orders/submit") in flows
    assert (uri(shop_ws), "inventory/reserve") in flows
    assert (uri(shop_ws), "orders/submit") not in flows
    runs = (await session.request("flowscribe/runs", {}))["runs"]
    assert {r["workspaceFolder"] for r in runs} == {uri(trading_ws), uri(shop_ws)}


async def test_folders_added_later_are_indexed(
        session: Session, trading_ws: Path, shop_ws: Path) -> None:
    await session.start(trading_ws)
    await session.wait_diagnostics(trading_ws / "trading" / "broker.py", bool, source=TRACE)
    session.client.workspace_did_change_workspace_folders(lsp.DidChangeWorkspaceFoldersParams(
        event=lsp.WorkspaceFoldersChangeEvent(
            added=[lsp.WorkspaceFolder(uri=uri(shop_ws), name="shop")], removed=[])))
    await session.wait_diagnostics(shop_ws / "shop" / "inventory.py", bool, source=TRACE)


async def test_a_project_nested_in_the_opened_folder_is_found(
        session: Session, trading_ws: Path) -> None:
    repo = trading_ws.parent  # the folder the user opened holds the app in a subfolder
    await session.start(repo)
    await session.wait_diagnostics(trading_ws / "trading" / "broker.py", bool, source=TRACE)


async def test_the_artifacts_folder_is_configurable(session: Session, shop_ws: Path) -> None:
    shutil.move(str(shop_ws / ".autodev"), str(shop_ws / "traces"))
    inventory = shop_ws / "shop" / "inventory.py"
    await session.start(shop_ws, options={"artifactsDir": "traces"})
    await session.wait_diagnostics(inventory, bool, source=TRACE)
    # Pointing it elsewhere (didChangeConfiguration) drops what came from there.
    session.client.workspace_did_change_configuration(lsp.DidChangeConfigurationParams(
        settings={"flowscribe": {"artifactsDir": "elsewhere"}}))
    await session.wait_diagnostics(inventory, lambda d: not d, source=TRACE, what="cleared")
    session.client.workspace_did_change_configuration(lsp.DidChangeConfigurationParams(
        settings={"flowscribe": {"artifactsDir": "traces"}}))
    await session.wait_diagnostics(inventory, bool, source=TRACE)


async def test_settings_are_pulled_when_the_notification_carries_none(
        session: Session, shop_ws: Path) -> None:
    shutil.move(str(shop_ws / ".autodev"), str(shop_ws / "traces"))
    inventory = shop_ws / "shop" / "inventory.py"
    await session.start(shop_ws)
    await session.settle(0.5)
    assert not session.diagnostics(inventory, TRACE)
    session.client.set_configuration({"artifactsDir": "traces"}, section="flowscribe")
    session.client.workspace_did_change_configuration(
        lsp.DidChangeConfigurationParams(settings=None))
    await session.wait_diagnostics(inventory, bool, source=TRACE)


async def test_bad_settings_are_reported_and_defaults_kept(
        session: Session, shop_ws: Path) -> None:
    await session.start(shop_ws, options={
        "artifactsDir": 42, "markers": "flow, not a name", "diagnostics": {"minSeverity": "loud"},
        "lenses": "yes", "somethingElse": True})
    await session.wait_diagnostics(shop_ws / "shop" / "inventory.py", bool, source=TRACE)
    log = session.log_text()
    assert "artifactsDir: expected a non-empty string" in log
    assert "markers: names must be Python identifiers" in log
    assert "diagnostics.minSeverity: must be one of" in log
    assert "lenses: expected an object" in log
    assert "somethingElse" not in log


async def test_diagnostics_can_be_switched_off(session: Session, shop_ws: Path) -> None:
    await session.start(shop_ws)
    inventory = shop_ws / "shop" / "inventory.py"
    await session.wait_diagnostics(inventory, bool, source=TRACE)
    session.client.workspace_did_change_configuration(lsp.DidChangeConfigurationParams(
        settings={"flowscribe": {"diagnostics": {"enabled": False}}}))
    await session.wait_diagnostics(inventory, lambda d: not d, what="cleared")


async def test_each_workspace_folder_has_its_own_settings(
        session: Session, trading_ws: Path, shop_ws: Path) -> None:
    """Multi-root: the server asks for each folder's settings (workspace/configuration with
    the folder as scopeUri), so one folder's artifacts folder and lens switch are its own."""
    shutil.move(str(shop_ws / ".autodev"), str(shop_ws / "traces"))
    session.client.set_configuration({"artifactsDir": "traces", "lenses": {"enabled": False}},
                                     section="flowscribe", scope_uri=uri(shop_ws))
    await session.start(trading_ws, shop_ws)
    broker = trading_ws / "trading" / "broker.py"
    inventory = shop_ws / "shop" / "inventory.py"
    await session.wait_diagnostics(broker, bool, source=TRACE)  # the window's .autodev
    await session.wait_diagnostics(inventory, bool, source=TRACE)  # the folder's traces/
    session.open(broker)
    session.open(inventory)
    assert await session.lenses(broker)
    assert await session.lenses(inventory) == []
    # A change the folder's settings make (a notification with none: pull them again).
    session.client.set_configuration({"artifactsDir": "elsewhere"},
                                     section="flowscribe", scope_uri=uri(shop_ws))
    session.client.workspace_did_change_configuration(
        lsp.DidChangeConfigurationParams(settings=None))
    await session.wait_diagnostics(inventory, lambda d: not d, source=TRACE, what="cleared")
    assert session.diagnostics(broker, TRACE)


def test_the_servers_defaults_are_the_extensions() -> None:
    """Two homes for the defaults, by necessity (the server serves any editor; VS Code reads
    package.json): they must say the same."""
    import json

    from _lsp_workspaces import REPO

    from flowscribe_lsp.settings import Settings

    props = json.loads((REPO / "vscode-ext" / "package.json").read_text(encoding="utf-8"))[
        "contributes"]["configuration"]["properties"]
    server = Settings()
    assert props["flowscribe.artifactsDir"]["default"] == server.artifacts_dir
    assert tuple(props["flowscribe.markers"]["default"]) == server.markers
    assert props["flowscribe.diagnostics.enabled"]["default"] == server.diagnostics_enabled
    assert props["flowscribe.diagnostics.minSeverity"]["default"] == server.min_severity
    assert props["flowscribe.lenses.enabled"]["default"] == server.lenses_enabled
