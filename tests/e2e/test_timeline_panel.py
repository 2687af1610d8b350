"""Issue 14 §1-2: the Run Timeline webview in a real VS Code (code-server + Chromium).

The workspace is a small app of ours after one real run: an order flow on the main thread
(no verdict of its own) with a payment child that fails with a reason that is HTML
(``<img src=x onerror=...>``), and a worker thread's flows. The command opens the panel,
bars are drawn on two lanes, the failure is marked, the HTML shows as text, and a click
on the failing bar opens its file.
Screenshots go to test-artifacts/e2e/timeline/.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from playwright.sync_api import FrameLocator
from workbench import Workbench, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

TIMEOUT = 30.0
HTML_REASON = "<img src=x onerror=document.title='pwned'>"
APP = f'''\
import threading

import flowscribe


def work(n):
    with flowscribe.flow("jobs/run", job=str(n)) as f:
        f.checkpoint("load", rows=n)
        f.success("ok")


flowscribe.init(app_name="timeline-e2e", mode="test", root=".")
with flowscribe.flow("shop/order", order="A1") as order:
    order.checkpoint("cart", items=2)
    with flowscribe.flow("shop/pay") as pay:
        pay.failure("EXTERNAL.DECLINED", {HTML_REASON!r})
t = threading.Thread(target=flowscribe.wrap(lambda: [work(n) for n in range(3)]), name="worker")
t.start()
t.join()
flowscribe.end_session()
'''
PAY_LINE = APP.splitlines().index('    with flowscribe.flow("shop/pay") as pay:') + 1


@pytest.fixture(scope="module")
def artifacts_dir(artifacts_dir: Path) -> Path:
    folder = artifacts_dir / "timeline"
    folder.mkdir(exist_ok=True)
    return folder


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("e2e-timeline") / "timeline_app"
    (root / ".autodev").mkdir(parents=True)
    (root / "app.py").write_text(APP)
    env = {k: v for k, v in os.environ.items() if not k.startswith("RA_")}
    done = subprocess.run([sys.executable, "app.py"], cwd=root, env=env, capture_output=True,
                          text=True, timeout=120, check=False)
    assert (root / ".autodev" / "summary.md").is_file(), done.stderr
    return root


def _webview(bench: Workbench) -> FrameLocator:
    """The panel's content: VS Code nests a webview's page in two iframes."""
    return bench.page.frame_locator("iframe.webview.ready").frame_locator("#active-frame")


def test_the_timeline_panel(workbench: Workbench) -> None:
    workbench.run_command("flowscribe: Show Run Timeline")
    view = _webview(workbench)
    bars = view.locator("svg.chart g.bar")
    wait_for(lambda: bars.count() >= 5 or None, TIMEOUT, "bars in the timeline")
    workbench.shot("timeline")
    lanes = view.locator("svg.chart .lane-label").all_text_contents()
    assert any(t.startswith("MainThread") for t in lanes) and any(
        t.startswith("worker") for t in lanes), lanes
    # shop/pay failed; shop/order, its parent, ended with no verdict of its own.
    assert view.locator("svg.chart g.bar.failed").count() == 1
    assert view.locator("svg.chart g.bar.unfinished").count() == 1
    mark = view.locator("svg.chart path.mark.failure").first
    mark.wait_for(timeout=10_000)

    # The recorded HTML is shown as text in the hover, never made into an element.
    mark.hover(force=True)
    tooltip = view.locator("#tooltip")
    wait_for(lambda: HTML_REASON in tooltip.inner_text() or None, TIMEOUT,
             "the failure's reason in the hover")
    workbench.shot("timeline-hover")
    assert view.locator("img").count() == 0
    assert "EXTERNAL.DECLINED" in tooltip.inner_text()

    # The Flows tab: the graph with counts, the failing instance as a sequence.
    view.locator("button.tab", has_text="Flows").click()
    sequence = view.locator("table.sequence")
    sequence.wait_for(timeout=10_000)
    assert "EXTERNAL.DECLINED" in sequence.inner_text()
    assert "shop/pay" in view.locator("ul.graph").inner_text()
    workbench.shot("timeline-flows")
    view.locator("button.tab", has_text="Timeline").click()

    # A click on the failing child opens app.py at the flow's line.
    pay = view.locator('svg.chart g.bar.failed[data-instance]').last
    pay.click(force=True)
    tab = workbench.page.locator('.tab[aria-label^="app.py"]').first
    tab.wait_for(timeout=TIMEOUT * 1000)
    status = workbench.page.locator("#status\\.editor\\.selection").first
    wait_for(lambda: f"Ln {PAY_LINE}," in status.inner_text() or None, TIMEOUT,
             f"the cursor on line {PAY_LINE}")
    workbench.shot("timeline-opened-file")
