"""`flowscribe/runs` and `flowscribe/runsChanged`: the Runs view."""

from __future__ import annotations

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
