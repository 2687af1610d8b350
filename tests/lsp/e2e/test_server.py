"""The server process: started by ``flowscribe lsp`` (and ``python -m flowscribe_lsp``),
it advertises what it does to any LSP client and exits cleanly."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest_lsp
from _lsp_session import Session, accept_server_requests
from lsprotocol import types as lsp
from pytest_lsp import ClientServerConfig, LanguageClient

FLOWSCRIBE = str(Path(sys.executable).with_name("flowscribe"))


@pytest_lsp.fixture(config=ClientServerConfig(server_command=[FLOWSCRIBE, "lsp"]))
async def cli_client(lsp_client: LanguageClient) -> AsyncIterator[None]:
    accept_server_requests(lsp_client)
    yield


async def test_flowscribe_lsp_starts_the_server(cli_client: LanguageClient,
                                                trading_ws: Path) -> None:
    session = Session(cli_client)
    result = await session.start(trading_ws)
    assert result.server_info is not None and result.server_info.name == "flowscribe"
    await session.wait_diagnostics(trading_ws / "trading" / "broker.py", bool,
                                   source="flowscribe.trace")
    await cli_client.shutdown_session()
    assert cli_client._server is not None and cli_client._server.returncode == 0


async def test_capabilities_any_client_can_use(session: Session, trading_ws: Path) -> None:
    result = await session.start(trading_ws, capabilities="neovim")
    caps = result.capabilities
    assert caps.hover_provider and caps.definition_provider and caps.references_provider
    assert caps.document_symbol_provider and caps.workspace_symbol_provider
    assert caps.code_lens_provider is not None
    assert caps.completion_provider is not None
    assert set(caps.completion_provider.trigger_characters or []) >= {'"', "'", "/"}
    assert isinstance(caps.code_action_provider, lsp.CodeActionOptions)
    assert list(caps.code_action_provider.code_action_kinds or []) == ["quickfix"]
    sync = caps.text_document_sync
    assert isinstance(sync, lsp.TextDocumentSyncOptions)
    assert sync.change == lsp.TextDocumentSyncKind.Incremental
