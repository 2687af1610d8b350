"""Shared fixtures for the runtime tests: an isolated project directory per test.

Each test gets an empty project root as its working directory, with no ``FLOWSCRIBE_*`` or
``RA_*`` variable leaking in from the outside or from an earlier test, and every session it
started is ended afterwards (so no atexit hook writes into a deleted directory). They
check what an app's own run records, so they are marked ``flowscribe_off``: the pytest
plugin's test run and per-test correlation key stay out of them (``tests/runtime/testing``
tests the plugin, in pytest runs of its own).
Helpers to write configs and read traces are in ``_project.py``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from _project import QUIET_CONFIG, write_config

import flowscribe._lifecycle as lifecycle
from flowscribe._warn import reset_warnings

_HERE = Path(__file__).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if _HERE in item.path.parents:
            item.add_marker(pytest.mark.flowscribe_off)


def _clean_env() -> None:
    for key in list(os.environ):
        if key.startswith(("FLOWSCRIBE_", "RA_")):
            del os.environ[key]


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An empty project root (the cwd), with a quiet ra.yaml (JSONL sink only)."""
    root = tmp_path / "proj"
    root.mkdir()
    write_config(root, QUIET_CONFIG)
    monkeypatch.chdir(root)
    saved = dict(os.environ)
    _clean_env()
    reset_warnings()
    try:
        yield root
    finally:
        lifecycle.end_all()
        lifecycle.default = None
        os.environ.clear()
        os.environ.update(saved)
        reset_warnings()


