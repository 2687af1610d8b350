"""Issue 14 §1-2: ``flowscribe/timeline`` and ``flowscribe/flowGraph`` over stdio, on runs
recorded by the real runtime: the example app, and a generated 100k-event run whose
answer must stay bounded and keep every failure."""

from __future__ import annotations

import json
import math
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from _lsp_session import Session, find_line, uri
from _lsp_workspaces import REPO

BIG_APP = REPO / "benchmarks" / "jobs_app.py"
RA_YAML = ("version: 1\nprofile: all\nartifacts:\n  ask_md: never\n"
           "retention:\n  rotate_trace: false\n")
#: Each jobs/run instance writes 8 events (two starts, two ends, two checkpoints, two
#: verdicts): 12,500 of them make a 100k-event run.
BIG_FLOWS = 12_500


async def _request(session: Session, method: str, params: dict[str, Any]) -> dict[str, Any]:
    """The answer once the server has indexed the workspace's run."""
    for _ in range(400):
        result: dict[str, Any] = await session.request(method, params)
        if not result.get("error"):
            return result
        await session.settle(0.05)
    raise AssertionError(f"{method}: {result.get('error')}")


async def test_the_example_runs_timeline(session: Session, trading_ws: Path) -> None:
    await session.start(trading_ws)
    model = await _request(session, "flowscribe/timeline", {})
    bars = model["bars"]
    threads = {lane["thread"] for lane in model["lanes"]}
    assert "MainThread" in threads and len(threads) >= 2  # the app's ticker threads
    assert {b["flowId"] for b in bars} >= {"premarket/prepare", "orders/submit",
                                           "data/fetch/minute_candles"}
    assert model["truncated"] is False and model["totals"]["bars"] == len(bars)
    # Nested by parent: a child is one level below its parent, inside its time span.
    by_id = {b["instance"]: b for b in bars}
    children = [b for b in bars if b["parent"] in by_id]
    assert children
    for b in children:
        parent = by_id[b["parent"]]
        assert b["depth"] == parent["depth"] + 1
        assert parent["start"] <= b["start"] <= b["end"] <= parent["end"]
    # The failure is marked where it was recorded, with a file the editor can open.
    broker = trading_ws / "trading" / "broker.py"
    [timeout] = [m for m in model["marks"] if m["errorClass"] == "EXTERNAL.TIMEOUT"]
    assert timeout["uri"] == uri(broker)
    assert timeout["line"] == find_line(broker, 'f.failure("EXTERNAL.TIMEOUT"') + 1
    assert by_id[timeout["instance"]]["status"] == "failed"
    assert model["ticks"] and all(t["instance"] in by_id for t in model["ticks"])
    assert min(b["start"] for b in bars) >= 0 and max(b["end"] for b in bars) <= model["duration"]


async def test_the_timeline_carries_each_flows_latency_against_its_sla(
        session: Session, trading_ws: Path) -> None:
    """Issue 14 §5: per flow of the selection, p50/p95/p99 over the whole run and the
    counts per ra.yaml bucket, as the trace's durations give them."""
    await session.start(trading_ws)
    model = await _request(session, "flowscribe/timeline", {})
    latency = {lat["flowId"]: lat for lat in model["latency"]}
    run_trace = (trading_ws / ".autodev" / "latest").resolve() / "trace.jsonl"
    ends = [ev for ev in map(json.loads, run_trace.read_text().splitlines())
            if ev["event_type"] == "flow_end" and ev["flow_id"] == "orders/submit"]
    durations = sorted(ev["duration_ms"] for ev in ends)
    lat = latency["orders/submit"]
    assert lat["count"] == len(durations) and lat["boundsMs"] == [50, 200, 1000]
    assert lat["labels"] == ["<= 50 ms", "50-200 ms", "200-1000 ms", "> 1000 ms"]
    for key, q in (("p50Ms", 0.50), ("p95Ms", 0.95), ("p99Ms", 0.99)):
        assert lat[key] == durations[max(1, math.ceil(q * len(durations))) - 1]
    assert lat["counts"] == [sum(1 for d in durations if lo < d <= hi) for lo, hi in
                             ((-1, 50), (50, 200), (200, 1000), (1000, math.inf))]
    assert lat["slaP95Ms"] == 1000 and lat["overSla"] is False
    assert latency["data/fetch/minute_candles"]["slaP95Ms"] == 800
    # Filtered to one flow: that flow's histogram only.
    orders = await _request(session, "flowscribe/timeline", {"flow": "orders/**"})
    assert [lat["flowId"] for lat in orders["latency"]] == ["orders/submit"]


