"""The installed extension in a real VS Code, checked through what a user sees.

The workspace is examples/trading_app after one real run (a DATA.EMPTY failure for one
ticker, an EXTERNAL.TIMEOUT on an order, a ZeroDivisionError in the agent). The tests share
one workbench and run in file order; the last two run the app again with the fix and look
at what changed, so they must stay last.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from example_app import (
    catalog,
    flow_id_in_code,
    indentation_column,
    latest_run_counts,
    latest_run_id,
    latest_run_info,
    recorded_failures,
    run_app,
    run_time_label,
)
from workbench import Marker, Workbench, text_of, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

TIMEOUT = 30.0  # seconds to wait for something to show; generous for a loaded 2-core machine


def _trace_markers(bench: Workbench) -> list[Marker]:
    return [m for m in bench.problems() if m.source == "flowscribe.trace"]


def _shown_at(markers: list[Marker], file: str, line: int, flow_id: str) -> list[Marker]:
    return [m for m in markers if m.file == file and m.line == line and flow_id in m.message]


def test_problems_lists_the_recorded_failures_at_their_file_and_line(
        workbench: Workbench, workspace: Path) -> None:
    recorded = recorded_failures(workspace)
    classes = {f.error_class for f in recorded}
    assert {"DATA.EMPTY", "EXTERNAL.TIMEOUT"} <= classes, f"the example recorded {recorded}"
    workbench.open_problems()

    def all_shown() -> list[Marker] | None:
        markers = _trace_markers(workbench)
        missing = [f for f in recorded if not _shown_at(markers, f.file, f.line, f.flow_id)]
        return None if missing else markers

    markers = wait_for(all_shown, TIMEOUT, f"diagnostics for every recorded failure {recorded}")
    workbench.shot("problems")
    for failure in recorded:
        shown = _shown_at(markers, failure.file, failure.line, failure.flow_id)
        # The range starts at the line's text, past its indentation.
        assert any(m.column == indentation_column(workspace, failure.file, failure.line)
                   for m in shown), shown
        # What went wrong first, the flow after: a failure's class, an exception's type
        # (an exception's class, SYSTEM, is the diagnostic's code).
        lead = (re.compile(r"\w+(Error|Exception): ") if failure.error_class == "SYSTEM"
                else re.compile(re.escape(failure.error_class) + " "))
        assert any(lead.match(m.message) and f" · {failure.flow_id}" in m.message
                   for m in shown), shown
        expected = "Warning" if failure.severity == "warn" else "Error"  # error, critical
        assert {m.severity for m in shown} == {expected}, (failure, shown)


def test_hover_over_a_flow_id_shows_its_catalog_description(
        workbench: Workbench, workspace: Path) -> None:
    flows = catalog(workspace).flows
    candidates = [(spec, flow_id_in_code(workspace, spec.id)) for spec in flows.values()
                  if spec.description]
    spec, where = next(((s, w) for s, w in candidates if w), (None, None))
    assert spec is not None and where is not None, "no catalog flow with a description in code"
    file, line = where
    workbench.open_file(file, line)
    hover = workbench.hover_text(spec.id, containing=text_of(spec.description))
    workbench.shot("hover")
    assert spec.id in hover


def test_a_code_lens_over_a_marker_shows_its_outcome_and_reveals_the_flow(
        workbench: Workbench, workspace: Path) -> None:
    flow_id = "premarket/prepare"  # passed in the example's run: ✓ 1  ✗ 0
    where = flow_id_in_code(workspace, flow_id)
    assert where is not None, f"{flow_id} is not in the example's code"
    file, line = where
    workbench.open_file(file, line)
    # VS Code asks for lenses a debounce (>= 250 ms) after the editor has text focus, so
    # they show later than a hover does: wait for them rather than look once.
    lens = wait_for(lambda: workbench.code_lens(flow_id), TIMEOUT,
                    f"a code lens over the {flow_id} marker in {file}")
    text = text_of(lens.inner_text())
    workbench.shot("code-lens")
    assert text.startswith(flow_id) and "✓ 1" in text and "✗ 0" in text, text

    lens.click()
    flows = workbench.view("Flows")
    selected = flows.locator('[role="treeitem"][aria-selected="true"]')
    wait_for(lambda: selected.count() and (selected.first.get_attribute("aria-label") or "")
             .split(",")[0] == flow_id, TIMEOUT, f"{flow_id} selected in the Flows view")
    workbench.shot("code-lens-revealed")


def test_flows_view_lists_the_flows_and_marks_a_failed_one(
        workbench: Workbench, workspace: Path) -> None:
    failed = {f.flow_id for f in recorded_failures(workspace) if f.flow_id}
    view = workbench.open_view("flowscribe", "Flows")
    items = wait_for(lambda: workbench.tree_items(view) or None, TIMEOUT,
                     "flows in the Flows view")
    workbench.shot("flows-view")
    # Top-level flows show without expanding anything; the failed flow may be nested.
    shown_ids = {label.split(",")[0] for label in items}
    top_level = {s.id for s in catalog(workspace).flows.values() if not s.parent}
    assert top_level <= shown_ids, items
    failed_visible = [label for label in items if label.split(",")[0] in failed]
    assert failed_visible, f"no failed flow ({failed}) visible in {items}"
    for label in failed_visible:
        assert label.split(", ")[1] == "failed", label
    flow_id = failed_visible[0].split(",")[0]
    row = view.get_by_role("treeitem").filter(has_text=flow_id).first
    icon = row.locator(".custom-view-tree-node-item-icon")
    assert "codicon-error" in (icon.get_attribute("class") or ""), "a failed flow's icon"


def test_runs_view_lists_the_run(workbench: Workbench, workspace: Path) -> None:
    # Named by its start time, not its id (the id is in the tooltip).
    when = run_time_label(latest_run_info(workspace).started or 0.0)
    view = workbench.open_view("flowscribe", "Runs")
    items = wait_for(
        lambda: [i for i in workbench.tree_items(view) if i.startswith(f"run {when},")] or None,
        TIMEOUT, f"the run of {when} in the Runs view")
    workbench.shot("runs-view")
    assert "fail" in items[0], items  # the example's run has failures
    assert latest_run_id(workspace) not in items[0], items


def test_open_ask_md_in_chat_puts_it_in_the_chat_input(
        workbench: Workbench, workspace: Path) -> None:
    first_line = next(line for line in
                      (workspace / ".autodev" / "ask.md").read_text().splitlines()
                      if line.strip())
    assert text_of(first_line) not in workbench.chat_input_text()
    workbench.run_command("flowscribe: Open ask.md in Copilot Chat")
    wait_for(lambda: text_of(first_line) in workbench.chat_input_text(), TIMEOUT,
             f"ask.md's first line {first_line!r} in the chat input")
    workbench.shot("ask-in-chat")


def test_status_bar_shows_the_latest_verdict_and_opens_its_summary(
        workbench: Workbench, workspace: Path) -> None:
    counts = latest_run_counts(workspace)
    failures, exceptions = counts.get("failure", 0), counts.get("exception", 0)
    assert failures and exceptions, counts
    item = workbench.page.locator('.statusbar-item [aria-label^="flowscribe latest run"]')
    label = wait_for(lambda: item.count() and item.first.get_attribute("aria-label"), TIMEOUT,
                     "the latest run's verdict in the status bar")
    assert f"{failures} failure" in label and f"{exceptions} exception" in label, label
    item.first.click()
    workbench.page.locator('.tab[aria-label^="summary.md"]').first.wait_for(timeout=10_000)
    workbench.shot("status-bar-summary")


def test_a_run_with_the_fix_removes_the_fixed_failure_live(
        workbench: Workbench, workspace: Path) -> None:
    before = recorded_failures(workspace)
    fixed = [f for f in before if f.error_class == "DATA.EMPTY"]
    kept = [f for f in before if f.error_class == "EXTERNAL.TIMEOUT"]
    assert fixed and kept, before
    workbench.open_problems()
    wait_for(lambda: _shown_at(_trace_markers(workbench), fixed[0].file, fixed[0].line,
                               fixed[0].flow_id), TIMEOUT, "the DATA.EMPTY diagnostic")

    run_app(workspace, fixed=True)
    after = recorded_failures(workspace)
    assert not [f for f in after if f.error_class == "DATA.EMPTY"], after

    def updated() -> list[Marker] | None:
        markers = _trace_markers(workbench)
        gone = not any(_shown_at(markers, f.file, f.line, f.flow_id) for f in fixed)
        still = all(_shown_at(markers, f.file, f.line, f.flow_id) for f in after)
        return markers if gone and still else None

    wait_for(updated, TIMEOUT, "the DATA.EMPTY diagnostic to go while the others stay")
    workbench.shot("problems-after-fix")


def test_the_views_follow_the_fixed_run_live(workbench: Workbench, workspace: Path) -> None:
    # Runs after the run with the fix (the test above): the views refresh on their own.
    when = run_time_label(latest_run_info(workspace).started or 0.0)
    still_failing = {f.flow_id for f in recorded_failures(workspace)}
    fixed = {"data/fetch/minute_candles"} - still_failing
    assert fixed, "the fixed run still fails data/fetch/minute_candles"

    runs = workbench.open_view("flowscribe", "Runs")

    def newest_run() -> str | None:
        labels = [label for label in workbench.tree_items(runs) if label.startswith("run ")]
        return labels[0] if labels and labels[0].startswith(f"run {when},") else None

    wait_for(newest_run, TIMEOUT, f"the new run of {when} first in the Runs view")

    flows = workbench.open_view("flowscribe", "Flows")

    def fixed_not_failed() -> list[str] | None:
        labels = [label for label in workbench.tree_items(flows)
                  if label.split(",")[0] in fixed]
        return labels if labels and all(
            label.split(", ")[1] != "failed" for label in labels) else None

    wait_for(fixed_not_failed, TIMEOUT, f"{fixed} no longer marked failed in the Flows view")
    workbench.shot("views-after-fix")
