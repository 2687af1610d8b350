"""`flowscribe/runs` and `flowscribe/runsChanged`: the Runs view."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from _lsp_session import Session, uri, wait_flows
from _lsp_workspaces import run_app


async def test_runs_newest_first_with_verdicts_and_artifacts(
        session: Session, trading_ws: Path) -> None:
    run_app(trading_ws, "--fixed")
    await session.start(trading_ws)
    runs = (await session.request("flowscribe/runs", {}))["runs"]
    assert len(runs) == 2
    newest, older = runs
    latest = (trading_ws / ".autodev" / "latest").resolve()
    assert newest["runId"] == latest.name and newest["isLatest"]
    assert newest["started"] >= older["started"]
    assert newest["app"] == "trading-app" and newest["mode"] == "sim"
    assert newest["verdicts"]["failed"] == 2 and older["verdicts"]["failed"] == 3
    assert newest["verdicts"]["exceptions"] == 1
    assert newest["artifacts"]["summary"] == uri(latest / "summary.md")
    assert newest["artifacts"]["trace"] == uri(latest / "trace.jsonl")
    assert newest["workspaceFolder"] == uri(trading_ws)


async def test_runs_changed_is_notified_on_a_new_run(session: Session, trading_ws: Path) -> None:
    await session.start(trading_ws)
    await wait_flows(session)
    session.notifications.clear()
    run_app(trading_ws, "--fixed")
    latest = (trading_ws / ".autodev" / "latest").resolve().name

    def seen() -> bool:
        return any(p["runId"] == latest for _, p in session.notifications)

    await session.wait_until(seen, "flowscribe/runsChanged")
    _, params = session.notifications[-1]
    assert params["workspaceFolder"] == uri(trading_ws)


async def test_runs_changed_is_notified_on_a_test_run_that_is_not_the_latest(
        session: Session, trading_ws: Path) -> None:
    """Issue 9 §1: a pytest session's run never becomes the latest run, yet the Runs view
    must hear of it (found by tests/e2e/test_runs_view_in_vscode.py: it never showed up)."""
    await session.start(trading_ws)
    await wait_flows(session)
    latest = (trading_ws / ".autodev" / "latest").resolve().name
    await session.settle(1.5)  # the server has seen the runs folder as it is
    session.notifications.clear()
    (trading_ws / "test_tiny.py").write_text(
        "import flowscribe\n\n\ndef test_a_flow():\n"
        "    with flowscribe.flow('tests/tiny') as f:\n        f.success('ok')\n")
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           "test_tiny.py"], cwd=trading_ws, capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert (trading_ws / ".autodev" / "latest").resolve().name == latest

    await session.wait_until(lambda: bool(session.notifications), "flowscribe/runsChanged")
    runs = (await session.request("flowscribe/runs", {}))["runs"]
    assert [r["runId"] for r in runs if r["isLatest"]] == [latest]
    assert [r for r in runs if r.get("testRun")], runs
