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


def _bar_flows(view: FrameLocator) -> list[str]:
    return view.locator("svg.chart g.bar").evaluate_all(
        "gs => gs.map(g => g.querySelector('text') ? g.querySelector('text').textContent : '')")


def _instances(view: FrameLocator) -> int:
    return view.locator("svg.chart g.bar").count()


def _filter(view: FrameLocator, flow: str = "", where: str = "", verdict: str = "") -> None:
    """Set the panel's filters as a user does: type, then leave the field (its change)."""
    for selector, value in (("#filter-flow", flow), ("#filter-where", where)):
        field = view.locator(selector)
        field.fill(value)
        field.press("Enter")
        field.dispatch_event("change")
    view.locator("#filter-verdict").select_option(verdict)


def test_filters_by_flow_glob_correlation_and_verdict(workbench: Workbench) -> None:
    """Issue 14 §1: filter by flow glob, correlation value and verdict (the panel asks the
    server again; only matching instances are drawn)."""
    workbench.run_command("flowscribe: Show Run Timeline")
    view = _webview(workbench)
    wait_for(lambda: _instances(view) >= 5 or None, TIMEOUT, "every bar")
    _filter(view, flow="jobs/**")
    wait_for(lambda: _instances(view) == 3 or None, TIMEOUT, "the three jobs/run bars")
    assert view.locator("svg.chart g.bar.failed").count() == 0
    workbench.shot("timeline-filter-glob")
    _filter(view, where="job=1")
    wait_for(lambda: _instances(view) == 1 or None, TIMEOUT, "the one bar with job=1")
    _filter(view, verdict="failed")
    wait_for(lambda: (_instances(view) == 1 and view.locator(
        "svg.chart g.bar.failed").count() == 1) or None, TIMEOUT, "only the failed shop/pay")
    workbench.shot("timeline-filter-verdict")
    _filter(view)
    wait_for(lambda: _instances(view) >= 5 or None, TIMEOUT, "every bar again")


def test_the_latency_tab_shows_each_flows_histogram(workbench: Workbench) -> None:
    """Issue 14 §5: per flow, p50/p95/p99 and a histogram over ra.yaml's buckets."""
    workbench.run_command("flowscribe: Show Run Timeline")
    view = _webview(workbench)
    wait_for(lambda: _instances(view) >= 5 or None, TIMEOUT, "every bar")
    view.locator("button.tab", has_text="Latency").click()
    names = view.locator(".pane.latency .histogram h4")
    wait_for(lambda: names.count() >= 3 or None, TIMEOUT, "the flows' histograms")
    assert {"jobs/run", "shop/pay", "shop/order"} <= set(names.all_text_contents())
    jobs = view.locator(".pane.latency .histogram").filter(has_text="jobs/run").first
    assert "p50 " in jobs.inner_text() and "3 ended" in jobs.inner_text()
    # One column per default bucket (50, 200, 1000 ms and above), 3 durations in all.
    counts = [int(c) for c in jobs.locator("text.count").all_text_contents()]
    assert len(counts) == 4 and sum(counts) == 3, counts
    workbench.shot("timeline-latency")
    view.locator("button.tab", has_text="Timeline").click()


def test_opens_from_a_lens_filtered_to_its_flow(workbench: Workbench) -> None:
    """Issue 14 §1: a flow marker's `timeline` lens opens the timeline on that flow."""
    workbench.open_file("app.py")
    lens = wait_for(lambda: workbench.code_lens("timeline"), TIMEOUT, "the timeline lens")
    workbench.shot("timeline-lens")
    lens.click()
    view = _webview(workbench)
    wait_for(lambda: view.locator("#filter-flow").input_value() != "" or None, TIMEOUT,
             "the lens's flow in the filter")
    flow = view.locator("#filter-flow").input_value()
    assert flow in ("jobs/run", "shop/order", "shop/pay"), flow
    wait_for(lambda: (_instances(view) >= 1 and set(_bar_flows(view)) <= {flow, ""})
             or None, TIMEOUT, f"only {flow}'s bars")
    workbench.shot("timeline-from-lens")
    _filter(view)


def test_opens_from_the_runs_view_and_the_status_bar(workbench: Workbench) -> None:
    """Issue 14 §1: the Runs view's inline action and the status bar's tooltip link."""
    runs = workbench.open_view("flowscribe", "Runs")
    row = runs.get_by_role("treeitem").first
    row.wait_for(state="visible", timeout=TIMEOUT * 1000)
    row.hover()
    action = row.locator('.action-label[aria-label*="Run Timeline"]').first
    action.wait_for(state="visible", timeout=10_000)
    workbench.shot("timeline-runs-view-action")
    action.click()
    view = _webview(workbench)
    wait_for(lambda: _instances(view) >= 5 or None, TIMEOUT, "the run's bars")
    workbench.page.keyboard.press("Escape")

    item = workbench.page.locator('.statusbar-item [aria-label^="flowscribe latest run"]').first
    item.wait_for(state="visible", timeout=TIMEOUT * 1000)
    link = workbench.page.locator(".workbench-hover a, .monaco-hover a",
                                  has_text="Show Run Timeline").first

    def hovered() -> bool | None:
        workbench.page.mouse.move(0, 0)
        item.hover()
        try:
            link.wait_for(state="visible", timeout=3_000)
        except Exception:  # no tooltip yet: hover again
            return None
        return True

    wait_for(hovered, TIMEOUT, "the status bar's tooltip with its timeline link")
    workbench.shot("timeline-status-bar-tooltip")
    link.click()
    wait_for(lambda: _instances(_webview(workbench)) >= 5 or None, TIMEOUT, "the bars again")


def test_follows_a_live_run_and_the_theme(workbench: Workbench, workspace: Path) -> None:
    """Issue 14 §1: the panel on the latest run follows a new run; colours follow the theme."""
    workbench.run_command("flowscribe: Show Run Timeline")
    view = _webview(workbench)
    status = view.locator(".toolbar .status")
    wait_for(lambda: _instances(view) >= 5 or None, TIMEOUT, "the bars")
    first = status.inner_text().split(" · ")[0]
    env = {k: v for k, v in os.environ.items() if not k.startswith("RA_")}
    subprocess.run([sys.executable, "app.py"], cwd=workspace, env=env, capture_output=True,
                   text=True, timeout=120, check=False)
    latest = (workspace / ".autodev" / "latest").resolve().name
    assert latest != first
    wait_for(lambda: status.inner_text().startswith(latest) or None, TIMEOUT,
             f"the panel on the new run {latest}")
    workbench.shot("timeline-live-run")

    def background() -> str:
        return str(view.locator("body").evaluate("b => getComputedStyle(b).backgroundColor"))

    dark = background()
    workbench.run_command("Preferences: Toggle between Light/Dark Themes")
    wait_for(lambda: background() != dark or None, TIMEOUT, "the panel's colours to change")
    workbench.shot("timeline-light-theme")
    workbench.run_command("Preferences: Toggle between Light/Dark Themes")


def test_the_hover_shows_the_flows_latency_histogram(workbench: Workbench) -> None:
    """Issue 14 §5: hovering a flow id shows p50/p95/p99 and a text histogram."""
    workbench.open_file("app.py")
    text = workbench.hover_text("jobs/run", "latency:", timeout=TIMEOUT)
    workbench.shot("hover-latency")
    assert "latency: p50 " in text and " · 3 ended" in text, text
    assert "<= 50 ms" in text and "> 1000 ms" in text, text
