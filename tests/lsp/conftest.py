"""Fixtures for the language server's end-to-end tests.

A real server process (``python -m flowscribe_lsp``) talks to a real client (pytest-lsp)
over stdio, on workspaces made by running the real runtime: the example trading app, and
small apps of our own under ``fixtures/``. Hand-written traces are only used for input the
runtime would never write (broken lines, unknown schemas, huge lines, binary junk).
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_lsp
from _lsp_session import Session, accept_server_requests
from _lsp_workspaces import EXAMPLE, FIXTURES, SERVER_PYTHON, SHOP_EXAMPLE, copy_app, run_app
from pytest_lsp import ClientServerConfig, LanguageClient


@pytest.fixture(scope="session")
def trading_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example app after one real run (three deliberate problems)."""
    ws = copy_app(EXAMPLE, tmp_path_factory.mktemp("template") / "trading_app")
    proc = run_app(ws)
    assert (ws / ".autodev" / "latest").exists(), proc.stdout + proc.stderr
    return ws


@pytest.fixture
def trading_ws(trading_template: Path, tmp_path: Path) -> Path:
    """A private copy of the example app's workspace, artifacts included."""
    return Path(shutil.copytree(trading_template, tmp_path / "trading_app", symlinks=True))


@pytest.fixture
def shop_ws(tmp_path: Path) -> Path:
    """Our own small app (fixtures/shop): repeats, caused_by, exception frames."""
    ws = copy_app(FIXTURES / "shop", tmp_path / "shop")
    proc = run_app(ws)
    assert (ws / ".autodev" / "latest").exists(), proc.stdout + proc.stderr
    return ws


@pytest.fixture
def shop_example_ws(tmp_path: Path) -> Path:
    """examples/shop after one real run: a BUSINESS failure, a TimeoutError, an unfinished
    flow, three orphans and a disabled flow."""
    ws = copy_app(SHOP_EXAMPLE, tmp_path / "shop_example")
    proc = run_app(ws)
    assert (ws / ".autodev" / "latest").exists(), proc.stdout + proc.stderr
    return ws


@pytest_lsp.fixture(
    config=ClientServerConfig(server_command=[SERVER_PYTHON, "-m", "flowscribe_lsp"]),
)
async def client(lsp_client: LanguageClient) -> AsyncIterator[None]:
    accept_server_requests(lsp_client)
    yield
    if lsp_client.capabilities is not None:
        await lsp_client.shutdown_session()


@pytest.fixture
def session(client: LanguageClient) -> Session:
    return Session(client)
