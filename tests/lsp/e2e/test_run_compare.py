"""``flowscribe/compareRuns`` ("Compare with Previous Run"): a real run against the one
that passed before it, as ``flowscribe diff`` compares them (issue 10 §7)."""

from __future__ import annotations

import shutil
from pathlib import Path

import jsonschema
from _lsp_session import Session
from _lsp_workspaces import EXAMPLE, copy_app, run_app

from flowscribe_lsp.protocol import json_schema


def _valid(result: object) -> None:
    schema = json_schema()
    jsonschema.Draft202012Validator(
        {"$ref": "#/$defs/CompareRunsResult", "$defs": schema["$defs"]}).validate(result)


async def test_the_latest_run_against_the_last_good_one(session: Session, tmp_path: Path) -> None:
    ws = copy_app(EXAMPLE, tmp_path / "trading_app")
    shutil.rmtree(ws / ".autodev" / "runs", ignore_errors=True)
    run_app(ws, "--fixed")  # NFLX has its candles
    good = (ws / ".autodev" / "latest").resolve().name
    run_app(ws)
    bad = (ws / ".autodev" / "latest").resolve().name
    await session.start(ws)
    result = await session.request("flowscribe/compareRuns", {})
    _valid(result)
    assert (result["before"], result["after"]) == (good, bad), result
    texts = [c["text"] for c in result["changes"]]
    assert any(c["kind"] == "new_failure" and c["flowId"] == "data/fetch/minute_candles"
               for c in result["changes"]), texts
    # The other way round, by id: the fix makes the failure go away.
    back = await session.request("flowscribe/compareRuns", {"runId": good, "baseRunId": bad})
    _valid(back)
    assert any(c["kind"] == "fixed" for c in back["changes"]), back


async def test_nothing_to_compare_is_a_sentence_not_an_error(
        session: Session, tmp_path: Path) -> None:
    ws = copy_app(EXAMPLE, tmp_path / "trading_app")
    shutil.rmtree(ws / ".autodev" / "runs", ignore_errors=True)
    run_app(ws)
    await session.start(ws)
    only = await session.request("flowscribe/compareRuns", {})
    _valid(only)
    assert "it is the only run" in only["error"], only
    unknown = await session.request("flowscribe/compareRuns", {"runId": "no-such-run"})
    assert "no run no-such-run" in unknown["error"], unknown
