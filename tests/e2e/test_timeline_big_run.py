"""Issue 14 §1: the Run Timeline on a run of 100k events in a real VS Code stays usable.

The panel gets a bounded model (at most 1500 bars, every failure marked, the rest counted
per lane), zooms and pans, and a filter asks again. How long each step took is printed
at the end of the session (measured, never asserted). Screenshots: test-artifacts/e2e/big/.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from playwright.sync_api import FrameLocator
from workbench import Workbench, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

TIMEOUT = 60.0
APP = Path(__file__).resolve().parents[2] / "benchmarks" / "jobs_app.py"
#: 8 events per jobs/run instance: 12,500 of them make a 100k-event run.
FLOWS = 12_500


@pytest.fixture(scope="module")
def artifacts_dir(artifacts_dir: Path) -> Path:
    folder = artifacts_dir / "big"
    folder.mkdir(exist_ok=True)
    return folder


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("e2e-big") / "big_app"
    (root / ".autodev").mkdir(parents=True)
    (root / ".autodev" / "ra.yaml").write_text(
        "version: 1\nprofile: all\nartifacts:\n  ask_md: never\n")
    shutil.copy(APP, root / "app.py")
    env = {k: v for k, v in os.environ.items() if not k.startswith("RA_")}
    subprocess.run([sys.executable, "app.py", str(FLOWS)], cwd=root, env=env, check=True,
                   capture_output=True, timeout=300)
    return root


def _webview(bench: Workbench) -> FrameLocator:
    return bench.page.frame_locator("iframe.webview.ready").frame_locator("#active-frame")


@pytest.fixture
def timings(request: pytest.FixtureRequest) -> dict[str, float]:
    """The session's table of measured times (conftest.py prints it at the end)."""
    conftest = request.config.pluginmanager.getplugin(str(Path(__file__).with_name("conftest.py")))
    return conftest.TIMINGS if conftest is not None else {}


def test_a_100k_event_run_in_the_timeline_panel(
        workbench: Workbench, workspace: Path, timings: dict[str, float]) -> None:
    trace = (workspace / ".autodev" / "latest").resolve() / "trace.jsonl"
    with trace.open() as fh:
        assert sum(1 for _ in fh) >= 100_000
    started = time.monotonic()
    workbench.run_command("flowscribe: Show Run Timeline")
    view = _webview(workbench)
    bars = view.locator("svg.chart g.bar")
    wait_for(lambda: bars.count() > 100 or None, TIMEOUT, "the bars of the big run")
    timings["100k run: command to bars drawn"] = time.monotonic() - started
    workbench.shot("big-run")
    status = view.locator(".toolbar .status").inner_text()
    assert f"of {2 * FLOWS} instances drawn" in status, status
    assert bars.count() <= 1500
    # Every failure is marked (one every 997 jobs), and lanes say what was not drawn.
    failures = sum(1 for n in range(FLOWS) if n % 997 == 5)
    assert view.locator("svg.chart path.mark.failure").count() == failures
    assert any("more not drawn" in t for t in
               view.locator("svg.chart .lane-label").all_text_contents())

    # Zoom in around the middle, then pan: the panel redraws from what it holds.
    chart = view.locator(".pane.timeline")
    box = chart.bounding_box()
    assert box is not None
    workbench.page.mouse.move(box["x"] + box["width"] / 2, box["y"] + 60)
    started = time.monotonic()
    for _ in range(5):
        workbench.page.mouse.wheel(0, -200)
    view.locator("svg.chart").first.wait_for()
    timings["100k run: five zoom steps"] = time.monotonic() - started
    workbench.shot("big-run-zoomed")

    # A filter asks the server again: only the failing steps (Fit: the zoom would hide some).
    started = time.monotonic()
    view.locator("#filter-verdict").select_option("failed")
    status = view.locator(".toolbar .status")
    wait_for(lambda: f"{failures} of {failures} instances drawn" in status.inner_text() or None,
             TIMEOUT, "only the failed instances")
    view.locator("button", has_text="Fit").click()
    wait_for(lambda: (bars.count() == failures == view.locator(
        "svg.chart g.bar.failed").count()) or None, TIMEOUT, "every failed instance drawn")
    timings["100k run: verdict filter to redrawn"] = time.monotonic() - started
    workbench.shot("big-run-failed-only")