async def test_filters_by_flow_glob_correlation_verdict_and_window(
        session: Session, trading_ws: Path) -> None:
    await session.start(trading_ws)
    everything = await _request(session, "flowscribe/timeline", {})
    orders = await _request(session, "flowscribe/timeline", {"flow": "orders/**"})
    assert orders["bars"] and {b["flowId"] for b in orders["bars"]} == {"orders/submit"}
    assert all(m["flowId"] == "orders/submit" for m in orders["marks"])
    failed = await _request(session, "flowscribe/timeline", {"verdict": "failed"})
    assert failed["bars"] and all(b["status"] == "failed" for b in failed["bars"])
    assert len(failed["bars"]) < len(everything["bars"])
    ticker = next(b["correlation"]["ticker"] for b in everything["bars"]
                  if "ticker" in b["correlation"])
    one = await _request(session, "flowscribe/timeline", {"where": f"ticker={ticker}"})
    assert one["bars"] and all(b["correlation"]["ticker"] == ticker for b in one["bars"])
    # A window of the run's second half: only instances overlapping it.
    half = everything["duration"] / 2
    late = await _request(session, "flowscribe/timeline", {"since": half})
    assert late["window"]["since"] == pytest.approx(half, abs=1e-5)
    assert late["bars"] and all(b["end"] >= half - 1e-5 for b in late["bars"])
    assert len(late["bars"]) < len(everything["bars"])


async def test_bad_params_get_an_answer_not_an_error(session: Session, trading_ws: Path) -> None:
    await session.start(trading_ws)
    model = await _request(session, "flowscribe/timeline",
                           {"maxBars": "many", "since": "x", "verdict": 5, "where": 3})
    assert model["bars"]  # every bad value ignored
    missing = await session.request("flowscribe/timeline", {"runId": "no-such-run"})
    assert missing["bars"] == [] and missing["error"]
    graph = await session.request("flowscribe/flowGraph", {"eventId": 42})
    assert graph["nodes"]


async def test_the_flow_graph_and_the_failing_instance_as_a_sequence(
        session: Session, trading_ws: Path) -> None:
    await session.start(trading_ws)
    graph = await _request(session, "flowscribe/flowGraph", {})
    nodes = {n["id"]: n for n in graph["nodes"]}
    assert nodes["orders/submit"]["parent"] == "agent/decision/evaluate"
    assert nodes["orders/submit"]["status"] == "failed"
    assert nodes["orders/submit"]["counts"]["failed"] == 1
    assert nodes["indicators/rsi/compute"]["status"] == "disabled"
    flows = {n["id"]: n for n in (await session.request("flowscribe/flows", {}))["flows"]}
    for fid in ("orders/submit", "premarket/prepare"):  # the Flows view's counts
        assert nodes[fid]["counts"]["passed"] == flows[fid]["counts"]["passed"]

    model = await _request(session, "flowscribe/timeline", {})
    timeout = next(m for m in model["marks"] if m["errorClass"] == "EXTERNAL.TIMEOUT")
    told = await _request(session, "flowscribe/flowGraph", {"eventId": timeout["eventId"]})
    seq = told["sequence"]
    assert seq["instance"] == timeout["instance"] and seq["flowId"] == "orders/submit"
    kinds = [it["kind"] for it in seq["items"]]
    assert kinds[0] == "start" and "failure" in kinds and kinds[-1] == "end"
    [fail] = [it for it in seq["items"] if it["kind"] == "failure"]
    assert fail["label"] == "EXTERNAL.TIMEOUT" and fail["uri"] == timeout["uri"]
    assert [it["t"] for it in seq["items"]] == sorted(it["t"] for it in seq["items"])


@pytest.fixture(scope="module")
def big_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    ws = tmp_path_factory.mktemp("big") / "big"
    (ws / ".autodev").mkdir(parents=True)
    (ws / ".autodev" / "ra.yaml").write_text(RA_YAML)
    shutil.copy(BIG_APP, ws / "app.py")
    subprocess.run([sys.executable, "app.py", str(BIG_FLOWS)], cwd=ws, check=True,
                   capture_output=True, timeout=300)
    return ws


async def test_a_100k_event_run_gives_a_bounded_model_that_keeps_every_failure(
        session: Session, big_template: Path) -> None:
    trace = (big_template / ".autodev" / "latest").resolve() / "trace.jsonl"
    failures = sum('"event_type":"failure"' in line for line in trace.open())
    events = sum(1 for _ in trace.open())
    assert events >= 100_000 and failures >= 10
    await session.start(big_template)
    model = await _request(session, "flowscribe/timeline", {"maxBars": 300})
    assert model["totals"]["events"] == events
    assert model["totals"]["instances"] == 2 * BIG_FLOWS
    assert len(model["bars"]) <= 300 and model["truncated"] is True
    assert len(model["ticks"]) <= 600
    assert len(json.dumps(model)) < 400_000  # what crosses the pipe stays small
    # Every failure is marked, and its instance and that one's parent are drawn.
    assert model["totals"]["marks"] == failures == len(model["marks"])
    drawn = {b["instance"]: b for b in model["bars"]}
    for mark in model["marks"]:
        assert drawn[mark["instance"]]["status"] == "failed"
        assert drawn[mark["instance"]]["parent"] in drawn
    # What is not drawn is counted, lane by lane.
    hidden = sum(lane["hidden"] for lane in model["lanes"])
    assert hidden + len(model["bars"]) == model["totals"]["instances"]
    assert {lane["thread"] for lane in model["lanes"]} == {"MainThread", "worker"}
    # A narrow window shows everything in it.
    narrow = await _request(session, "flowscribe/timeline",
                            {"since": 0, "until": model["duration"] / 200, "maxBars": 300})
    assert narrow["bars"] and narrow["truncated"] is False
