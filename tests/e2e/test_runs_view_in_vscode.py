"""The Runs view in a real VS Code (code-server + Chromium), on the example app's runs.

Issue 10 §7: "Compare with Previous Run" on the newest run (the fix) opens the comparison
with the run before (the bug): DATA.EMPTY gone, ``rows`` from 0 to 390.
Issue 9 §1: a real ``pytest`` run of a tiny test over the example shows under "Test runs",
labelled pytest, and the status bar keeps the app's latest run.
Screenshots go to test-artifacts/e2e/runs/.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from example_app import copy_example, latest_run_id, run_app
from workbench import Workbench, text_of, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

TIMEOUT = 30.0
TINY_TEST = textwrap.dedent('''\
    from trading.market_data import fetch_minute_candles


    def test_nflx_has_its_candles_once_the_feed_is_fixed(flows):
        assert len(fetch_minute_candles("NFLX", "2026-11-25", fixed=True)) == 390
        flows.assert_flow("data/fetch/minute_candles", verdict="passed")
    ''')


@pytest.fixture(scope="module")
def artifacts_dir(artifacts_dir: Path) -> Path:
    folder = artifacts_dir / "runs"
    folder.mkdir(exist_ok=True)
    return folder


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example after two real runs: with its DATA.EMPTY bug, then with the fix."""
    root = copy_example(tmp_path_factory.mktemp("e2e-runs") / "trading_app")
    run_app(root)
    bug = latest_run_id(root)
    run_app(root, fixed=True)
    fix = latest_run_id(root)
    assert bug != fix
    return root


def _run_ids(workspace: Path) -> tuple[str, str]:
    """The bug's run and the fix's, oldest first (the app's runs only)."""
    runs = sorted(p.name for p in (workspace / ".autodev" / "runs").iterdir() if p.is_dir())
    return runs[0], runs[1]


def _editor_text(bench: Workbench) -> str:
    lines = bench.page.locator(".editor-instance .monaco-editor .view-lines").first
    lines.wait_for(state="visible", timeout=10_000)
    return text_of(lines.inner_text())


def _status_label(bench: Workbench) -> str:
    item = bench.page.locator('.statusbar-item [aria-label^="flowscribe latest run"]')
    return wait_for(lambda: item.count() and item.first.get_attribute("aria-label"), TIMEOUT,
                    "the latest run's verdict in the status bar")


def test_compare_with_previous_run_from_the_runs_view(
        workbench: Workbench, workspace: Path) -> None:
    bug, fix = _run_ids(workspace)
    view = workbench.open_view("flowscribe", "Runs")
    newest = view.get_by_role("treeitem").first
    wait_for(lambda: newest.count() and newest.get_attribute("aria-label"), TIMEOUT,
             "the newest run in the Runs view")
    newest.click(button="right")
    item = workbench.page.locator(".monaco-menu .action-item", has_text="Compare with Previous Run")
    item.first.wait_for(state="visible", timeout=10_000)
    workbench.shot("runs-context-menu")
    item.first.click()
    tab = workbench.page.locator('.tab[aria-label*="vs previous.diff.txt"]').first
    tab.wait_for(timeout=TIMEOUT * 1000)

    def compared() -> str | None:
        shown = _editor_text(workbench)
        return shown if "after:" in shown else None

    text = wait_for(compared, TIMEOUT, "the comparison's text")
    workbench.shot("runs-compare-document")
    # The bug's run before, the fix's after, and what the fix changed.
    assert f"before: {bug} after: {fix}" in " ".join(text.split()), text
    assert "data/fetch/minute_candles: DATA.EMPTY no longer happens" in text, text
    assert "rows: value: 0.0 -> 390.0" in text, text
    assert "5 passed, 1 failed -> 6 passed" in text, text


def test_a_pytest_run_shows_under_test_runs_and_keeps_the_apps_latest_run(
        workbench: Workbench, workspace: Path) -> None:
    _, fix = _run_ids(workspace)
    before = _status_label(workbench)
    assert "failure" in before, before  # the fixed run still has the broker's timeout
    (workspace / "tests").mkdir(exist_ok=True)
    (workspace / "tests" / "test_tiny.py").write_text(TINY_TEST)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RA_", "TRADING_APP_"))}
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           "tests/test_tiny.py"], cwd=workspace, env=env, capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert latest_run_id(workspace) == fix  # the runtime's side: `latest` did not move

    view = workbench.open_view("flowscribe", "Runs")
    group = view.get_by_role("treeitem").filter(has_text="Test runs").first
    group.wait_for(state="visible", timeout=TIMEOUT * 1000)
    assert "1 pytest session" in group.inner_text(), group.inner_text()
    group.click()  # expand it
    pytest_run = view.get_by_role("treeitem").filter(has_text="pytest ·").first
    pytest_run.wait_for(state="visible", timeout=TIMEOUT * 1000)
    workbench.shot("runs-test-runs")
    rows = [text_of(t) for t in view.get_by_role("treeitem").all_inner_texts()]
    assert not rows[0].startswith("pytest"), rows  # the app's run stays first and newest
    assert rows.index(next(r for r in rows if "Test runs" in r)) < rows.index(
        next(r for r in rows if r.startswith("pytest ·"))), rows  # inside the group
    # The status bar still shows the app's latest run (a passing pytest run would say so).
    assert _status_label(workbench) == before
